"""Fixtures shared by the test modules: one tiny generator and its checkpoint file, a private cache, one thread.

Modules that need the last two for every test say so with `pytestmark = pytest.mark.usefixtures(...)`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import stylegan
from stylegan.testing import tiny_generator


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty `$STYLEGAN_CACHE` of this test's own, `tmp_path / "cache"` (detector files, statistics,
    downloads and calibrations that other tests wrote are not seen)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("STYLEGAN_CACHE", str(cache))
    return cache


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One intra-op thread: on a shared 2-core machine, two OpenMP threads spin against each other (100x slower)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def G() -> stylegan.Generator:
    """A 16x16 generator with random weights (seed 3), in eval mode."""
    return tiny_generator(seed=3)


@pytest.fixture(scope="module")
def net_file(tmp_path_factory: pytest.TempPathFactory, G: stylegan.Generator) -> Path:
    """`G` saved in our checkpoint format."""
    path = tmp_path_factory.mktemp("net") / "tiny.safetensors"
    stylegan.save(path, G_ema=G)
    return path


def run_stylegan(*args: str, cwd: Path | None = None, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """`python -m stylegan ARGS` in a real subprocess (one thread, no stdin), its output captured as text."""
    environ = {**os.environ, "OMP_NUM_THREADS": "1", **env}
    return subprocess.run(
        [sys.executable, "-m", "stylegan", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """A user mistake: exit status 1, no traceback, and stderr's last line `error: ...` holding every fragment."""
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), result.stderr[-2000:]
    assert sum(line.startswith("error: ") for line in lines) == 1, result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[-1], (fragment, lines[-1])
    return lines[-1]
