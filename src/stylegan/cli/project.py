"""`stylegan project`: find the latents of real images (REFERENCE §5.1, plus W+, batches, classes, kept noise)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import StyleGANError
from .common import device_option, load_network_for_cli
from .generate import class_option, network_option


def _subfolder_names(targets: list[Path]) -> list[str]:
    """One distinct folder name per target: the file stem, with -2, -3 ... for repeated stems."""
    names: list[str] = []
    for t in targets:
        name, k = t.stem, 2
        while name in names:
            name, k = f"{t.stem}-{k}", k + 1
        names.append(name)
    return names


@click.command()
@network_option
@click.option(
    "--target",
    "targets",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Image to project (repeat for several; each gets its own subfolder).",
)
@click.option("--steps", type=click.IntRange(min=0), default=1000, show_default=True, help="Optimisation steps.")
@click.option(
    "--space",
    type=click.Choice(["w", "w+"]),
    default="w",
    show_default=True,
    help="w: one latent for all layers (the paper); w+: one per layer (closer fit, less editable).",
)
@click.option("--seed", type=int, default=303, show_default=True, help="Seed of the initial noise maps.")
@class_option
@click.option(
    "--loss",
    type=click.Choice(["lpips", "mse"]),
    default="lpips",
    show_default=True,
    help="lpips: LPIPS-VGG16 distance (NVIDIA's vgg16.pt, else the offline ST-LPIPS); mse: pixel error.",
)
@click.option(
    "--perceptual",
    type=click.Choice(["auto", "nvidia", "offline"]),
    default="auto",
    show_default=True,
    help="Which LPIPS network: auto = NVIDIA's vgg16.pt if on this machine, else offline weights, else download.",
)
@click.option(
    "--vgg16",
    "vgg16_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="An explicit NVIDIA vgg16.pt file.",
)
@click.option(
    "--init",
    "init",
    metavar="encoder:PATH",
    default=None,
    help="Start from a trained encoder's prediction (encoder.safetensors or its folder); --steps 0 = encoder only.",
)
@click.option(
    "--align/--no-align",
    "align_faces",
    default=False,
    show_default=True,
    help="FFHQ-align each target's face first (dlib; see `stylegan align`).",
)
@click.option("--face-index", type=click.IntRange(min=0), default=None, help="With --align: which face (0 = largest).")
@click.option("--w-avg-samples", type=click.IntRange(min=1), default=10000, show_default=True)
@click.option(
    "--save-video/--no-save-video",
    default=False,
    show_default=True,
    help="Write proj.mp4: target | projection at every step.",
)
@device_option
@click.option("--outdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Where to write.")
def project(
    network: str | None,
    targets: tuple[Path, ...],
    steps: int,
    space: str,
    seed: int,
    class_idx: int | None,
    loss: str,
    perceptual: str,
    vgg16_file: Path | None,
    init: str | None,
    align_faces: bool,
    face_index: int | None,
    w_avg_samples: int,
    save_video: bool,
    device: str,
    outdir: Path,
) -> None:
    """Project images into the latent space of a network.

    Writes projected_w.npz (key w, [1, num_ws, w_dim]; render it with `stylegan generate --projected-w`),
    projected_noise.npz (the optimised noise maps), target.png, proj.png (rendered with the optimised noise),
    projection.json (settings, perceptual network, distance per step) and with --save-video proj.mp4.
    Several --target images go to one subfolder each.

    \b
    Examples:
      stylegan project --network ffhq.pkl --target me.jpg --outdir out
      stylegan project --network ffhq.pkl --target a.jpg --target b.png --space w+ --steps 500 --outdir out
    """
    from ..projection import preprocess_target, save_projection
    from ..projection import project as run_projection

    for t in targets:
        if not t.is_file():
            raise StyleGANError(f"--target {t}: no such file")
    G = load_network_for_cli(network, device)
    quads: list[list[list[float]] | None] = [None] * len(targets)
    if align_faces:
        images = []
        for k, t in enumerate(targets):
            face, quads[k] = _aligned_target(t, G.img_resolution, face_index)
            images.append(preprocess_target(face, G.img_resolution, G.img_channels))
    else:
        images = [preprocess_target(t, G.img_resolution, G.img_channels) for t in targets]

    net = None
    if loss == "lpips":
        from ..metrics.perceptual import load_perceptual

        net = load_perceptual(perceptual, file=vgg16_file, device=next(G.parameters()).device)  # type: ignore[arg-type]
        click.echo(f"perceptual network: {net.info.name} ({net.info.file or net.info.description})")
    else:
        click.echo("loss: mse (no perceptual network)")

    import numpy as np

    init_ws = None
    if init is not None:
        init_ws = _encoder_init(init, G, np.stack(images))
    result = run_projection(
        G,
        np.stack(images),
        steps=steps,
        space=space,
        seed=seed,
        w_avg_samples=w_avg_samples,  # type: ignore[arg-type]
        loss=loss,
        perceptual=net,
        class_idx=class_idx,
        init_ws=init_ws,
        progress=True,  # type: ignore[arg-type]
    )
    dirs = [outdir] if len(targets) == 1 else [outdir / name for name in _subfolder_names(list(targets))]
    for i, (t, d) in enumerate(zip(targets, dirs)):
        meta = {
            "network": network,
            "target": str(t),
            "seed": seed,
            "class": class_idx,
            "w_avg_samples": w_avg_samples,
            "init": init,
            "align_quad": quads[i],
        }
        save_projection(result, i, d, G=G, video=save_video, metadata=meta)
        if steps:
            click.echo(f"{t.name}: {loss} distance {result.final_distances[i]:.4f} after {steps} steps -> {d}/")
        else:
            click.echo(f"{t.name}: starting point written (--steps 0) -> {d}/")


def _aligned_target(path: Path, size: int, face_index: int | None):  # noqa: ANN202 - (PIL image, quad)
    """The FFHQ-aligned face of a photo as a PIL image of size x size, and its quad in the photo."""
    from PIL import Image

    from ..alignment import align_face, detect_landmarks, load_rgb

    img = load_rgb(path)
    try:
        out = align_face(
            img, detect_landmarks(img, face_index=face_index), size=size, transform_size=max(size, min(4096, 4 * size))
        )
    except StyleGANError as e:
        raise StyleGANError(f"{path}: {e}") from None
    return Image.fromarray(out.image), out.quad.tolist()


def _encoder_init(spec: str, G, images):  # noqa: ANN001, ANN202 - numpy/Generator kept out of the import path
    """`encoder:PATH` -> the encoder's ws for the preprocessed images [N, H, W, C] uint8."""
    import torch

    from ..encoder import check_compatible, encode, load_encoder

    kind, _, path = spec.partition(":")
    if kind != "encoder" or not path:
        raise StyleGANError(f"--init must be encoder:PATH, got {spec!r}")
    E = load_encoder(Path(path), device=next(G.parameters()).device)
    check_compatible(E, G)
    click.echo(f"initialising from the encoder {path}")
    return encode(E, torch.from_numpy(images).permute(0, 3, 1, 2))


