"""Fixtures shared by the test modules: one tiny generator and its checkpoint file, a private cache, one thread.

Modules that need the last two for every test say so with `pytestmark = pytest.mark.usefixtures(...)`.
"""

from __future__ import annotations

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
