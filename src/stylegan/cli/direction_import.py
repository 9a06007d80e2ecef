"""`stylegan directions import`: a direction file made by another tool, as a direction file of ours."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import StyleGANError
from .common import Command, device_option, load_network_for_cli, network_option

_FORMATS = ["auto", "interfacegan", "layers", "ganspace", "sefa", "stylegan"]


def _component(text: str) -> int | None:
    """`--component`: a row index, or `all` (None)."""
    if text.strip().lower() == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        raise StyleGANError(f"--component: expected a number (0, 1, ...) or all, got {text[:40]!r}") from None
    if not 0 <= value < 1_000_000:
        raise StyleGANError(f"--component {value}: must be 0 or more")
    return value


@click.command("import", cls=Command)
@click.argument("src", type=click.Path(dir_okay=False, path_type=Path))
@network_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    default="auto",
    show_default=True,
    help="What made the file; auto tells them apart by its arrays and shape (a [num_ws, w_dim] .npy is read as "
    "per-layer directions: give --format sefa to read its rows as components).",
)
@click.option(
    "--space",
    type=click.Choice(["w", "z"]),
    default=None,
    help="The latent space of an InterFaceGAN boundary or GANSpace file (default w; GANSpace files computed in Z are "
    "recognised). Editing needs W.",
)
@click.option(
    "--component",
    "component",
    metavar="K|all",
    default="0",
    show_default=True,
    help="Which row of a GANSpace or SeFa file, or all.",
)
@click.option("--name", default="", help="The attribute's name, e.g. smile.")
@click.option(
    "--layers",
    default=None,
    help="Layers an edit moves by default: 0-7, or coarse / middle / fine (the StyleGAN-encoder directions were "
    "applied to layers 0-7). Default all.",
)
@device_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="direction .npz")
def import_command(
    src: Path,
    network: str | None,
    fmt: str,
    space: str | None,
    component: str,
    name: str,
    layers: str | None,
    device: str,
    out: Path,
) -> None:
    """Read a direction made by another tool for this network: an InterFaceGAN boundary (.npy [1, 512]), per-layer
    directions (.npy [18, 512]), a GANSpace .npz (lat_comp, lat_stdev) or SeFa eigenvectors (.npy/.npz [K, 512]).
    The shapes are checked against the network; nothing is unpickled.

    \b
    Examples:
      stylegan directions import boundary_Smiling.npy --network ffhq.pkl --name smile --out smile.npz
      stylegan directions import smile.npy --network ffhq.pkl --layers 0-7 --out smile.npz
      stylegan directions import ganspace_w.npz --network ffhq.pkl --component 3 --out pc3.npz
    """
    from ..editing import import_direction

    comp = _component(component)
    G = load_network_for_cli(network, device)
    d = import_direction(src, G, format=fmt, space=space, component=comp, layers=layers, name=name)
    d.save(out)
    first, *rest = d.describe()
    click.echo(f"wrote {out}: {first}")
    for line in rest:
        if not line.startswith("  source_file:"):
            click.echo(line)
