"""Hostile arguments and failing disks for the commands that write images and videos.

Every absurd number (NaN, inf, negative, huge; a billion seeds, a 100000x100000 grid) is refused at once with one
line and exit status 1; an output path under a file, a read-only file system and a full disk give one line naming
the path, leave no temp file and damage nothing already written; a run stopped by a signal keeps the images it
finished; temp files of a killed run are removed by the next run on that folder.

Read-only and full file systems are real tmpfs mounts when this process may mount (root, `mount` works); without
that, a full disk is an injected OSError(ENOSPC) in-process and the read-only case uses chmod 0555 (which root
ignores, hence the mount).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import stylegan
from stylegan.cli.main import main
from stylegan.fileio import _host
from tests.conftest import assert_user_error, run_stylegan

pytestmark = pytest.mark.usefixtures("private_cache")


# ---------------------------------------------------------------------------------------------------------
# Absurd arguments: run in-process (the same `run_cli` as the console script), each within a few seconds


def _base(command: str, net: Path, out: Path) -> list[str]:
    """A valid call of `command` that the matrix spoils with one bad option (given last: click keeps the last)."""
    n = ["--network", str(net)]
    return {
        "generate": ["generate", *n, "--seeds", "0-3", "--outdir", str(out)],
        "mix": ["mix", *n, "--rows", "1,2", "--cols", "3", "--outdir", str(out)],
        "video": ["video", *n, "--seeds", "0-3", "--frames-per-key", "2", "--out", str(out / "w.gif")],
        "latent variations": ["latent", "variations", *n, "--latent", "seed:1", "--outdir", str(out)],
        "latent fuse": ["latent", "fuse", *n, "--latents", "seed:1,seed:2", "--outdir", str(out)],
        "latent swap": ["latent", "swap", *n, "--latent", "seed:1", "--template", "seed:2", "--outdir", str(out)],
        "edit": ["edit", *n, "--latent", "seed:1", "--direction", str(out / "d.npz"), "--out", str(out / "s.png")],
        "project": ["project", *n, "--target", str(out / "t.png"), "--outdir", str(out)],
        "directions sample": ["directions", "sample", *n, "-n", "4", "--out", str(out / "s.npz")],
        "directions fit": ["directions", "fit", *n, "--method", "sefa", "--out", str(out / "d.npz")],
        "metrics": ["metrics", *n, "--metrics", "ppl_zfull"],
        "encoder train": ["encoder", "train", *n, "--outdir", str(out)],
        "attribute": ["attribute", *n, "--image", str(out / "t.png")],
        "attribute-calibrate": ["attribute-calibrate", *n, "--real", str(out.parent)],
        "align": ["align", "--input", str(out.parent), "--outdir", str(out / "aligned")],
        "demo": ["demo", *n, "--fast", "--outdir", str(out)],
    }[command]


BILLION = "0-1000000000"
ABSURD = [
    # (command, extra arguments, the flag the error line names)
    ("generate", ["--seeds", BILLION], "--seeds"),
    ("generate", ["--seeds", "-1"], "--seeds"),
    ("generate", ["--seeds", "4294967296"], "--seeds"),
    ("generate", ["--seeds", "0-99999999999999999999999"], "--seeds"),
    ("generate", ["--seeds", "5-3"], "--seeds"),
    ("generate", ["--seeds", "nan"], "--seeds"),
    ("generate", ["--grid", "100000x100000"], "--grid"),
    ("generate", ["--grid", "0x4"], "--grid"),
    ("generate", ["--grid", "-4x4"], "--grid"),
    ("generate", ["--seeds", "0-99", "--grid", "1000x1001"], "--grid"),
    ("generate", ["--seeds", "0-99", "--grid", "2x2"], "grid"),
    ("generate", ["--trunc", "nan"], "--trunc"),
    ("generate", ["--trunc", "inf"], "--trunc"),
    ("generate", ["--trunc", "-inf"], "--trunc"),
    ("generate", ["--trunc", "1e308"], "--trunc"),
    ("generate", ["--trunc-cutoff", "-1"], "--trunc-cutoff"),
    ("generate", ["--trunc-cutoff", "1e9"], "--trunc-cutoff"),
    ("generate", ["--class", "-1"], "--class"),
    ("generate", ["--class", "99999999999999999999"], "--class"),
    ("generate", ["--batch", "0"], "--batch"),
    ("generate", ["--batch", "-5"], "--batch"),
    ("generate", ["--batch", "1000000000"], "--batch"),
    ("generate", ["--batch", "nan"], "--batch"),
    ("mix", ["--rows", BILLION], "--rows"),
    ("mix", ["--cols", "-3"], "--cols"),
    ("mix", ["--rows", "0-99999", "--cols", "0-99999"], "--rows"),
    ("mix", ["--rows", "0-1000", "--cols", "0-1000"], "--rows"),
    ("mix", ["--batch", "0"], "--batch"),
    ("mix", ["--trunc", "nan"], "--trunc"),
    ("video", ["--seeds", BILLION], "--seeds"),
    ("video", ["--frames-per-key", "0"], "--frames-per-key"),
    ("video", ["--frames-per-key", "1000000000"], "--frames-per-key"),
    ("video", ["--seeds", "0-999", "--frames-per-key", "10000"], "--frames-per-key"),
    ("video", ["--duration", "nan"], "--duration"),
    ("video", ["--duration", "-1"], "--duration"),
    ("video", ["--duration", "0"], "--duration"),
    ("video", ["--duration", "1e300"], "--duration"),
    ("video", ["--duration", "86400", "--fps", "240"], "--duration"),
    ("video", ["--fps", "0"], "--fps"),
    ("video", ["--fps", "nan"], "--fps"),
    ("video", ["--fps", "inf"], "--fps"),
    ("video", ["--fps", "1e9"], "--fps"),
    ("video", ["--grid", "100000x100000"], "--grid"),
    ("video", ["--seeds", "0-3", "--grid", "2x2"], "2x2"),
    ("video", ["--trunc", "nan"], "--trunc"),
    ("latent variations", ["-n", "0"], "--num"),
    ("latent variations", ["-n", "1000000000"], "--num"),
    ("latent variations", ["--strength", "nan"], "--strength"),
    ("latent variations", ["--seed", "-1"], "--seed"),
    ("latent variations", ["--seed", str(2**64)], "--seed"),
    ("latent variations", ["--latent", "seed:" + BILLION], "seed:"),
    ("latent variations", ["--latent", "seed:4294967296"], "seed:"),
    ("latent fuse", ["--weights", "nan,1"], "--weights"),
    ("latent fuse", ["--weights", "inf,1"], "--weights"),
    ("latent swap", ["--layers", "0-1000000000"], "layer"),
    ("edit", ["--steps", "nan"], "--steps"),
    ("edit", ["--steps", "1e400"], "--steps"),
    ("edit", ["--steps", ",".join(["1"] * 20000)], "--steps"),
    ("edit", ["--frames-per-step", "0"], "--frames-per-step"),
    ("edit", ["--component", "-1"], "--component"),
    ("edit", ["--steps", ",".join(["1"] * 1000), "--frames-per-step", "10000", "--video", "v.mp4"], "--frames"),
    ("project", ["--steps", "-1"], "--steps"),
    ("project", ["--steps", "1e12"], "--steps"),
    ("project", ["--seed", "-1"], "--seed"),
    ("project", ["--w-avg-samples", "0"], "--w-avg-samples"),
    ("project", ["--w-avg-samples", "1000000000000"], "--w-avg-samples"),
    ("project", ["--face-index", "-1"], "--face-index"),
    ("directions sample", ["-n", "0"], "--num"),
    ("directions sample", ["-n", "1000000000"], "--num"),
    ("directions sample", ["--seed-start", "-1"], "--seed-start"),
    ("directions sample", ["--seed-start", "4294967295"], "--seed-start"),
    ("directions sample", ["--trunc", "nan"], "--trunc"),
    ("directions fit", ["--components", "0"], "--components"),
    ("directions fit", ["--ratio", "nan"], "--ratio"),
    ("directions fit", ["--ratio", "2"], "--ratio"),
    ("metrics", ["--batch", "0"], "--batch"),
    ("metrics", ["--seed", "-1"], "--seed"),
    ("metrics", ["--metrics", "fid1000000000k"], "sample count"),
    ("metrics", ["--metrics", "fid" + "9" * 5000 + "k"], "sample count"),
    ("metrics", ["--metrics", "pr50k99999999999"], "neighbourhood"),
    ("encoder train", ["--lr", "nan"], "--lr"),
    ("encoder train", ["--lr", "-1"], "--lr"),
    ("encoder train", ["--lr", "inf"], "--lr"),
    ("encoder train", ["--steps", "0"], "--steps"),
    ("encoder train", ["--batch", "0"], "--batch"),
    ("encoder train", ["--latent-weight", "-1"], "--latent-weight"),
    ("encoder train", ["--image-weight", "nan"], "--image-weight"),
    ("encoder train", ["--snap", "0"], "--snap"),
    ("attribute", ["--steps", "0"], "--steps"),
    ("attribute", ["--threshold", "nan"], "--threshold"),
    ("attribute-calibrate", ["-n", "0"], "-n"),
    ("attribute-calibrate", ["-n", "1000000000"], "-n"),
    ("attribute-calibrate", ["--steps", "0"], "--steps"),
    ("attribute-calibrate", ["--batch", "0"], "--batch"),
    ("align", ["--size", "0"], "--size"),
    ("align", ["--size", "1000000000"], "--size"),
    ("demo", ["--trunc", "nan"], "--trunc"),
]


def _run_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`stylegan ARGV` through the console script's entry point in this process: (exit status, stderr)."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "extra", "flag"),
    ABSURD,
    ids=[f"{c}{' '.join(e)[:40]}".replace(" ", "_") for c, e, _ in ABSURD],
)
def test_absurd_arguments_are_refused_at_once_in_one_line(
    command: str, extra: list[str], flag: str, net_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    start = time.monotonic()
    code, err = _run_in_process([*_base(command, net_file, out), *extra], capsys)
    elapsed = time.monotonic() - start
    result = subprocess.CompletedProcess([], code, "", err)
    assert_user_error(result, flag)
    assert elapsed < 10, elapsed
    assert not out.exists() or not any(out.rglob("*.png")), "nothing is made before the arguments are checked"


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--seeds", BILLION],
        ["generate", "--seeds", "0-3", "--grid", "100000x100000"],
        ["generate", "--seeds", "0-3", "--trunc", "nan"],
        ["video", "--seeds", "0-3", "--fps", "inf"],
    ],
    ids=["billion-seeds", "huge-grid", "nan-psi", "inf-fps"],
)
def test_absurd_arguments_in_a_real_process(args: list[str], tmp_path: Path) -> None:
    """The console script itself: one line, exit 1, before the network is even looked for."""
    start = time.monotonic()
    target = ["--out", str(tmp_path / "w.mp4")] if args[0] == "video" else ["--outdir", str(tmp_path / "o")]
    result = run_stylegan(*args, "--network", str(tmp_path / "not-there.pkl"), *target, timeout=60)
    assert_user_error(result, args[-2])
    assert time.monotonic() - start < 10


# ---------------------------------------------------------------------------------------------------------
# Failing output locations


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


def _valid_pngs(folder: Path) -> list[str]:
    names = sorted(p.name for p in folder.glob("*.png"))
    for name in names:
        with Image.open(folder / name) as im:
            im.load()  # a truncated file fails here
    return names


def _may_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None and sys.platform.startswith("linux")


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Callable[[Path, str], bool]]:
    """`mount(folder, options)`: a tmpfs on `folder` (unmounted after the test); False when mounting fails."""
    mounted: list[Path] = []

    def mount(folder: Path, options: str) -> bool:
        folder.mkdir(parents=True, exist_ok=True)
        if not _may_mount():
            return False
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
        if res.returncode == 0:
            mounted.append(folder)
        return res.returncode == 0

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--seeds", "0-3", "--outdir", "{file}"],
        ["generate", "--seeds", "0-3", "--outdir", "{file}/sub"],
        ["generate", "--seeds", "0-3", "--grid", "2x2", "--outdir", "{file}/sub"],
        ["mix", "--rows", "1", "--cols", "2", "--styles", "0-1", "--outdir", "{file}/sub"],
        ["video", "--seeds", "0-3", "--frames-per-key", "2", "--out", "{file}/w.mp4"],
        ["video", "--seeds", "0-3", "--frames-per-key", "2", "--out", "{file}/w.gif"],
    ],
    ids=["outdir-is-a-file", "outdir-under-a-file", "grid-under-a-file", "mix", "mp4", "gif"],
)
def test_an_output_path_under_a_file_is_one_line(args: list[str], net_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me")
    argv = [a.replace("{file}", str(blocker)) for a in args]
    result = run_stylegan(*argv, "--network", str(net_file))
    assert_user_error(result, str(blocker), "is a file, not a folder")
    assert blocker.read_text() == "keep me" and _temp_files(tmp_path) == []


@pytest.fixture
def read_only_folder(tmp_path: Path, mount_tmpfs: Callable[[Path, str], bool]) -> Path:
    """A folder that cannot be written: a read-only tmpfs when this process may mount, else chmod 0555 (which
    only holds for a user other than root)."""
    folder = tmp_path / "ro"
    if mount_tmpfs(folder, "ro,size=1m"):
        return folder
    if os.geteuid() == 0:
        pytest.skip("running as root, where chmod 0555 is not enforced, and `mount -t tmpfs` is not permitted here")
    folder.mkdir()
    folder.chmod(0o555)
    return folder


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--seeds", "0-3", "--outdir", "{dir}"],
        ["generate", "--seeds", "0-3", "--grid", "2x2", "--outdir", "{dir}"],
        ["mix", "--rows", "1", "--cols", "2", "--styles", "0-1", "--outdir", "{dir}"],
        ["video", "--seeds", "0-3", "--frames-per-key", "2", "--out", "{dir}/w.mp4"],
        ["video", "--seeds", "0-3", "--frames-per-key", "2", "--out", "{dir}/w.gif"],
    ],
    ids=["generate", "grid", "mix", "mp4", "gif"],
)
def test_a_read_only_location_is_one_line(args: list[str], net_file: Path, read_only_folder: Path) -> None:
    argv = [a.replace("{dir}", str(read_only_folder)) for a in args]
    result = run_stylegan(*argv, "--network", str(net_file))
    line = assert_user_error(result, str(read_only_folder))
    assert "read-only file system" in line or "permission denied" in line, line
    assert list(read_only_folder.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["png", "mp4", "gif"])
def test_a_full_disk_is_one_line_and_keeps_what_was_written(
    kind: str, net_file: Path, tmp_path: Path, mount_tmpfs: Callable[[Path, str], bool]
) -> None:
    folder = tmp_path / "small"
    if not mount_tmpfs(folder, "size=64k"):
        pytest.skip("`mount -t tmpfs` is not permitted here: see test_an_injected_enospc_is_one_line")
    old = folder / "seed0000.png"
    Image.new("RGB", (4, 4), (1, 2, 3)).save(old)
    before = old.read_bytes()
    if kind == "png":
        args = ["generate", "--seeds", "0-2000", "--outdir", str(folder)]
        target = folder / "seed0001.png"  # seed0000.png is rewritten first, then the disk fills up
    else:
        (folder / "filler").write_bytes(b"\0" * (56 * 1024))
        args = ["video", "--seeds", "0-3", "--frames-per-key", "300", "--out", str(folder / f"w.{kind}")]
        target = folder / f"w.{kind}"
    result = run_stylegan(*args, "--network", str(net_file))
    assert_user_error(result, "no space left on device", str(folder))
    assert _temp_files(folder) == []
    if kind == "png":
        assert len(_valid_pngs(folder)) > 1 and target.exists()  # the finished images are whole
    else:
        assert not target.exists() and old.read_bytes() == before


def test_an_injected_enospc_is_one_line(
    net_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where no tmpfs can be mounted, a full disk is an OSError(ENOSPC) from fsync (the last write step)."""
    from stylegan import fileio

    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    out = tmp_path / "out"
    code, err = _run_in_process(
        ["generate", "--network", str(net_file), "--seeds", "0-20", "--outdir", str(out)], capsys
    )
    assert_user_error(subprocess.CompletedProcess([], code, "", err), f"{out}/seed0003.png: no space left on device")
    assert _valid_pngs(out) == ["seed0000.png", "seed0001.png", "seed0002.png"] and _temp_files(out) == []


