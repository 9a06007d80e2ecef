"""Info-StyleGAN (InfoGAN's latent codes in StyleGAN training): the Q head, the Q loss, the configuration, a run
that resumes exactly, and the issue's check end to end (dataset prepare, train --info-cat, generate --info-code)."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import stylegan.io
from stylegan.data import prepare_dataset
from stylegan.errors import SettingError
from stylegan.generation import generate, info_labels
from stylegan.infocodes import InfoCodes, info_loss, read_info_codes
from stylegan.networks import Discriminator, DiscriminatorConfig, count_parameters
from stylegan.testing import tiny_discriminator_config
from stylegan.train import Reporter, TrainConfig, TrainOptions, build_config, train
from stylegan.train.losses import LossSettings, StyleGAN2Loss
from stylegan.train.state import STATE_FILENAME, load_training_state

from .conftest import assert_user_error, run_stylegan

pytestmark = pytest.mark.usefixtures("one_thread")


# ---- the Q head ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "overrides",
    [{}, {"c_dim": 3}, {"architecture": "skip"}, {"architecture": "skip", "progressive": True}, {"img_resolution": 4}],
)
def test_q_head_leaves_the_discriminator_output_unchanged(overrides: dict) -> None:
    cfg = tiny_discriminator_config(**overrides)
    torch.manual_seed(0)
    plain = Discriminator(cfg).eval()
    torch.manual_seed(0)
    with_q = Discriminator(dataclasses.replace(cfg, q_dim=6)).eval()
    res = cfg.img_resolution
    img = torch.randn(4, 3, res, res, generator=torch.Generator().manual_seed(1))
    c = torch.eye(3)[[0, 1, 2, 0]] if cfg.c_dim else None
    logits = plain(img, c)
    assert torch.equal(with_q(img, c), logits)  # bit-identical
    logits_q, q = with_q.forward_with_q(img, c)
    assert torch.equal(logits_q, logits) and q.shape == (4, 6) and logits.shape == (4, 1)
    extra = set(with_q.state_dict()) - set(plain.state_dict())
    assert extra and all(k.startswith("q_head.") for k in extra)
    for k, v in plain.state_dict().items():
        assert torch.equal(v, with_q.state_dict()[k]), k
    for net in (plain, with_q):  # the arithmetic count knows the head
        assert count_parameters(net.cfg)[0] == sum(p.numel() for p in net.parameters())
    with pytest.raises(ValueError, match="no Q head"):
        plain.forward_with_q(img, c)


def test_discriminator_config_files_without_a_q_head_are_unchanged() -> None:
    cfg = tiny_discriminator_config()
    assert "q_dim" not in cfg.to_dict()
    d = dataclasses.replace(cfg, q_dim=5).to_dict()
    assert d["q_dim"] == 5 and DiscriminatorConfig.from_dict(d).q_dim == 5
    with pytest.raises(ValueError, match="q_dim"):
        tiny_discriminator_config(q_dim=-1)


# ---- codes and the Q loss --------------------------------------------------------------------------------------
def test_codes_sample_split_and_labels() -> None:
    info = InfoCodes(cat=4, cont=2, label_dim=3)
    codes = info.sample(500, torch.Generator().manual_seed(0))
    assert codes.shape == (500, 6)
    assert torch.equal(codes[:, :4].sum(1), torch.ones(500)) and set(codes[:, :4].argmax(1).tolist()) == {0, 1, 2, 3}
    assert codes[:, 4:].min() >= -1 and codes[:, 4:].max() <= 1 and codes[:, 4:].std() > 0.4
    labels, rest = info.split(torch.cat([torch.ones(500, 3), codes], dim=1))
    assert labels is not None and labels.shape == (500, 3) and torch.equal(rest, codes)
    c = info_labels(info, [1, 3], cont=[0.5, -1], class_idx=2)
    assert c.tolist() == [[0, 0, 1, 0, 1, 0, 0, 0.5, -1], [0, 0, 1, 0, 0, 0, 1, 0.5, -1]]
    for bad, setting in [
        (lambda: info_labels(info, 4, class_idx=0), "info_code"),
        (lambda: info_labels(info, 0, cont=[1.0], class_idx=0), "info_cont"),
        (lambda: info_labels(info, 0), "class_idx"),
        (lambda: info_labels(InfoCodes(cat=2), 0, class_idx=0), "class_idx"),
        (lambda: InfoCodes(cat=1), "info_cat"),
        (lambda: InfoCodes(), "info_cat"),
        (lambda: InfoCodes(cat=2, weight=float("nan")), "info_weight"),
    ]:
        with pytest.raises(SettingError) as e:
            bad()
        assert setting in e.value.settings
    assert InfoCodes.from_dict(info.to_dict()) == info


def test_info_loss_parts_and_q_learns_on_a_fixed_batch() -> None:
    info = InfoCodes(cat=4, cont=2)
    codes = info.sample(8, torch.Generator().manual_seed(0))
    ce, nll, right = info_loss(codes * 50, codes, info)  # a confident, right Q
    assert ce.max() < 1e-6 and nll.max() > 0 and right.min() == 1
    ce, nll, _ = info_loss(torch.zeros(8, 6), codes, info)  # Q knows nothing: ln 4, and 0.5·c² per code
    torch.testing.assert_close(ce, torch.full([8], float(np.log(4))))
    torch.testing.assert_close(nll, 0.5 * codes[:, 4:].square().sum(1))

    # Optimising only the Q head on a fixed batch of images made from the codes lowers the Q loss.
    torch.manual_seed(0)
    D = Discriminator(tiny_discriminator_config(q_dim=info.dim))
    codes = info.sample(16, torch.Generator().manual_seed(1))
    img = torch.randn(16, 3, 16, 16) * 0.1
    img[:, 0] += codes[:, :4].argmax(1)[:, None, None].float() - 1.5  # the category shows in the red channel
    img[:, 1] += codes[:, 4, None, None]
    opt = torch.optim.Adam(D.q_head.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        _, q = D.forward_with_q(img)
        ce, nll, _ = info_loss(q, codes, info)
        loss = (ce + nll).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0], losses[::10]


def test_loss_adds_the_q_loss_to_g_and_to_d_on_fakes() -> None:
    from stylegan.networks import Generator
    from stylegan.testing import tiny_generator_config

    info = InfoCodes(cat=3, cont=1)
    torch.manual_seed(0)
    G = Generator(tiny_generator_config(c_dim=info.dim))
    D = Discriminator(tiny_discriminator_config(q_dim=info.dim))
    settings = LossSettings(r1_gamma=1.0, pl_weight=0.0, style_mixing_prob=0.0)
    loss = StyleGAN2Loss(G, D, settings, generator=torch.Generator().manual_seed(0), info=info)
    z, c = torch.randn(4, G.z_dim), info.sample(4)
    real = torch.randn(4, 3, 16, 16)
    D.requires_grad_(True)
    stats = loss.accumulate_gradients("Dmain", real, None, z, c)
    assert {"Loss/info/cat", "Loss/info/cont", "Info/accuracy"} <= set(stats)
    assert D.q_head.out.weight.grad is not None and D.q_head.out.weight.grad.abs().sum() > 0  # Q trains on fakes
    D.requires_grad_(False)
    G.requires_grad_(True)
    stats = loss.accumulate_gradients("Gmain", real, None, z, c)
    assert "Loss/G/info" in stats and G.mapping.embed.weight.grad is not None  # G learns through its c
    with pytest.raises(ValueError, match="Q head"):
        StyleGAN2Loss(G, Discriminator(tiny_discriminator_config()), settings, info=info)


# ---- configuration ---------------------------------------------------------------------------------------------
def test_config_with_info_codes() -> None:
    cfg = build_config("cpu-tiny", resolution=16, c_dim=2, options=TrainOptions(info_cat=4, info_cont=1))
    assert (cfg.G.c_dim, cfg.D.c_dim, cfg.D.q_dim) == (7, 2, 5)
    assert cfg.info == InfoCodes(cat=4, cont=1, weight=1.0, label_dim=2)
    assert TrainConfig.from_dict(json.loads(cfg.to_json())) == cfg
    auto = build_config("auto", resolution=32, options=TrainOptions(info_cat=10, info_weight=0.5))
    assert auto.info is not None and auto.info.weight == 0.5 and auto.D.q_dim == 10
    assert build_config("cpu-tiny", resolution=16).info is None
    with pytest.raises(SettingError, match="StyleGAN2 discriminator"):
        build_config("stylegan1", resolution=32, options=TrainOptions(info_cat=4))
    with pytest.raises(SettingError, match="info_weight needs info_cat or info_cont"):
        build_config("cpu-tiny", resolution=16, options=TrainOptions(info_weight=1.0))
    with pytest.raises(SettingError, match="info_cat"):
        TrainOptions(info_cat=-1)


# ---- a real run ------------------------------------------------------------------------------------------------
def _make_folders(root: Path, resolution: int, per_class: int = 4) -> Path:
    """Folders `red` and `blue` of noisy images of that colour."""
    rng = np.random.RandomState(0)
    for k, name in [(0, "red"), (2, "blue")]:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            a = rng.randint(0, 60, (resolution, resolution, 3)).astype(np.uint8)
            a[:, :, k] += 180
            Image.fromarray(a).save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def rb16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rb16")
    _make_folders(root / "src", 16)
    prepare_dataset(root / "src", root / "rb.zip", resolution=16, labels="from-folders")
    return root / "rb.zip"


def _tiny_info_config(data: Path, steps: int) -> TrainConfig:
    """Conditional on the dataset's 2 classes and 3 + 1 info codes: every part of c in use."""
    options = TrainOptions(
        data_path=str(data),
        cond=True,
        channel_base=256,
        channel_max=16,
        batch=4,
        kimg=steps * 4 / 1000,
        kimg_per_tick=0.008,
        snap=1,
        image_grid=(3, 2),
        z_dim=16,
        w_dim=16,
        info_cat=3,
        info_cont=1,
        info_weight=2.0,
    )
    cfg = build_config("cpu-tiny", resolution=16, c_dim=2, options=options)
    return dataclasses.replace(cfg, G_reg_interval=2, D_reg_interval=3)


