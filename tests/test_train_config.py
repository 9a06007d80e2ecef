"""Presets (StyleGAN2-ADA's train.py), typed options, config round trips, resume policy, EMA, the reporter and the
data stream."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
import torch

from stylegan.errors import SettingError, StyleGANError
from stylegan.presets import PRESETS
from stylegan.train.config import AugmentConfig, TrainConfig, TrainOptions, build_config, describe_cost
from stylegan.train.data import StreamSampler
from stylegan.train.ema import ema_beta, update_ema
from stylegan.train.reporting import Reporter, format_duration

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_resolves_and_round_trips(name: str) -> None:
    cfg = build_config(name, resolution=64, gpus=2)
    assert TrainConfig.from_dict(json.loads(cfg.to_json())) == cfg
    assert cfg.per_rank(2)[0] == cfg.schedule(10**12).batch // 2  # the full resolution's batch


def test_dry_run_cost_estimate() -> None:
    cost = describe_cost(build_config("cpu-tiny", resolution=16, options=TrainOptions(kimg=2)), 1)
    assert "500 steps of 4 images" in cost and "TFLOP per kimg" in cost and "per kimg" in cost


@pytest.mark.parametrize(
    "name, batch, gamma, cbase, lr, ema, mapping, mbstd",
    [
        ("stylegan2", 32, 10.0, 32768, 0.002, 10.0, 8, 4),
        ("paper256", 64, 1.0, 16384, 0.0025, 20.0, 8, 8),
        ("paper512", 64, 0.5, 32768, 0.0025, 20.0, 8, 8),
        ("paper1024", 32, 2.0, 32768, 0.002, 10.0, 8, 4),
        ("cifar", 64, 0.01, 32768, 0.0025, 500.0, 2, 32),
    ],
)
def test_nvidia_presets_match_reference(
    name: str, batch: int, gamma: float, cbase: int, lr: float, ema: float, mapping: int, mbstd: int
) -> None:
    cfg = build_config(name, resolution=256)
    got = (cfg.batch, cfg.loss.r1_gamma, cfg.G.channel_base, cfg.G_opt.lr, cfg.ema_kimg)
    assert got == (batch, gamma, cbase, lr, ema)
    assert (cfg.G.mapping_layers, cfg.D.mbstd_group_size, cfg.G_opt.betas) == (mapping, mbstd, (0.0, 0.99))
    assert (cfg.G_reg_interval, cfg.D_reg_interval, cfg.loss.pl_weight > 0) == (4, 16, name != "cifar")


def test_auto_formulas() -> None:
    for res, gpus in [(64, 1), (256, 8), (1024, 4)]:
        cfg = build_config("auto", resolution=res, gpus=gpus)
        batch = max(min(gpus * min(4096 // res, 32), 64), gpus)
        assert cfg.batch == batch
        assert cfg.D.mbstd_group_size == min(batch // gpus, 4)
        assert cfg.G.channel_base == (32768 if res >= 512 else 16384)
        assert cfg.G_opt.lr == (0.002 if res >= 1024 else 0.0025)
        assert cfg.loss.r1_gamma == pytest.approx(0.0002 * res**2 / batch)
        assert cfg.ema_kimg == pytest.approx(batch * 10 / 32) and cfg.ema_rampup == 0.05
        assert cfg.G.mapping_layers == 2


def test_overrides_and_errors() -> None:
    options = TrainOptions(
        batch=16,
        r1_gamma=0.0,
        channel_base=8192,
        channel_max=256,
        mapping_layers=4,
        G_lr=0.001,
        freeze_layers=3,
        kimg=0.1,
        augment_kind="ada",
    )
    cfg = build_config("paper256", resolution=64, options=options)
    assert (cfg.batch, cfg.loss.r1_gamma, cfg.G.channel_base, cfg.G.channel_max) == (16, 0.0, 8192, 256)
    assert (cfg.G.mapping_layers, cfg.G_opt.lr, cfg.D_opt.lr, cfg.D.freeze_layers) == (4, 0.001, 0.0025, 3)
    assert cfg.augment == AugmentConfig(kind="ada")
    with pytest.raises(SettingError, match="unknown preset 'nope'"):
        build_config("nope", resolution=64)
    with pytest.raises(SettingError, match="batch 6 must be divisible by the number of processes"):
        build_config("paper256", resolution=64, options=TrainOptions(batch=6)).per_rank(4)
    with pytest.raises(StyleGANError, match="multiple of batch_gpu"):
        build_config("paper256", resolution=64, options=TrainOptions(batch=8, batch_gpu=3))
    with pytest.raises(SettingError, match="batch must be >= 1, got 0"):
        TrainOptions(batch=0)
    with pytest.raises(StyleGANError, match="channel_base=8 gives no channels"):
        build_config("paper256", resolution=64, options=TrainOptions(channel_base=8))
    with pytest.raises(ValueError, match="augment pipe"):
        AugmentConfig(pipe="bgz")


def test_ema_beta_half_life_and_rampup() -> None:
    assert ema_beta(32, 10, None, 0) == pytest.approx(0.5 ** (32 / 10000))
    assert ema_beta(32, 10, 0.05, 1000) == pytest.approx(0.5 ** (32 / 50))  # ramp-up: n = 1000 * 0.05
    assert ema_beta(32, 10, 0.05, 0) == 0.0  # the very first step copies G


def test_update_ema_lerps_params_and_copies_buffers() -> None:
    a, b = torch.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    with torch.no_grad():
        a.weight.fill_(0.0)
        b.weight.fill_(1.0)
        b.running_mean.fill_(5.0)
    update_ema(a, b, beta=0.75)
    assert torch.allclose(a.weight, torch.full([2], 0.25)) and torch.equal(a.running_mean, b.running_mean)


def test_reporter_means_reduce_and_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    r = Reporter(tmp_path, stream=stream, live=True, tensorboard=False)
    r.add("Loss/G", torch.tensor([1.0, 3.0]))
    r.add("Loss/G", float("nan"))  # ignored in the mean
    r.add("Loss/D", 4.0)
    assert r.means() == {"Loss/D": 4.0, "Loss/G": 2.0}
    r.reduce(lambda t: t * 2)  # as if two identical ranks
    assert r.means()["Loss/G"] == 2.0 and r.stds()["Loss/G"] == pytest.approx(1.0)
    r.progress("kimg 1.0", force=True)
    r.log("tick 0")
    r.write_stats({"Loss/G": 2.0}, step=4)
    r.close()
    assert "\rkimg 1.0" in stream.getvalue() and "tick 0\n" in stream.getvalue()
    assert (tmp_path / "log.txt").read_text() == "tick 0\n"
    assert json.loads((tmp_path / "stats.jsonl").read_text()) == {"Loss/G": 2.0}
    silent = Reporter(tmp_path / "other", enabled=False)
    silent.log("x")
    assert not (tmp_path / "other").exists()
    assert format_duration(3725) == "1h02m" and format_duration(65) == "1m05s"


def test_stream_sampler_covers_every_item_and_splits_ranks() -> None:
    s0, s1 = StreamSampler(10, seed=3, rank=0, world_size=2), StreamSampler(10, seed=3, rank=1, world_size=2)
    epoch = [s0.index_at(i) for i in range(5)] + [s1.index_at(i) for i in range(5)]
    assert sorted(epoch) == list(range(10))
    it = iter(StreamSampler(10, seed=3, rank=0, world_size=2, start=3))
    assert [next(it) for _ in range(4)] == [s0.index_at(i) for i in range(3, 7)]
    assert dataclasses.is_dataclass(build_config("cpu-tiny", resolution=16))


def test_reporter_writes_tensorboard_events_when_installed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("tensorboard")
    r = Reporter(tmp_path, stream=io.StringIO())
    r.write_stats({"Loss/G": 1.5, "note": "x"}, step=8)  # type: ignore[dict-item]
    r.close()
    assert list(tmp_path.glob("events.out.tfevents.*"))


def _at(cfg: object, path: str) -> object:
    for name in path.split("."):
        cfg = getattr(cfg, name)
    return cfg


def test_every_option_sets_the_configuration_fields_it_names() -> None:
    values = dict(
        data_path="x.zip",
        mirror=True,
        cond=True,
        max_size=5,
        workers=2,
        channel_base=512,
        channel_max=32,
        mapping_layers=3,
        z_dim=8,
        w_dim=8,
        mbstd_group_size=2,
        freeze_layers=1,
        num_fp16_res=2,
        r1_gamma=0.5,
        pl_weight=1.5,
        style_mixing_prob=0.5,
        G_lr=0.001,
        D_lr=0.003,
        ema_kimg=2.5,
        augment_kind="fixed",
        augment_p=0.3,
        augment_target=0.7,
        augment_pipe="bg",
        batch=8,
        batch_gpu=4,
        kimg=1.5,
        kimg_per_tick=0.5,
        snap=3,
        snap_minutes=5.0,
        image_grid=(2, 3),
        seed=7,
        metrics=("fid50k_full",),
        precision="bf16",
        compile=True,
        resume_from="net.pkl",
        info_cat=4,
        info_cont=1,
        info_weight=0.5,
    )
    growing = dict(lod_initial_res=4, lod_training_kimg=1.5, lod_transition_kimg=0.0)  # presets that grow only
    assert set(values) | set(growing) == {f.name for f in dataclasses.fields(TrainOptions)}
    options = TrainOptions(**values)  # type: ignore[arg-type]
    cfg = build_config("cpu-tiny", resolution=16, c_dim=3, options=options)
    grown = build_config("stylegan1", resolution=16, options=TrainOptions(**growing))  # type: ignore[arg-type]
    for f in dataclasses.fields(TrainOptions):
        assert f.metadata["paths"], f.name
        for path in f.metadata["paths"]:
            assert path.split(".")[-1] in f.name, (f.name, path)  # named after the configuration's own field
            if f.name in growing:
                assert _at(grown, path) == growing[f.name], (f.name, path)
            else:
                assert _at(cfg, path) == values[f.name], (f.name, path)
    assert options.given() == list(values) and TrainOptions().given() == []


def test_a_misspelt_setting_path_fails() -> None:
    cfg = build_config("cpu-tiny", resolution=16)
    assert cfg.replace({"G.channel_base": 512, "D.channel_base": 512, "batch": 8}).D.channel_base == 512
    with pytest.raises(ValueError, match="unknown GeneratorConfig fields: chanel_base"):
        cfg.replace({"G.chanel_base": 512})
    with pytest.raises(ValueError, match="unknown TrainConfig fields: los"):
        cfg.replace({"los.r1_gamma": 1.0})
    with pytest.raises(ValueError, match="unknown TrainConfig fields: gamma"):
        cfg.replace({"gamma": 1.0})


def test_one_preset_table_for_networks_and_training() -> None:
    for name, preset in PRESETS.items():
        cfg = build_config(name, resolution=256)
        assert cfg.G == preset.generator(256) and cfg.D == preset.discriminator(256)
    with pytest.raises(TypeError):
        PRESETS["auto"].__class__("positional rows are not allowed")  # type: ignore[misc]


def test_resume_refuses_other_settings_by_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from stylegan.train.runs import RESUMABLE, refuse_on_resume, resume_config

    assert set(RESUMABLE) <= {f.name for f in dataclasses.fields(TrainOptions)}
    cfg = build_config("cpu-tiny", resolution=16)
    (tmp_path / "config.json").write_text(json.dumps({"config": cfg.to_dict()}))
    resumed = resume_config(tmp_path, TrainOptions(kimg=3.0, snap_minutes=0, workers=2, precision="bf16"))
    assert (resumed.kimg, resumed.snap_minutes, resumed.data.workers, resumed.precision) == (3.0, None, 2, "bf16")
    assert dataclasses.replace(resumed, kimg=cfg.kimg, snap_minutes=60.0, data=cfg.data, precision=cfg.precision) == cfg
    with pytest.raises(SettingError, match="^r1_gamma, seed cannot change when resuming") as e:
        resume_config(tmp_path, TrainOptions(kimg=3.0, r1_gamma=1.0, seed=3))
    assert e.value.settings[:2] == ("r1_gamma", "seed")
    refuse_on_resume(list(RESUMABLE))


def test_library_errors_name_the_setting_and_the_cli_the_flag(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from stylegan.cli.common import run_cli
    from stylegan.cli.main import cli
    from stylegan.cli.train import train

    params = {p.name for p in train.params}
    assert params - {f.name for f in dataclasses.fields(TrainOptions)} == {
        "outdir",
        "preset",
        "resume",
        "description",
        "device",
        "dry_run",
    }
    with pytest.raises(SettingError, match="^batch_gpu 3 must be a multiple of .* use mbstd_group_size") as e:
        build_config("cpu-tiny", resolution=16, options=TrainOptions(batch=6, batch_gpu=3)).per_rank(1)
    flags = {p.name: p.opts[0] for p in train.params if p.name}
    assert e.value.render(flags) == (
        "--batch-gpu 3 must be a multiple of the minibatch-stddev group (2); use --mbstd-group to change it"
    )
    with pytest.raises(SettingError, match="^mapping_layers must be >= 1, got 0"):
        TrainOptions(mapping_layers=0)
    for args, message in [
        (["--map", "0"], "error: --map must be >= 1, got 0"),
        (["--resume", "latest", "--gamma", "3", "--mixing", "0"], "error: --gamma, --mixing cannot change"),
        (["--resume", "latest"], f"error: --resume latest: no run with a training-state.pt under {tmp_path}"),
    ]:
        with pytest.raises(SystemExit):
            run_cli(cli, ["train", "--outdir", str(tmp_path), "--device", "cpu", *args])
        assert capsys.readouterr().err.startswith(message), args
