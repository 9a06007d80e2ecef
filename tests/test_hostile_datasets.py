"""Hostile datasets through `stylegan dataset check` and `stylegan train --dry-run`, in real processes.

Every malformed `dataset.json`, zip members and images that declare huge sizes (tiny files), folders holding a
FIFO, device links, symlinked class folders and link loops, and images of disagreeing sizes. Each case asserts the
exit status, one error line (or `not ready to train:` for `check`) and no traceback; and that `check` refuses
exactly what training refuses, in the same words.

The matrix runs each command in a process forked from one interpreter that imported stylegan once (a fresh
`python -m stylegan` costs seconds of torch import on a shared machine); a few cases also run through
`run_stylegan`, the plain `python -m stylegan`, to show the two agree.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylegan.data import ImageDataset, check_dataset
from stylegan.errors import StyleGANError
from tests.conftest import assert_user_error, run_stylegan

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, fork and symlinks")


# ---- building datasets ------------------------------------------------------------------------------------------
def _png(size: tuple[int, int] = (8, 8), value: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _png_declaring(width: int, height: int) -> bytes:
    """A 60-byte PNG whose header declares width x height pixels (no pixel data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


NAMES = ["img0.png", "img1.png", "img2.png"]


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _labelled(meta: object | bytes) -> Callable[[Path], Path]:
    """A zip of three 8x8 images and this dataset.json (an object, dumped, or raw bytes)."""

    def build(tmp: Path) -> Path:
        data = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
        return _zip(tmp / "data.zip", {**{n: _png(value=i) for i, n in enumerate(NAMES)}, "dataset.json": data})

    return build


def _patch_central(path: Path, member: str, *, size: int | None = None, method: int | None = None) -> Path:
    """Rewrite a member's central-directory entry: its declared uncompressed size or its compression method."""
    data = bytearray(path.read_bytes())
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + name_len].decode() == member:
            if size is not None:
                struct.pack_into("<I", data, pos + 24, size)
            if method is not None:
                struct.pack_into("<H", data, pos + 10, method)
        pos += 4
    path.write_bytes(bytes(data))
    return path


def _declared_size_zip(good: bool) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        members = {"a_bomb.png": _png()} | ({n: _png() for n in NAMES} if good else {})
        return _patch_central(_zip(tmp / "data.zip", members), "a_bomb.png", size=0xFFFFFFF0)

    return build


def _ratio_bomb_zip(tmp: Path) -> Path:
    return _zip(tmp / "data.zip", {"a_bomb.png": bytes(48 << 20)}, zipfile.ZIP_DEFLATED)  # 48 MiB of zeros, ~50 KB


def _unknown_method_zip(tmp: Path) -> Path:
    return _patch_central(_zip(tmp / "data.zip", {"img0.png": _png()}), "img0.png", method=77)


def _pixel_bomb(good: bool) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        d = tmp / "data"
        d.mkdir()
        (d / "a_bomb.png").write_bytes(_png_declaring(100_000, 100_000))
        for n in NAMES if good else []:
            (d / n).write_bytes(_png())
        return d

    return build


def _folder(tmp: Path, names: list[str] = NAMES, size: tuple[int, int] = (8, 8)) -> Path:
    d = tmp / "data"
    d.mkdir(exist_ok=True)
    for i, n in enumerate(names):
        (d / n).write_bytes(_png(size, i))
    return d


def _with_fifo(images: bool) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        d = _folder(tmp, NAMES if images else [])
        os.mkfifo(d / "fifo.png")
        (d / "sub").mkdir()
        os.symlink(tmp / "data" / "fifo.png", d / "sub" / "link-to-fifo.png")
        os.symlink("/dev/zero", d / "zero.png")
        os.symlink(d / "missing.png", d / "dangling.png")
        return d

    return build


def _fifo_itself(tmp: Path) -> Path:
    os.mkfifo(tmp / "data.zip")
    return tmp / "data.zip"


def _symlinked_classes(tmp: Path) -> Path:
    """Class `a` a real folder, class `b` a link to a folder elsewhere, a link loop, and labels for both."""
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.png").write_bytes(_png(value=9))
    d = tmp / "data"
    (d / "a").mkdir(parents=True)
    (d / "a" / "x.png").write_bytes(_png(value=1))
    os.symlink(elsewhere, d / "b")
    os.symlink(d, d / "a" / "loop")  # back up the tree
    (d / "dataset.json").write_text(json.dumps({"labels": [["a/x.png", 0], ["b/x.png", 1]], "class_names": ["a", "b"]}))
    return d


