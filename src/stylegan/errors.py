"""Errors that mean "the user gave us something wrong": the CLI prints them as one line, without a traceback."""

from __future__ import annotations


class StyleGANError(Exception):
    """A user-facing error: what is wrong, with which file, and what to do."""


class CheckpointError(StyleGANError):
    """A checkpoint file that cannot be loaded (unknown format, truncated, hostile, mismatched)."""


class SettingError(StyleGANError):
    """A user error about one setting. The message names the setting as the library calls it (`setting`, e.g.
    "fp16"); a front end that calls it something else (the CLI's `--fp16`) shows `message_for(its name)`.

    >>> err = SettingError("fp16", "{setting} applies to our format only")
    >>> str(err), err.message_for("--fp16")
    ('fp16 applies to our format only', '--fp16 applies to our format only')
    """

    def __init__(self, setting: str, template: str, **values: object) -> None:
        self.setting = setting
        self._template, self._values = template, values
        super().__init__(self.message_for(setting))

    def message_for(self, name: str) -> str:
        """The message with the setting called `name`."""
        return self._template.format(setting=name, **self._values)
