"""Hostile files and failing outputs found by attacking the CLI from outside: each case is a real subprocess that
must end with exit status 1, one `error:` line naming the file and no traceback (nor a hang)."""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import assert_user_error, run_stylegan

NUM_WS, W_DIM = 6, 32  # the tiny generator of tests/conftest.py


def _npz_with_header(path: Path, shape: tuple[int, ...]) -> None:
    """An .npz whose array `w` declares `shape` but holds no data (a huge shape asks for terabytes)."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".ljust(117) + "\n"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("w.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())


def _direction_with_header(path: Path, shape: tuple[int, ...]) -> None:
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".ljust(117) + "\n"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("vectors.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())


def _png_bomb(path: Path) -> None:
    """A PNG whose header declares 60000x60000 pixels (3.6 gigapixels) in a few hundred bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100_000)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def _nan_latents(path: Path) -> None:
    np.savez(path, w=np.full((1, NUM_WS, W_DIM), np.nan, np.float32))


# --- Network paths that are not regular files ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["info", "generate"])
def test_fifo_network_is_refused_without_hanging(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "net.pkl"
    os.mkfifo(fifo)
    args = ["info", fifo] if command == "info" else ["generate", "--network", fifo, "--seeds", "0"]
    if command == "generate":
        args += ["--outdir", tmp_path / "out"]
    assert_user_error(run_stylegan(*args, timeout=60), str(fifo), "not a regular file")
    assert not (tmp_path / "out").exists()


def test_device_network_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "net.safetensors"
    link.symlink_to("/dev/zero")
    assert_user_error(run_stylegan("info", link, timeout=60), str(link), "not a regular file")


def test_network_name_too_long_for_the_file_system(tmp_path: Path) -> None:
    long_path = tmp_path / ("a" * 5000 + ".pkl")
    assert_user_error(run_stylegan("info", long_path, timeout=60), "File name too long")


# --- Latent, direction and image inputs ---------------------------------------------------------------------

LATENT_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "terabyte-header": (lambda p: _npz_with_header(p, (10**12,)), "Unable to allocate"),
    "nan-latents": (_nan_latents, "NaN or infinite"),
    "empty-zip-member": (lambda p: _npz_with_header(p, (1, NUM_WS, W_DIM)), "not a latent file"),
}


@pytest.mark.parametrize("case", sorted(LATENT_CASES))
def test_hostile_projected_w(tmp_path: Path, net_file: Path, case: str) -> None:
    make, fragment = LATENT_CASES[case]
    latents = tmp_path / "w.npz"
    make(latents)
    out = tmp_path / "out"
    result = run_stylegan("generate", "--network", net_file, "--projected-w", latents, "--outdir", out, timeout=60)
    assert_user_error(result, str(latents), fragment)
    assert not out.exists() or not any(out.iterdir())


def test_hostile_direction_file(tmp_path: Path) -> None:
    direction = tmp_path / "dir.npz"
    _direction_with_header(direction, (10**12, 6, 32))
    assert_user_error(run_stylegan("directions", "info", direction, timeout=60), str(direction), "not a direction")


def test_decompression_bomb_target(tmp_path: Path, net_file: Path) -> None:
    bomb = tmp_path / "bomb.png"
    _png_bomb(bomb)
    out = tmp_path / "out"
    result = run_stylegan(
        "project", "--network", net_file, "--target", bomb, "--loss", "mse", "--steps", "1", "--outdir", out
    )
    assert_user_error(result, str(bomb), "not an image")


# --- Outputs on a read-only file system (needs root to mount a tmpfs) ---------------------------------------


@contextlib.contextmanager
def _read_only_mount(where: Path) -> Iterator[Path]:
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a read-only tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["project", "encoder"])
def test_new_folder_on_read_only_file_system(tmp_path: Path, net_file: Path, command: str) -> None:
    img = tmp_path / "target.png"
    from PIL import Image

    Image.new("RGB", (16, 16), "red").save(img)
    with _read_only_mount(tmp_path / "ro") as ro:
        out = ro / "sub" / "deeper"
        if command == "project":
            args = ["project", "--network", net_file, "--target", img, "--loss", "mse", "--steps", "1"]
            args += ["--w-avg-samples", "10", "--outdir", out]
        else:
            args = ["encoder", "train", "--network", net_file, "--steps", "1", "--outdir", out]
        assert_user_error(run_stylegan(*args, timeout=120), "read-only file system")


@pytest.mark.parametrize("url", ["http://[::1/net.pkl", "https://[zz/net.safetensors"])
def test_malformed_url(tmp_path: Path, url: str) -> None:
    result = run_stylegan("info", url, timeout=60, STYLEGAN_CACHE=str(tmp_path / "cache"))
    assert_user_error(result, url, "not a valid URL")


def test_interrupt_right_after_the_temp_file_is_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C landing between the temp file's creation and the writer's clean-up block leaves no temp file."""
    from stylegan import fileio

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "fchmod", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fileio.atomic_write_bytes(tmp_path / "x.png", b"data")
    monkeypatch.setattr(fileio.os, "chmod", interrupted)
    with pytest.raises(KeyboardInterrupt), fileio.atomic_directory(tmp_path / "folder"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["generate", "convert"])
def test_output_name_too_long_for_the_file_system(tmp_path: Path, net_file: Path, command: str) -> None:
    out = tmp_path / ("b" * 300)
    if command == "generate":
        result = run_stylegan("generate", "--network", net_file, "--seeds", "0", "--outdir", out, timeout=60)
    else:
        result = run_stylegan("convert", net_file, "--out", f"{out}.safetensors", timeout=60)
    assert_user_error(result, "name too long")
    assert list(tmp_path.iterdir()) == []


def test_long_output_name_that_fits_is_written(tmp_path: Path, net_file: Path) -> None:
    """A 242-byte name is a valid file name: its temp file's name is shortened to fit, not refused."""
    out = tmp_path / ("c" * 230 + ".safetensors")
    result = run_stylegan("convert", net_file, "--out", out, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
