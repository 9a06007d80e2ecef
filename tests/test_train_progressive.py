"""StyleGAN (v1) training: the progressive-growing schedule, the reals' fade, Adam resets at fade boundaries, the v1
style-mixing rule, WGAN-GP, exact resume in the middle of a fade, full-resolution snapshots, the presets of both
papers' Table 1 and the command line."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import stylegan.io
from stylegan.cli.main import cli
from stylegan.data import prepare_dataset
from stylegan.errors import SettingError, StyleGANError
from stylegan.networks import v1
from stylegan.presets import PRESETS
from stylegan.train import Reporter, TrainConfig, TrainOptions, build_config, train
from stylegan.train import losses as losses_module
from stylegan.train.config import count_steps
from stylegan.train.losses import LossSettings, StyleGAN2Loss, mixing_layers, sample_mixing_cutoff
from stylegan.train.progressive import ProgressiveConfig, level_of_detail, lod_levels, process_reals
from stylegan.train.state import STATE_FILENAME, load_training_state

pytestmark = pytest.mark.usefixtures("one_thread")


# ---- the schedule ----------------------------------------------------------------------------------------------
def test_level_of_detail_worked_examples() -> None:
    lod = [level_of_detail(k, 32, 8, 600, 600) for k in (0, 300, 600, 900, 1200, 1800, 2100, 2400, 9999)]
    assert lod == [2.0, 2.0, 2.0, 1.5, 1.0, 1.0, 0.5, 0.0, 0.0]
    assert level_of_detail(123, 64, 64, 600, 600) == 0.0  # starting at full resolution: no growing
    assert level_of_detail(0.5, 16, 4, 1, 0) == 2.0 and level_of_detail(1, 16, 4, 1, 0) == 1.0  # no fades: jumps
    assert lod_levels(2.0) == (2, 2) and lod_levels(1.5) == (1, 2)


def test_ffhq_timeline_on_8_gpus() -> None:
    """NVIDIA's 1024 px FFHQ run: 8x8 from the start, a stable phase and a fade every 600 kimg, per-resolution
    batch and learning rate (the new resolution's from the start of its fade), 1024x1024 reached at 8400 kimg."""
    cfg = build_config("stylegan1", resolution=1024, gpus=8)

    def at(kimg: float) -> tuple[float, int, int, float]:
        s = cfg.schedule(int(round(kimg * 1000)))
        assert s.G_lr == s.D_lr
        return s.lod, s.resolution, s.batch, s.G_lr

    assert at(0) == (7.0, 8, 256, 0.001)
    assert at(600) == (7.0, 8, 256, 0.001)
    assert at(900) == (6.5, 16, 128, 0.001)  # fading in 16x16 with 16x16's batch
    assert at(1200) == (6.0, 16, 128, 0.001)
    assert at(3600) == (4.0, 64, 32, 0.001)
    assert at(4800) == (3.0, 128, 32, 0.0015)
    assert at(6000) == (2.0, 256, 32, 0.002)
    assert at(7200) == (1.0, 512, 32, 0.003)
    lod, res, _, lr = at(8399.999)
    assert 0 < lod < 1e-5 and res == 1024 and lr == 0.003
    assert at(8400) == (0.0, 1024, 32, 0.003) and at(25000) == (0.0, 1024, 32, 0.003)
    assert cfg.kimg == 25000 and cfg.ema_kimg == 10 and cfg.loss.r1_gamma == 10 and cfg.loss.pl_weight == 0
    assert (cfg.G_reg_interval, cfg.D_reg_interval, cfg.loss.style_mixing_prob) == (None, None, 0.9)
    assert cfg.G_opt.betas == (0.0, 0.99) and cfg.G_opt.eps == 1e-8
    assert isinstance(cfg.G, v1.GeneratorConfig) and cfg.G.channel_base == 16384  # NVIDIA's fmap_base 8192


def test_minibatch_tables_by_gpu_count() -> None:
    one = build_config("stylegan1", resolution=1024, gpus=1)
    assert [one.schedule(0).batch, one.per_rank(1, 512)[0], one.per_rank(1, 1024)[0]] == [128, 4, 4]
    assert one.schedule(10**9).G_lr == 0.0015  # the 1-GPU line raises the rate at 1024 only
    # 3 GPUs: the 2-GPU line, rounded down to multiples of 3 x the minibatch-stddev group (4)
    three = build_config("stylegan1", resolution=64, gpus=3)
    assert [three.per_rank(3, r)[0] * 3 for r in three.resolutions()] == [252, 120, 60, 24]
    a = build_config("config-a", resolution=64, gpus=2)  # StyleGAN2's config A: micro-batches per GPU
    assert [a.per_rank(2, r) for r in a.resolutions()] == [(128, 32, 4), (64, 16, 4), (32, 8, 4), (16, 4, 4)]
    a3 = build_config("config-a", resolution=64, gpus=3)  # multiples of 3 x the micro-batch
    assert [a3.per_rank(3, r) for r in a3.resolutions()] == [(64, 32, 2), (32, 16, 2), (16, 8, 2), (8, 4, 2)]


def test_user_batch_and_rates_apply_to_every_resolution() -> None:
    cfg = build_config("stylegan1", resolution=256, gpus=8, options=TrainOptions(batch=8, G_lr=0.002))
    assert {cfg.per_rank(1, r)[0] for r in cfg.resolutions()} == {8}
    assert {cfg.schedule(n).G_lr for n in range(0, 10**7, 10**5)} == {0.002}
    assert len({cfg.schedule(n).D_lr for n in range(0, 10**7, 10**5)}) > 1  # D keeps its table
    options = TrainOptions(batch=8, kimg=0.2, lod_training_kimg=0.03, lod_transition_kimg=0.03)
    short = build_config("stylegan1", resolution=32, options=options)
    nimg, steps, images = 0, 0, {}  # step by step
    while nimg < 200:
        s = short.schedule(nimg)
        images[s.resolution] = images.get(s.resolution, 0) + s.batch
        nimg, steps = nimg + s.batch, steps + 1
    assert count_steps(short) == (steps, images) == (25, {8: 32, 16: 64, 32: 104})


def test_growth_settings_are_checked_with_the_flag_named() -> None:
    for settings, match in [
        ({"lod_initial_res": 12}, "lod_initial_res must be a power of two"),
        ({"lod_initial_res": 64}, "lod_initial_res 64 is above the resolution of the data"),
        ({"lod_initial_res": 2}, r"lod_initial_res must be >= 4"),
        ({"lod_transition_kimg": -1.0}, "lod_transition_kimg must be >= 0"),
        ({"lod_transition_kimg": 0.0, "lod_training_kimg": 0.0}, "lod_training_kimg and lod_transition_kimg are 0"),
    ]:
        with pytest.raises(SettingError, match=match) as e:
            build_config("stylegan1", resolution=32, options=TrainOptions(**settings))  # type: ignore[arg-type]
        assert len(str(e.value).splitlines()) == 1
    with pytest.raises(SettingError, match="lod_training_kimg applies to progressive growing"):
        build_config("stylegan2", resolution=32, options=TrainOptions(lod_training_kimg=10.0))
    with pytest.raises(SettingError, match=r"freeze_layers \(Freeze-D\) needs a StyleGAN2"):
        build_config("stylegan1", resolution=32, options=TrainOptions(freeze_layers=2))
    with pytest.raises(SettingError, match="needs networks that grow"):
        cfg = build_config("stylegan2", resolution=32)
        TrainConfig(G=cfg.G, D=cfg.D, progressive=ProgressiveConfig())
    with pytest.raises(SettingError, match="batch_gpu 6 at 8x8 must be a multiple of the minibatch-stddev group"):
        build_config("stylegan1", resolution=32, options=TrainOptions(batch=6)).check_sizes(1)


# ---- reals, mixing, losses -------------------------------------------------------------------------------------
def test_reals_fade_between_levels() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, [2, 3, 16, 16], generator=g, dtype=torch.uint8)
    flt = x.double()
    assert torch.equal(process_reals(x, 0.0), x.float() / 127.5 - 1)
    level1 = (flt.reshape(2, 3, 8, 2, 8, 2).mean(dim=(3, 5))).round()  # NVIDIA's stored 8x8 level: 2x2 mean, rint
    up1 = level1.repeat_interleave(2, 2).repeat_interleave(2, 3) / 127.5 - 1
    torch.testing.assert_close(process_reals(x, 1.0).double(), up1, rtol=0, atol=1e-6)
    below = level1.reshape(2, 3, 4, 2, 4, 2).mean(dim=(3, 5)).repeat_interleave(4, 2).repeat_interleave(4, 3)
    faded = torch.lerp(up1, below / 127.5 - 1, 0.25)
    torch.testing.assert_close(process_reals(x, 1.25).double(), faded, rtol=0, atol=1e-6)
    lod0_fade = torch.lerp(flt / 127.5 - 1, (flt.reshape(2, 3, 8, 2, 8, 2).mean(dim=(3, 5)) / 127.5 - 1)
                           .repeat_interleave(2, 2).repeat_interleave(2, 3), 0.5)  # fmt: skip
    torch.testing.assert_close(process_reals(x, 0.5).double(), lod0_fade, rtol=0, atol=1e-6)
    # What D reads of them at the same lod is the level itself (its FromRGB input is the 2^floor(lod) box average).
    assert process_reals(x, 2.0).shape == x.shape