@click.group()
def encoder() -> None:
    """Train an image -> W+ encoder for a network (use it with `stylegan project --init encoder:PATH`)."""


@encoder.command("train")
@network_option
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=10000,
    show_default=True,
    help="Total training steps (a resumed run continues up to this number).",
)
@click.option("--batch", "batch_size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--latent-weight", type=float, default=1.0, show_default=True, help="Weight of MSE(E(img), ws).")
@click.option("--image-weight", type=float, default=1.0, show_default=True, help="Weight of MSE(G(E(img)), img).")
@class_option
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--snap",
    "snapshot_every",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Write encoder.safetensors and encoder-state.pt every N steps.",
)
@device_option
@click.option(
    "--outdir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Run folder; an existing encoder-state.pt there is resumed.",
)
def encoder_train(
    network: str | None,
    steps: int,
    batch_size: int,
    lr: float,
    latent_weight: float,
    image_weight: float,
    class_idx: int | None,
    seed: int,
    snapshot_every: int,
    device: str,
    outdir: Path,
) -> None:
    """Train an encoder on endless samples of the network (latent + image MSE); resumable.

    \b
    Example:
      stylegan encoder train --network ffhq.pkl --steps 20000 --outdir enc
      stylegan project --network ffhq.pkl --target me.jpg --init encoder:enc --steps 200 --outdir out
    """
    from ..encoder import ENCODER_FILE, train_encoder

    G = load_network_for_cli(network, device)
    _, losses = train_encoder(
        G,
        outdir,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        latent_weight=latent_weight,
        image_weight=image_weight,
        class_idx=class_idx,
        seed=seed,
        snapshot_every=snapshot_every,
        progress=True,
    )
    last = f", last loss {losses[-1]:.4f}" if losses else " (already trained to --steps)"
    click.echo(f"encoder: {len(losses)} steps{last} -> {outdir / ENCODER_FILE}")


@click.command()
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A photo or a folder of photos (repeatable).",
)
@click.option("--size", type=click.IntRange(min=16), default=1024, show_default=True, help="Output side in pixels.")
@click.option(
    "--face-index",
    type=click.IntRange(min=0),
    default=None,
    help="Which face when there are several (0 = the largest); default: the largest.",
)
@click.option("--outdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Where to write.")
def align(inputs: tuple[Path, ...], size: int, face_index: int | None, outdir: Path) -> None:
    """FFHQ-align faces (dlib 68 landmarks; needs `pip install dlib-bin face-recognition-models`).

    Writes NAME.png and NAME.json (the landmarks and the crop quad in the photo's pixels, for pasting back).

    \b
    Example:
      stylegan align --input photos/ --size 1024 --outdir aligned
    """
    import json

    from ..alignment import align_face, detect_landmarks, load_rgb
    from ..fileio import atomic_write_bytes
    from ..images import IMAGE_SUFFIXES, save_image

    files: list[Path] = []
    for p in inputs:
        files += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES) if p.is_dir() else [p]
    if not files:
        raise StyleGANError("--input: no images found")
    for f in files:
        img = load_rgb(f)
        try:
            lm = detect_landmarks(img, face_index=face_index)
        except StyleGANError as e:
            raise StyleGANError(f"{f}: {e}") from None
        out = align_face(img, lm, size=size)
        save_image(out.image, outdir / f"{f.stem}.png")
        record = {"source": str(f), "size": size, "quad": out.quad.tolist(), "landmarks": lm.tolist()}
        atomic_write_bytes(outdir / f"{f.stem}.json", (json.dumps(record) + "\n").encode())
        click.echo(f"{f.name} -> {outdir / (f.stem + '.png')}")


@click.command()
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
    type=click.FloatRange(0, 0.5),
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
    import json

    import numpy as np

    from ..alignment import load_rgb, paste_face
    from ..images import save_image

    try:
        record = json.loads(info.read_text())
        quad = np.asarray(record["quad"], dtype=np.float64)
    except (ValueError, KeyError) as e:
        raise StyleGANError(f"{info}: not an alignment record from `stylegan align` ({e})") from None
    photo = photo or Path(record.get("source", ""))
    if not photo.is_file():
        raise StyleGANError(f"the original photo {photo} is missing: pass --photo")
    out = paste_face(load_rgb(photo), load_rgb(face), quad, feather=feather)
    save_image(out, output)
    click.echo(f"wrote {output}")


commands = [project, encoder, align, paste]
