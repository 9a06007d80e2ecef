"""`stylegan directions sample|label|fit|info|import`: semantic directions in W."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import StyleGANError
from ..generation import MAX_IMAGES
from .common import Group, class_option, device_option, load_network_for_cli, network_option, trunc_option
from .direction_import import import_command
from .params import SEED, Float, Int


@click.group(cls=Group)
def directions() -> None:
    """Semantic directions: sample latents, label them, fit directions (supervised or unsupervised), import them."""


@directions.command()
@network_option
@click.option("-n", "--num", "num", type=Int(1, MAX_IMAGES), default=20000, show_default=True)
@click.option("--seed-start", type=SEED, default=0, show_default=True)
@trunc_option
@class_option
@click.option(
    "--images",
    "images_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write seedNNNN.png for a labeller that needs images.",
)
@device_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="samples.npz")
def sample(
    network: str | None,
    num: int,
    seed_start: int,
    psi: float,
    class_idx: int | None,
    images_dir: Path | None,
    device: str,
    out: Path,
) -> None:
    """Draw samples (arrays seeds, z, w) to label and fit directions on.

    \b
    Example:
      stylegan directions sample --network ffhq.pkl -n 20000 --out samples.npz --images imgs/
    """
    from ..editing.directions import make_samples

    if seed_start + num > 2**32:
        raise StyleGANError(f"--seed-start {seed_start} + --num {num}: seeds must stay below 2**32")
    G = load_network_for_cli(network, device)
    make_samples(G, out, num, seed_start=seed_start, psi=psi, class_idx=class_idx, images_dir=images_dir)
    click.echo(f"wrote {num} samples to {out}" + (f" and images to {images_dir}/" if images_dir else ""))


@directions.command()
@network_option
@click.option("--samples", "samples", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--stat",
    "stats",
    default="brightness",
    show_default=True,
    help="Comma-separated: brightness, saturation, hue, contrast, red, green, blue.",
)
@device_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="labels.csv")
def label(network: str | None, samples: Path, stats: str, device: str, out: Path) -> None:
    """Offline labeller: simple statistics of the generated images, written as a labels CSV (seed,stat,...).

    \b
    Example:
      stylegan directions label --network net.pkl --samples samples.npz --stat brightness,hue --out labels.csv
    """
    from ..editing.directions import label_samples_file

    G = load_network_for_cli(network, device)
    names = [s.strip() for s in stats.split(",") if s.strip()]
    n = label_samples_file(G, samples, names, out)
    click.echo(f"wrote {n} labels ({', '.join(names)}) to {out}")


@directions.command()
@network_option
@click.option("--method", type=click.Choice(["mean-diff", "logistic", "svm", "sefa", "ganspace"]), required=True)
@click.option("--samples", "samples", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--labels", "labels", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--attr", default="", help="The labels column to fit (supervised methods).")
@click.option("--condition", default="", help="Comma-separated attributes to keep unchanged (projected out).")
@click.option("--layers", default=None, help="Layer mask of the direction (SeFa: layers to factorise). Default all.")
@click.option("--components", type=Int(1, 10_000), default=32, show_default=True, help="SeFa / GANSpace.")
@click.option(
    "--ratio",
    type=Float(0, 0.5, min_open=True),
    default=0.02,
    show_default=True,
    help="SVM: top and bottom fraction of the samples used.",
)
@device_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="direction .npz")
def fit(
    network: str | None,
    method: str,
    samples: Path | None,
    labels: Path | None,
    attr: str,
    condition: str,
    layers: str | None,
    components: int,
    ratio: float,
    device: str,
    out: Path,
) -> None:
    """Fit a direction: mean-diff, logistic, svm (from labels) or sefa, ganspace (unsupervised).

    \b
    Examples:
      stylegan directions fit --network ffhq.pkl --samples s.npz --labels l.csv --attr smile --method svm \\
        --out smile.npz
      stylegan directions fit --network ffhq.pkl --method sefa --layers coarse --out sefa_coarse.npz
    """
    from ..editing.directions import fit_direction_files

    G = load_network_for_cli(network, device)
    d = fit_direction_files(
        G,
        method,
        samples=samples,
        labels=labels,
        attr=attr,
        conditions=[c.strip() for c in condition.split(",") if c.strip()],
        layers=layers,
        num_components=components,
        ratio=ratio,
    )
    d.save(out)
    extra = f", held-out accuracy {d.meta['val_accuracy']:.3f}" if "val_accuracy" in d.meta else ""
    click.echo(f"wrote {len(d.vectors)} direction(s) ({method}{' ' + attr if attr else ''}{extra}) to {out}")


@directions.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def info(path: Path) -> None:
    """Describe a direction file: method, attribute, shape, layer mask, network hash."""
    from ..editing.directions import Direction

    first, *rest = Direction.load(path).describe()
    click.echo(f"{path}: {first}")
    for line in rest:
        click.echo(line)


directions.add_command(import_command)

commands = [directions]