def _quiet(run_dir: Path) -> Reporter:
    return Reporter(run_dir, stream=io.StringIO(), tensorboard=False)


def test_info_run_resumes_exactly_and_records_the_codes(rb16: Path, tmp_path: Path) -> None:
    straight = train(_tiny_info_config(rb16, 6), tmp_path / "a", reporter=_quiet(tmp_path / "a"))
    assert straight.batch_idx == 6
    train(_tiny_info_config(rb16, 3), tmp_path / "b", reporter=_quiet(tmp_path / "b"))
    second = train(_tiny_info_config(rb16, 6), tmp_path / "b", reporter=_quiet(tmp_path / "b"), resume=True)
    assert second.batch_idx == 6
    a, b = (load_training_state(tmp_path / d / STATE_FILENAME) for d in "ab")
    assert any(k.startswith("q_head.") for k in a["D"])
    for net in ("G", "D", "G_ema"):
        assert a[net].keys() == b[net].keys()
        for k in a[net]:
            torch.testing.assert_close(a[net][k], b[net][k], rtol=1e-5, atol=1e-6, msg=f"{net}.{k}")
    saved = json.loads((tmp_path / "b" / "config.json").read_text())["config"]
    assert saved["info"] == {"cat": 3, "cont": 1, "weight": 2.0, "label_dim": 2} and saved["D"]["q_dim"] == 4
    # stats.jsonl: the Q loss and accuracy every tick.
    records = [json.loads(line) for line in (tmp_path / "a" / "stats.jsonl").read_text().splitlines()]
    assert records and all({"Loss/info/cat", "Loss/info/cont", "Info/accuracy"} <= set(r) for r in records)
    # The snapshot records the codes; its generator renders a code for a class.
    assert straight.snapshot is not None
    info = read_info_codes(straight.snapshot)
    assert info == InfoCodes(cat=3, cont=1, weight=2.0, label_dim=2)
    d_lines = stylegan.io.inspect(straight.snapshot).nets["D"].architecture_lines()
    assert any("Q head of 4 outputs" in line for line in d_lines)
    nets = stylegan.io.load(straight.snapshot, which="all")
    assert nets.G_ema is not None and nets.G_ema.c_dim == 6 and nets.D is not None and nets.D.cfg.q_dim == 4
    imgs = [generate(nets.G_ema, [0], labels=info_labels(info, k, [0.0], class_idx=1)).images for k in range(3)]
    assert imgs[0].shape == (1, 16, 16, 3) and not np.array_equal(imgs[0], imgs[1])