def test_style_mixing_draws_among_the_layers_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [mixing_layers(8, lod) for lod in (None, 0.0, 0.5, 1.0, 2.99)] == [8, 8, 8, 6, 4]
    g = torch.Generator().manual_seed(1)
    draws = {sample_mixing_cutoff(4, 0.9, g) for _ in range(400)}
    assert draws == {1, 2, 3, 4}  # 4 = no mixing (probability 0.1)
    cfg = build_config("stylegan1", resolution=32, options=TrainOptions(channel_base=256, channel_max=16, z_dim=16,
                                                                        w_dim=16))  # fmt: skip
    from stylegan.networks import Generator, build_network

    G = Generator(cfg.G)
    D = build_network(cfg.D)
    seen: list[int] = []
    real = losses_module.sample_mixing_cutoff
    monkeypatch.setattr(losses_module, "sample_mixing_cutoff", lambda n, p, gen: seen.append(n) or real(n, p, gen))
    loss = StyleGAN2Loss(G, D, cfg.loss, generator=torch.Generator().manual_seed(0))  # type: ignore[arg-type]
    v1.set_lod(G, 1.5)
    img, ws = loss.run_G(torch.randn(4, 16), None)
    assert seen == [G.num_ws - 2] and img.shape == (4, 3, 32, 32)


