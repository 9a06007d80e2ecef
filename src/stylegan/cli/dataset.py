"""`stylegan dataset prepare | check`: make NVIDIA-layout datasets from arbitrary images, and inspect datasets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import StyleGANError

if TYPE_CHECKING:
    from ..data.imageops import Transform


def _parse_color(text: str) -> tuple[int, int, int]:
    named = {"black": (0, 0, 0), "white": (255, 255, 255), "gray": (128, 128, 128), "grey": (128, 128, 128)}
    if text.lower() in named:
        return named[text.lower()]
    t = text.lstrip("#")
    if len(t) == 6:
        try:
            return int(t[0:2], 16), int(t[2:4], 16), int(t[4:6], 16)
        except ValueError:
            pass
    raise StyleGANError(f"--background: expected black, white, gray or #rrggbb, got {text!r}")


def _parse_aspect(text: str) -> float:
    try:
        if ":" in text:
            a, b = text.split(":")
            return float(a) / float(b)
        return float(text)
    except (ValueError, ZeroDivisionError):
        raise StyleGANError(f"--wide-aspect: expected W:H such as 4:3, got {text!r}") from None


@click.group("dataset")
def dataset() -> None:
    """Prepare and check training datasets (NVIDIA's layout: zip of PNGs + dataset.json).

    \b
    Examples:
      stylegan dataset prepare --source photos/ --dest faces64.zip --resolution 64
      stylegan dataset prepare --source pets.tar.gz --dest pets.zip --resolution 128 --labels from-folders
      stylegan dataset check faces64.zip
    """


@dataset.command("prepare")
@click.option("--source", type=click.Path(path_type=Path), required=True, help="Folder, zip or tarball of images.")
@click.option("--dest", type=click.Path(path_type=Path), required=True, help="Output .zip (or a new folder).")
@click.option("--resolution", type=int, required=True, help="Output size in pixels (power of two).")
@click.option(
    "--transform",
    type=click.Choice(["center-crop", "center-crop-wide", "pad", "stretch"]),
    default="center-crop",
    show_default=True,
    help="How to make non-square images square.",
)
@click.option(
    "--labels",
    default=None,
    metavar="from-folders|FILE.csv",
    help="Class labels: top-level sub-folder names, or a CSV of filename,label.",
)
@click.option(
    "--channels",
    type=click.Choice(["1", "3", "4"]),
    default="3",
    show_default=True,
    help="1 = grayscale, 3 = RGB, 4 = RGBA.",
)
@click.option(
    "--background",
    default="black",
    show_default=True,
    help="Colour under transparent pixels and of padding: black, white, gray or #rrggbb.",
)
@click.option(
    "--resize-filter",
    type=click.Choice(["lanczos", "box", "bicubic", "bilinear", "nearest"]),
    default="lanczos",
    show_default=True,
)
@click.option("--wide-aspect", default="4:3", show_default=True, help="Aspect kept by center-crop-wide (W:H).")
@click.option("--max-images", type=int, default=None, help="Stop after this many images.")
def prepare(
    source: Path,
    dest: Path,
    resolution: int,
    transform: Transform,
    labels: str | None,
    channels: str,
    background: str,
    resize_filter: str,
    wide_aspect: str,
    max_images: int | None,
) -> None:
    """Convert a folder, zip or tarball of images (any size, mode and format) into a training dataset.

    Corrupt and non-image files are skipped and listed. Example:
    stylegan dataset prepare --source photos/ --dest photos64.zip --resolution 64 --transform pad
    """
    from ..data.prepare import prepare_dataset
    from ..progress import progress_bar

    with progress_bar(0, "prepare", unit="file", enabled=True) as bar:
        report = prepare_dataset(
            source,
            dest,
            resolution=resolution,
            transform=transform,
            channels=int(channels),
            labels=labels,
            max_images=max_images,
            background=_parse_color(background),
            resize_filter=resize_filter,
            wide_aspect=_parse_aspect(wide_aspect),
            progress=bar.advance_to,
        )
    click.echo(report.summary())


@dataset.command("emoji")
@click.option("--dest", type=click.Path(path_type=Path), required=True, help="Output zip (or folder).")
@click.option("--resolution", type=int, default=32, show_default=True, help="Image size (power of two).")
@click.option(
    "--source",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="The npm emoji-datasource-google folder or NotoColorEmoji.ttf (default: found or installed with npm).",
)
@click.option("--background", default="white", show_default=True, help="Colour behind transparency (or #rrggbb).")
@click.option("--no-labels", is_flag=True, help="Do not label images with their Unicode emoji group.")
@click.option(
    "--skin-tones/--no-skin-tones",
    default=True,
    show_default=True,
    help="Keep the five skin-tone variants of each person emoji (60% of the images); leave them out to balance "
    "the classes.",
)
def emoji(dest: Path, resolution: int, source: Path | None, background: str, no_labels: bool, skin_tones: bool) -> None:
    """Build a real dataset that needs no download: Noto Color Emoji (Apache-2.0), labelled by Unicode group.

    \b
    Example:
      stylegan dataset emoji --dest emoji.zip --resolution 32
      stylegan dataset emoji --dest emoji-base.zip --no-skin-tones
    """
    from ..data.emoji import build_emoji_dataset

    report = build_emoji_dataset(
        dest,
        resolution=resolution,
        source=source,
        background=_parse_color(background),
        labels=not no_labels,
        skin_tones=skin_tones,
        log=lambda line: click.echo(line, err=True),
    )
    click.echo(report.summary())


@dataset.command("check")
@click.argument("path", type=click.Path(path_type=Path))
def check(path: Path) -> None:
    """Report sizes, modes, formats, corrupt files, exact duplicates and labels of a dataset or image source.

    Exits with status 2 when files are corrupt or training would refuse the dataset (the last line then says why:
    `not ready to train: ...`). Example: stylegan dataset check d.zip
    """
    from ..data.check import check_dataset
    from ..progress import progress_bar

    with progress_bar(0, "check", unit="file", enabled=True) as bar:
        report = check_dataset(path, progress=bar.advance_to)
    click.echo(report.summary())
    if report.corrupt or not report.ready:
        raise SystemExit(2)


commands: list[click.Command] = [dataset]
