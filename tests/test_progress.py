"""Progress bars: tqdm on a terminal, plain lines (never a carriage return) in a log file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stylegan.progress import PROGRESS_THRESHOLD, ProgressBar, progress_bar

_SRC = str(Path(__file__).resolve().parents[1] / "src")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": _SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1"}


def test_plain_lines_every_ten_percent_and_at_the_end() -> None:
    log = io.StringIO()
    with progress_bar(100, "generating", enabled=True, stream=log) as bar:
        for _ in range(50):
            bar.update(2)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[0] == "generating: 2/100 img (2%)" and lines[-1] == "generating: 100/100 img (100%)"
    assert [line.split("(")[1] for line in lines[1:]] == [f"{p}%)" for p in range(10, 101, 10)]


def test_plain_lines_unknown_total_bytes_and_early_close() -> None:
    log = io.StringIO()
    bar = progress_bar(None, "file.pkl", unit="B", unit_scale=True, enabled=True, stream=log)
    bar.update(3 * 2**20)
    bar.close()
    bar.close()
    assert log.getvalue() == "file.pkl: 3.0 MiB\n"
    log = io.StringIO()
    with progress_bar(0, "check", unit="file", enabled=True, stream=log) as bar:
        bar.advance_to(1, 40)
        bar.advance_to(3, 40)  # 7%: nothing new
        bar.advance_to(5, 40)  # stops early (e.g. --max-images): the last count is printed on close
    assert log.getvalue().splitlines() == ["check: 1/40 file (2%)", "check: 5/40 file (12%)"]


def test_enabled_rule() -> None:
    log = io.StringIO()
    assert type(progress_bar(PROGRESS_THRESHOLD, "x", stream=log)) is ProgressBar  # few items: no bar
    assert type(progress_bar(100, "x", enabled=False, stream=log)) is ProgressBar
    assert type(progress_bar(PROGRESS_THRESHOLD + 1, "x", stream=log)) is not ProgressBar
    assert type(progress_bar(1, "x", enabled=True, stream=log)) is not ProgressBar


_SCRIPT = """
from stylegan.progress import progress_bar
with progress_bar(30, "work", unit="step", enabled=True) as bar:
    for _ in range(30):
        bar.update(1)
"""


def test_real_process_stderr_to_a_file(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    with open(log, "w") as f:
        subprocess.run([sys.executable, "-c", _SCRIPT], stderr=f, env=_env(), check=True, timeout=120)
    text = log.read_text()
    assert "\r" not in text and text.splitlines()[-1] == "work: 30/30 step (100%)"
    assert len(text.splitlines()) == 11  # 1 step, then every 10 %


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_real_process_on_a_terminal_draws_tqdm() -> None:
    import fcntl
    import select
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # tqdm draws nothing 0 columns wide
    try:
        subprocess.run([sys.executable, "-c", _SCRIPT], stderr=slave, env=_env(), check=True, timeout=120)
        out = b""
        while select.select([master], [], [], 0.5)[0]:
            out += os.read(master, 65536)
    finally:
        os.close(master)
        os.close(slave)
    assert b"\r" in out and b"work" in out and b"(100%)" not in out  # a redrawn tqdm bar, not log lines


def test_generate_command_logs_plain_lines(tmp_path: Path) -> None:
    """The CLI's bars, with stderr going to a log file."""
    log = tmp_path / "log.txt"
    with open(log, "w") as f:
        subprocess.run(
            [sys.executable, "-m", "stylegan", "generate", "--seeds", "0-19", "--outdir", str(tmp_path / "out")],
            stderr=f,
            stdout=subprocess.DEVNULL,
            env=_env(),
            check=True,
            timeout=300,
        )
    text = log.read_text()
    assert "\r" not in text and "generating: 20/20 img (100%)" in text.splitlines()
