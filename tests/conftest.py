"""Fixtures shared by the test modules: one tiny generator and its checkpoint file."""

from __future__ import annotations

from pathlib import Path

import pytest

import stylegan
from stylegan.testing import tiny_generator


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
