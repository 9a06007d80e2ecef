"""The `stylegan` command: one click group, one module per sub-command family."""

from __future__ import annotations

import importlib
import sys

import click

from .common import run_cli

# Sub-command modules; each defines `commands: list[click.Command]`.
_COMMAND_MODULES = [
    "stylegan.cli.demo",
    "stylegan.cli.generate",
    "stylegan.cli.mix",
    "stylegan.cli.checkpoint",
    "stylegan.cli.dataset",
    "stylegan.cli.train",
    "stylegan.cli.metrics",
    "stylegan.cli.project",
    "stylegan.cli.encoder",
    "stylegan.cli.align",
    "stylegan.cli.attribute",
    "stylegan.cli.calibrate",
    "stylegan.cli.video",
    "stylegan.cli.latent",
    "stylegan.cli.directions",
    "stylegan.cli.edit",
    "stylegan.cli.ui",
    "stylegan.cli.classifier",
    "stylegan.cli.zgen",
    "stylegan.cli.faceswap",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="stylegan")
def cli() -> None:
    """StyleGAN toolkit: generate, mix, convert, inspect, train, project, edit, measure, and a web app.

    \b
    Examples:
      stylegan generate --network net.pkl --seeds 0-7 --trunc 0.7 --outdir out
      stylegan mix --network net.pkl --rows 85,100 --cols 55,821 --styles 0-6 --outdir out
      stylegan info net.pkl
      stylegan ui
    """


for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as _err:  # a sub-command module not written yet must not break the others
        if _err.name != _name:
            raise
        continue
    for _cmd in _module.commands:
        cli.add_command(_cmd)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `stylegan` console script and of `python -m stylegan`."""
    run_cli(cli, sys.argv[1:] if argv is None else argv)
