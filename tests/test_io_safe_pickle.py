"""Loading never runs code from a file, and every bad file gets one clear line naming it."""

from __future__ import annotations

import builtins
import io
import os
import pickle
import random
import subprocess
import zipfile

import pytest
import torch

import stylegan.io as sio
from stylegan.errors import CheckpointError
from stylegan.testing import tiny_discriminator, tiny_generator, write_nvidia_pickle, write_tf_pickle


class _Reduce:
    """Pickles as `func(*args)`: what a hostile file does to run code on `pickle.load`."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _marker_code(marker) -> str:
    return f"open({str(marker)!r}, 'w').write('ran')"


def _one_line(err: pytest.ExceptionInfo, path) -> str:
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    return message


def test_hostile_pickle_is_really_hostile(tmp_path):
    """Control: plain pickle.load of the test payload does run it, so the tests below are meaningful."""
    marker = tmp_path / "control"
    pickle.loads(pickle.dumps(_Reduce(builtins.exec, _marker_code(marker))))
    assert marker.exists()


@pytest.mark.parametrize(
    "make_payload",
    [
        lambda m: _Reduce(os.system, f"touch {m}"),
        lambda m: _Reduce(builtins.exec, _marker_code(m)),
        lambda m: _Reduce(builtins.eval, f"__import__('builtins').exec({_marker_code(m)!r})"),
        lambda m: _Reduce(subprocess.Popen, ["touch", str(m)]),
        lambda m: {"G_ema": [1, 2, {"x": _Reduce(builtins.exec, _marker_code(m))}]},  # nested deep inside
    ],
    ids=["os.system", "builtins.exec", "builtins.eval", "subprocess.Popen", "nested"],
)
def test_hostile_pickles_run_nothing(tmp_path, make_payload):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(make_payload(marker)))
    with pytest.raises(CheckpointError, match="refusing to load: the pickle references") as err:
        sio.load(path)
    assert "nothing from the file was executed" in _one_line(err, path)
    assert not marker.exists()


def test_hostile_object_inside_a_network_pickle(tmp_path):
    marker = tmp_path / "marker"
    path = write_nvidia_pickle(
        tmp_path / "snap.pkl",
        G_ema=tiny_generator(),
        training_set_kwargs={"path": _Reduce(builtins.exec, _marker_code(marker))},
    )
    with pytest.raises(CheckpointError, match="references builtins.exec"):
        sio.load(path)
    assert not marker.exists()


def test_hostile_tensor_storage_bytes(tmp_path):
    """`torch.storage._load_from_bytes` is allowed by name, but its payload goes through weights_only."""
    marker = tmp_path / "marker"
    inner = io.BytesIO()
    torch.save(_Reduce(os.system, f"touch {marker}"), inner, _use_new_zipfile_serialization=False)
    path = tmp_path / "storage.pkl"
    path.write_bytes(pickle.dumps({"G_ema": _Reduce(torch.storage._load_from_bytes, inner.getvalue())}))
    with pytest.raises(CheckpointError, match=r"references posix.system|references nt.system"):
        sio.load(path)
    assert not marker.exists()


def test_embedded_source_is_never_executed(tmp_path):
    marker = tmp_path / "marker"
    src = f"{_marker_code(marker)}\nraise SystemExit('executed')\n"
    G = tiny_generator()
    sio.load(write_nvidia_pickle(tmp_path / "nv.pkl", G_ema=G, module_src=src))
    sio.load(write_tf_pickle(tmp_path / "tf.pkl", Gs=G, build_module_src=src))
    assert not marker.exists()


@pytest.mark.parametrize("zip_format", [True, False])
def test_hostile_torch_file(tmp_path, zip_format):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    torch.save(
        {"g_ema": {"w": torch.zeros(1)}, "args": _Reduce(os.system, f"touch {marker}")},
        path,
        _use_new_zipfile_serialization=zip_format,
    )
    with pytest.raises(CheckpointError, match=r"refusing to load: the file references (posix|nt).system") as err:
        sio.load(path)
    _one_line(err, path)
    assert not marker.exists()


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "name, make, expected",
    [
        ("empty.pkl", lambda p: _write(p, b""), "is empty"),
        ("page.pkl", lambda p: _write(p, b"\n<!DOCTYPE html><html><body>Quota</body></html>"), "HTML web page"),
        ("page2.pkl", lambda p: _write(p, b"<html><head><title>Sign in</title>"), "HTML web page"),
        ("random.pkl", lambda p: _write(p, b"\x13\x37" + random.Random(0).randbytes(4000)), "unknown file format"),
        ("text.pt", lambda p: _write(p, b"hello, I am not a network\n"), "unknown file format"),
        (
            "lfs.pkl",
            lambda p: _write(p, b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 1\n"),
            "Git LFS pointer",
        ),
        ("dataset.zip", lambda p: _zip(p, {"img0.png": b"\x89PNG", "dataset.json": b"{}"}), "not a PyTorch checkpoint"),
        ("cut.zip", lambda p: _write(p, _zip_bytes({"a/data.pkl": b"x" * 100})[:60]), "truncated or damaged"),
        ("badpickle.pkl", lambda p: _write(p, b"\x80\x04\x95garbage that is not a pickle"), "the pickle|too early"),
    ],
)
def test_bad_files_get_one_clear_line(tmp_path, name, make, expected):
    path = make(tmp_path / name)
    with pytest.raises(CheckpointError, match=expected) as err:
        sio.load(path)
    _one_line(err, path)


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _zip(path, files):
    return _write(path, _zip_bytes(files))


@pytest.mark.parametrize("writer", ["nvidia", "tf", "rosinality"])
def test_truncated_files(tmp_path, writer):
    from stylegan.testing import write_rosinality_checkpoint

    full = tmp_path / "full"
    if writer == "nvidia":
        write_nvidia_pickle(full, G_ema=tiny_generator(), D=tiny_discriminator())
    elif writer == "tf":
        write_tf_pickle(full, Gs=tiny_generator())
    else:
        write_rosinality_checkpoint(full, G_ema=tiny_generator(), D=tiny_discriminator(), kind="training")
    data = full.read_bytes()
    for cut in (len(data) // 3, len(data) - 10):
        path = _write(tmp_path / f"cut{cut}.bin", data[:cut])
        with pytest.raises(CheckpointError, match="too early|truncated|damaged") as err:
            sio.load(path)
        _one_line(err, path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        sio.load(tmp_path / "missing.pkl")
    with pytest.raises(CheckpointError, match="is a directory"):
        sio.load(tmp_path)


def test_unknown_torch_file_contents(tmp_path):
    torch.save({"model": {"layer.weight": torch.zeros(2)}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"not a StyleGAN2 checkpoint we know \(contents: model\)"):
        sio.load(tmp_path / "other.pt")