def _sparse(name: str, size: int, images: bool) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        d = _folder(tmp, NAMES if images else [])
        with open(d / name, "wb") as f:
            f.truncate(size)  # sparse: nothing on disk
        return d

    return build


def _newline_name(tmp: Path) -> Path:
    """An image named with a newline and no label: the message quotes the name and stays one line."""
    d = _folder(tmp, ["img0.png", "new\nline.png"])
    (d / "dataset.json").write_text(json.dumps(_labels([["img0.png", 0]])))
    return d


def _sizes(sizes: list[tuple[int, int]]) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        d = tmp / "data"
        d.mkdir()
        for i, s in enumerate(sizes):
            (d / f"img{i}.png").write_bytes(_png(s, i))
        return d

    return build


# ---- the matrix -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    build: Callable[[Path], Path]
    outcome: str  # "refused": check exits 2 "not ready", train 1; "error": both exit 1; "ok": train exit 0
    fragment: str  # in the refusal / error line, or (for "ok") in check's output
    check_status: int = 2  # the exit status of `check` when the outcome is "ok"


def _labels(labels: object, **extra: object) -> dict[str, object]:
    return {"labels": labels, **extra}


GOOD = [[n, i % 2] for i, n in enumerate(NAMES)]

LABEL_CASES: dict[str, Case] = {
    "top-level-list": Case(_labelled([1, 2]), "refused", "dataset.json: expected an object"),
    "labels-a-number": Case(_labelled(_labels(5)), "refused", '"labels" must be a list'),
    "labels-a-string": Case(_labelled(_labels("img0.png")), "refused", '"labels" must be a list'),
    "entry-not-a-pair": Case(_labelled(_labels(["img0.png", 0])), "refused", "entry 0: expected [file name, label]"),
    "entry-arity-3": Case(_labelled(_labels([[*GOOD[0], 1], *GOOD[1:]])), "refused", "entry 0: expected [file"),
    "name-unhashable": Case(_labelled(_labels([[["img0.png"], 0], *GOOD[1:]])), "refused", "must be a string"),
    "name-a-number": Case(_labelled(_labels([[0, 0], *GOOD[1:]])), "refused", "entry 0: the file name must be"),
    "class-a-string": Case(_labelled(_labels([GOOD[0], ["img1.png", "1"], GOOD[2]])), "refused", 'class "1" is not'),
    "class-fractional": Case(
        _labelled(_labels([*GOOD[:2], ["img2.png", 2.5]])),
        "refused",
        "dataset.json entry 2 ('img2.png'): class 2.5 is not an integer",
    ),
    "class-huge": Case(_labelled(_labels([*GOOD[:2], ["img2.png", 10**12]])), "refused", "class 1000000000000 is too"),
    "class-negative": Case(_labelled(_labels([*GOOD[:2], ["img2.png", -1]])), "refused", "class -1 is negative"),
    "class-boolean": Case(_labelled(_labels([*GOOD[:2], ["img2.png", True]])), "refused", "class true is not"),
    "class-nan": Case(_labelled(b'{"labels": [["img0.png", NaN]]}'), "refused", "class NaN is not an integer"),
    "vectors-ragged": Case(
        _labelled(_labels([["img0.png", [1, 0]], ["img1.png", [0]], ["img2.png", [0, 1]]])), "refused", "must agree"
    ),
    "vector-of-strings": Case(_labelled(_labels([["img0.png", ["a"]], *GOOD[1:]])), "refused", "not a number"),
    "vector-infinite": Case(_labelled(b'{"labels": [["img0.png", [Infinity]]]}'), "refused", "not a finite number"),
    "class-and-vector": Case(_labelled(_labels([GOOD[0], ["img1.png", [1.0]], GOOD[2]])), "refused", "entry 0 has"),
    "label-for-missing-file": Case(
        _labelled(_labels([*GOOD, ["ghost.png", 0]])), "refused", "entry 3 ('ghost.png'): no such image"
    ),
    "image-without-label": Case(_labelled(_labels(GOOD[:2])), "refused", "no label for 1 image(s), e.g. img2.png"),
    "duplicate-entry": Case(_labelled(_labels([*GOOD, GOOD[1]])), "refused", "entry 3 ('img1.png'): a second label"),
    "not-utf8": Case(_labelled(b'{"labels": "\xff\xfe"}'), "refused", "dataset.json is not UTF-8 text"),
    "not-json": Case(_labelled(b'{"labels": [['), "refused", "dataset.json is not valid JSON"),
    "deeply-nested": Case(_labelled(b"[" * 200_000 + b"]" * 200_000), "refused", "nested too deeply"),
    "class-names-a-string": Case(_labelled(_labels(GOOD, class_names="ab")), "refused", '"class_names" must be'),
    "class-names-too-few": Case(_labelled(_labels(GOOD, class_names=["a"])), "refused", "names 1 classes but"),
    "json-bomb-in-zip": Case(
        lambda tmp: _zip(
            tmp / "data.zip", {"img0.png": _png(), "dataset.json": b" " * (40 << 20)}, zipfile.ZIP_DEFLATED
        ),
        "refused",
        "dataset.json: a decompression bomb",
    ),
    "json-sparse-1GiB": Case(_sparse("dataset.json", 1 << 30, True), "refused", "dataset.json: too large"),
}