def test_w_avg_tracks_every_generator_pass_of_a_v1_network() -> None:
    cfg = build_config("stylegan1", resolution=16, options=TrainOptions(channel_base=256, channel_max=16, z_dim=16,
                                                                        w_dim=16))  # fmt: skip
    from stylegan.networks import Generator, build_network

    G, D = Generator(cfg.G).requires_grad_(False), build_network(cfg.D).requires_grad_(False)
    loss = StyleGAN2Loss(G, D, cfg.loss, generator=torch.Generator().manual_seed(0))  # type: ignore[arg-type]
    G.requires_grad_(True)
    loss.accumulate_gradients("Gboth", torch.zeros(4, 3, 16, 16), None, torch.randn(4, 16), None)
    after_g = G.mapping.w_avg.clone()
    assert after_g.abs().sum() > 0  # the G pass moved it, as NVIDIA's G_style does in training
    G.requires_grad_(False)
    D.requires_grad_(True)
    loss.accumulate_gradients("Dboth", torch.zeros(4, 3, 16, 16), None, torch.randn(4, 16), None)
    assert not torch.equal(after_g, G.mapping.w_avg)


def test_wgan_gp_penalty_and_losses() -> None:
    w = torch.randn(1, 3, 4, 4)
    x = torch.randn(5, 3, 4, 4, requires_grad=True)
    logits = (x * w).sum(dim=[1, 2, 3])[:, None]  # a linear critic: |grad| = |w| everywhere
    penalty = losses_module.wgan_gradient_penalty(x, logits)
    torch.testing.assert_close(penalty, torch.full([5], (w.norm().item() - 1) ** 2))
    cfg = build_config("sg1-a", resolution=16, options=TrainOptions(channel_base=256, channel_max=16, z_dim=16,
                                                                    w_dim=16))  # fmt: skip
    assert cfg.loss.kind == "wgan-gp" and (cfg.loss.wgan_lambda, cfg.loss.wgan_epsilon) == (10.0, 0.001)
    from stylegan.networks import Generator, build_network

    G, D = Generator(cfg.G).requires_grad_(False), build_network(cfg.D).requires_grad_(False)
    loss = StyleGAN2Loss(G, D, cfg.loss, generator=torch.Generator().manual_seed(0))  # type: ignore[arg-type]
    D.requires_grad_(True)
    stats = loss.accumulate_gradients("Dboth", torch.rand(4, 3, 16, 16) * 2 - 1, None, torch.randn(4, 16), None)
    assert {"Loss/D/loss", "Loss/gp_penalty", "Loss/D/reg"} <= set(stats)
    expected = stats["Loss/scores/fake"] - stats["Loss/scores/real"] + 0.001 * stats["Loss/scores/real"] ** 2
    torch.testing.assert_close(stats["Loss/D/loss"], expected)
    assert D.b4.out.weight.grad is not None and D.b16.conv0.weight.grad is not None
    with pytest.raises(ValueError, match="loss kind"):
        LossSettings(kind="hinge")  # type: ignore[arg-type]


