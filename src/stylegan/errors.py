"""Errors that mean "the user gave us something wrong": the CLI prints them as one line, without a traceback."""

from __future__ import annotations


class StyleGANError(Exception):
    """A user-facing error: what is wrong, with which file, and what to do."""


class CheckpointError(StyleGANError):
    """A checkpoint file that cannot be loaded (unknown format, truncated, hostile, mismatched)."""


class SettingError(StyleGANError, ValueError):
    """A setting with an unusable value. The message names each setting by its library name (`r1_gamma`,
    `batch_gpu`, ...), listed in `settings`, so that a front end can name them its own way (a CLI flag)."""

    def __init__(self, message: str, *settings: str) -> None:
        super().__init__(message)
        self.settings = settings
