"""`stylegan classifier train | predict` and `stylegan dataset filter`: a classifier for a labelled dataset, and
the subset of a dataset it puts in one class."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Command, Group, device_option
from .dataset import dataset
from .params import SEED, Float, Int


@click.group(cls=Group)
def classifier() -> None:
    """Train a small image classifier on a labelled dataset, and classify image files.

    \b
    Examples:
      stylegan dataset prepare --source pets/ --dest pets.zip --resolution 64 --labels from-folders
      stylegan classifier train --data pets.zip --out clf.safetensors --epochs 10
      stylegan classifier predict --classifier clf.safetensors photo1.png photo2.jpg
    """


@classifier.command("train")
@click.option("--data", type=click.Path(path_type=Path), required=True, help="Labelled dataset (zip or folder).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Classifier file to write (.safetensors).")
@click.option("--epochs", type=Int(1, 100_000), default=10, show_default=True)
@click.option("--batch", type=Int(1, 4096), default=64, show_default=True)
@click.option(
    "--val-fraction",
    type=Float(0, 1, max_open=True),
    default=0.2,
    show_default=True,
    help="Share of each class held out to measure accuracy.",
)
@click.option("--resolution", type=Int(8, 256), default=32, show_default=True, help="Working size in pixels.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@device_option
def classifier_train(
    data: Path,
    out: Path,
    epochs: int,
    batch: int,
    val_fraction: float,
    resolution: int,
    seed: int,
    device: str,
) -> None:
    """Train a classifier (prints the accuracy of every epoch and the final held-out accuracy).

    Class names are the dataset's (`--labels from-folders` stores the folder names), else 0, 1, ...
    """
    from ..customise.classifier import save_classifier, train_classifier
    from ..device import pick_device

    clf, metrics = train_classifier(
        data,
        epochs=epochs,
        batch=batch,
        val_fraction=val_fraction,
        seed=seed,
        resolution=resolution,
        device=pick_device(device),
        progress=click.echo,
    )
    save_classifier(clf, out)
    acc = metrics.val_accuracy
    held = f"held-out accuracy {acc:.3f} ({metrics.num_val} images)" if acc is not None else "no held-out images"
    click.echo(f"{held}; classes {', '.join(clf.class_names)} -> {out}")


@classifier.command("predict")
@click.option("--classifier", "classifier_path", type=click.Path(path_type=Path), required=True)
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
def classifier_predict(classifier_path: Path, images: tuple[Path, ...]) -> None:
    """Print `file class probability` for each image (its most likely class)."""
    from ..customise.classifier import load_classifier, predict_files

    clf = load_classifier(classifier_path)
    for path, name, prob in predict_files(clf, images):
        click.echo(f"{path} {name} {prob:.4f}")


@click.command("filter", cls=Command, flags={"class_": "--class"})
@click.option("--source", type=click.Path(path_type=Path), required=True, help="Dataset to filter (zip or folder).")
@click.option("--classifier", "classifier_path", type=click.Path(path_type=Path), required=True)
@click.option("--class", "class_", required=True, help="Class to keep: its name or index.")
@click.option("--min-prob", type=Float(0, 1), default=0.8, show_default=True, help="Keep images with p(class) >= this.")
@click.option("--dest", type=click.Path(path_type=Path), required=True, help="Output .zip (or a new folder).")
@device_option
def dataset_filter(source: Path, classifier_path: Path, class_: str, min_prob: float, dest: Path, device: str) -> None:
    """Keep the images a classifier puts in one class (labels and metadata carried over).

    \b
    Example:
      stylegan dataset filter --source d.zip --classifier clf.safetensors --class cat --min-prob 0.8 --dest cats.zip
    """
    from ..customise.classifier import load_classifier
    from ..customise.filter import filter_dataset
    from ..device import pick_device
    from ..progress import progress_bar

    clf = load_classifier(classifier_path, device=pick_device(device))
    with progress_bar(0, "filter", unit="image", enabled=True) as bar:
        report = filter_dataset(source, clf, class_, min_prob, dest, progress=bar.advance_to)
    click.echo(report.summary())


dataset.add_command(dataset_filter)

commands: list[click.Command] = [classifier]
