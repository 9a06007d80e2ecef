"""Projection: find the latent (and noise maps) that make a generator reproduce a given image.

The optimiser is the StyleGAN2 paper's (Karras et al. 2020, §5 and Appendix D; ADA's projector.py), step for step:
w starts at w_avg (the mean of 10,000 mapped z drawn with `RandomState(123)`), Gaussian noise of
w_std * 0.05 * max(0, 1 - t/0.75)^2 is added to w each step, Adam (betas 0.9, 0.999) runs with a cosine
ramp-down over the last 25% of steps and a linear ramp-up over the first 5%, the noise maps are optimised too with
a 1e5-weighted regulariser (squared autocorrelations at every octave of an average-pool pyramid) and renormalised
to zero mean and unit variance after each step, and the distance is LPIPS-VGG16 on images area-downsampled to 256.

What the official projector lacks and this one adds: W+ (one w per layer), several targets optimised jointly in one
batch (each exactly as if alone: the loss is a sum of per-target terms and Adam is elementwise), conditional networks
(w_avg over samples of the chosen class, per target if wanted), an MSE loss, a start from given latents, and the
optimised noise is *kept*: `ProjectionResult.noise` holds it and `render_projection` uses it.

>>> from stylegan.testing import tiny_generator
>>> G = tiny_generator()
>>> from stylegan import generate
>>> target = generate(G, seeds=[1]).images
>>> res = project(G, target, steps=3, loss="mse", w_avg_samples=64, progress=False)
>>> res.ws.shape, res.distances.shape
(torch.Size([1, 6, 32]), torch.Size([1, 3]))
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import SettingError, StyleGANError
from ..images import from_uint8, to_uint8
from ..latents import NPZ_ERRORS, class_labels
from ..networks import Generator

if TYPE_CHECKING:
    from PIL.Image import Image

    from ..generation import GeneratedImages
    from ..metrics.detectors import DetectorSource
    from ..metrics.perceptual import LPIPSVGG16, TorchScriptPerceptual
    from ..networks.synthesis import NoiseMode
    from ..precision import Precision

Space = Literal["w", "w+"]
Loss = Literal["lpips", "mse"]
#: What `project` accepts as targets: a path or PIL image, a uint8 array [H, W, C] / [N, H, W, C], a list of
#: those, or a float tensor [N, C, R, R] in [0, 255].
TargetItem: TypeAlias = "str | os.PathLike[str] | Image | np.ndarray"
Target: TypeAlias = "TargetItem | Tensor | Sequence[TargetItem]"
#: A loaded perceptual network (see `stylegan.metrics.perceptual.load_perceptual`).
Perceptual: TypeAlias = "LPIPSVGG16 | TorchScriptPerceptual"

#: The defaults of StyleGAN2-ADA's projector.py.
INITIAL_LEARNING_RATE = 0.1
INITIAL_NOISE_FACTOR = 0.05
LR_RAMPDOWN_LENGTH = 0.25
LR_RAMPUP_LENGTH = 0.05
NOISE_RAMP_LENGTH = 0.75
REGULARIZE_NOISE_WEIGHT = 1e5
W_STATS_SEED = 123
PERCEPTUAL_SIZE = 256


@dataclass
class ProjectionResult:
    """What `project` found for N targets.

    Attributes:
        ws: final latents [N, num_ws, w_dim] (in W mode every layer holds the same w).
        noise: per target, the optimised noise maps {buffer name: [H, W]} (names of G's `noise_const` buffers).
        history: latents after every step [N, steps, num_ws, w_dim] (on the CPU), for videos.
        distances: the distance (LPIPS or MSE) measured at every step [N, steps], before that step's update.
        images: the final projections rendered with the optimised noise, uint8 [N, H, W, C].
        targets: the preprocessed targets, uint8 [N, H, W, C].
        space, loss: how it was optimised; perceptual: the perceptual network's record (name, file, sha256) or None.
        stopped: True when the callback stopped the optimisation early (history and distances then hold the steps
            done; see `project`).
    """

    ws: Tensor
    noise: list[dict[str, Tensor]]
    history: Tensor = field(repr=False)
    distances: Tensor
    images: np.ndarray = field(repr=False)
    targets: np.ndarray = field(repr=False)
    space: Space = "w"
    loss: Loss = "lpips"
    perceptual: dict[str, Any] | None = None
    stopped: bool = False

    @property
    def final_distances(self) -> list[float]:
        """The last measured distance per target (NaN when it took no step)."""
        out = []
        for d in self.distances:
            measured = d[~torch.isnan(d)]
            out.append(float(measured[-1]) if len(measured) else float("nan"))
        return out


@dataclass
class ProjectionStep:
    """What `project`'s callback is told after each optimisation step of a batch of targets.

    Attributes:
        step: steps done so far (1 after the first step, `steps` after the last).
        steps: steps asked for.
        ws: the current latents [B, num_ws, w_dim] (a CPU copy; the noise maps are not included).
        distances: each target's distance [B], measured at this step (before its update).
        first: the index of the batch's first target (0 unless `batch_size` splits the targets).
        noise: the noise maps being optimised {buffer name: [B, H, W]}, on G's device; the live tensors (detached,
            not copied): read them, e.g. to render `ws[i]` with `{k: v[i] for k, v in noise.items()}`, but do not
            modify them.
    """

    step: int
    steps: int
    ws: Tensor = field(repr=False)
    distances: Tensor
    first: int = 0
    noise: dict[str, Tensor] = field(default_factory=dict, repr=False)


# ---------------------------------------------------------------------------------------------------------
# Targets


def preprocess_target(image: str | os.PathLike[str] | Image, resolution: int, channels: int = 3) -> np.ndarray:
    """A PIL image (or path) -> uint8 [R, R, C]: RGB (L for 1-channel networks), centre square crop, LANCZOS resize.

    >>> from PIL import Image
    >>> preprocess_target(Image.new("RGB", (40, 20), "red"), 16).shape
    (16, 16, 3)
    """
    from PIL import Image

    if isinstance(image, str | os.PathLike):
        path = Path(image)
        if not path.is_file():
            raise StyleGANError(f"{path}: no such target image")
        try:
            with Image.open(path) as im:
                im.load()
                pil = im.copy()
        except (OSError, Image.DecompressionBombError) as e:  # the bomb: a header declaring billions of pixels
            raise StyleGANError(f"{path}: not an image ({e})") from None
    else:
        pil = image
    if channels not in (1, 3):
        raise StyleGANError(f"projection supports 1- or 3-channel networks, this one has {channels} channels")
    pil = pil.convert("L" if channels == 1 else "RGB")
    w, h = pil.size
    s = min(w, h)
    pil = pil.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    pil = pil.resize((resolution, resolution), Image.Resampling.LANCZOS)
    arr = np.asarray(pil, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def _targets_tensor(G: Generator, target: Target, device: torch.device) -> Tensor:
    """Accept a path, a PIL image, a list of those, a uint8 array [H, W, C] / [N, H, W, C] or a float tensor
    [N, C, H, W] in [0, 255] -> float [N, C, R, R] in [0, 255]."""
    R, C = G.img_resolution, G.img_channels
    if isinstance(target, Tensor):
        t = target.to(device, torch.float32)
        if t.ndim == 3:
            t = t[None]
    else:
        items = target if isinstance(target, list | tuple) else [target]
        if isinstance(target, np.ndarray):
            items = list(target) if target.ndim == 4 else [target]
        arrays = []
        for item in items:
            if isinstance(item, np.ndarray):
                a = item if item.ndim == 3 else item[:, :, None]
            else:
                a = preprocess_target(cast("str | os.PathLike[str] | Image", item), R, C)
            arrays.append(a)
        t = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).to(device, torch.float32)
    if t.ndim != 4 or tuple(t.shape[1:]) != (C, R, R):
        raise StyleGANError(f"targets must be {C}x{R}x{R} images for this network, got shape {list(t.shape)}")
    return t


# ---------------------------------------------------------------------------------------------------------
# Pieces of the optimiser


@torch.no_grad()
def w_statistics(
    G: Generator, *, samples: int = 10000, class_idx: int | None = None, batch_size: int = 1000
) -> tuple[Tensor, float]:
    """w_avg [1, 1, w_dim] and the scalar w_std = sqrt(sum ||w - w_avg||^2 / samples) of `samples` mapped z drawn
    with `RandomState(123)` (for a conditional network, all of class `class_idx`)."""
    device = next(G.parameters()).device
    z = torch.from_numpy(np.random.RandomState(W_STATS_SEED).randn(samples, G.z_dim)).to(device, torch.float32)
    ws = []
    for start in range(0, samples, batch_size):
        zb = z[start : start + batch_size]
        try:
            c = class_labels(G.c_dim, class_idx, len(zb), device)
        except ValueError as e:
            raise StyleGANError(str(e)) from None
        ws.append(G.mapping(zb, c)[:, :1, :])  # [B, 1, w_dim]
    w = torch.cat(ws).to(torch.float64)
    w_avg = w.mean(0, keepdim=True)
    w_std = float(((w - w_avg).square().sum() / samples).sqrt())
    return w_avg.to(torch.float32), w_std


def noise_regularization(noise_maps: Sequence[Tensor]) -> Tensor:
    """Sum over maps and pyramid octaves of the squared 1-pixel autocorrelations along x and y (StyleGAN2 Appendix D).

    Each map [H, W] is viewed at full size, then average-pooled by 2 until it is 8x8 or smaller. Zero on average for
    independent white noise; large for a smooth or constant map. Maps with leading dimensions ([N, H, W]: one map
    per target) give one value per leading index ([N]); the autocorrelations are means over each map alone.

    >>> float(noise_regularization([torch.ones(16, 16)]))
    4.0
    >>> noise_regularization([torch.stack([torch.ones(16, 16), torch.zeros(16, 16)])]).tolist()
    [4.0, 0.0]
    """
    reg = torch.zeros([], device=noise_maps[0].device if noise_maps else "cpu")
    for n in noise_maps:
        x = n.reshape(-1, 1, *n.shape[-2:])  # [B, 1, H, W]
        per_map = torch.zeros(len(x), device=x.device)
        while True:
            per_map = per_map + (x * torch.roll(x, shifts=1, dims=3)).mean(dim=(1, 2, 3)).square()
            per_map = per_map + (x * torch.roll(x, shifts=1, dims=2)).mean(dim=(1, 2, 3)).square()
            if x.shape[2] <= 8:
                break
            x = F.avg_pool2d(x, kernel_size=2)
        reg = reg + per_map.reshape(n.shape[:-2])
    return reg


def learning_rate(t: float, initial: float = INITIAL_LEARNING_RATE) -> float:
    """The lr at progress t in [0, 1): cosine ramp-down over the last 25%, linear ramp-up over the first 5%."""
    ramp = min(1.0, (1.0 - t) / LR_RAMPDOWN_LENGTH)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    return initial * ramp * min(1.0, t / LR_RAMPUP_LENGTH)


def noise_buffer_names(G: Generator) -> list[str]:
    """Names (relative to `G.synthesis`) of the per-layer `noise_const` buffers."""
    return [name for name, _ in G.synthesis.named_buffers() if name.endswith("noise_const")]


def synthesize_with_noise(G: Generator, ws: Tensor, noise: dict[str, Tensor] | None) -> Tensor:
    """G.synthesis(ws, noise_mode='const') with the stored noise maps replaced by `noise` (G is not modified)."""
    if not noise:
        return G.synthesis(ws, noise_mode="const")
    return torch.func.functional_call(G.synthesis, noise, (ws,), {"noise_mode": "const"}, strict=False)


def load_noise_maps(path: str | os.PathLike[str], G: Generator) -> dict[str, Tensor]:
    """Read a projected_noise.npz (keys = the synthesis network's noise buffer names) and check it fits G."""
    path = Path(path)
    if not path.is_file():
        raise StyleGANError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            maps = {k: torch.from_numpy(np.asarray(data[k], dtype=np.float32)) for k in data.files}
    except NPZ_ERRORS as e:
        raise StyleGANError(f"{path}: not a noise-map file ({e})") from None
    buffers = dict(G.synthesis.named_buffers())
    for k, v in maps.items():
        if k not in buffers or buffers[k].shape != v.shape:
            raise StyleGANError(f"{path}: noise map {k!r} {list(v.shape)} does not fit this network")
    return maps


@torch.no_grad()
def render_projection(G: Generator, ws: Tensor, noise: Sequence[dict[str, Tensor]] | None = None) -> np.ndarray:
    """Render latents [N, num_ws, w_dim] with each one's optimised noise maps -> uint8 [N, H, W, C]."""
    device = next(G.parameters()).device
    out = []
    for i in range(len(ws)):
        maps = None if noise is None else {k: v.to(device) for k, v in noise[i].items()}
        out.append(to_uint8(synthesize_with_noise(G, ws[i : i + 1].to(device), maps)))
    return np.concatenate(out)


def render_latent_file(
    G: Generator,
    latents: str | os.PathLike[str],
    noise: str | os.PathLike[str] | None = None,
    *,
    noise_mode: NoiseMode = "const",
    batch_size: int = 8,
    precision: Precision = "fp32",
    compile: bool = False,
) -> GeneratedImages:
    """Render the latents of a file (`projected_w.npz`, key `w`), indexed 0..N-1. With `noise`, a
    `projected_noise.npz`, every latent is rendered with those noise maps in float32: the exact image `project` wrote
    as proj.png; otherwise with `noise_mode`, `precision` and `compile` (see `stylegan.generation.synthesize`)."""
    from ..generation import GeneratedImages, load_latents, synthesize

    ws = load_latents(latents)
    if noise is not None:
        images = render_projection(G, ws, [load_noise_maps(noise, G)] * len(ws))
    else:
        images = synthesize(G, ws, noise_mode=noise_mode, batch_size=batch_size, precision=precision, compile=compile)
    return GeneratedImages(images, list(range(len(ws))))


def _downsample(img: Tensor) -> Tensor:
    if img.shape[2] > PERCEPTUAL_SIZE:
        img = F.interpolate(img, size=(PERCEPTUAL_SIZE, PERCEPTUAL_SIZE), mode="area")
    return img


def _perceptual_input(img_0_255: Tensor) -> Tensor:
    img = _downsample(img_0_255)
    return img.repeat(1, 3, 1, 1) if img.shape[1] == 1 else img


# ---------------------------------------------------------------------------------------------------------
# The projector


def project(
    G: Generator,
    target: Target,
    *,
    steps: int = 1000,
    space: Space = "w",
    seed: int = 303,
    w_avg_samples: int = 10000,
    loss: Loss = "lpips",
    perceptual: Perceptual | DetectorSource | None = None,
    init_ws: Tensor | None = None,
    class_idx: int | Sequence[int] | None = None,
    initial_learning_rate: float = INITIAL_LEARNING_RATE,
    regularize_noise_weight: float = REGULARIZE_NOISE_WEIGHT,
    batch_size: int | None = None,
    progress: bool = True,
    callback: Callable[[ProjectionStep], bool | None] | None = None,
) -> ProjectionResult:
    """Project target image(s) into G's latent space (ADA's projector.py, plus W+, batches, classes, kept noise).

    All targets are optimised jointly, in one batch: one Adam over ws [N, 1 or num_ws, w_dim] and noise maps
    [N, H, W], minimising sum_i (distance_i + 1e5 * reg_i). The per-target terms are separable and Adam is
    elementwise, so each target follows exactly the path it would follow alone (target i draws its initial noise
    maps and its latent noise from its own `torch.Generator` seeded `seed + i`); only floating-point summation
    order differs from one-at-a-time runs.

    Args:
        G: the generator (its weights are not changed; its `noise_const` buffers are left as they were).
        target: a path, PIL image, uint8 [H, W, C] / [N, H, W, C] array, list of those, or float [N, C, R, R] in
            [0, 255]. Paths and PIL images are preprocessed by `preprocess_target`.
        steps: optimisation steps (0 returns the starting point).
        space: "w" (one w shared by all layers, the paper) or "w+" (one w per layer).
        seed: target i's initial noise maps and latent noise come from a generator seeded `seed + i`.
        w_avg_samples: number of z mapped to estimate w_avg and w_std.
        loss: "lpips" (the perceptual network's squared embedding distance) or "mse" (mean squared error on
            [-1, 1] pixels).
        perceptual: a loaded perceptual network (see `stylegan.metrics.perceptual.load_perceptual`), a source name
            "auto" | "nvidia" | "offline", or None = "auto". Ignored for loss "mse".
        init_ws: start here instead of w_avg: [N or 1, num_ws, w_dim] (W mode takes the mean over layers).
        class_idx: the class of a conditional network (w_avg is then averaged over samples of that class), or one
            class per target.
        batch_size: optimise at most this many targets at a time (None = all at once); the results do not depend
            on it beyond floating-point rounding.
        progress: show a progress bar with the current mean distance.
        callback: called after every optimisation step with a `ProjectionStep`; when it returns True the
            optimisation stops there (for a live view with a Stop button). The result then holds the steps done:
            `history` and `distances` are cut to them, `ws` is the last step's latent, the images are rendered
            from it with the noise maps as optimised so far, and `stopped` is True. When `batch_size` splits the
            targets, later batches are not optimised (they keep their starting point); every target's history
            then has as many rows as the longest-optimised batch took steps, rows past a target's last step repeat
            its latest latent and have NaN distances. Without a callback nothing changes.

    Returns:
        A `ProjectionResult`. Each target has its own latent and noise maps; targets of one class share
        w_avg/w_std, and all share the perceptual network.
    """
    if space not in ("w", "w+"):
        raise StyleGANError(f"space must be 'w' or 'w+', got {space!r}")
    if loss not in ("lpips", "mse"):
        raise StyleGANError(f"loss must be 'lpips' or 'mse', got {loss!r}")
    if steps < 0:
        raise StyleGANError(f"steps must be >= 0, got {steps}")
    if w_avg_samples < 1:
        raise StyleGANError(f"w_avg_samples must be >= 1, got {w_avg_samples}")
    if batch_size is not None and batch_size < 1:
        raise StyleGANError(f"batch_size must be >= 1, got {batch_size}")
    device = next(G.parameters()).device
    targets = _targets_tensor(G, target, device)
    n = len(targets)
    classes = _classes_per_target(class_idx, n)

    net = None
    info = None
    if loss == "lpips":
        net = perceptual
        if net is None or isinstance(net, str):
            from ..metrics.perceptual import load_perceptual

            net = load_perceptual(net or "auto", device=device)
        min_size = getattr(net, "min_size", 0)
        if min(G.img_resolution, PERCEPTUAL_SIZE) < min_size:
            raise SettingError(
                f"the perceptual network {net.info.name} needs images of at least {min_size}x{min_size}; this network "
                f"makes {G.img_resolution}x{G.img_resolution}: use {{loss}} mse",
                loss="loss",
            )
        info_obj = getattr(net, "info", None)
        info = (
            info_obj.to_dict()
            if info_obj is not None and hasattr(info_obj, "to_dict")
            else {"name": type(net).__name__}
        )

    stats = {c: w_statistics(G, samples=w_avg_samples, class_idx=c) for c in dict.fromkeys(classes)}
    if init_ws is not None:
        init_ws = init_ws.to(device, torch.float32)
        if init_ws.ndim == 2:
            init_ws = init_ws[:, None]
        bad = init_ws.ndim != 3 or init_ws.shape[0] not in (1, n) or init_ws.shape[1] not in (1, G.num_ws)
        if bad or init_ws.shape[2] != G.w_dim:
            raise StyleGANError(f"init_ws must have shape [1 or {n}, {G.num_ws}, {G.w_dim}], got {list(init_ws.shape)}")
    starts = []
    for i in range(n):
        if init_ws is not None:
            start = init_ws[i if init_ws.shape[0] > 1 else 0][None]
            start = start.mean(1, keepdim=True) if space == "w" else start.expand(1, G.num_ws, G.w_dim)
        else:
            w_avg = stats[classes[i]][0]
            start = w_avg if space == "w" else w_avg.repeat(1, G.num_ws, 1)
        starts.append(start)
    w_stds = [stats[c][1] for c in classes]

    names = noise_buffer_names(G)
    buffers = dict(G.synthesis.named_buffers())
    saved_flags = [p.requires_grad for p in G.parameters()]
    G.requires_grad_(False)
    from ..progress import progress_bar

    chunk = batch_size or max(n, 1)
    bar = progress_bar(steps * n, "projecting", unit="step", enabled=progress)
    all_ws, all_hist, all_dist, all_noise = [], [], [], []
    stopped = False
    try:
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            gens = [torch.Generator(device=device).manual_seed(seed + i) for i in range(lo, hi)]
            ws_b, hist, dist, noise, stopped = _optimize_batch(
                G,
                targets[lo:hi],
                torch.cat(starts[lo:hi]),
                w_stds[lo:hi],
                names,
                buffers,
                gens,
                steps=steps,
                net=net,
                loss=loss,
                initial_learning_rate=initial_learning_rate,
                regularize_noise_weight=regularize_noise_weight,
                bar=bar,
                label=f"{lo + 1}-{hi}/{n}" if chunk < n else "",
                steps_for_batch=0 if stopped else steps,
                callback=callback,
                first=lo,
            )
            all_ws.append(ws_b)
            all_hist.append(hist)
            all_dist.append(dist)
            all_noise += noise
    finally:
        bar.close()
        for p, flag in zip(G.parameters(), saved_flags):
            p.requires_grad_(flag)

    ws = torch.cat(all_ws)
    images = render_projection(G, ws, all_noise)
    history, distances = _pad_histories(all_ws, all_hist, all_dist)
    return ProjectionResult(
        ws=ws.cpu(),
        noise=all_noise,
        history=history,
        distances=distances,
        images=images,
        targets=targets.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy(),
        space=space,
        loss=loss,
        perceptual=info,
        stopped=stopped,
    )


def _pad_histories(ws: list[Tensor], hists: list[Tensor], dists: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Join the batches' histories [B, k, ...] and distances [B, k]; batches a stopped run cut short are padded to
    the longest with their latest latent and NaN distances (no padding happens without a stop)."""
    longest = max(h.shape[1] for h in hists)
    out_h, out_d = [], []
    for w, h, d in zip(ws, hists, dists):
        missing = longest - h.shape[1]
        if missing:
            h = torch.cat([h, w.detach().cpu()[:, None].expand(-1, missing, -1, -1)], dim=1)
            d = torch.cat([d, torch.full((len(d), missing), float("nan"))], dim=1)
        out_h.append(h)
        out_d.append(d)
    return torch.cat(out_h), torch.cat(out_d)


def _classes_per_target(class_idx: int | Sequence[int] | None, n: int) -> list[int | None]:
    if class_idx is None or isinstance(class_idx, int):
        return [class_idx] * n
    classes: list[int | None] = [int(c) for c in class_idx]
    if len(classes) != n:
        raise StyleGANError(f"got {len(classes)} classes for {n} targets: give one class, or one per target")
    return classes


def _optimize_batch(
    G: Generator,
    target: Tensor,
    w_start: Tensor,
    w_stds: Sequence[float],
    names: list[str],
    buffers: dict[str, Tensor],
    gens: Sequence[torch.Generator],
    *,
    steps: int,
    net: Any,
    loss: Loss,
    initial_learning_rate: float,
    regularize_noise_weight: float,
    bar: Any,
    label: str,
    steps_for_batch: int | None = None,
    callback: Callable[[ProjectionStep], bool | None] | None = None,
    first: int = 0,
) -> tuple[Tensor, Tensor, Tensor, list[dict[str, Tensor]], bool]:
    """Optimise B targets [B, C, R, R] jointly, target i with its own generator `gens[i]` and w_std `w_stds[i]`.

    The schedules follow `steps`; only the first `steps_for_batch` (default all) are taken, fewer when `callback`
    returns True (then the last value returned is True).

    Returns final ws [B, num_ws, w_dim], history [B, k, num_ws, w_dim] (CPU), distances [B, k] (CPU) for the k
    steps taken, per target the noise maps {name: [H, W]} (CPU), and whether the callback stopped the run."""
    device = target.device
    b, num_ws, w_dim = len(target), G.num_ws, G.w_dim
    if loss == "lpips":
        with torch.no_grad():
            target_features = net(_perceptual_input(target), resize_images=False, return_lpips=True)  # [B, D]
    else:
        target_scaled = from_uint8(target)

    w_opt = w_start.detach().clone().requires_grad_(True)  # [B, 1 or num_ws, w_dim]
    noise = {  # [B, H, W]: target i's maps drawn from its own generator, in buffer order (as when run alone)
        name: torch.stack([torch.randn(buffers[name].shape, generator=g, device=device) for g in gens])
        for name in names
    }
    for buf in noise.values():
        buf.requires_grad_(True)
    optimizer = torch.optim.Adam([w_opt, *noise.values()], betas=(0.9, 0.999), lr=initial_learning_rate)
    history = torch.zeros(b, steps, num_ws, w_dim)
    distances = torch.zeros(b, steps)
    taken = steps if steps_for_batch is None else min(steps, steps_for_batch)
    done, stopped = 0, False

    for step in range(taken):
        t = step / steps
        noise_ramp = INITIAL_NOISE_FACTOR * max(0.0, 1.0 - t / NOISE_RAMP_LENGTH) ** 2
        lr = learning_rate(t, initial_learning_rate)
        for group in optimizer.param_groups:
            group["lr"] = lr

        w_noise = torch.stack(
            [
                torch.randn(w_opt.shape[1:], generator=g, device=device) * (w_std * noise_ramp)
                for g, w_std in zip(gens, w_stds)
            ]
        )
        ws = (w_opt + w_noise).expand(b, num_ws, w_dim)
        img = synthesize_with_noise(G, ws, noise)
        if loss == "lpips":
            img_0_255 = (img + 1) * (255 / 2)
            features = net(_perceptual_input(img_0_255), resize_images=False, return_lpips=True)
            dist = (target_features - features).square().sum(1)  # [B]
        else:
            dist = (img - target_scaled).square().flatten(1).mean(1)  # [B]
        reg = noise_regularization(list(noise.values()))  # [B]
        total = (dist + regularize_noise_weight * reg).sum()  # separable: d total / d (target i) = its own loss'

        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()

        dist_values = dist.detach().cpu()
        with torch.no_grad():
            history[:, step] = w_opt.detach().expand(b, num_ws, w_dim).cpu()
            distances[:, step] = dist_values
            for buf in noise.values():  # renormalise each target's map: zero mean, unit RMS
                buf -= buf.mean(dim=(1, 2), keepdim=True)
                buf *= buf.square().mean(dim=(1, 2), keepdim=True).rsqrt()
        bar.update(b)
        if hasattr(bar, "set_postfix_str"):
            what = "dist" if b == 1 else "mean dist"
            bar.set_postfix_str(f"{label + ' ' if label else ''}{what} {float(dist_values.mean()):.4f}", refresh=False)
        done = step + 1
        if callback is not None and callback(
            ProjectionStep(
                done,
                steps,
                history[:, step].clone(),
                dist_values.clone(),
                first,
                {k: v.detach() for k, v in noise.items()},
            )
        ):
            stopped = True
            break

    final = w_opt.detach().expand(b, num_ws, w_dim).clone()
    maps = [{k: v[i].detach().cpu().clone() for k, v in noise.items()} for i in range(b)]
    if done < steps:
        history, distances = history[:, :done].clone(), distances[:, :done].clone()
    return final, history, distances, maps, stopped


# ---------------------------------------------------------------------------------------------------------
# Targets, perceptual network and output folders of a projection run


def perceptual_network(
    loss: Loss, source: DetectorSource, G: Generator, *, file: str | os.PathLike[str] | None = None
) -> Perceptual | None:
    """The perceptual network a projection with `loss` needs (None for "mse"), on G's device: `source` "auto",
    "nvidia" or "offline" (see `stylegan.metrics.perceptual.load_perceptual`), or an explicit NVIDIA `file`."""
    if loss != "lpips":
        return None
    from ..metrics.perceptual import load_perceptual

    net: Perceptual = load_perceptual(source, file=file, device=next(G.parameters()).device)
    return net


@dataclass
class ProjectionTargets:
    """Targets preprocessed for G: `images` uint8 [N, R, R, C] and, for face-aligned ones, each one's crop quad in
    its photo (None otherwise)."""

    images: np.ndarray = field(repr=False)
    quads: list[list[list[float]] | None]


def load_targets(
    G: Generator,
    paths: Sequence[str | os.PathLike[str]],
    *,
    align: bool = False,
    face_index: int | None = None,
) -> ProjectionTargets:
    """Read target images for G (`preprocess_target`); with `align`, FFHQ-align each one's face first
    (`stylegan.inversion.alignment.align_photo`, `face_index` picks the face)."""
    from PIL import Image

    from .alignment import align_photo

    for t in paths:
        if not Path(t).is_file():
            raise SettingError(f"{{target}} {t}: no such file", target="target")
    if not align:
        return ProjectionTargets(
            np.stack([preprocess_target(t, G.img_resolution, G.img_channels) for t in paths]), [None] * len(paths)
        )
    images, quads = [], []
    size = G.img_resolution
    for t in paths:
        face = align_photo(t, size=size, face_index=face_index, transform_size=max(size, min(4096, 4 * size)))
        images.append(preprocess_target(Image.fromarray(face.image), size, G.img_channels))
        quads.append(face.quad.tolist())
    return ProjectionTargets(np.stack(images), quads)


def projection_dirs(outdir: str | os.PathLike[str], targets: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Where each target's results go: `outdir` for a single target, else one subfolder per target named by its
    file stem (with -2, -3 ... for repeated stems).

    >>> [str(p) for p in projection_dirs("out", ["a/x.png", "b/x.jpg", "y.png"])]
    ['out/x', 'out/x-2', 'out/y']
    """
    if len(targets) == 1:
        return [Path(outdir)]
    names: list[str] = []
    for t in map(Path, targets):
        name, k = t.stem, 2
        while name in names:
            name, k = f"{t.stem}-{k}", k + 1
        names.append(name)
    return [Path(outdir) / name for name in names]


# ---------------------------------------------------------------------------------------------------------
# Writing results


def save_projection(
    result: ProjectionResult,
    index: int,
    outdir: str | os.PathLike[str],
    *,
    G: Generator | None = None,
    video: bool = False,
    fps: float = 10.0,
    metadata: dict[str, Any] | None = None,
) -> list[Path]:
    """Write one target's results to `outdir`: projected_w.npz (key `w`, [1, num_ws, w_dim]), projected_noise.npz
    (one array per noise buffer), target.png, proj.png, projection.json, and with `video=True` proj.mp4
    (target | projection per step, rendered with the final noise maps; needs G)."""
    import json

    from ..fileio import atomic_write_bytes, writing
    from ..images import save_image

    outdir = Path(outdir)
    with writing(outdir):  # a read-only or full disk, or a file in the way: one line naming the folder
        outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    paths.append(_save_npz(outdir / "projected_w.npz", w=result.ws[index : index + 1].numpy()))
    paths.append(_save_npz(outdir / "projected_noise.npz", **{k: v.numpy() for k, v in result.noise[index].items()}))
    paths.append(save_image(result.targets[index], outdir / "target.png"))
    paths.append(save_image(result.images[index], outdir / "proj.png"))
    if video:
        if G is None:
            raise StyleGANError("writing proj.mp4 needs the generator")
        paths.append(_write_progress_video(G, result, index, outdir / "proj.mp4", fps))
    dists = result.distances[index].tolist()
    record = {
        "space": result.space,
        "loss": result.loss,
        "perceptual": result.perceptual,
        "steps": len(dists),
        "final_distance": dists[-1] if dists else None,
        "distances": dists,
        **(metadata or {}),
    }
    atomic_write_bytes(outdir / "projection.json", (json.dumps(record, indent=2) + "\n").encode())
    paths.append(outdir / "projection.json")
    return paths


def _save_npz(path: Path, **arrays: Any) -> Path:
    import io

    from ..fileio import atomic_write_bytes

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _write_progress_video(G: Generator, result: ProjectionResult, index: int, path: Path, fps: float) -> Path:
    """proj.mp4: target | projection for every step (NVIDIA's layout, 10 fps)."""
    try:
        from ..video import write_video
    except ImportError as e:  # pragma: no cover - depends on the optional extra
        raise StyleGANError(f"writing proj.mp4 needs the video extra: pip install 'stylegan[video]' ({e})") from None
    target = result.targets[index]
    history = result.history[index]
    noise = [result.noise[index]]

    def frames() -> Any:
        for ws in history:
            img = render_projection(G, ws[None], noise)[0]
            frame = np.concatenate([target, img], axis=1)
            yield np.repeat(frame, 3, axis=2) if frame.shape[2] == 1 else frame

    return write_video(path, frames(), fps=fps, total=len(history), progress=False)


__all__ = [
    "ProjectionResult",
    "ProjectionStep",
    "ProjectionTargets",
    "load_targets",
    "noise_regularization",
    "perceptual_network",
    "preprocess_target",
    "project",
    "projection_dirs",
    "render_latent_file",
    "render_projection",
    "save_projection",
    "synthesize_with_noise",
    "w_statistics",
]