@pytest.mark.slow
def test_issue_check_end_to_end(tmp_path: Path) -> None:
    """The issue's check, as written: a 64 px two-class dataset, cpu-tiny with --info-cat 4, generate --info-code 3."""
    _make_folders(tmp_path / "src", 64, per_class=8)
    r = run_stylegan(
        "dataset", "prepare", "--source", "src", "--dest", "rb.zip", "--resolution", "64", "--labels", "from-folders",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    train_args = ["train", "--data", "rb.zip", "--outdir", "runs", "--cfg", "cpu-tiny", "--tick", "0.02"]
    r = run_stylegan(*train_args, "--info-cat", "4", "--kimg", "0.2", cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    (run_dir,) = (tmp_path / "runs").iterdir()
    records = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]
    assert len(records) == 10 and all(any("info" in k for k in rec) for rec in records)
    assert all("Loss/info/cat" in rec and "Info/accuracy" in rec for rec in records)
    snapshot = sorted(run_dir.glob("network-snapshot-*.safetensors"))[-1]

    r = run_stylegan("generate", "--network", snapshot, "--info-code", "3", "--seeds", "0-3", "--outdir", "out",
                     cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"seed000{i}.png" for i in range(4)]
    r = run_stylegan("generate", "--network", snapshot, "--info-code", "0", "--seeds", "0-3", "--outdir", "out0",
                     cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    for i in range(4):  # the same seed with another code is another image
        a, b = (np.asarray(Image.open(tmp_path / d / f"seed000{i}.png")) for d in ("out", "out0"))
        assert not np.array_equal(a, b)
    assert_user_error(
        run_stylegan("generate", "--network", snapshot, "--info-code", "4", "--seeds", "0", "--outdir", "x",
                     cwd=tmp_path),
        "--info-code 4 is out of range", "4 values",
    )  # fmt: skip
    assert_user_error(
        run_stylegan("generate", "--network", snapshot, "--info-code", "1", "--info-cont", "0.5", "--seeds", "0",
                     "--outdir", "x", cwd=tmp_path),
        "--info-cont",
    )  # fmt: skip
    plain = tmp_path / "plain.safetensors"
    stylegan.io.save(plain, G_ema=stylegan.io.load(snapshot))  # no metadata: a network without info codes
    assert_user_error(
        run_stylegan("generate", "--network", plain, "--info-code", "0", "--seeds", "0", "--outdir", "x",
                     cwd=tmp_path),
        "--info-code", "trained without info codes",
    )  # fmt: skip

    # Resume continues the run with its Q head and settings; a v1 preset refuses the codes in one line.
    state_before = load_training_state(run_dir / STATE_FILENAME)
    r = run_stylegan("train", "--outdir", "runs", "--resume", "latest", "--kimg", "0.24", cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    state_after = load_training_state(run_dir / STATE_FILENAME)
    assert state_after["progress"]["cur_nimg"] == 240
    assert state_before["D"].keys() == state_after["D"].keys() and "q_head.out.weight" in state_after["D"]
    assert json.loads(state_after["config"])["info"] == {"cat": 4, "cont": 0, "weight": 1.0, "label_dim": 0}
    assert_user_error(
        run_stylegan("train", "--outdir", "runs", "--resume", "latest", "--info-cat", "5", cwd=tmp_path),
        "--info-cat", "cannot change when resuming",
    )  # fmt: skip
    assert_user_error(
        run_stylegan(*train_args, "--info-cat", "4", "--cfg", "stylegan1", "--kimg", "0.1", cwd=tmp_path),
        "--info-cat", "StyleGAN2 discriminator",
    )  # fmt: skip


@pytest.mark.slow
def test_info_purity_benchmark_runs_and_resumes(tmp_path: Path) -> None:
    """benchmarks/info_purity.py at a tiny scale: trains, scores the codes, writes the grid; a second call resumes."""
    from .benchmark_support import run_benchmark

    for kimg in ("0.016", "0.032"):
        args = ["--minutes", "3", "--kimg", kimg, "--samples-per-code", "4", "--cols", "3", "--out", str(tmp_path)]
        run_benchmark("info_purity.py", *args, "--threads", "1")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["resumed"] and summary["kimg"] == pytest.approx(0.032)
    assert 0 < summary["chance_purity"] <= summary["purity"] + 0.3 and 0 <= summary["purity"] <= 1
    assert len(summary["dominant_digit_per_code"]) == 10
    grid = Image.open(tmp_path / "info-grid.png")
    assert grid.height > grid.width  # 10 rows (one per code value) of 3 columns
