"""`stylegan align` and `stylegan paste`: FFHQ-align faces in photos, and put edited faces back."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Command, face_index_option, outdir_option
from .params import Float, Int


@click.command(cls=Command)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A photo or a folder of photos (repeatable).",
)
@click.option("--size", type=Int(16, 16384), default=1024, show_default=True, help="Output side in pixels.")
@face_index_option("Which face when there are several (0 = the largest); default: the largest.")
@outdir_option("Where to write.")
def align(inputs: tuple[Path, ...], size: int, face_index: int | None, outdir: Path) -> None:
    """FFHQ-align faces (dlib 68 landmarks; needs `pip install dlib-bin face-recognition-models`).

    Writes NAME.png and NAME.json (the landmarks and the crop quad in the photo's pixels, for pasting back).

    \b
    Example:
      stylegan align --input photos/ --size 1024 --outdir aligned
    """
    from ..inversion.alignment import align_photos

    for photo, aligned in align_photos(inputs, outdir, size=size, face_index=face_index):
        click.echo(f"{photo.name} -> {aligned}")


@click.command(cls=Command)
@click.option(
    "--photo",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The original photo (default: the source recorded in --info).",
)
@click.option(
    "--face",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The (edited) aligned face, any size.",
)
@click.option(
    "--info",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The NAME.json that `stylegan align` wrote beside the aligned face.",
)
@click.option(
    "--feather",
    type=Float(0, 0.5),
    default=0.1,
    show_default=True,
    help="Width of the blend at the face square's border, as a fraction of its side.",
)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Image to write.")
def paste(photo: Path | None, face: Path, info: Path, feather: float, output: Path) -> None:
    """Put an edited aligned face back into the original photo, with a feathered mask.

    \b
    Example:
      stylegan paste --face edited.png --info aligned/me.json --output me_edited.jpg
    """
    from ..images import save_image
    from ..inversion.alignment import paste_back

    save_image(paste_back(face, info, photo=photo, feather=feather), output)
    click.echo(f"wrote {output}")


commands = [align, paste]
