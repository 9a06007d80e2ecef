"""Errors that mean "the user gave us something wrong": the CLI prints them as one line, without a traceback."""

from __future__ import annotations

from collections.abc import Mapping


class StyleGANError(Exception):
    """A user-facing error: what is wrong, with which file, and what to do."""


class CheckpointError(StyleGANError):
    """A checkpoint file that cannot be loaded (unknown format, truncated, hostile, mismatched)."""


class SettingError(StyleGANError):
    """A user error about settings, each named in the message as `{name}`.

    The message names every setting as the library spells it (`names`: placeholder -> text); a front end whose
    settings are spelled differently (the CLI's `--flags`) shows the same message in its own words with `render`.

    >>> e = SettingError("{sigma} needs a GANSpace direction", sigma="sigma=True")
    >>> str(e), e.render({"sigma": "--sigma"})
    ('sigma=True needs a GANSpace direction', '--sigma needs a GANSpace direction')
    """

    def __init__(self, template: str, **names: str) -> None:
        self.template, self.names = template, names
        super().__init__(self.render({}))

    def render(self, names: Mapping[str, str]) -> str:
        """The message with each `{name}` replaced by `names[name]`, else by the library's spelling."""
        text = self.template
        for key, default in self.names.items():
            text = text.replace("{" + key + "}", names.get(key, default))
        return text
