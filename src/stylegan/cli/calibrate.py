"""`stylegan attribute-calibrate`: the distance threshold `stylegan attribute` judges images with."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import (
    MAX_BATCH,
    Command,
    device_option,
    load_network_for_cli,
    loss_option,
    network_option,
    perceptual_option,
    space_option,
    w_avg_samples_option,
)
from .params import MAX_STEPS, Int

if TYPE_CHECKING:
    from ..inversion.projection import Loss, Space
    from ..metrics.detectors import DetectorSource


@click.command("attribute-calibrate", cls=Command)
@network_option
@click.option(
    "--real",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="Real images: a folder of images or a dataset (.zip, or a folder with dataset.json).",
)
@click.option(
    "-n", "n", type=Int(1, 100_000), default=50, show_default=True, help="Images of each kind (generated, real)."
)
@click.option("--steps", type=Int(1, MAX_STEPS), default=300, show_default=True, help="Projection steps.")
@loss_option("lpips")
@space_option("w")
@perceptual_option()
@click.option(
    "--real-classes",
    type=click.Choice(["label", "random"]),
    default="label",
    show_default=True,
    help="Conditional networks: project real images with their dataset label, or a random class.",
)
@w_avg_samples_option(10000)
@click.option(
    "--batch",
    "batch_size",
    type=Int(1, MAX_BATCH),
    default=None,
    help="Project at most this many images at once (default: all).",
)
@device_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the calibration JSON here (it is always kept in the cache).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw a histogram of both distance sets with the threshold (PNG).",
)
def attribute_calibrate(
    network: str | None,
    real: Path,
    n: int,
    steps: int,
    loss: Loss,
    space: Space,
    perceptual: DetectorSource,
    real_classes: str,
    w_avg_samples: int,
    batch_size: int | None,
    device: str,
    out: Path | None,
    plot: Path | None,
) -> None:
    """Calibrate the attribution threshold: project N generated and N real images, separate their distances.

    \b
    Example:
      stylegan attribute-calibrate --network net.pkl --real data.zip -n 50 --out calib.json --plot hist.png
    """
    from ..inversion.attribution import calibrate, plot_histogram, store_calibration
    from ..inversion.projection import perceptual_network

    G = load_network_for_cli(network, device)
    net = perceptual_network(loss, perceptual, G)
    if net is not None:
        click.echo(f"perceptual network: {net.info.name}")
    cal = calibrate(
        G,
        real,
        n=n,
        steps=steps,
        loss=loss,
        space=space,
        perceptual=net,
        real_classes=real_classes,
        w_avg_samples=w_avg_samples,
        batch_size=batch_size,
        progress=True,
    )
    cached = store_calibration(cal)
    gen_mean = sum(cal.generated) / len(cal.generated)
    real_mean = sum(cal.real) / len(cal.real)
    click.echo(f"generated: {len(cal.generated)} images, mean distance {gen_mean:.4f}")
    click.echo(f"real: {len(cal.real)} images, mean distance {real_mean:.4f}")
    click.echo(f"threshold {cal.threshold:.4g}, balanced accuracy {cal.accuracy:.3f} (kept in {cached})")
    if out is not None:
        cal.save(out)
        click.echo(f"wrote {out}")
    if plot is not None:
        plot_histogram(cal, plot)
        click.echo(f"wrote {plot}")


commands = [attribute_calibrate]
