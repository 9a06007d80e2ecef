"""`stylegan zgen train | evaluate`: a Z-code generator steering a network towards a classifier's class."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Group, batch_option, device_option, load_network_for_cli, network_option
from .params import MAX_STEPS, SEED, Float, Int


@click.group(cls=Group)
def zgen() -> None:
    """Train a Z-code generator: z that a frozen network turns into images of one class of a classifier.

    \b
    Examples:
      stylegan zgen train --network net.safetensors --classifier clf.safetensors --class cat --out cat.safetensors
      stylegan generate --network net.safetensors --zgen cat.safetensors --seeds 0-63 --outdir cats
    """


classifier_option = click.option("--classifier", "classifier_path", type=click.Path(path_type=Path), required=True)


@zgen.command("train", flags={"class_": "--class", "network_class": "--network-class"})
@network_option
@classifier_option
@click.option("--class", "class_", required=True, help="The classifier's class (name or index) to aim for.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="File to write (.safetensors).")
@click.option("--steps", type=Int(1, MAX_STEPS), default=500, show_default=True)
@click.option("--batch", "batch_size", type=Int(2, 4096), default=16, show_default=True)
@click.option("--lr", type=Float(0, 10, min_open=True), default=1e-3, show_default=True)
@click.option(
    "--diversity-weight",
    type=Float(0, 1e6),
    default=30.0,
    show_default=True,
    help="Weight of the term keeping z diverse and close to N(0, I) (higher: more varied, fewer hits).",
)
@click.option("--code-dim", type=Int(1, 4096), default=64, show_default=True, help="Size of the noise code.")
@click.option("--network-class", type=Int(0, 2**31 - 1), default=None, help="Class label of a conditional network.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@device_option
def zgen_train(
    network: str | None,
    classifier_path: Path,
    class_: str,
    out: Path,
    steps: int,
    batch_size: int,
    lr: float,
    diversity_weight: float,
    code_dim: int,
    network_class: int | None,
    seed: int,
    device: str,
) -> None:
    """Train a Z-code generator for a network (kept frozen) towards a class of a classifier."""
    from ..customise.classifier import load_classifier
    from ..customise.zgen import save_zgen, train_zgen

    G = load_network_for_cli(network, device)
    clf = load_classifier(classifier_path, device=next(G.parameters()).device)
    zg, stats = train_zgen(
        G,
        clf,
        class_,
        code_dim=code_dim,
        steps=steps,
        batch=batch_size,
        lr=lr,
        diversity_weight=diversity_weight,
        seed=seed,
        network_class=network_class,
        progress=True,
    )
    save_zgen(zg, out)
    click.echo(
        f"zgen for class {zg.info.class_name}: {steps} steps, hit rate {stats['hit_rate_start']:.2f} -> "
        f"{stats['hit_rate_end']:.2f}, mean log p {stats['log_p_start']:.3f} -> {stats['log_p_end']:.3f} -> {out}"
    )


@zgen.command("evaluate", flags={"class_": "--class"})
@network_option
@classifier_option
@click.option("--zgen", "zgen_path", type=click.Path(path_type=Path), required=True)
@click.option("--n", "n", type=Int(2, 100_000), default=256, show_default=True, help="Images per side.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="First seed (seeds seed..seed+n-1).")
@click.option("--class", "class_", default=None, help="The classifier's class (default: the zgen's own).")
@batch_option
@device_option
def zgen_evaluate(
    network: str | None,
    classifier_path: Path,
    zgen_path: Path,
    n: int,
    seed: int,
    batch_size: int,
    class_: str | None,
    device: str,
) -> None:
    """Hit rate and diversity of the Z-code generator's images against plain z on the same seeds."""
    from ..customise.classifier import load_classifier
    from ..customise.zgen import evaluate_zgen, load_zgen

    G = load_network_for_cli(network, device)
    dev = next(G.parameters()).device
    clf = load_classifier(classifier_path, device=dev)
    zg = load_zgen(zgen_path, G, device=dev)
    result = evaluate_zgen(G, clf, zg, class_, n=n, seed=seed, batch_size=batch_size)
    click.echo(f"class {zg.info.class_name}, {n} images each (zgen vs plain z):")
    for key in ("hit_rate", "mean_prob", "feature_diversity", "pixel_diversity"):
        click.echo(f"  {key}: {result[key + '_zgen']:.4f} vs {result[key + '_plain']:.4f}")


commands: list[click.Command] = [zgen]