FILE_CASES: dict[str, Case] = {
    "zip-member-declares-4GiB": Case(_declared_size_zip(False), "refused", "none of its 1 images can be decoded"),
    "zip-member-declares-4GiB-among-good": Case(_declared_size_zip(True), "ok", "a_bomb.png: too large: declares"),
    "zip-ratio-bomb": Case(_ratio_bomb_zip, "refused", "none of its 1 images can be decoded"),
    "zip-unknown-compression": Case(_unknown_method_zip, "refused", "none of its 1 images can be decoded"),
    "png-declares-10G-pixels": Case(_pixel_bomb(False), "refused", "none of its 1 images can be decoded"),
    "png-declares-10G-pixels-among-good": Case(_pixel_bomb(True), "ok", "a_bomb.png: too large"),
    "image-sparse-1GiB-among-good": Case(_sparse("big.png", 1 << 30, True), "ok", "big.png: too large: 1 GiB"),
    "fifo-device-dangling-links": Case(_with_fifo(True), "ok", "ready to train: yes", check_status=0),
    "only-fifo-and-links": Case(_with_fifo(False), "refused", "no images found"),
    "dataset-is-a-fifo": Case(_fifo_itself, "error", "data.zip: not a"),
    "symlinked-class-folder-and-loop": Case(_symlinked_classes, "ok", "1 (b): 1", check_status=0),
    "sizes-majority-8x8": Case(_sizes([(16, 16), (8, 8), (8, 8)]), "ok", "1 of 3 images are not 8x8", check_status=0),
    "sizes-majority-not-square": Case(_sizes([(8, 6), (8, 6), (8, 8)]), "refused", "most of them (2 of 3) are 8x6"),
    "sizes-majority-not-power-of-two": Case(_sizes([(12, 12), (12, 12)]), "refused", "resolution 12 is not a power"),
    "unlabelled-image-named-with-a-newline": Case(_newline_name, "refused", "e.g. 'new\\nline.png'; every image"),
    "truncated-zip": Case(
        lambda tmp: (
            (tmp / "data.zip").write_bytes(_zip(tmp / "z.zip", {"img0.png": _png()}).read_bytes()[:50])
            and tmp / "data.zip"
        ),
        "error",
        "data.zip: not a",
    ),
}

CASES = {**LABEL_CASES, **FILE_CASES}


