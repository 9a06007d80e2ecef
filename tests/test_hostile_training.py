"""Hostile input and faults for downloads and training runs, with the real things: a loopback HTTP server that cuts
files short, answers with wrong ranges and stalls; `stylegan train` processes stopped by a signal to their whole
process group (with data-loader workers, and under torchrun); a second trainer on a locked run; absurd arguments."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from PIL import Image

import stylegan
import stylegan.io as sio
from stylegan.data import prepare_dataset
from stylegan.errors import CheckpointError, SettingError, StyleGANError
from stylegan.io import pretrained
from stylegan.testing import tiny_generator, write_nvidia_pickle
from stylegan.train.config import OPTION_RANGES, TrainConfig, TrainOptions
from stylegan.train.reporting import Reporter
from stylegan.train.runs import LOCK_FILENAME, RunLock, find_run_to_resume
from stylegan.train.state import STATE_FILENAME, load_training_state
from tests.conftest import assert_user_error, run_stylegan

PAYLOAD = bytes(range(256)) * 2000  # 512 KB


# ---- downloads --------------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    """Serves `server.routes[path] = (body, mode)`. Modes: "good" (Content-Length, honours Range), "nolength"
    (no Content-Length, the whole body, then close), "cut" (no Content-Length, half the body, then close),
    "wrong-range" (answers a Range request with 206 for another range), "always-206" (206 from byte 500 for any
    request), "stall" (announces the length, then trickles a byte every 50 ms), "silent" (headers, then nothing)."""

    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # http.server's naming
        server = cast(_Server, self.server)
        server.requests.append((self.path, self.headers.get("Range")))
        body, mode = server.routes[self.path]
        rng = self.headers.get("Range")
        start = int(rng.removeprefix("bytes=").split("-")[0]) if rng else 0
        if mode in ("wrong-range", "always-206") and (rng or mode == "always-206"):
            first = 500 if mode == "always-206" else max(start - 1000, 0)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{len(body) - 1}/{len(body)}")
            self.send_header("Content-Length", str(len(body) - first))
            self.end_headers()
            self.wfile.write(body[first:])
            return
        if mode == "good" and rng:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            body = body[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode not in ("nolength", "cut"):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "cut":
            self.wfile.write(body[: len(body) // 2])
        elif mode == "stall":
            for i in range(200):  # at most 10 s
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(0.05)
        elif mode == "silent":
            time.sleep(3)
        else:
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server(private_cache: Path) -> Iterator[_Server]:
    """A loopback HTTP server in a thread (127.0.0.1 only), with a private download cache."""
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _cache_files(url: str) -> list[str]:
    folder = pretrained.url_cache_path(url).parent
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _one_line(err: pytest.ExceptionInfo[CheckpointError]) -> str:
    text = str(err.value)
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.mark.parametrize(
    "mode, sha, fragment",
    [
        ("cut", False, "did not say how long the file is"),
        ("nolength", False, "did not say how long the file is"),
        ("cut", True, "sha256 mismatch"),
        ("always-206", False, "another byte range than the one asked for"),
    ],
)
def test_download_that_cannot_be_verified_never_enters_the_cache(server, mode: str, sha: bool, fragment: str) -> None:
    url = server.url + "/f.pkl"
    server.routes["/f.pkl"] = (PAYLOAD, mode)
    if mode == "always-206":  # a .part to resume: the server answers from byte 500 whatever is asked
        part = pretrained.url_cache_path(url).with_name("f.pkl.part")
        part.parent.mkdir(parents=True)
        part.write_bytes(PAYLOAD[:1000])
    with pytest.raises(CheckpointError) as err:
        sio.download(url, sha256=hashlib.sha256(PAYLOAD).hexdigest() if sha else None, progress=False)
    assert fragment in _one_line(err) and url in str(err.value)
    assert _cache_files(url) == []  # neither the file nor an unverifiable .part


def test_download_without_length_is_accepted_when_its_sha256_matches(server) -> None:
    url = server.url + "/n.pkl"
    server.routes["/n.pkl"] = (PAYLOAD, "nolength")
    path = sio.download(url, sha256=hashlib.sha256(PAYLOAD).hexdigest(), progress=False)
    assert path.read_bytes() == PAYLOAD and _cache_files(url) == ["n.pkl"]


def test_wrong_range_restarts_from_scratch(server) -> None:
    url = server.url + "/r.pkl"
    server.routes["/r.pkl"] = (PAYLOAD, "wrong-range")
    part = pretrained.url_cache_path(url).with_name("r.pkl.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:300_000])
    path = sio.download(url, progress=False)
    assert path.read_bytes() == PAYLOAD and _cache_files(url) == ["r.pkl"]
    assert server.requests == [("/r.pkl", "bytes=300000-"), ("/r.pkl", None)]


@pytest.mark.parametrize(
    "mode, deadline, fragment",
    [
        ("stall", None, "download stalled"),  # 20 bytes/s: under the minimum rate once `timeout` has passed
        ("stall", 1.5, "download stalled"),
        ("silent", 1.5, "timed out"),
    ],
)
def test_stalled_server_times_out_on_total_time(server, mode: str, deadline: float | None, fragment: str) -> None:
    url = server.url + "/s.pkl"
    server.routes["/s.pkl"] = (PAYLOAD, mode)
    t0 = time.monotonic()
    with pytest.raises(CheckpointError) as err:
        sio.download(url, progress=False, timeout=1.0 if deadline else 0.5, deadline=deadline)
    assert time.monotonic() - t0 < 3.5
    assert "run again to resume" in _one_line(err) and fragment in str(err.value)
    assert "s.pkl" not in _cache_files(url)  # at most the resumable .part


def test_good_file_then_reused(server) -> None:
    url = server.url + "/g.pkl"
    server.routes["/g.pkl"] = (PAYLOAD, "good")
    assert sio.download(url, progress=False).read_bytes() == PAYLOAD
    assert sio.download(url, progress=False).read_bytes() == PAYLOAD
    assert len(server.requests) == 1 and _cache_files(url) == ["g.pkl"]


def test_cached_file_that_does_not_load_is_moved_aside_and_downloaded_again(server, tmp_path: Path) -> None:
    G = tiny_generator()
    data = write_nvidia_pickle(tmp_path / "net.pkl", G_ema=G).read_bytes()
    url = server.url + "/net.pkl"
    server.routes["/net.pkl"] = (data, "good")
    cached = pretrained.url_cache_path(url)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(data[: len(data) // 3])  # a broken file from an older version
    assert stylegan.load(url).img_resolution == G.img_resolution
    assert cached.read_bytes() == data and _cache_files(url) == ["net.pkl", "net.pkl.bad"]
    # A file at the URL that never loads: one line, and nothing that does not load stays in the cache.
    server.routes["/junk.pkl"] = (b"\x80\x04junk" * 100, "good")
    junk = server.url + "/junk.pkl"
    pretrained.download(junk, progress=False)
    with pytest.raises(CheckpointError) as err:
        stylegan.load(junk)
    assert "downloaded twice" in _one_line(err) and _cache_files(junk) == ["junk.pkl.bad"]
    server.routes["/fresh.pkl"] = (b"\x80\x04junk" * 100, "good")  # not cached before: downloaded once
    with pytest.raises(CheckpointError) as err:
        stylegan.load(server.url + "/fresh.pkl")
    assert "kept aside" in _one_line(err) and _cache_files(server.url + "/fresh.pkl") == ["fresh.pkl.bad"]
    assert [r for r in server.requests if r[0] == "/fresh.pkl"] == [("/fresh.pkl", None)]


def test_cli_truncated_download_is_one_line(server) -> None:
    server.routes["/cut.pkl"] = (PAYLOAD, "cut")
    url = server.url + "/cut.pkl"
    result = run_stylegan("info", url, STYLEGAN_CACHE=os.environ["STYLEGAN_CACHE"])
    assert_user_error(result, "did not say how long the file is")
    assert _cache_files(url) == []


# ---- training runs ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-train")
    rng = np.random.RandomState(1)
    (root / "src").mkdir()
    for i in range(8):
        Image.fromarray(rng.randint(0, 255, (16, 16, 3), dtype=np.uint8)).save(root / "src" / f"{i}.png")
    prepare_dataset(root / "src", root / "d.zip", resolution=16)
    return root / "d.zip"


TINY = ["--cfg", "cpu-tiny", "--cbase", "256", "--cmax", "16", "--device", "cpu"]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _start(cmd: list[str], outdir: Path) -> tuple[subprocess.Popen[str], Path]:
    """Start a trainer in its own process group and wait for its second tick line; returns it and its run."""
    proc = subprocess.Popen(
        cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        logs = list(outdir.glob("0*/log.txt"))
        if logs and "tick 1 " in logs[0].read_text():
            return proc, logs[0].parent
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError(proc.communicate()[0])


def _wait(proc: subprocess.Popen[str], timeout: float = 120) -> str:
    """The trainer's output once it exits; a trainer still running after `timeout` is killed with its group (so no
    orphan outlives a failed test) and the test fails."""
    try:
        return proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(f"the trainer did not exit within {timeout} s: {proc.communicate()[0][-2000:]}") from None


def _train_cmd(data: Path, outdir: Path, *extra: str, torchrun: bool = False) -> list[str]:
    launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"] if torchrun else []
    return [sys.executable, *launcher, "-m", "stylegan", "train", "--data", str(data), "--outdir", str(outdir), *TINY]


def _ticks(run_dir: Path) -> list[int]:
    return [json.loads(line)["Progress/tick"] for line in (run_dir / "stats.jsonl").read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("sig, workers", [("SIGTERM", 2), ("SIGINT", 2), ("SIGTERM", 0)])
def test_process_group_signal_saves_and_resume_continues(data16: Path, tmp_path: Path, sig: str, workers: int) -> None:
    outdir = tmp_path / "runs"
    cmd = _train_cmd(data16, outdir) + ["--kimg", "100", "--tick", "0.004", "--snap", "1"]
    proc, run_dir = _start([*cmd, "--workers", str(workers)], outdir)
    if sig == "SIGTERM" and workers == 2:  # while it trains, the run folder is locked
        assert_user_error(run_stylegan("train", "--outdir", outdir, "--resume", run_dir), "is training in this run")
    t0 = time.monotonic()
    os.killpg(proc.pid, getattr(signal, sig))  # what `timeout`, Slurm, Kubernetes and systemd do
    out = _wait(proc)
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, out
    assert "Traceback" not in out and f"{sig} received" in out and "stopped: state saved" in out and seconds < 30
    state = load_training_state(run_dir / STATE_FILENAME)
    steps = state["progress"]["batch_idx"]
    last = json.loads((run_dir / "stats.jsonl").read_text().splitlines()[-1])
    assert steps >= 3 and last["Progress/step"] == steps  # the step after the signal was finished and saved
    if workers == 0:
        return
    # A later tick written by a session that died after the save (kill -9) and a newer run folder without a
    # state: resume latest picks this run, says so, and stats.jsonl goes back to the saved tick.
    with open(run_dir / "stats.jsonl", "a") as f:
        f.write(json.dumps({"Progress/tick": 99, "Progress/kimg": 9.9}) + "\n" + '{"Progress/ti')
    (outdir / "00001-crashed").mkdir()
    (outdir / "00001-crashed" / "log.txt").write_text("crashed before its first save\n")
    kimg = f"{(steps + 2) * 4 / 1000:g}"  # two more steps of 4 images
    resumed = run_stylegan("train", "--outdir", outdir, "--resume", "latest", "--kimg", kimg, "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"note: 00001-crashed is newer but has no {STATE_FILENAME}" in resumed.stderr
    assert f"resuming {run_dir.name}" in resumed.stderr and "Traceback" not in resumed.stderr
    assert load_training_state(run_dir / STATE_FILENAME)["progress"]["batch_idx"] == steps + 2
    ticks = _ticks(run_dir)
    assert ticks == sorted(set(ticks)) and 99 not in ticks
    assert (run_dir / LOCK_FILENAME).read_text() == ""  # released


@pytest.mark.slow
def test_process_group_sigterm_under_torchrun(data16: Path, tmp_path: Path) -> None:
    outdir = tmp_path / "runs"
    cmd = _train_cmd(data16, outdir, torchrun=True) + ["--kimg", "100", "--tick", "0.004", "--snap", "100000"]
    proc, run_dir = _start([*cmd, "--workers", "2"], outdir)
    os.killpg(proc.pid, signal.SIGTERM)
    out = _wait(proc)
    # torchrun itself reports the signal it got (its own exit status and traceback); both trainers saved and ended.
    assert "stopped: state saved" in out and "/stylegan/" not in out, out
    state = load_training_state(run_dir / STATE_FILENAME)
    assert state["world_size"] == 2 and state["progress"]["batch_idx"] >= 2
    assert [r["data_pos"] for r in state["ranks"]] == [2 * state["progress"]["batch_idx"]] * 2


def test_lock_of_a_killed_process_does_not_block(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from stylegan.train.runs import RunLock; lock = RunLock(sys.argv[1]); lock.acquire(); "
            "print('locked', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    with pytest.raises(StyleGANError, match=rf"another process \(pid {holder.pid}\) is training"):
        RunLock(tmp_path).acquire()
    holder.kill()
    holder.wait()
    with RunLock(tmp_path) as lock:  # the file is still there, the lock is not
        assert lock.path.read_text() == f"{os.getpid()}\n"


def test_resume_latest_notes_a_newer_run_without_state(tmp_path: Path) -> None:
    for name, has_state, when in [("00000-a", True, 100), ("00001-b", True, 200), ("00002-c", False, 300)]:
        (tmp_path / name).mkdir()
        if has_state:
            (tmp_path / name / STATE_FILENAME).write_bytes(b"x")
            os.utime(tmp_path / name / STATE_FILENAME, (when, when))
        os.utime(tmp_path / name, (when, when))
    notes: list[str] = []
    assert find_run_to_resume("latest", tmp_path, notes.append) == tmp_path / "00001-b"
    assert notes == [
        f"note: 00002-c is newer but has no {STATE_FILENAME} (it stopped before its first save); resuming 00001-b"
    ]
    os.utime(tmp_path / "00002-c", (150, 150))  # older than the last save: nothing to say
    notes.clear()
    assert find_run_to_resume("latest", tmp_path, notes.append) == tmp_path / "00001-b" and notes == []


def test_stats_are_rewound_to_the_restored_tick(tmp_path: Path) -> None:
    lines = [json.dumps({"Progress/tick": t, "Progress/kimg": t * 0.004}) for t in range(6)]
    (tmp_path / "stats.jsonl").write_text("\n".join(lines) + '\n{"Progress/tick": 6, "Loss')
    reporter = Reporter(tmp_path, stream=open(os.devnull, "w"), tensorboard=False)
    reporter.rewind(tick=3, step=12)
    assert _ticks(tmp_path) == [0, 1, 2]
    reporter.write_stats({"Progress/tick": 3}, step=16)
    assert _ticks(tmp_path) == [0, 1, 2, 3]


# ---- absurd train arguments -------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--kimg", "nan"], "--kimg must be a finite number"),
        (["--gamma", "-1"], "--gamma must be >= 0"),
        (["--glr", "0"], "--glr must be > 0"),
        (["--target", "2"], "--target must be <= 1"),
        (["--p", "1.5"], "--p must be <= 1"),
        (["--batch", "0"], "--batch must be >= 1"),
        (["--tick", "0"], "--tick must be > 0"),
        (["--snap", "0"], "--snap must be >= 1"),
        (["--snap-minutes", "nan"], "--snap-minutes must be a finite number"),
        (["--subset", "0"], "--subset must be >= 1"),
        (["--freezed", "99"], "--freezed 99: D has 7 layers"),
        (["--workers", "-1"], "--workers must be >= 0"),
        (["--ema", "inf"], "--ema must be a finite number"),
        (["--seed", "4294967296"], "--seed must be <= 4294967295"),
        (["--mbstd-group", "0"], "--mbstd-group must be >= 1"),
        (["--mixing", "nan"], "--mixing must be a finite number"),
        (["--cmax", "1000000"], "--cmax must be <= 4096"),
    ],
)
def test_absurd_train_arguments(data16: Path, tmp_path: Path, args: list[str], fragment: str) -> None:
    result = run_stylegan("train", "--data", data16, "--outdir", tmp_path / "runs", *TINY, *args, "--dry-run")
    assert_user_error(result, fragment)
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_resume_rewinds_stats_and_tensorboard(data16: Path, tmp_path: Path, one_thread: None) -> None:
    """A state from step 2 restored after the run reached step 4 (as when a kill -9 follows a later tick whose
    state write never happened): stats.jsonl and TensorBoard continue from step 2, without the lost ticks."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from stylegan.train import TrainOptions, build_config, train

    def cfg(steps: int) -> TrainConfig:
        options = TrainOptions(
            data_path=str(data16), channel_base=256, channel_max=16, kimg=steps * 4 / 1000, kimg_per_tick=0.004, snap=1
        )
        return build_config("cpu-tiny", resolution=16, options=options)

    run_dir = tmp_path / "run"

    def session(steps: int, resume: bool) -> None:
        train(cfg(steps), run_dir, resume=resume, reporter=Reporter(run_dir, stream=open(os.devnull, "w")))

    session(2, resume=False)
    saved = (run_dir / STATE_FILENAME).read_bytes()
    session(4, resume=True)
    assert _ticks(run_dir) == [0, 1, 2, 3]
    (run_dir / STATE_FILENAME).write_bytes(saved)
    session(5, resume=True)
    assert _ticks(run_dir) == [0, 1, 2, 3, 4]
    events = EventAccumulator(str(run_dir))  # what TensorBoard shows: the lost ticks' points are purged
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("Progress/tick")] == [(4 * (t + 1), t) for t in range(5)]
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 3