# ---- training runs ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 unlabelled 16x16 images, as an NVIDIA-layout zip."""
    root = tmp_path_factory.mktemp("grow")
    rng = np.random.RandomState(0)
    (root / "src").mkdir()
    for i in range(8):
        a = np.zeros((16, 16, 3), np.uint8)
        a[:] = rng.randint(0, 255, 3)
        a[4:12, 4:12] = rng.randint(0, 255, 3)
        Image.fromarray(a).save(root / "src" / f"{i}.png")
    prepare_dataset(root / "src", root / "d.zip", resolution=16)
    return root / "d.zip"


def grow_config(data: Path, steps: int, preset: str = "stylegan1", **kw: object) -> TrainConfig:
    """16x16 from 4x4, batch 4: each resolution 2 steps (0.008 kimg), each fade 4 steps (0.016 kimg)."""
    options = TrainOptions(
        data_path=str(data),
        mirror=True,
        channel_base=256,
        channel_max=16,
        z_dim=16,
        w_dim=16,
        batch=4,
        kimg=steps * 4 / 1000,
        kimg_per_tick=0.008,
        snap=1,
        snap_minutes=0,
        image_grid=(2, 2),
        lod_initial_res=4,
        lod_training_kimg=0.008,
        lod_transition_kimg=0.016,
        **kw,  # type: ignore[arg-type]
    )
    return build_config(preset, resolution=16, options=options)


def quiet(run_dir: Path, stream: io.StringIO | None = None) -> Reporter:
    return Reporter(run_dir, stream=stream or io.StringIO(), tensorboard=False)


def _state(run_dir: Path) -> dict:
    return load_training_state(run_dir / STATE_FILENAME)


def _adam_steps(state: dict, opt: str) -> set[int]:
    return {int(s["step"]) for s in state[opt]["state"].values()}


def test_optimisers_reset_at_the_start_and_end_of_each_fade(data16: Path, tmp_path: Path) -> None:
    # Steps start at nimg 0, 4, 8 (lod 2), 12 (1.75: fade starts), 16, 20, 24 (1: fade ended), 28, 32 (1, stable),
    # 36 (0.75: next fade).
    expected = {3: {3}, 4: {1}, 6: {3}, 7: {1}, 9: {3}, 10: {1}}
    for steps, adam_steps in expected.items():
        run_dir = tmp_path / f"r{steps}"
        stream = io.StringIO()
        result = train(grow_config(data16, steps), run_dir, reporter=quiet(run_dir, stream))
        assert result.batch_idx == steps
        state = _state(run_dir)
        assert _adam_steps(state, "G_opt") == adam_steps == _adam_steps(state, "D_opt"), steps
    log = stream.getvalue()
    assert log.count("optimiser states reset") == 3
    assert "kimg 0.012: lod 1.75, fading in 8x8" in log and "kimg 0.024: lod 1.00, training 8x8" in log
    assert "kimg 0.036: lod 0.75, fading in 16x16" in log