# ---- running the CLI --------------------------------------------------------------------------------------------
_DRIVER = r"""
import json, os, signal, sys, traceback
from stylegan.cli.main import main

for line in sys.stdin:
    job = json.loads(line)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        for fd, name in ((1, "stdout"), (2, "stderr")):
            os.dup2(os.open(job[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        os.chdir(job["cwd"])
        signal.alarm(job["timeout"])  # a hang ends as SIGALRM
        sys.argv = ["stylegan", *job["args"]]
        code = 0
        try:
            main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""


class Forker:
    """Runs `stylegan ARGS` in a child forked from one interpreter that has imported stylegan (and torch)."""

    def __init__(self) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )

    def __call__(self, *args: str, cwd: Path, timeout: int = 60) -> subprocess.CompletedProcess:
        out, err = cwd / "stdout.txt", cwd / "stderr.txt"
        job = {"args": [str(a) for a in args], "cwd": str(cwd), "stdout": str(out), "stderr": str(err)}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({**job, "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        code = int(self.proc.stdout.readline())
        return subprocess.CompletedProcess(list(args), code, out.read_text(), err.read_text())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def stylegan_fork() -> Iterator[Forker]:
    forker = Forker()
    yield forker
    forker.close()


def _no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
    assert result.returncode in (0, 1, 2), (result.returncode, result.stderr[-2000:])


def _assert_not_ready(result: subprocess.CompletedProcess, fragment: str) -> str:
    """`check` on a dataset training refuses: exit 2, no traceback, a last line `not ready to train: ...`."""
    _no_traceback(result)
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("not ready to train: ") and fragment in last, (fragment, last)
    assert "error:" not in result.stderr
    return last.removeprefix("not ready to train: ")


def _run_case(name: str, case: Case, tmp: Path, run: Callable[..., subprocess.CompletedProcess]) -> None:
    data = case.build(tmp)
    check = run("dataset", "check", data, cwd=tmp)
    labelled = name.startswith("symlinked")  # the one accepted dataset with labels
    train = run("train", "--data", data, "--outdir", tmp / "runs", "--dry-run", *["--cond"] * labelled, cwd=tmp)
    if labelled:
        assert "conditional training on 2 classes: a, b" in train.stderr
    if case.outcome == "refused":
        reason = _assert_not_ready(check, case.fragment)
        assert assert_user_error(train, case.fragment) == f"error: {reason}"  # the same words
    elif case.outcome == "error":
        assert_user_error(check, case.fragment)
        assert_user_error(train)
    else:
        _no_traceback(check)
        assert check.returncode == case.check_status, (check.stdout[-2000:], check.stderr[-2000:])
        assert case.fragment in check.stdout, check.stdout[-2000:]
        _no_traceback(train)
        assert train.returncode == 0, train.stderr[-2000:]
        assert '"img_resolution": 8' in train.stdout
    assert not (tmp / "runs").exists()  # a dry run writes nothing


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_dataset_check_and_dry_run(name: str, tmp_path: Path, stylegan_fork: Forker) -> None:
    _run_case(name, CASES[name], tmp_path, stylegan_fork)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["class-fractional", "zip-member-declares-4GiB-among-good", "dataset-is-a-fifo"])
def test_hostile_dataset_plain_subprocess(name: str, tmp_path: Path) -> None:
    """The same through a fresh `python -m stylegan` per command."""
    _run_case(name, CASES[name], tmp_path, lambda *a, cwd: run_stylegan(*a, cwd=cwd, timeout=120))


# ---- the library: training and check agree ----------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.outcome == "refused"])
def test_check_refuses_exactly_what_training_refuses(name: str, tmp_path: Path) -> None:
    data = CASES[name].build(tmp_path)
    with pytest.raises(StyleGANError) as refused:
        ImageDataset(data)
    report = check_dataset(data)
    assert not report.ready and report.refusals[0] == str(refused.value)
    assert CASES[name].fragment in str(refused.value)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.outcome == "ok"])
def test_check_accepts_what_training_accepts(name: str, tmp_path: Path) -> None:
    data = CASES[name].build(tmp_path)
    ds = ImageDataset(data)
    assert ds.resolution == 8 and check_dataset(data).ready
    assert all(ds[i][0].shape == (3, 8, 8) for i in range(len(ds)))


def test_symlinked_class_folder_is_read(tmp_path: Path) -> None:
    ds = ImageDataset(_symlinked_classes(tmp_path), use_labels=True)
    assert ds.image_names == ["a/x.png", "b/x.png"] and ds.class_names == ("a", "b")
    assert ds[1][0][0, 0, 0] == 9 and ds.get_label(1).tolist() == [0, 1]


def test_valid_labels_as_before(tmp_path: Path) -> None:
    """Integer classes (integral floats too), vectors, an object of {name: label}, null, no dataset.json."""
    cases: list[tuple[object, list[object] | None, int]] = [
        (_labels(GOOD), [0, 1, 0], 2),
        (_labels([[n, float(i)] for i, n in enumerate(NAMES)]), [0, 1, 2], 3),
        (_labels([[n, [i, 0.5]] for i, n in enumerate(NAMES)]), [[0, 0.5], [1, 0.5], [2, 0.5]], 2),
        (_labels({n: 2 for n in NAMES}), [2, 2, 2], 3),
        (_labels(None), None, 0),
        ({"source": "x"}, None, 0),
    ]
    for i, (meta, raw, dim) in enumerate(cases):
        (tmp_path / str(i)).mkdir()
        ds = ImageDataset(_labelled(meta)(tmp_path / str(i)))
        assert ds.has_labels == (raw is not None) and ds.label_dim == dim
        if raw is not None:
            assert ds._raw_labels.tolist() == raw


# ---- tarballs and `dataset prepare` arguments -------------------------------------------------------------------
def _tar_declaring(tmp: Path, compressed: bool) -> Path:
    """A tarball holding one good image and a member whose header declares 1 TiB (a few bytes of data)."""
    import gzip
    import tarfile

    good = tarfile.TarInfo("a.png")
    data = _png()
    good.size = len(data)
    big = tarfile.TarInfo("big.png")
    big.size = 1 << 40
    raw = good.tobuf() + data + bytes(-len(data) % 512) + big.tobuf() + bytes(1024)
    path = tmp / ("src.tar.gz" if compressed else "src.tar")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    return path


@pytest.mark.parametrize("compressed", [True, False])
def test_tar_member_declaring_a_terabyte(tmp_path: Path, stylegan_fork: Forker, compressed: bool) -> None:
    src = _tar_declaring(tmp_path, compressed)
    result = stylegan_fork(
        "dataset", "prepare", "--source", src, "--dest", tmp_path / "o.zip", "--resolution", "8", cwd=tmp_path
    )
    # Compressed, skipping the member would mean decompressing it; uncompressed, its data runs past the end.
    assert_user_error(result, "member 'big.png' declares 1 TiB" if compressed else "damaged tarball")
    assert not (tmp_path / "o.zip").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--resolution", "30"], "--resolution must be a power of two >= 4, got 30"),
        (["--resolution", "0"], "--resolution must be a power of two"),
        (["--resolution", "-8"], "--resolution must be a power of two"),
        (["--resolution", "16384"], "at most 8192, got 16384"),
        (["--resolution", str(2**64)], "at most 8192"),
        (["--resolution", "8", "--max-images", "0"], "--max-images must be at least 1, got 0"),
        (["--resolution", "8", "--max-images", "-3"], "--max-images must be at least 1"),
        (["--resolution", "8", "--wide-aspect", "nan"], "--wide-aspect must be a width:height ratio"),
        (["--resolution", "8", "--wide-aspect", "-4:3"], "--wide-aspect must be a width:height ratio"),
        (["--resolution", "8", "--wide-aspect", "1e300:1e-300"], "--wide-aspect must be a width:height ratio"),
        (["--resolution", "8", "--wide-aspect", "4:0"], "--wide-aspect: expected W:H"),
        (["--resolution", "8", "--background", "#12345g"], "--background: expected"),
    ],
)
def test_prepare_numeric_arguments(tmp_path: Path, stylegan_fork: Forker, args: list[str], fragment: str) -> None:
    src = _folder(tmp_path)
    result = stylegan_fork("dataset", "prepare", "--source", src, "--dest", tmp_path / "o.zip", *args, cwd=tmp_path)
    assert_user_error(result, fragment)
    assert not (tmp_path / "o.zip").exists()


def test_prepare_csv_with_a_huge_class(tmp_path: Path, stylegan_fork: Forker) -> None:
    src = _folder(tmp_path)
    (tmp_path / "l.csv").write_text("img0.png,0\nimg1.png,1000000000\n")
    result = stylegan_fork(
        "dataset",
        "prepare",
        "--source",
        src,
        "--dest",
        tmp_path / "o.zip",
        "--resolution",
        "8",
        "--labels",
        tmp_path / "l.csv",
        cwd=tmp_path,
    )
    assert_user_error(result, "class 1000000000 is too large")
