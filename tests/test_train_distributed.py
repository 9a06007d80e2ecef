"""Real processes: torchrun with 2 CPU ranks (gloo), and SIGINT/SIGTERM handling of the `stylegan train` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import stylegan.io
from stylegan.data import prepare_dataset
from stylegan.train.state import STATE_FILENAME, load_training_state


@pytest.fixture(scope="module")
def data16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ddp")
    rng = np.random.RandomState(1)
    (root / "src").mkdir()
    for i in range(8):
        Image.fromarray(rng.randint(0, 255, (16, 16, 3), dtype=np.uint8)).save(root / "src" / f"{i}.png")
    prepare_dataset(root / "src", root / "d.zip", resolution=16)
    return root / "d.zip"


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


TINY = ["--cfg", "cpu-tiny", "--cbase", "256", "--cmax", "16", "--device", "cpu"]


@pytest.mark.slow
def test_torchrun_two_processes(data16: Path, tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "stylegan",
        "train",
        "--data",
        str(data16),
        "--outdir",
        str(tmp_path),
        *TINY,
        "--kimg",
        "0.016",
        "--tick",
        "0.008",
    ]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = tmp_path.glob("00000-*")
    state = load_training_state(run_dir / STATE_FILENAME)
    assert state["world_size"] == 2 and state["progress"]["batch_idx"] == 4
    ranks = state["ranks"]
    assert [r["data_pos"] for r in ranks] == [8, 8]  # 4 steps x 2 images on each rank
    assert ranks[0]["checksum"] == pytest.approx(ranks[1]["checksum"], rel=0, abs=1e-9)  # in sync
    assert not np.array_equal(ranks[0]["rng"]["torch"].numpy(), ranks[1]["rng"]["torch"].numpy())  # own noise
    assert "batch 4 = 2 x 1 x 2" in (run_dir / "log.txt").read_text()
    G = stylegan.io.load(next(run_dir.glob("network-snapshot-*.safetensors")))
    assert G.img_resolution == 16


@pytest.mark.slow
def test_torchrun_progressive_growing_and_resume(data16: Path, tmp_path: Path) -> None:
    """stylegan1 on 2 ranks through a fade (4x4 -> 8x8), stopped in the middle of the next one and resumed."""
    grow = ["--cfg", "stylegan1", "--cbase", "256", "--cmax", "16", "--batch", "8", "--device", "cpu"]
    grow += ["--lod-initial-res", "4", "--lod-training-kimg", "0.016", "--lod-transition-kimg", "0.016"]
    head = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "stylegan"]
    cmd = [
        *head,
        "train",
        "--data",
        str(data16),
        "--outdir",
        str(tmp_path),
        *grow,
        "--kimg",
        "0.064",
        "--tick",
        "0.008",
    ]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = tmp_path.glob("00000-*")
    state = load_training_state(run_dir / STATE_FILENAME)
    assert state["progress"]["lod_levels"] == [0, 1] and state["D"]["lod"].item() == 0.5  # 16x16 half faded in
    cmd = [*head, "train", "--outdir", str(tmp_path), "--resume", "latest", "--kimg", "0.08"]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    state = load_training_state(run_dir / STATE_FILENAME)
    ranks = state["ranks"]
    assert [r["data_pos"] for r in ranks] == [40, 40]  # 10 steps x 4 images on each rank
    assert ranks[0]["checksum"] == pytest.approx(ranks[1]["checksum"], rel=0, abs=1e-9)  # in sync
    assert state["progress"]["lod_levels"] == [0, 0] and state["G_ema"]["synthesis.lod"].item() == 0.0
    log = (run_dir / "log.txt").read_text()
    assert log.count("optimiser states reset") == 4 and "lod 0.50" in log


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_state_and_exits_zero(data16: Path, tmp_path: Path, sig: signal.Signals) -> None:
    cmd = [
        sys.executable,
        "-m",
        "stylegan",
        "train",
        "--data",
        str(data16),
        "--outdir",
        str(tmp_path),
        *TINY,
        "--kimg",
        "100",
        "--tick",
        "0.004",
        "--snap",
        "100000",
    ]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the loop runs (the first tick line in log.txt)
        logs = list(tmp_path.glob("0*/log.txt"))
        if logs and "tick 1" in logs[0].read_text():
            break
        time.sleep(0.2)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert f"{sig.name} received" in out and "stopped: state saved" in out
    (run_dir,) = tmp_path.glob("0*")
    state = load_training_state(run_dir / STATE_FILENAME)
    assert state["progress"]["batch_idx"] >= 2
