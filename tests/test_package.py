"""Package metadata: the version comes from the installed metadata, and the license file is the one declared."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import stylegan

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_the_installed_metadata() -> None:
    assert stylegan.__version__ == importlib.metadata.version("stylegan")


def test_license_file_is_the_declared_license() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text().splitlines()
    assert 'license = "Apache-2.0"' in pyproject and 'license-files = ["LICENSE"]' in pyproject
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
