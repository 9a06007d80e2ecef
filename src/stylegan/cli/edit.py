"""`stylegan latent swap|fuse|variations`, `stylegan directions sample|label|fit` and `stylegan edit`."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ..errors import StyleGANError
from .common import device_option, load_network_for_cli
from .generate import class_option, network_option, noise_option, trunc_option

latent_help = "seed:N (seed:0-3 for several) or a latent file (projected_w.npz, encoder output .npz, .npy)."
outdir_option = click.option(
    "--outdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)


def _floats(text: str, what: str) -> list[float]:
    try:
        vals = [float(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise StyleGANError(f"{what}: expected comma-separated numbers such as -3,0,3, got {text!r}") from None
    if not vals:
        raise StyleGANError(f"{what}: no numbers in {text!r}")
    return vals


def _write(G: object, ws: object, outdir: Path, stem: str, noise_mode: str, **meta: object) -> int:
    """Render ws, write {stem}{i:02d}.png and {stem}.npz; returns the number of images."""
    from ..editing.latent_ops import save_latents
    from ..generation import synthesize
    from ..images import save_image

    imgs = synthesize(G, ws, noise_mode=noise_mode)  # type: ignore[arg-type]
    for i, img in enumerate(imgs):
        save_image(img, outdir / (f"{stem}{i:02d}.png" if len(imgs) > 1 else f"{stem}.png"))
    save_latents(outdir / f"{stem}.npz", ws, **meta)  # type: ignore[arg-type]
    return len(imgs)


# ---------------------------------------------------------------------------------------------------------
# stylegan latent ...


@click.group()
def latent() -> None:
    """Latent operations on any latent (seed:N, projected_w.npz, encoder output): swap, fuse, variations."""


@latent.command()
@network_option
@click.option("--latent", "latent_spec", required=True, help=latent_help)
@click.option("--template", required=True, help="Where the swapped layers come from: " + latent_help)
@click.option("--layers", default="5-8", show_default=True, help="Layer range (5-8) or coarse / middle / fine.")
@trunc_option
@class_option
@noise_option
@device_option
@outdir_option
def swap(
    network: str | None,
    latent_spec: str,
    template: str,
    layers: str,
    psi: float,
    class_idx: int | None,
    noise_mode: str,
    device: str,
    outdir: Path,
) -> None:
    """Style swap: take --layers from the template (the face website swapped 5-8). Writes swap*.png, swap.npz.

    \b
    Example:
      stylegan latent swap --network ffhq.pkl --latent projected_w.npz --template seed:42 --layers 5-8 --outdir out
    """
    from ..editing.latent_ops import parse_layers, resolve_latent, swap_styles

    G = load_network_for_cli(network, device)
    ws = resolve_latent(G, latent_spec, psi=psi, class_idx=class_idx)
    tpl = resolve_latent(G, template, psi=psi, class_idx=class_idx)
    idx = parse_layers(layers, G.num_ws)
    n = _write(G, swap_styles(ws, tpl, idx), outdir, "swap", noise_mode, layers=idx)
    click.echo(f"wrote {n} image(s) and swap.npz to {outdir}/ (layers {idx} from {template})")


@latent.command()
@network_option
@click.option("--latents", "specs", required=True, help="Comma-separated latents to average, e.g. seed:1,a.npz.")
@click.option("--weights", default=None, help="Comma-separated weights (normalised to sum 1; equal by default).")
@trunc_option
@class_option
@noise_option
@device_option
@outdir_option
def fuse(
    network: str | None,
    specs: str,
    weights: str | None,
    psi: float,
    class_idx: int | None,
    noise_mode: str,
    device: str,
    outdir: Path,
) -> None:
    """Fusion: the (weighted) average in W of two or more latents. Writes fuse.png and fuse.npz.

    \b
    Example:
      stylegan latent fuse --network ffhq.pkl --latents seed:1,seed:2 --weights 0.7,0.3 --outdir out
    """
    from ..editing.latent_ops import fuse as fuse_latents
    from ..editing.latent_ops import resolve_latent

    G = load_network_for_cli(network, device)
    parts = [p.strip() for p in specs.split(",") if p.strip()]
    lats = [resolve_latent(G, p, psi=psi, class_idx=class_idx) for p in parts]
    if any(len(x) != 1 for x in lats):
        raise StyleGANError("--latents: each item must hold exactly one latent")
    w = _floats(weights, "--weights") if weights else None
    n = _write(G, fuse_latents(lats, w), outdir, "fuse", noise_mode)
    click.echo(f"wrote {n} image and fuse.npz to {outdir}/ (average of {len(lats)} latents)")


@latent.command(name="variations")
@network_option
@click.option("--latent", "latent_spec", required=True, help=latent_help)
@click.option("-n", "--num", "num", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--layers", default="0", show_default=True, help="Layers to re-draw (the identity lives in the rest).")
@click.option("--strength", type=float, default=1.0, show_default=True, help="1 = replace the layers, <1 = blend.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random variation latents.")
@trunc_option
@class_option
@noise_option
@device_option
@outdir_option
def variations_cmd(
    network: str | None,
    latent_spec: str,
    num: int,
    layers: str,
    strength: float,
    seed: int,
    psi: float,
    class_idx: int | None,
    noise_mode: str,
    device: str,
    outdir: Path,
) -> None:
    """Identity-preserving variations: re-draw --layers from random seeds. Writes var*.png and var.npz.

    \b
    Example:
      stylegan latent variations --network ffhq.pkl --latent seed:42 -n 8 --layers 0 --outdir out
    """
    from ..editing.latent_ops import parse_layers, resolve_latent, variations

    G = load_network_for_cli(network, device)
    ws = resolve_latent(G, latent_spec, psi=psi, class_idx=class_idx)
    idx = parse_layers(layers, G.num_ws)
    out = variations(G, ws[:1], num, layers=idx, strength=strength, seed=seed, psi=psi, class_idx=class_idx)
    n = _write(G, out, outdir, "var", noise_mode, layers=idx)
    click.echo(f"wrote {n} variations and var.npz to {outdir}/ (layers {idx} re-drawn)")


# ---------------------------------------------------------------------------------------------------------
# stylegan directions ...


@click.group()
def directions() -> None:
    """Semantic directions: sample latents, label them, fit directions (supervised or unsupervised)."""


@directions.command()
@network_option
@click.option("-n", "--num", "num", type=click.IntRange(min=1), default=20000, show_default=True)
@click.option("--seed-start", type=click.IntRange(min=0), default=0, show_default=True)
@trunc_option
@class_option
@click.option(
    "--images",
    "images_dir",
    type=click.Path(file_okay=False, path_type=Path),
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
    from ..editing.directions import sample_latents, save_samples
    from ..generation import generate
    from ..io.hashing import network_hash

    G = load_network_for_cli(network, device)
    samples = sample_latents(G, num, seed_start=seed_start, psi=psi, class_idx=class_idx)
    save_samples(out, {**samples, "network_hash": np.array(network_hash(G))})
    if images_dir is not None:
        generate(G, samples["seeds"].tolist(), psi=psi, class_idx=class_idx).save(images_dir)
    click.echo(f"wrote {num} samples to {out}" + (f" and images to {images_dir}/" if images_dir else ""))


@directions.command()
@network_option
@click.option("--samples", "samples_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--stat",
    "stats",
    default="brightness",
    show_default=True,
    help="Comma-separated: brightness, saturation, hue, contrast, red, green, blue.",
)
@device_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="labels.csv")
def label(network: str | None, samples_path: Path, stats: str, device: str, out: Path) -> None:
    """Offline labeller: simple statistics of the generated images, written as a labels CSV (seed,stat,...).

    \b
    Example:
      stylegan directions label --network net.pkl --samples samples.npz --stat brightness,hue --out labels.csv
    """
    from ..editing.directions import label_samples, load_samples, write_labels

    G = load_network_for_cli(network, device)
    samples = load_samples(samples_path)
    names = [s.strip() for s in stats.split(",") if s.strip()]
    labels = label_samples(G, samples, names)
    write_labels(out, samples["seeds"].tolist(), labels)
    click.echo(f"wrote {len(samples['seeds'])} labels ({', '.join(names)}) to {out}")


@directions.command()
@network_option
@click.option("--method", type=click.Choice(["mean-diff", "logistic", "svm", "sefa", "ganspace"]), required=True)
@click.option("--samples", "samples_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--labels", "labels_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--attr", default="", help="The labels column to fit (supervised methods).")
@click.option("--condition", default="", help="Comma-separated attributes to keep unchanged (projected out).")
@click.option("--layers", default=None, help="Layer mask of the direction (SeFa: layers to factorise). Default all.")
@click.option("--components", type=click.IntRange(min=1), default=32, show_default=True, help="SeFa / GANSpace.")
@click.option(
    "--ratio",
    type=click.FloatRange(0, 0.5, min_open=True),
    default=0.02,
    show_default=True,
    help="SVM: top and bottom fraction of the samples used.",
)
@device_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="direction .npz")
def fit(
    network: str | None,
    method: str,
    samples_path: Path | None,
    labels_path: Path | None,
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
    from ..editing.directions import SUPERVISED, fit_direction, load_samples, read_labels
    from ..editing.latent_ops import parse_layers
    from ..io.hashing import network_hash

    G = load_network_for_cli(network, device)
    samples = load_samples(samples_path) if samples_path else None
    if method in SUPERVISED and (samples is None or labels_path is None or not attr):
        raise StyleGANError(f"--method {method} needs --samples, --labels and --attr")
    if method == "ganspace" and samples is None:
        raise StyleGANError("--method ganspace needs --samples (stylegan directions sample)")
    labels = read_labels(labels_path) if labels_path else None
    conds = [c.strip() for c in condition.split(",") if c.strip()]
    idx = parse_layers(layers, G.num_ws) if layers else None
    if samples is not None and samples["w"].shape[-1] != G.w_dim:
        raise StyleGANError(f"{samples_path}: w_dim {samples['w'].shape[-1]} does not match the network ({G.w_dim})")
    if samples is not None and "network_hash" in samples and str(samples["network_hash"]) != network_hash(G):
        raise StyleGANError(f"{samples_path} was sampled from another network; sample again with this --network")
    d = fit_direction(
        method,
        G=G,
        samples=samples,
        labels=labels,
        attr=attr,
        conditions=conds,
        layers=idx,
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

    d = Direction.load(path)
    layers = np.flatnonzero(d.layers).tolist() if len(d.layers) else "all"
    click.echo(
        f"{path}: {d.method}{' ' + d.attr if d.attr else ''}, {len(d.vectors)} direction(s) of shape "
        f"{list(d.vectors.shape[1:])}, layers {layers}, network {d.network_hash[:12] or 'unknown'}"
    )
    for k, v in d.meta.items():
        if np.asarray(v).ndim == 0:
            click.echo(f"  {k}: {v}")


# ---------------------------------------------------------------------------------------------------------
# stylegan edit


@click.command()
@network_option
@click.option("--latent", "latent_spec", required=True, help=latent_help)
@click.option("--direction", "direction_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--component",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Which direction of a multi-component file (SeFa / GANSpace).",
)
@click.option("--steps", default="-3,0,3", show_default=True, help="Comma-separated step sizes along the direction.")
@click.option(
    "--sigma",
    "--label-units",
    "sigma",
    is_flag=True,
    help="Steps in the direction's own units: GANSpace std in W, or (mean-diff) units of the label.",
)
@click.option("--layers", default=None, help="Layers to move (default: the direction file's mask).")
@click.option(
    "--absolute",
    is_flag=True,
    help="Steps are signed distances from the attribute's boundary (InterFaceGAN), not offsets from w.",
)
@click.option("--force", is_flag=True, help="Apply a direction made for another network.")
@trunc_option
@class_option
@noise_option
@device_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="strip.png")
@click.option(
    "--video",
    "video_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also render a sweep through the steps to this .mp4 / .gif.",
)
@click.option("--frames-per-step", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True)
def edit(
    network: str | None,
    latent_spec: str,
    direction_path: Path,
    component: int,
    steps: str,
    layers: str | None,
    sigma: bool,
    absolute: bool,
    force: bool,
    psi: float,
    class_idx: int | None,
    noise_mode: str,
    device: str,
    out: Path,
    video_path: Path | None,
    frames_per_step: int,
    fps: float,
) -> None:
    """Move a latent along a direction: w + step * direction on the chosen layers; a strip image (one row per latent)
    and the edited latents (same name, .npz); --video renders a sweep (e.g. a yaw rotation).

    \b
    Example:
      stylegan edit --network ffhq.pkl --latent seed:42 --direction smile.npz --steps -3,0,3 --out strip.png
    """
    import torch

    from ..editing.directions import Direction, apply_direction
    from ..editing.latent_ops import parse_layers, resolve_latent, save_latents
    from ..generation import synthesize
    from ..images import make_grid, save_image
    from ..video import interpolate_keys, render_video

    G = load_network_for_cli(network, device)
    d = Direction.load(direction_path)
    d.check_network(G, force=force, what=str(direction_path))
    vec = d.component(component)
    if sigma:
        if d.scale is None or d.method not in ("ganspace", "mean-diff"):
            raise StyleGANError(f"--sigma needs a GANSpace or mean-diff direction file (this one is {d.method})")
        vec = vec * float(d.scale[component])
    step_vals = _floats(steps, "--steps")
    if layers is not None:
        mask: list[int] | object = parse_layers(layers, G.num_ws)
    else:
        mask = d.layers if len(d.layers) == G.num_ws else None
    ws = resolve_latent(G, latent_spec, psi=psi, class_idx=class_idx)
    offset = None
    if absolute:
        if "offset" not in d.meta or sigma:
            raise StyleGANError("--absolute needs a supervised direction (mean-diff, logistic, svm) and no --sigma")
        offset = float(d.meta["offset"])
    edited = apply_direction(ws, vec, step_vals, mask, offset=offset)  # type: ignore[arg-type]
    imgs = synthesize(G, edited, noise_mode=noise_mode)  # type: ignore[arg-type]
    save_image(make_grid(imgs, len(ws), len(step_vals)), out)
    save_latents(out.with_suffix(".npz"), edited, steps=step_vals)
    msg = f"wrote a {len(ws)}x{len(step_vals)} strip to {out}"
    if video_path is not None:
        if len(step_vals) < 2:
            raise StyleGANError("--video needs at least two --steps to sweep between")
        path = interpolate_keys(torch.tensor(step_vals, dtype=torch.float64)[:, None], frames_per_step).squeeze(1)
        walks = [
            apply_direction(ws[i : i + 1], vec, path.tolist(), mask, offset=offset)  # type: ignore[arg-type]
            for i in range(len(ws))
        ]
        render_video(G, video_path, walks, grid=(1, len(walks)), fps=fps, noise_mode=noise_mode, desc="sweeping")
        msg += f" and a {len(path)}-frame sweep to {video_path}"
    click.echo(msg)


commands = [latent, directions, edit]