def test_resume_in_the_middle_of_a_fade_is_exact(data16: Path, tmp_path: Path) -> None:
    straight = train(grow_config(data16, 9), tmp_path / "a", reporter=quiet(tmp_path / "a"))
    assert straight.batch_idx == 9
    first = train(grow_config(data16, 5), tmp_path / "b", reporter=quiet(tmp_path / "b"))
    assert first.batch_idx == 5
    state = _state(tmp_path / "b")
    assert state["progress"]["lod_levels"] == [1, 2]  # stopped with 8x8 half faded in (next step: lod 1.25)
    assert state["G_ema"]["synthesis.lod"].item() == 1.5 == state["D"]["lod"].item()
    second = train(grow_config(data16, 9), tmp_path / "b", reporter=quiet(tmp_path / "b"), resume=True)
    assert second.batch_idx == 9
    a, b = _state(tmp_path / "a"), _state(tmp_path / "b")
    for net in ("G", "D", "G_ema"):
        assert a[net].keys() == b[net].keys()
        for k in a[net]:
            torch.testing.assert_close(a[net][k], b[net][k], rtol=1e-5, atol=1e-6, msg=f"{net}.{k}")
    for opt in ("G_opt", "D_opt"):
        assert a[opt]["state"].keys() == b[opt]["state"].keys()
        for pid, st in a[opt]["state"].items():
            torch.testing.assert_close(st["exp_avg_sq"], b[opt]["state"][pid]["exp_avg_sq"], rtol=1e-5, atol=1e-9)
            assert int(st["step"]) == int(b[opt]["state"][pid]["step"])
    assert a["progress"]["cur_nimg"] == b["progress"]["cur_nimg"] == 36
    assert a["progress"]["lod_levels"] == b["progress"]["lod_levels"] == [1, 1]
    lods = [json.loads(line)["Progress/lod"] for line in (tmp_path / "b" / "stats.jsonl").read_text().splitlines()]
    assert lods == sorted(lods, reverse=True) and lods[0] == 2.0 and lods[-1] == 1.0


def test_batch_per_resolution_with_workers_and_exact_resume(data16: Path, tmp_path: Path) -> None:
    """A minibatch table (8 at 4x4, 4 above) read by a data-loader process: each step takes the batch of its
    resolution, the loader follows the changes, and a run resumed in the fade equals the uninterrupted one."""

    def cfg(kimg: float) -> TrainConfig:
        c = grow_config(data16, 1, workers=1)
        return c.replace({"kimg": kimg, "progressive.batch": ((4, 8),)})

    assert [cfg(1).schedule(n).batch for n in (0, 8, 16, 20)] == [8, 8, 4, 4]
    straight = train(cfg(0.032), tmp_path / "a", reporter=quiet(tmp_path / "a"))
    assert (straight.batch_idx, straight.cur_nimg) == (6, 32) and count_steps(cfg(0.032)) == (6, {4: 16, 8: 16})
    train(cfg(0.02), tmp_path / "b", reporter=quiet(tmp_path / "b"))
    assert _state(tmp_path / "b")["progress"]["cur_nimg"] == 20  # 8 + 8 + 4, the next step at lod 1.25
    train(cfg(0.032), tmp_path / "b", reporter=quiet(tmp_path / "b"), resume=True)
    a, b = _state(tmp_path / "a"), _state(tmp_path / "b")
    assert a["ranks"][0]["data_pos"] == b["ranks"][0]["data_pos"] == 32
    for net in ("G", "D", "G_ema"):
        for k in a[net]:
            torch.testing.assert_close(a[net][k], b[net][k], rtol=1e-5, atol=1e-6, msg=f"{net}.{k}")
    stats = [json.loads(line) for line in (tmp_path / "b" / "stats.jsonl").read_text().splitlines()]
    assert [s["Progress/minibatch"] for s in stats] == [8, 8, 4, 4, 4]


