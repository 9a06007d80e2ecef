"""Errors that mean "the user gave us something wrong": the CLI prints them as one line, without a traceback."""

from __future__ import annotations

from collections.abc import Mapping


class StyleGANError(Exception):
    """A user-facing error: what is wrong, with which file, and what to do."""


class CheckpointError(StyleGANError):
    """A checkpoint file that cannot be loaded (unknown format, truncated, hostile, mismatched)."""


class SettingError(StyleGANError, ValueError):
    """A user error about settings, each named in the message as `{name}`.

    The message names every setting as the library spells it; a front end whose settings are spelled differently
    (the CLI's `--flags`) shows the same message in its own words with `render`. Settings given by position are
    spelled by their own name; keyword ones give their spelling.

    >>> e = SettingError("{sigma} needs a GANSpace direction, not {batch}", "batch", sigma="sigma=True")
    >>> str(e), e.settings
    ('sigma=True needs a GANSpace direction, not batch', ('batch', 'sigma'))
    >>> e.render({"sigma": "--sigma", "batch": "--batch"})
    '--sigma needs a GANSpace direction, not --batch'
    """

    def __init__(self, template: str, *settings: str, **spellings: str) -> None:
        self.template = template
        self.names = {**{s: s for s in settings}, **spellings}
        super().__init__(self.render({}))

    @property
    def settings(self) -> tuple[str, ...]:
        """The library names of the settings the message is about."""
        return tuple(self.names)

    def render(self, names: Mapping[str, str]) -> str:
        """The message with each `{name}` replaced by `names[name]`, else by the library's spelling."""
        text = self.template
        for key, default in self.names.items():
            text = text.replace("{" + key + "}", names.get(key, default))
        return text


class OutputError(StyleGANError, OSError):
    """A file could not be written (a full disk, a read-only file system, a folder that is a file, no permission):
    one line naming the path. Also an OSError, so code that handles OSError still catches it."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno
        self.message = message

    def __str__(self) -> str:
        return self.message