@pytest.fixture(scope="module")
def saved_run(data16: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder after one step (config.json and a training state), as `stylegan train` leaves it."""
    outdir = tmp_path_factory.mktemp("saved-run")
    result = run_stylegan("train", "--data", data16, "--outdir", outdir, *TINY, "--kimg", "0.004")
    assert result.returncode == 0, result.stderr
    (run_dir,) = outdir.glob("00000-*")
    return run_dir


def _damage(run_dir: Path, how: str) -> None:
    import torch

    state = run_dir / STATE_FILENAME
    if how == "garbage state":
        state.write_bytes(b"\x80\x04garbage" * 10)
    elif how == "truncated state":
        state.write_bytes(state.read_bytes()[:1000])
    elif how == "state without progress":
        saved = torch.load(state, weights_only=True)
        del saved["progress"]
        torch.save(saved, state)
    elif how == "broken config.json":
        (run_dir / "config.json").write_text("{")


@pytest.mark.slow
@pytest.mark.parametrize(
    "how, fragment",
    [
        ("garbage state", "not a readable training state"),
        ("truncated state", "not a readable training state"),
        ("state without progress", "damaged training state (KeyError: 'progress')"),
        ("broken config.json", "cannot read the run's configuration"),
    ],
)
def test_resume_from_a_damaged_run_is_one_line(saved_run: Path, tmp_path: Path, how: str, fragment: str) -> None:
    import shutil

    run_dir = tmp_path / saved_run.name
    shutil.copytree(saved_run, run_dir)
    _damage(run_dir, how)
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    assert_user_error(run_stylegan("train", "--outdir", tmp_path, "--resume", run_dir), fragment)
    after = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file() and p.name != LOCK_FILENAME}
    assert after == {k: v for k, v in before.items() if k != LOCK_FILENAME}  # nothing changed or lost


@pytest.mark.slow
def test_outdir_under_a_file_is_one_line(data16: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = run_stylegan("train", "--data", data16, "--outdir", tmp_path / "file" / "runs", *TINY, "--kimg", "0.004")
    assert_user_error(result, "cannot create a run folder there")


def _bad_values(kind: type, low: float, high: float | None) -> list[object]:
    values: list[object] = [low - 1, "3", True]
    if high is not None:
        values.append(high + 1 if kind is int else high * 2)
    if kind is float:
        values += [float("nan"), float("inf"), -float("inf")]
    else:
        values.append(1.5)
    return values


@pytest.mark.parametrize("name", sorted(OPTION_RANGES))
def test_every_numeric_train_option_is_range_checked(name: str) -> None:
    kind, low, low_open, high = OPTION_RANGES[name]
    for value in _bad_values(kind, low, high) + ([low] if low_open else []):
        with pytest.raises(SettingError, match=rf"^{name} must be ") as err:
            TrainOptions(**{name: value})
        assert err.value.settings == (name,)
    TrainOptions(**{name: high if high is not None else low + 1})  # the limits themselves are fine