def test_snapshots_render_at_full_resolution_at_any_lod(data16: Path, tmp_path: Path) -> None:
    result = train(grow_config(data16, 3), tmp_path / "r", reporter=quiet(tmp_path / "r"))
    assert result.snapshot is not None
    nets = stylegan.io.load(result.snapshot, which="all")
    G = nets.G_ema
    assert G.version == 1 and v1.get_lod(G) == 2.0 and nets.D is not None and v1.get_lod(nets.D) == 2.0
    img = G(torch.randn(2, G.z_dim), None, noise_mode="const")
    assert img.shape == (2, 3, 16, 16)  # what training sees: 4x4 detail, nearest-upsampled to 16x16
    assert torch.equal(img, img[:, :, ::4, ::4].repeat_interleave(4, 2).repeat_interleave(4, 3))
    assert Image.open(tmp_path / "r" / "fakes000000.png").size == (32, 32)  # 2x2 grid of 16x16
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["generate", "--network", str(result.snapshot), "--seeds", "0-1", "--outdir",
                                   str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert {Image.open(p).size for p in out.glob("*.png")} == {(16, 16)}


@pytest.mark.parametrize("preset", ["sg1-a", "config-a", "config-d"])
def test_other_growing_presets_train(preset: str, data16: Path, tmp_path: Path) -> None:
    result = train(grow_config(data16, 5, preset), tmp_path / "r", reporter=quiet(tmp_path / "r"))
    assert result.batch_idx == 5
    stats = [json.loads(line) for line in (tmp_path / "r" / "stats.jsonl").read_text().splitlines()]
    assert all(math.isfinite(s["Loss/D/loss"]) and math.isfinite(s["Loss/G/loss"]) for s in stats)
    assert ("Loss/gp_penalty" in stats[-1]) == (preset == "sg1-a")
    assert ("Loss/pl_penalty" in stats[-1]) == (preset == "config-d")  # lazy: every 4 steps, 2 ticks of 2
    assert [s["Progress/lod"] for s in stats] == [2.0, 1.75, 1.5]


# ---- the command line ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data32(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("grow32")
    rng = np.random.RandomState(1)
    (root / "src").mkdir()
    for i in range(16):
        a = np.zeros((32, 32, 3), np.uint8)
        a[:] = rng.randint(0, 255, 3)
        a[8:24, 8:24] = rng.randint(0, 255, 3)
        Image.fromarray(a).save(root / "src" / f"{i}.png")
    prepare_dataset(root / "src", root / "d.zip", resolution=32)
    return root / "d.zip"


def _dry_run(data: Path, tmp_path: Path, *args: str) -> tuple[dict, str]:
    res = CliRunner().invoke(
        cli,
        ["train", "--data", str(data), "--outdir", str(tmp_path), "--cbase", "1024", "--cmax", "64", "--device",
         "cpu", "--dry-run", *args],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    text = res.output[res.output.index("{\n") :]
    end = text.index("\n}\n") + 2
    return json.loads(text[:end]), text[end:]


GROWING = {"stylegan1"} | {f"sg1-{c}" for c in "abcdef"} | {f"config-{c}" for c in "abcd"}


@pytest.mark.parametrize("preset", [f"sg1-{c}" for c in "abcdef"] + [f"config-{c}" for c in "abcdef"])
def test_table_presets_dry_run(preset: str, data32: Path, tmp_path: Path) -> None:
    cfg, cost = _dry_run(data32, tmp_path, "--cfg", preset)
    assert cfg["preset"] == preset and (cfg["progressive"] is not None) == (preset in GROWING)
    assert ("progressive growing from" in cost) == (preset in GROWING)
    G = cfg["G"]
    if preset.startswith("sg1-"):
        row = "abcdef".index(preset[-1])
        assert G["version"] == 1 and cfg["D"]["version"] == 1
        assert (G["use_styles"], G["mapping_layers"] > 0) == ((row >= 2,) * 2)
        assert (G["use_pixel_norm"], G["use_instance_norm"]) == (row < 2, row >= 2)
        assert G["const_input_layer"] == (row >= 3) and G["use_noise"] == (row >= 4)
        assert cfg["loss"]["style_mixing_prob"] == (0.9 if row == 5 else 0.0)
        assert (G["blur_filter"] is None) == (row == 0) and cfg["loss"]["kind"] == (
            "wgan-gp" if row == 0 else "logistic"
        )
        assert cfg["progressive"]["initial_res"] == (4 if row == 0 else 8)
        assert (cfg["G_reg_interval"], cfg["D_reg_interval"], cfg["loss"]["pl_weight"]) == (None, None, 0.0)
    else:
        row = "abcdef".index(preset[-1])
        assert ("version" in G) == (row == 0)
        assert cfg["D_reg_interval"] == (None if row < 2 else 16)
        assert cfg["loss"]["pl_weight"] == (0.0 if row < 3 else 2.0)
        assert cfg["loss"]["r1_gamma"] == (100.0 if row == 4 else 10.0)
        if row in (1, 2, 3):  # StyleGAN2 networks growing progressively, on config A's schedule
            assert (G["architecture"], cfg["D"]["architecture"]) == ("skip", "skip")
            assert G["progressive"] and cfg["D"]["progressive"] and cfg["progressive"]["initial_res"] == 8
            assert cfg["progressive"]["batch"] == [[8, 256], [16, 128], [32, 64], [64, 32]]
        if row >= 4:
            assert (G["architecture"], cfg["D"]["architecture"]) == ("skip", "resnet") and not G["progressive"]
            assert cfg["batch"] == 32 and cfg["G_opt"]["lr"] == 0.002
        assert G["channel_base"] == 1024  # --cbase; the presets: 16384 for A-E, 32768 for F
    assert PRESETS[preset].channel_base == (32768 if preset == "config-f" else 16384)


def test_cli_growth_flags_dry_run_and_errors(data32: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, cost = _dry_run(data32, tmp_path, "--cfg", "stylegan1", "--batch", "8", "--lod-initial-res", "16",
                         "--lod-training-kimg", "1", "--lod-transition-kimg", "2", "--kimg", "10")  # fmt: skip
    assert cfg["progressive"]["initial_res"] == 16 and cfg["progressive"]["batch"] == []
    assert (cfg["progressive"]["training_kimg"], cfg["progressive"]["transition_kimg"]) == (1.0, 2.0)
    assert "32x32 from 3 kimg" in cost and "16: batch 8" in cost
    from stylegan.cli.common import run_cli

    base = ["train", "--data", str(data32), "--outdir", str(tmp_path), "--dry-run"]
    for args, msg in [
        (["--cfg", "stylegan1", "--lod-initial-res", "64"], "--lod-initial-res 64 is above the resolution"),
        (["--cfg", "stylegan1", "--lod-initial-res", "6"], "--lod-initial-res must be a power of two"),
        (["--cfg", "stylegan2", "--lod-transition-kimg", "5"], "--lod-transition-kimg applies to progressive"),
    ]:
        with pytest.raises(SystemExit) as e:
            run_cli(cli, base + args)
        assert e.value.code == 1, args
        err = capsys.readouterr().err
        assert msg in err and len(err.strip().splitlines()) == 1, err


def test_cli_issue_check_run_and_resume(data32: Path, tmp_path: Path) -> None:
    """The issue's check: 32 px data grown from 8x8 in 0.03 kimg stages, 0.2 kimg, then resumed to 0.25."""
    runner = CliRunner()
    res = runner.invoke(
        cli,
        ["train", "--data", str(data32), "--outdir", str(tmp_path), "--cfg", "stylegan1", "--cbase", "1024", "--cmax",
         "64", "--batch", "8", "--lod-initial-res", "8", "--lod-training-kimg", "0.03", "--lod-transition-kimg",
         "0.03", "--kimg", "0.2", "--tick", "0.01", "--snap", "4", "--device", "cpu"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    (run_dir,) = tmp_path.glob("00000-d-stylegan1-*")
    res = runner.invoke(cli, ["train", "--outdir", str(tmp_path), "--resume", "latest", "--kimg", "0.25"])
    assert res.exit_code == 0, res.output
    stats = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]
    lods = [s["Progress/lod"] for s in stats]
    assert lods[0] == 2.0 and lods[-1] == 0.0 and lods == sorted(lods, reverse=True) and 0 < lods[3] < 2
    assert stats[-1]["Progress/kimg"] == 0.256 and stats[-1]["Progress/minibatch"] == 8
    state = _state(run_dir)
    assert state["progress"]["cur_nimg"] == 256 and state["G_ema"]["synthesis.lod"].item() == 0.0
    log = (run_dir / "log.txt").read_text()
    assert log.count("optimiser states reset") == 4 and "resuming" in log
    G = stylegan.io.load(next(run_dir.glob("network-snapshot-*.safetensors")))
    assert G.version == 1 and G(torch.randn(1, G.z_dim)).shape == (1, 3, 32, 32)


def test_resume_refuses_to_change_the_growth(data32: Path, tmp_path: Path) -> None:
    from stylegan.train.runs import refuse_on_resume

    with pytest.raises(StyleGANError, match="lod_initial_res"):
        refuse_on_resume(["lod_initial_res"])
