"""Errors that mean "the user gave us something wrong": the CLI prints them as one line, without a traceback."""

from __future__ import annotations


class StyleGANError(Exception):
    """A user-facing error: what is wrong, with which file, and what to do."""


class CheckpointError(StyleGANError):
    """A checkpoint file that cannot be loaded (unknown format, truncated, hostile, mismatched)."""
