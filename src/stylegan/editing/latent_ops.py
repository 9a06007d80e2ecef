"""Operations on latents ws [N, num_ws, w_dim] from any source (a seed, a projected_w.npz, an encoder output).

- style swap: copy a layer range from a template latent (the face website swapped layers 5-8);
- fusion: (weighted) average of two or more latents in W;
- variations: identity-preserving variation sets, re-drawing chosen layers (layer 0 by default) from random seeds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import SettingError, StyleGANError
from ..latents import NPZ_ERRORS
from ..networks import Generator
from ..networks.synthesis import NoiseMode


def resolve_latent(
    G: Generator,
    spec: str | os.PathLike[str],
    *,
    psi: float = 1.0,
    truncation_cutoff: int | None = None,
    class_idx: int | None = None,
) -> Tensor:
    """Turn `seed:42` (or `seed:0-3`), or a latent file (.npz with key `w`, .npy) into ws [N, num_ws, w_dim].

    A file holding single W vectors ([w_dim] or [N, w_dim]) is broadcast to every layer.
    """
    from ..generation import seeds_to_ws
    from ..latents import parse_range

    text = str(spec)
    if text.startswith("seed:"):
        try:
            seeds = parse_range(text[5:], lo=0, hi=2**32, what="seeds")
        except ValueError as e:
            raise StyleGANError(f"{text}: {e}") from None
        return seeds_to_ws(G, seeds, psi=psi, truncation_cutoff=truncation_cutoff, class_idx=class_idx).cpu()
    path = Path(text)
    if not path.is_file():
        raise StyleGANError(f"{text}: no such latent file; use seed:N or a .npz/.npy latent file")
    try:
        raw = np.load(path, allow_pickle=False)
        arr = np.asarray(raw["w"] if isinstance(raw, np.lib.npyio.NpzFile) else raw, dtype=np.float32)
    except NPZ_ERRORS as e:
        raise StyleGANError(f"{path}: not a latent file with an array 'w' ({e})") from None
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[0] != G.num_ws):  # single W vectors: every layer the same
        arr = np.repeat(arr.reshape(-1, 1, arr.shape[-1]), G.num_ws, axis=1)
    elif arr.ndim == 2:
        arr = arr[None]
    ws = torch.from_numpy(arr)
    check_latents(G, ws, text)
    return ws


def resolve_latents(
    G: Generator,
    specs: Sequence[str | os.PathLike[str]],
    *,
    psi: float = 1.0,
    truncation_cutoff: int | None = None,
    class_idx: int | None = None,
) -> Tensor:
    """Every latent of several specs (see `resolve_latent`), concatenated: [N, num_ws, w_dim]."""
    return torch.cat(
        [resolve_latent(G, s, psi=psi, truncation_cutoff=truncation_cutoff, class_idx=class_idx) for s in specs]
    )


def check_latents(G: Generator, ws: Tensor, what: str = "latents") -> None:
    """Refuse latents whose [num_ws, w_dim] do not match the network."""
    if ws.ndim != 3 or ws.shape[1:] != (G.num_ws, G.w_dim):
        raise StyleGANError(f"{what}: shape {list(ws.shape)} does not fit this network ([N, {G.num_ws}, {G.w_dim}])")
    if not torch.isfinite(ws).all():
        raise StyleGANError(f"{what}: the latents hold NaN or infinite values; the file is damaged")


def parse_layers(text: str | Sequence[int] | None, num_ws: int, default: Sequence[int] = ()) -> list[int]:
    """`5-8`, `0,2`, or a preset (coarse, middle, fine, all) -> layer indices, checked against num_ws."""
    from ..latents import layer_preset

    if text is None:
        return list(default)
    if not isinstance(text, str):
        text = ",".join(str(int(i)) for i in text)
    try:
        return layer_preset(text, num_ws)
    except ValueError as e:
        raise StyleGANError(str(e)) from None


def swap_styles(ws: Tensor, template: Tensor, layers: Sequence[int]) -> Tensor:
    """Copy layers `layers` of `template` ([1 or N, num_ws, w_dim]) into a copy of ws [N, num_ws, w_dim].

    >>> ws, t = torch.zeros(2, 6, 4), torch.ones(1, 6, 4)
    >>> swap_styles(ws, t, [1, 2])[0, :, 0].tolist()
    [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    """
    from ..latents import mix_styles

    if template.shape[1:] != ws.shape[1:]:
        raise StyleGANError(f"template shape {list(template.shape)} does not match latents {list(ws.shape)}")
    if len(template) not in (1, len(ws)):
        raise StyleGANError(f"the template holds {len(template)} latents; give one, or one per latent ({len(ws)})")
    try:
        return mix_styles(ws, template.expand_as(ws), layers)
    except ValueError as e:
        raise StyleGANError(str(e)) from None


def fuse(latents: Sequence[Tensor], weights: Sequence[float] | None = None) -> Tensor:
    """Weighted average in W of two or more latents (each [N, num_ws, w_dim] or [num_ws, w_dim]); weights are
    normalised to sum to 1 (equal weights by default).

    >>> a = torch.randn(1, 4, 3)
    >>> torch.equal(fuse([a, a]), a)
    True
    """
    if len(latents) < 1:
        raise StyleGANError("fusion needs at least one latent")
    shape = latents[0].shape
    if any(x.shape != shape for x in latents):
        raise StyleGANError(f"fused latents must have equal shapes, got {[list(x.shape) for x in latents]}")
    w = np.ones(len(latents)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(w) != len(latents):
        raise StyleGANError(f"{len(w)} weights for {len(latents)} latents")
    if abs(w.sum()) < 1e-12:
        raise StyleGANError("fusion weights sum to zero")
    w = w / w.sum()
    if len(set(map(id, latents))) == 1 or all(torch.equal(x, latents[0]) for x in latents[1:]):
        return latents[0].clone()  # exact identity, no rounding
    out = torch.zeros_like(latents[0], dtype=torch.float64)
    for wi, x in zip(w, latents):
        out = out + float(wi) * x.double()
    return out.to(latents[0].dtype)


@torch.no_grad()
def variations(
    G: Generator,
    ws: Tensor,
    n: int = 8,
    *,
    layers: Sequence[int] = (0,),
    strength: float = 1.0,
    seed: int = 0,
    psi: float = 1.0,
    class_idx: int | None = None,
) -> Tensor:
    """Identity-preserving variation set of one latent ws [1, num_ws, w_dim] -> [n, num_ws, w_dim].

    The chosen layers move towards the latents of `n` random seeds (drawn from `seed`) by `strength`
    (1 = replace them, as style mixing does); the other layers, which carry the identity, stay untouched.
    """
    from ..generation import seeds_to_ws

    check_latents(G, ws)
    if len(ws) != 1:
        raise StyleGANError(f"variations start from one latent, got {len(ws)}")
    if n < 1:
        raise StyleGANError(f"the number of variations must be at least 1, got {n}")
    rng = np.random.RandomState(seed)
    seeds = [int(s) for s in rng.randint(0, 2**31 - 1, size=n)]
    others = seeds_to_ws(G, seeds, psi=psi, class_idx=class_idx).cpu()
    base = ws.cpu().expand(n, -1, -1)
    out = base.clone()
    idx = list(layers)
    out[:, idx] = base[:, idx] + (others[:, idx] - base[:, idx]) * strength
    return out


def swap_latents(
    G: Generator,
    latent: str | os.PathLike[str],
    template: str | os.PathLike[str],
    layers: str | Sequence[int],
    *,
    psi: float = 1.0,
    class_idx: int | None = None,
) -> tuple[Tensor, list[int]]:
    """Style swap of latent specs (see `resolve_latent`): the latents with `layers` (`5-8`, `coarse`, ...) taken
    from the template. Returns the swapped latents and the layer indices."""
    ws = resolve_latent(G, latent, psi=psi, class_idx=class_idx)
    tpl = resolve_latent(G, template, psi=psi, class_idx=class_idx)
    idx = parse_layers(layers, G.num_ws)
    return swap_styles(ws, tpl, idx), idx


def fuse_latents(
    G: Generator,
    latents: Sequence[str | os.PathLike[str]],
    weights: Sequence[float] | None = None,
    *,
    psi: float = 1.0,
    class_idx: int | None = None,
) -> Tensor:
    """The weighted average in W of latent specs, each holding exactly one latent."""
    lats = [resolve_latent(G, p, psi=psi, class_idx=class_idx) for p in latents]
    if any(len(x) != 1 for x in lats):
        raise SettingError("{latents}: each item must hold exactly one latent", latents="latents")
    return fuse(lats, weights)


def latent_variations(
    G: Generator,
    latent: str | os.PathLike[str],
    n: int = 8,
    *,
    layers: str | Sequence[int] = (0,),
    strength: float = 1.0,
    seed: int = 0,
    psi: float = 1.0,
    class_idx: int | None = None,
) -> tuple[Tensor, list[int]]:
    """`variations` of the first latent of a spec, re-drawing `layers`; returns them and the layer indices."""
    ws = resolve_latent(G, latent, psi=psi, class_idx=class_idx)
    idx = parse_layers(layers, G.num_ws)
    return variations(G, ws[:1], n, layers=idx, strength=strength, seed=seed, psi=psi, class_idx=class_idx), idx


def write_latents(
    G: Generator, ws: Tensor, outdir: str | os.PathLike[str], stem: str, *, noise_mode: NoiseMode = "const", **meta: Any
) -> int:
    """Render ws into `{stem}{i:02d}.png` (`{stem}.png` for one) and save them to `{stem}.npz` (with `meta`) in
    outdir; returns the number of images."""
    from ..generation import synthesize
    from ..images import save_image

    outdir = Path(outdir)
    imgs = synthesize(G, ws, noise_mode=noise_mode)
    for i, img in enumerate(imgs):
        save_image(img, outdir / (f"{stem}{i:02d}.png" if len(imgs) > 1 else f"{stem}.png"))
    save_latents(outdir / f"{stem}.npz", ws, **meta)
    return len(imgs)


def save_latents(path: str | os.PathLike[str], ws: Tensor, **meta: Any) -> Path:
    """Write ws to an .npz with key `w` (readable by `generate --projected-w` and every latent option), atomically."""
    import io

    from ..fileio import atomic_write_bytes

    buf = io.BytesIO()
    arrays: dict[str, Any] = {"w": ws.detach().cpu().numpy().astype(np.float32)}
    arrays.update({k: np.asarray(v) for k, v in meta.items() if v is not None})
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


__all__ = [
    "check_latents",
    "fuse",
    "fuse_latents",
    "latent_variations",
    "parse_layers",
    "resolve_latent",
    "resolve_latents",
    "save_latents",
    "swap_latents",
    "swap_styles",
    "variations",
    "write_latents",
]
