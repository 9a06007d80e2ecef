"""Hostile inputs found by trying the CLI as an outside checker would: each gives one `error:` line, no traceback,
and no hang (dataset preparation, damaged run folders, a full disk with data-loader workers, Ctrl-C twice)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import assert_user_error, run_stylegan


def _png(seed: int, size: int = 16) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def tiny_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("redteam") / "tiny.zip"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(8):
            z.writestr(f"img{i:03d}.png", _png(i))
    return path


# ---- dataset prepare: --labels and --dest ------------------------------------------------------------------------
def _binary_csv(d: Path) -> Path:
    (d / "labels.csv").write_bytes(_png(0))
    return d / "labels.csv"


def _long_field_csv(d: Path) -> Path:
    (d / "labels.csv").write_text("img000.png," + "x" * 200_000 + "\n")
    return d / "labels.csv"


@pytest.mark.parametrize("make_csv", [_binary_csv, _long_field_csv], ids=["binary", "huge-field"])
def test_prepare_unreadable_label_csv(tmp_path: Path, tiny_zip: Path, make_csv: Callable[[Path], Path]) -> None:
    csv = make_csv(tmp_path)
    result = run_stylegan(
        "dataset", "prepare", "--source", tiny_zip, "--dest", tmp_path / "o.zip", "--resolution", "16", "--labels", csv
    )
    assert_user_error(result, "--labels", str(csv), "CSV")
    assert not (tmp_path / "o.zip").exists()


@pytest.mark.parametrize("dest", ["/dev/null", "file"], ids=["device", "regular-file"])
def test_prepare_dest_not_a_folder(tmp_path: Path, tiny_zip: Path, dest: str) -> None:
    target = Path(dest) if dest.startswith("/") else tmp_path / dest
    if not target.exists():
        target.write_text("keep me")
    result = run_stylegan("dataset", "prepare", "--source", tiny_zip, "--dest", target, "--resolution", "16")
    assert_user_error(result, "--dest", str(target), "not a folder")
    if target.is_file():
        assert target.read_text() == "keep me"


# ---- train --resume on a damaged config.json ---------------------------------------------------------------------
def _config(**changes: object) -> dict:
    from stylegan.train.config import build_config

    cfg = build_config("cpu-tiny", resolution=16).to_dict()
    cfg["data"]["path"] = "unused.zip"
    cfg.update(changes)
    return {"config": cfg}


DAMAGED_CONFIGS: dict[str, Callable[[], str]] = {
    "nested-too-deep": lambda: '{"config": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "data-null": lambda: json.dumps(_config(data=None)),
    "seed-nan": lambda: json.dumps(_config(seed=float("nan"))),
    "seed-text": lambda: json.dumps(_config(seed="seven")),
    "batch-float": lambda: json.dumps(_config(batch=4.5)),
    "G-a-number": lambda: json.dumps(_config(G=5)),
}


@pytest.mark.parametrize("name", list(DAMAGED_CONFIGS))
def test_resume_damaged_config(tmp_path: Path, name: str) -> None:
    run = tmp_path / "00000-run"
    run.mkdir()
    (run / "config.json").write_text(DAMAGED_CONFIGS[name]())
    (run / "training-state.pt").write_bytes(b"never read")
    result = run_stylegan("train", "--resume", run, "--kimg", "1")
    assert_user_error(result, "config.json", "cannot read the run's configuration")


# ---- a full disk ------------------------------------------------------------------------------------------------
@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (root only; skipped elsewhere)."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]).returncode:
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", mnt], check=False)


def test_prepare_folder_on_full_disk(tiny_zip: Path, full_disk: Path) -> None:
    dest = full_disk / "out"
    result = run_stylegan("dataset", "prepare", "--source", tiny_zip, "--dest", dest, "--resolution", "64")
    assert_user_error(result, str(dest), "no space left")
    assert list(full_disk.iterdir()) == []  # the temp folder is gone


@pytest.mark.slow
def test_train_with_workers_on_full_disk(tiny_zip: Path, full_disk: Path) -> None:
    """The data-loader workers ignore SIGTERM: an error in the loop must stop them, or the exit waits forever."""
    result = run_stylegan(
        "train",
        "--data",
        tiny_zip,
        "--outdir",
        full_disk / "runs",
        "--cfg",
        "cpu-tiny",
        "--kimg",
        "0.1",
        "--tick",
        "0.02",
        "--workers",
        "1",
        timeout=180,
    )
    line = assert_user_error(result, "no space left")
    assert line.count(str(full_disk)) == 1, line  # the file is named once


# ---- Ctrl-C twice in a row to the process group, with data-loader workers: saved, exit 0  ----------------------
@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 3])
def test_double_sigint_with_workers_saves(tmp_path: Path, tiny_zip: Path, workers: int) -> None:
    log = tmp_path / "log.txt"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stylegan",
                "train",
                "--data",
                str(tiny_zip),
                "--outdir",
                str(tmp_path / "runs"),
                "--cfg",
                "cpu-tiny",
                "--kimg",
                "1",
                "--tick",
                "0.02",
                "--workers",
                str(workers),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 120
        while "training 1 kimg" not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        status = proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert status == 0 and "Traceback" not in log.read_text(), log.read_text()[-2000:]
    assert list((tmp_path / "runs").glob("*/training-state.pt")), log.read_text()[-2000:]