# ---------------------------------------------------------------------------------------------------------
# Streaming, signals and stale temp files


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_generate_keeps_the_images_it_finished(signum: int, net_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "stylegan", "generate", "--network", str(net_file), "--seeds", "0-100000"]
        + ["--batch", "4", "--outdir", str(out)],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, signalled as a whole (as timeout, Slurm and systemd do)
    )
    try:
        deadline = time.monotonic() + 60
        while not (out / "seed0004.png").exists():  # the second batch is written: the first one is complete
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        os.killpg(proc.pid, signum)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == (128 + signum if signum == signal.SIGTERM else 1), stderr
    assert "Traceback" not in stderr
    names = _valid_pngs(out)
    assert len(names) >= 5 and names[:5] == [f"seed{i:04d}.png" for i in range(5)]
    assert _temp_files(out) == []
    assert "generating:" in stderr  # progress from the first batch on


def test_stale_temp_files_are_removed_by_the_next_run(net_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    host = _host()
    stale = [".x.png.123.tmp", ".seed0001.png.a1b2c3.tmp", f".seed0002.png.sg{2**22 + 12345}@{host}_ab.tmp"]
    for name in stale:
        (out / name).write_bytes(b"partial")
    (out / ".old.png.sg1@other-host_cd.tmp").write_bytes(b"a writer on another machine")
    (out / "notes.tmp").write_text("not ours")
    result = run_stylegan("generate", "--network", str(net_file), "--seeds", "7", "--outdir", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [".old.png.sg1@other-host_cd.tmp", "notes.tmp", "seed0007.png"]


def test_a_running_writers_temp_file_is_kept(tmp_path: Path) -> None:
    from stylegan.fileio import remove_stale_temp_files

    live = tmp_path / f".a.png.sg{os.getppid()}@{_host()}_00.tmp"
    live.write_bytes(b"being written")
    assert remove_stale_temp_files(tmp_path) == [] and live.exists()


def test_generate_files_streams_batch_by_batch(G: stylegan.Generator, tmp_path: Path) -> None:
    """The first batch is on disk before the second is made, and the files match the in-memory API."""
    from stylegan.generation import generate, generate_files, iter_generate

    batches = iter_generate(G, range(6), batch_size=2)
    first = next(batches)
    assert first.seeds == [0, 1] and first.images.shape[0] == 2
    batches.close()
    paths = generate_files(G, range(6), tmp_path, batch_size=2)
    expected = generate(G, range(6), batch_size=2).images
    assert [p.name for p in paths] == [f"seed{i:04d}.png" for i in range(6)]
    assert all(np.array_equal(np.asarray(Image.open(p)), img) for p, img in zip(paths, expected))
    grid = generate_files(G, range(6), tmp_path, grid=(2, 3), batch_size=4)
    assert np.array_equal(np.asarray(Image.open(grid[0])), generate(G, range(6)).grid(2, 3))


@pytest.mark.slow
def test_a_stopped_video_keeps_the_frames_it_finished(net_file: Path, tmp_path: Path) -> None:
    """SIGTERM to the process group: the MP4 is finished with the frames made so far (ffmpeg has its own session)."""
    from stylegan.video import read_video

    out = tmp_path / "w.mp4"
    args = ["video", "--network", str(net_file), "--seeds", "0-3", "--frames-per-key", "5000", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "stylegan", *args],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in tmp_path.glob(".w.mp4.*.tmp")):  # ffmpeg has written frames
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in stderr, stderr
    frames = read_video(out)
    assert 1 <= len(frames) < 3 * 5000 + 1 and _temp_files(tmp_path) == []


def test_the_library_refuses_oversized_work_before_starting(G: stylegan.Generator, tmp_path: Path) -> None:
    from stylegan.errors import OutputError, SettingError
    from stylegan.fileio import atomic_write_bytes
    from stylegan.generation import generate_files, style_mix
    from stylegan.video import interpolation_video

    start = time.monotonic()
    with pytest.raises(SettingError, match="more than 1000000 seeds"):
        stylegan.generate(G, range(10**9))
    with pytest.raises(SettingError, match=r"out of range: seeds must be in \[0, 2\*\*32\)"):
        generate_files(G, [2**40], tmp_path)
    with pytest.raises(SettingError, match="pixels"):
        generate_files(G, range(4), tmp_path, grid=(6000, 200))
    with pytest.raises(SettingError, match="pairs"):
        style_mix(G, range(2000), range(2000))
    with pytest.raises(SettingError, match="frames"):
        interpolation_video(G, tmp_path / "w.mp4", seeds=[1, 2], duration=1e9)
    with pytest.raises(SettingError, match="GIF frames"):
        interpolation_video(G, tmp_path / "w.gif", seeds=range(128), frames_per_key=300_000, grid=(8, 8))
    assert time.monotonic() - start < 10 and list(tmp_path.iterdir()) == []
    blocker = tmp_path / "f"
    blocker.write_bytes(b"x")
    with pytest.raises(OSError) as info:  # an OutputError is also an OSError for code that catches those
        atomic_write_bytes(blocker / "a.bin", b"y")
    assert isinstance(info.value, OutputError) and str(info.value) == f"{blocker}/a.bin: cannot write there: " + (
        f"{blocker} is a file, not a folder"
    )
