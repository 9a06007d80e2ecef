"""Applies to every test and doctest of the repository (tests/ and src/stylegan/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point `$STYLEGAN_CACHE` at a fresh folder for the whole run (subprocesses inherit it), so tests neither read
    what earlier runs or the user's work left in ~/.cache/stylegan nor leave anything there. Tests that need an empty
    cache of their own use `private_cache` (tests/conftest.py)."""
    cache = tmp_path_factory.mktemp("stylegan-cache")
    old = os.environ.get("STYLEGAN_CACHE")
    os.environ["STYLEGAN_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("STYLEGAN_CACHE", None)
    else:
        os.environ["STYLEGAN_CACHE"] = old
