"""The training loop end to end on tiny data: exact resume, run directory, NaN handling, CLI, fine-tuning."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import stylegan.io
from stylegan.cli.main import cli
from stylegan.data import prepare_dataset
from stylegan.errors import StyleGANError
from stylegan.precision import resolve_precision
from stylegan.train import AugmentConfig, Reporter, TrainConfig, TrainOptions, build_config, train
from stylegan.train import loop as loop_module
from stylegan.train.state import STATE_FILENAME, load_training_state

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 labelled 16x16 images in 3 classes (a colour each), as an NVIDIA-layout zip."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.RandomState(0)
    for k, name in enumerate(["red", "green", "blue"]):
        (root / "src" / name).mkdir(parents=True)
        for i in range(4):
            a = rng.randint(0, 60, (16, 16, 3)).astype(np.uint8)
            a[:, :, k] += 180
            Image.fromarray(a).save(root / "src" / name / f"{i}.png")
    prepare_dataset(root / "src", root / "d.zip", resolution=16, labels="from-folders")
    return root / "d.zip"


def tiny_config(data: Path, steps: int, **kw: object) -> TrainConfig:
    """cpu-tiny, shrunk further, with every phase and feature exercised within a few steps."""
    options = TrainOptions(
        data_path=str(data),
        cond=True,
        mirror=True,
        channel_base=256,
        channel_max=16,
        batch=4,
        kimg=steps * 4 / 1000,
        kimg_per_tick=0.008,
        snap=1,
        image_grid=(2, 3),
        z_dim=16,
        w_dim=16,
    )
    cfg = build_config("cpu-tiny", resolution=16, c_dim=3, options=options)
    augment = AugmentConfig(kind="ada", p=0.2, interval=2, kimg=0.1)
    return dataclasses.replace(cfg, augment=augment, G_reg_interval=2, D_reg_interval=3, **kw)  # type: ignore[arg-type]


def quiet(run_dir: Path) -> Reporter:
    return Reporter(run_dir, stream=io.StringIO(), tensorboard=False)


def _state(run_dir: Path) -> dict:
    return load_training_state(run_dir / STATE_FILENAME)


@pytest.mark.slow
def test_resume_is_exact(tiny_data: Path, tmp_path: Path) -> None:
    """N steps + resume + M steps == N + M steps straight (G, D, G_ema, optimisers, ADA p, pl_mean)."""
    straight = train(tiny_config(tiny_data, 7), tmp_path / "a", reporter=quiet(tmp_path / "a"))
    assert straight.batch_idx == 7 and not straight.stopped_early
    first = train(tiny_config(tiny_data, 3), tmp_path / "b", reporter=quiet(tmp_path / "b"))
    assert first.batch_idx == 3
    second = train(tiny_config(tiny_data, 7), tmp_path / "b", reporter=quiet(tmp_path / "b"), resume=True)
    assert second.batch_idx == 7
    a, b = _state(tmp_path / "a"), _state(tmp_path / "b")
    for net in ("G", "D", "G_ema"):
        assert a[net].keys() == b[net].keys()
        for k in a[net]:
            torch.testing.assert_close(a[net][k], b[net][k], rtol=1e-5, atol=1e-6, msg=f"{net}.{k}")
    for opt in ("G_opt", "D_opt"):
        for pid, st in a[opt]["state"].items():
            torch.testing.assert_close(st["exp_avg_sq"], b[opt]["state"][pid]["exp_avg_sq"], rtol=1e-5, atol=1e-9)
    assert a["augment_p"] == pytest.approx(b["augment_p"]) and a["augment_p"] != 0.2  # ADA moved p
    torch.testing.assert_close(a["ranks"][0]["pl_mean"], b["ranks"][0]["pl_mean"])
    assert float(a["ranks"][0]["pl_mean"]) > 0
    assert a["progress"]["cur_nimg"] == b["progress"]["cur_nimg"] == 28


def test_run_directory_contents(tiny_data: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    reporter = quiet(run_dir)
    result = train(tiny_config(tiny_data, 2), run_dir, reporter=reporter)
    names = {p.name for p in run_dir.iterdir()}
    assert {
        "config.json",
        "log.txt",
        "stats.jsonl",
        "reals.png",
        "fakes_init.png",
        "fakes000000.png",
        STATE_FILENAME,
        "network-snapshot-000000.safetensors",
    } <= names
    saved = json.loads((run_dir / "config.json").read_text())
    resolved = resolve_precision("auto", torch.device("cpu")).precision  # what the run records: never "auto"
    assert TrainConfig.from_dict(saved["config"]) == dataclasses.replace(tiny_config(tiny_data, 2), precision=resolved)
    assert saved["dataset"]["class_names"] == ["blue", "green", "red"]
    stats = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]
    assert stats[-1]["Progress/kimg"] == 0.008 and np.isfinite(stats[-1]["Loss/G/loss"])
    assert Image.open(run_dir / "reals.png").size == (3 * 16, 2 * 16)
    log = (run_dir / "log.txt").read_text()
    assert "tick 0" in log and "sec/kimg" in log and "augment" in log
    nets = stylegan.io.load(result.snapshot, which="all")
    assert nets.G_ema.c_dim == 3 and nets.D is not None and nets.G is not None
    img = nets.G_ema(torch.randn(2, nets.G_ema.z_dim), torch.eye(3)[:2], noise_mode="const")
    assert img.shape == (2, 3, 16, 16) and torch.isfinite(img).all()


def test_nan_losses_are_reported_with_the_step(
    tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = loop_module.build_networks

    def poisoned(cfg: TrainConfig, device: torch.device):  # type: ignore[no-untyped-def]
        G, D, G_ema = build(cfg, device)
        with torch.no_grad():
            D.b4.out.bias.fill_(float("nan"))
        return G, D, G_ema

    monkeypatch.setattr(loop_module, "build_networks", poisoned)
    monkeypatch.setattr(loop_module, "MAX_NONFINITE_STEPS", 3)
    stream = io.StringIO()
    with pytest.raises(StyleGANError, match="diverged"):
        train(tiny_config(tiny_data, 5), tmp_path / "r", reporter=Reporter(tmp_path / "r", stream=stream))
    assert "NaN/Inf in Loss/" in stream.getvalue() and "at step 0" in stream.getvalue()


def test_stop_request_saves_state_and_returns(tiny_data: Path, tmp_path: Path) -> None:
    stop = loop_module.StopRequest(quiet(tmp_path))
    stop.requested = True  # as if SIGTERM arrived during the first step
    result = train(tiny_config(tiny_data, 50), tmp_path / "r", reporter=quiet(tmp_path / "r"), stop=stop)
    assert result.stopped_early and result.batch_idx == 1
    assert _state(tmp_path / "r")["progress"]["batch_idx"] == 1


def test_gradient_accumulation_and_unconditional(tiny_data: Path, tmp_path: Path) -> None:
    options = TrainOptions(
        data_path=str(tiny_data),
        workers=1,
        channel_base=256,
        channel_max=16,
        batch=8,
        batch_gpu=4,
        kimg=0.008,
        image_grid=(1, 2),
        z_dim=16,
        w_dim=16,
    )
    cfg = build_config("cpu-tiny", resolution=16, options=options)
    assert cfg.per_rank(1) == (8, 4, 2)
    stream = io.StringIO()
    result = train(cfg, tmp_path / "r", reporter=Reporter(tmp_path / "r", stream=stream, tensorboard=False))
    assert result.batch_idx == 1
    assert "has labels (3 classes) but --cond is off" in stream.getvalue()


def test_dataset_and_network_mismatches_are_clear(tiny_data: Path, tmp_path: Path) -> None:
    cfg = tiny_config(tiny_data, 1)
    with pytest.raises(StyleGANError, match="32x32x3"):
        bad = dataclasses.replace(build_config("cpu-tiny", resolution=32, c_dim=3), data=cfg.data)
        train(bad, tmp_path / "x", reporter=quiet(tmp_path / "x"))
    with pytest.raises(StyleGANError, match="3 label dimensions but the networks expect c_dim=4"):
        train(
            dataclasses.replace(cfg, G=dataclasses.replace(cfg.G, c_dim=4), D=dataclasses.replace(cfg.D, c_dim=4)),
            tmp_path / "y",
            reporter=quiet(tmp_path / "y"),
        )


def test_cli_train_resume_and_dry_run(tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = CliRunner()
    base = [
        "train",
        "--data",
        str(tiny_data),
        "--outdir",
        str(tmp_path),
        "--cfg",
        "cpu-tiny",
        "--cbase",
        "256",
        "--cmax",
        "16",
        "--tick",
        "0.004",
        "--snap",
        "1",
        "--device",
        "cpu",
    ]
    res = runner.invoke(cli, [*base, "--kimg", "0.004", "--dry-run"])
    assert res.exit_code == 0, res.output
    assert '"r1_gamma"' in res.output and "1 steps of 4 images" in res.output
    assert not list(tmp_path.glob("0*"))
    res = runner.invoke(
        cli, [*base, "--kimg", "0.004", "--dry-run", "--pl-weight", "0", "--mixing", "0.25", "--ema", "2.5"]
    )
    assert res.exit_code == 0, res.output
    text = res.output[res.output.index("{\n") :]  # after any note on stderr
    resolved = json.loads(text[: text.index("\n}\n") + 2])
    assert resolved["loss"]["pl_weight"] == 0 and resolved["loss"]["style_mixing_prob"] == 0.25
    assert resolved["ema_kimg"] == 2.5
    res = runner.invoke(cli, [*base, "--kimg", "0.004", "--cond", "--mirror", "--precision", "fp32"])
    assert res.exit_code == 0, res.output
    (run_dir,) = tmp_path.glob("00000-d-cpu-tiny-*")
    res = runner.invoke(
        cli, ["train", "--outdir", str(tmp_path), "--resume", "latest", "--kimg", "0.008", "--precision", "bf16"]
    )
    assert res.exit_code == 0, res.output
    assert _state(run_dir)["progress"]["batch_idx"] == 2
    log = (run_dir / "log.txt").read_text()
    assert "resuming" in log and "precision fp32" in log and "precision bf16" in log  # bf16 may change on resume
    from stylegan.cli.common import run_cli

    for args, msg in [
        (["train", "--outdir", str(tmp_path), "--resume", "latest", "--gamma", "3"], "cannot change"),
        (["train", "--outdir", str(tmp_path / "empty"), "--resume", "latest"], "no run"),
        ([*base, "--kimg", "0.004", "--batch", "5"], "minibatch-stddev"),
        (["train", "--data", str(tmp_path / "nope.zip"), "--outdir", str(tmp_path)], "no such dataset"),
    ]:
        with pytest.raises(SystemExit) as e:
            run_cli(cli, args)
        assert e.value.code == 1, args
        assert msg in capsys.readouterr().err


def test_resume_from_checkpoint_with_freeze_d(tiny_data: Path, tmp_path: Path) -> None:
    from stylegan.networks import Discriminator, Generator

    cfg = tiny_config(tiny_data, 1)
    torch.manual_seed(5)
    G = Generator(cfg.G)
    D = Discriminator(dataclasses.replace(cfg.D, mbstd_group_size=4))
    ckpt = stylegan.io.save(tmp_path / "pre.safetensors", G_ema=G, D=D)
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "train",
            "--data",
            str(tiny_data),
            "--outdir",
            str(tmp_path / "runs"),
            "--cfg",
            "cpu-tiny",
            "--cond",
            "--resume-from",
            str(ckpt),
            "--freezed",
            "2",
            "--kimg",
            "0.004",
            "--device",
            "cpu",
        ],
    )
    assert res.exit_code == 0, res.output
    (run_dir,) = (tmp_path / "runs").glob("0*")
    saved = TrainConfig.from_dict(json.loads((run_dir / "config.json").read_text())["config"])
    assert saved.G == G.cfg and saved.D.freeze_layers == 2 and saved.resume_from == str(ckpt)
    assert saved.ema_rampup is None and saved.augment.kimg == 100  # NVIDIA's fine-tuning settings
    state = _state(run_dir)
    frozen = "b16.fromrgb.weight"  # layer 0: a buffer under Freeze-D, identical to the checkpoint
    torch.testing.assert_close(state["D"][frozen], D.state_dict()[frozen], rtol=0, atol=0)
    assert not torch.equal(state["D"]["b4.out.weight"], D.state_dict()["b4.out.weight"])
