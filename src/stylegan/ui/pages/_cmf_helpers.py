"""Helpers shared by the Customise, Mix and Fuse pages (private: not a page).

- latent specs typed in a text box (`seed:N`, `history:ID`; files only as uploads, never a path on the server);
- the bundled network's class names (from its model card);
- per-layer-group fusion over `editing.latent_ops.fuse`;
- short, language-neutral notes naming the resolution each layer index drives.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...editing.latent_ops import fuse
from ...errors import StyleGANError
from ...latents import layer_preset, layer_resolutions
from ...networks import Generator
from ..context import MAX_IMAGES, UIContext, file_path
from ..session import Model

#: The layer groups of the mix presets and of per-group fusion (`stylegan.latents.layer_preset`).
GROUPS = ["coarse", "middle", "fine"]


def resolve_text_spec(
    ctx: UIContext, model: Model, spec: str, *, psi: float = 1.0, class_idx: int | None = None
) -> Any:
    """ws [N, num_ws, w_dim] of a typed spec: `seed:N` (or `seed:0-3`) or `history:ID`.

    A typed path is refused (latent files come as uploads), so a request cannot read files of the server."""
    text = str(spec or "").strip()
    if not text.startswith(("seed:", "history:")):
        raise StyleGANError(f"{text[:40]!r}: type seed:N or history:ID (upload latent files with the file button)")
    if text.startswith("seed:"):
        ctx.parse_seeds(text[5:], text[:40])  # at most MAX_IMAGES seeds, checked before any work
    return ctx.latents(model, text, psi=psi, class_idx=class_idx)


def resolve_upload(ctx: UIContext, model: Model, value: Any) -> Any:
    """ws of an uploaded .npz/.npy latent file (None when nothing was uploaded)."""
    path = file_path(value)
    if not path:
        return None
    return ctx.latents(model, path)


def upload_names(values: Any) -> list[str]:
    """The file names of uploads (for recipes: the latents themselves are kept in the history's .npz)."""
    if values is None:
        return []
    items = values if isinstance(values, (list, tuple)) else [values]
    return [Path(p).name for p in (file_path(v) for v in items) if p]


def bundled_class_names() -> list[str]:
    """Class names of the bundled emoji network, read from its model card (`0 Activities, 1 Animals ...`)."""
    card = importlib.resources.files("stylegan") / "assets" / "emoji32.md"
    try:
        text = card.read_text(encoding="utf-8")
    except OSError:
        return []
    for line in text.splitlines():
        if "Classes" in line:
            _, _, listing = line.partition(":**")
            pairs = re.findall(r"(\d+) ([^,]+)", listing)
            return [name.strip() for _, name in sorted(pairs, key=lambda p: int(p[0]))]
    return []


def is_bundled(model: Model) -> bool:
    from ...io.pretrained import _REGISTRY, BUNDLED_NETWORK

    if model.source == BUNDLED_NETWORK:
        return True
    bundled = _REGISTRY[BUNDLED_NETWORK].path
    try:
        return Path(model.source).resolve() == Path(str(bundled)).resolve()
    except OSError:
        return False


def class_choices(model: Model) -> list[tuple[str, int]]:
    """Class picker choices: `index name` on the bundled network, plain indices otherwise ([] when unconditional)."""
    c_dim = model.G.c_dim
    names = bundled_class_names() if is_bundled(model) else []
    if len(names) != c_dim:
        names = []
    return [(f"{i} {names[i]}" if names else str(i), i) for i in range(c_dim)]


def parse_class(G: Generator, value: Any) -> int:
    """A class index from the picker (an int, or text such as `3` / `3 Food & Drink`), checked against c_dim."""
    if G.c_dim == 0:
        raise StyleGANError("this network is unconditional: it has no classes; use the template swap instead")
    text = str(value if value is not None else "").strip()
    m = re.match(r"-?\d+", text)
    if not m:
        raise StyleGANError(f"pick a class 0-{G.c_dim - 1}, got {text[:40]!r}")
    idx = int(m.group())
    if not 0 <= idx < G.c_dim:
        raise StyleGANError(f"class {idx} is out of range: the network has {G.c_dim} classes (0-{G.c_dim - 1})")
    return idx


def parse_layer_text(text: Any, num_ws: int) -> list[int]:
    """`5,6,7` / `5-8` / a preset -> checked layer indices (0-based); at least one."""
    if isinstance(text, (list, tuple)):
        text = ",".join(str(int(i)) for i in text)
    text = str(text or "").strip()
    if not text:
        raise StyleGANError("pick at least one layer")
    try:
        layers = layer_preset(text, num_ws)
    except ValueError as e:
        raise StyleGANError(str(e)) from None
    return sorted(set(layers))


def layers_text(layers: Sequence[int]) -> str:
    return ",".join(str(int(i)) for i in layers)


def default_swap_layers(num_ws: int) -> list[int]:
    """The face website's layers 5-8 (0-based), clipped to the network's layers."""
    return [i for i in range(5, 9) if i < num_ws]


def resolution_note(G: Generator, layers: Sequence[int]) -> str:
    """`5: 32px, 6: 32px, 7: 32px, 8: -` for the given layer indices on this network."""
    res = layer_resolutions(G.num_ws, G.img_resolution, getattr(G, "version", 2))
    return ", ".join(f"{i}: {res[i]}px" if i < len(res) else f"{i}: -" for i in layers)


def group_note(G: Generator) -> str:
    """`coarse 0-3 (4-16px) · middle 4-7 (16-32px) · fine -` for this network."""
    res = layer_resolutions(G.num_ws, G.img_resolution, getattr(G, "version", 2))
    parts = []
    for name in GROUPS:
        idx = layer_preset(name, G.num_ws)
        if not idx:
            parts.append(f"{name} -")
            continue
        lo, hi = res[idx[0]], res[idx[-1]]
        span = f"{lo}px" if lo == hi else f"{lo}-{hi}px"
        parts.append(f"{name} {idx[0]}-{idx[-1]} ({span})")
    return " · ".join(parts)


def parse_weights(text: Any, n: int, what: str = "weights") -> list[float] | None:
    """`1,1` -> [1.0, 1.0] (None when empty: equal weights); exactly one finite weight per parent."""
    s = str(text if text is not None else "").strip()
    if not s:
        return None
    try:
        weights = [float(p) for p in re.split(r"[,\s]+", s) if p]
    except ValueError:
        raise StyleGANError(f"{what}: {s[:40]!r} is not a list of numbers such as 1,1") from None
    if not all(np.isfinite(weights)):
        raise StyleGANError(f"{what}: weights must be finite numbers")
    if len(weights) != n:
        raise StyleGANError(f"{what}: {len(weights)} weights for {n} parents; give one per parent, e.g. 1,1")
    if abs(sum(weights)) < 1e-12:
        raise StyleGANError(f"{what}: the weights sum to zero")
    return weights


def fuse_by_groups(
    parents: Sequence[torch.Tensor],
    weights: Sequence[float] | None,
    group_weights: Mapping[str, Sequence[float] | None] | None = None,
) -> torch.Tensor:
    """`fuse` of the parents ([1, num_ws, w_dim] each), with its own weights on each layer group that has them.

    group_weights: {coarse/middle/fine: weights or None (use `weights`)}; groups follow `layer_preset`."""
    out = fuse(parents, weights)
    if not group_weights:
        return out
    num_ws = parents[0].shape[1]
    for name, gw in group_weights.items():
        idx = layer_preset(name, num_ws)
        if gw is None or not idx:
            continue
        out[:, idx] = fuse([p[:, idx] for p in parents], gw)
    return out


def check_parents(n: int) -> None:
    if n < 2:
        raise StyleGANError(f"fusion needs two or more faces or latents, got {n}")
    if n > MAX_IMAGES:
        raise StyleGANError(f"fusion of {n} latents asked for; at most {MAX_IMAGES} per request")


def enlarge(image: np.ndarray, cell: int, min_cell: int = 128) -> np.ndarray:
    """A figure of `cell`-pixel images enlarged (nearest neighbour, a whole factor) so each cell is >= min_cell."""
    factor = max(1, min_cell // max(1, cell))
    big = np.kron(image, np.ones((factor, factor, 1), dtype=image.dtype)) if factor > 1 else image
    return big[..., 0] if big.shape[-1] == 1 else big
