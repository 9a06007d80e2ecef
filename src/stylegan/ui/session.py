"""What the web app keeps between requests: loaded networks, rendered results, the history of recipes.

Nothing here imports gradio, so the bookkeeping is testable (and usable) on its own.

A *recipe* is a JSON-able dict that says how a result was made: its `kind` (the page: generate, mix, edit, ...),
the network (`network`, and `network_hash`, the sha256 of its weights), and the page's settings (seeds, psi,
cutoff, noise, edits, ...). Every result is kept with its recipe in the history folder: the image as a PNG whose
`stylegan-recipe` text chunk holds the recipe, the latents as an .npz (key `w`, plus the recipe as JSON).
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

import numpy as np
import torch
from PIL import Image, PngImagePlugin

from ..errors import StyleGANError
from ..fileio import atomic_write_bytes
from ..networks import Generator

#: The PNG text chunk that carries a result's recipe.
RECIPE_CHUNK = "stylegan-recipe"

_T = TypeVar("_T")


# ---------------------------------------------------------------------------------------------------------
# Networks


@dataclass
class Model:
    """A loaded generator and what the app shows about it."""

    source: str
    G: Generator
    hash: str
    card: str

    @property
    def label(self) -> str:
        """The short name shown in recipes: the registry name, or the file's name."""
        return self.source if "/" not in self.source and os.sep not in self.source else Path(self.source).name


def model_card(source: str, G: Generator) -> str:
    """Markdown describing a network: what the registry says about it, then its architecture."""
    from ..io.checkpoint import NetworkInfo
    from ..io.pretrained import _REGISTRY
    from ..networks import count_parameters

    lines: list[str] = []
    entry = _REGISTRY.get(source)
    if entry is not None:
        card = _bundled_card(entry.path)
        if card:
            lines += [card.strip(), ""]
        else:
            lines += [f"**{entry.name}**: {entry.description}", "", f"- Licence: {entry.license}"]
    else:
        lines += [f"**{Path(source).name}** (local file)", ""]
    params, buffers = count_parameters(G.cfg)
    info = NetworkInfo("G", G.cfg, params, buffers)
    lines += ["", "```", f"  parameters    {params:,}", *info.architecture_lines(), "```"]
    return "\n".join(lines)


def _bundled_card(path: Any) -> str:
    if path is None:
        return ""
    card = Path(str(path)).with_suffix(".md")
    try:
        return card.read_text(encoding="utf-8") if card.is_file() else ""
    except OSError:
        return ""


class ModelStore:
    """Networks loaded on demand through the safe loader and kept in a small LRU (memory stays bounded).

    Args:
        default: the network used when a request names none (a registry name or a file).
        device: where the networks run.
        max_models: how many networks stay loaded at once; the least recently used one is dropped first.
        loader: how a source becomes a generator (default `stylegan.load`, which runs no code from the file).
        policy: called with every source a request names (not the default) before it is loaded; raises
            `StyleGANError` to refuse it (the app refuses URLs and files outside its session).
    """

    def __init__(
        self,
        default: str,
        *,
        device: torch.device | str = "cpu",
        max_models: int = 2,
        loader: Callable[[str], Generator] | None = None,
        policy: Callable[[str], None] | None = None,
    ) -> None:
        if max_models < 1:
            raise StyleGANError(f"max_models must be >= 1, got {max_models}")
        self.default = default
        self.device = torch.device(device)
        self.max_models = max_models
        self._loader = loader
        self.policy = policy
        self._models: OrderedDict[str, Model] = OrderedDict()
        self._lock = threading.Lock()
        self.known: list[str] = [default]

    def _load(self, source: str) -> Generator:
        if self._loader is not None:
            return self._loader(source)
        from ..io import load

        return load(source, device=self.device).eval().requires_grad_(False)

    def get(self, source: str | None = None) -> Model:
        """The loaded network for `source` (None or "" = the default), loading it if needed."""
        from ..io.hashing import network_hash

        source = (source or "").strip() or self.default
        with self._lock:
            model = self._models.get(source)
            if model is not None:
                self._models.move_to_end(source)
                return model
            if self.policy is not None and source != self.default:
                self.policy(source)
            G = self._load(source)
            model = Model(source, G, network_hash(G), model_card(source, G))
            self._models[source] = model
            while len(self._models) > self.max_models:
                self._models.popitem(last=False)
            if source not in self.known:
                self.known.append(source)
            return model

    def loaded(self) -> list[str]:
        """Sources currently in memory, least recently used first."""
        return list(self._models)

    def choices(self) -> list[str]:
        """What the model picker offers: the networks used so far, then the registry's names."""
        from ..io.pretrained import list_pretrained

        names = [e.name for e in list_pretrained()]
        return list(dict.fromkeys([*self.known, *names]))


# ---------------------------------------------------------------------------------------------------------
# Results cache


class ResultCache:
    """An LRU of rendered results keyed by recipe, bounded by the bytes of the numpy arrays it holds."""

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(recipe: Mapping[str, Any]) -> str:
        return json.dumps(recipe, sort_keys=True, default=str)

    def get_or_make(self, recipe: Mapping[str, Any], make: Callable[[], _T]) -> _T:
        """The cached value of `recipe`, or `make()` stored under it."""
        k = self.key(recipe)
        with self._lock:
            if k in self._items:
                self._items.move_to_end(k)
                self.hits += 1
                return self._items[k][0]
            self.misses += 1
        value = make()
        size = _nbytes(value)
        with self._lock:
            if size <= self.max_bytes:
                if k in self._items:
                    self._bytes -= self._items.pop(k)[1]
                self._items[k] = (value, size)
                self._bytes += size
                while self._bytes > self.max_bytes:
                    self._bytes -= self._items.popitem(last=False)[1][1]
        return value

    @property
    def nbytes(self) -> int:
        return self._bytes


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 64


# ---------------------------------------------------------------------------------------------------------
# History


@dataclass
class Entry:
    """One kept result: its image, latents (when it has them) and recipe."""

    id: str
    recipe: dict[str, Any]
    image: Path
    latents: Path | None = None
    created: float = field(default_factory=time.time)

    @property
    def kind(self) -> str:
        return str(self.recipe.get("kind", ""))

    def caption(self) -> str:
        r = self.recipe
        what = r.get("seeds") or r.get("title") or ""
        return f"{self.id} {self.kind} {what}".strip()


def png_with_recipe(image: np.ndarray, recipe: Mapping[str, Any]) -> bytes:
    """A PNG of `image` (uint8 [H, W, C]) carrying the recipe as JSON in its `stylegan-recipe` text chunk."""
    from ..images import to_pil

    info = PngImagePlugin.PngInfo()
    info.add_text(RECIPE_CHUNK, json.dumps(recipe, sort_keys=True))
    buf = io.BytesIO()
    to_pil(image).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def read_png_recipe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The recipe stored in a PNG written by the app ({} when it has none)."""
    with Image.open(path) as im:
        text = im.info.get(RECIPE_CHUNK) if isinstance(im.info, dict) else None
    if not text:
        return {}
    try:
        recipe = json.loads(text)
    except ValueError:
        return {}
    return recipe if isinstance(recipe, dict) else {}


class History:
    """Every result the app made, kept in `folder` with its recipe (newest last), bounded to `max_entries`."""

    def __init__(self, folder: str | os.PathLike[str], *, max_entries: int = 500) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._count = 0
        self._reload()

    def _reload(self) -> None:
        """Take up the entries an earlier run left in the folder (numbering continues after them)."""
        for png in sorted(self.folder.glob("[0-9][0-9][0-9][0-9]-*.png")):
            entry_id = png.name[:4]
            try:
                recipe = read_png_recipe(png)
            except OSError:
                continue
            if recipe.get("id") != entry_id:
                continue
            npz = png.with_suffix(".npz")
            self._entries[entry_id] = Entry(entry_id, recipe, png, npz if npz.is_file() else None, png.stat().st_mtime)
            self._count = max(self._count, int(entry_id))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def add(self, image: np.ndarray, recipe: Mapping[str, Any], ws: torch.Tensor | None = None) -> Entry:
        """Keep `image` (uint8 [H, W, C]) and its latents ws [N, num_ws, w_dim] under the recipe."""
        with self._lock:
            self._count += 1
            entry_id = f"{self._count:04d}"
        recipe = dict(recipe)
        recipe["id"] = entry_id
        png = self.folder / f"{entry_id}-{recipe.get('kind', 'result')}.png"
        atomic_write_bytes(png, png_with_recipe(image, recipe))
        npz = None
        if ws is not None:
            npz = png.with_suffix(".npz")
            buf = io.BytesIO()
            np.savez(buf, w=ws.detach().float().cpu().numpy(), recipe=np.array(json.dumps(recipe, sort_keys=True)))
            atomic_write_bytes(npz, buf.getvalue())
        entry = Entry(entry_id, recipe, png, npz)
        with self._lock:
            self._entries[entry_id] = entry
            while len(self._entries) > self.max_entries:
                old = self._entries.popitem(last=False)[1]
                for p in (old.image, old.latents):
                    if p is not None:
                        p.unlink(missing_ok=True)
        return entry

    def entries(self) -> list[Entry]:
        """All kept entries, newest first."""
        with self._lock:
            return list(reversed(self._entries.values()))

    def get(self, entry_id: str) -> Entry:
        entry = self._entries.get(str(entry_id).strip())
        if entry is None:
            raise StyleGANError(f"no history entry {entry_id!r}: it was never made or has been dropped")
        return entry

    def latents(self, entry_id: str) -> torch.Tensor:
        """The latents ws [N, num_ws, w_dim] kept with an entry."""
        entry = self.get(entry_id)
        if entry.latents is None:
            raise StyleGANError(f"history entry {entry_id} has no latents")
        with np.load(entry.latents, allow_pickle=False) as data:
            return torch.from_numpy(np.array(data["w"]))

    def export_zip(self, path: str | os.PathLike[str], ids: list[str] | None = None) -> Path:
        """Write the entries (all by default) into a zip: PNGs with their recipe, latents, and recipes.json."""
        chosen = [self.get(i) for i in ids] if ids else list(reversed(self.entries()))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for e in chosen:
                zf.write(e.image, e.image.name)
                if e.latents is not None:
                    zf.write(e.latents, e.latents.name)
            zf.writestr("recipes.json", json.dumps([e.recipe for e in chosen], indent=1, sort_keys=True))
        atomic_write_bytes(path, buf.getvalue())
        return Path(path)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)


# ---------------------------------------------------------------------------------------------------------
# Shareable links: a view's settings as a URL query


#: Recipe keys a link carries, with their short names in the query.
LINK_KEYS = {
    "kind": "tab",  # not "page": gradio reads that one itself (multi-page apps)
    "network": "net",
    "seeds": "seeds",
    "psi": "psi",
    "cutoff": "cutoff",
    "noise": "noise",
    "noise_seed": "nseed",
    "class": "class",
    "rows": "rows",
    "cols": "cols",  # mix: column seeds (text); generate: grid columns
    "layers": "layers",
    "method": "method",
    "template": "template",
    "latents": "latents",
    "weights": "weights",
    "id": "open",
}


def recipe_query(recipe: Mapping[str, Any]) -> str:
    """The URL query that reproduces a view, e.g. `tab=generate&net=emoji&seeds=0-3&psi=0.7`."""
    pairs = [(short, recipe[key]) for key, short in LINK_KEYS.items() if recipe.get(key) not in (None, "")]
    return urlencode([(k, v if isinstance(v, str) else json.dumps(v)) for k, v in pairs])


def query_recipe(query: str | Mapping[str, str]) -> dict[str, Any]:
    """Read a link's query back into recipe keys (unknown keys are ignored; numbers become numbers)."""
    params = dict(parse_qsl(query)) if isinstance(query, str) else dict(query)
    by_short = {short: key for key, short in LINK_KEYS.items()}
    recipe: dict[str, Any] = {}
    for short, value in params.items():
        key = by_short.get(short)
        if key is None:
            continue
        if key in ("psi",):
            recipe[key] = _number(value, float)
        elif key in ("cutoff", "noise_seed", "class"):
            recipe[key] = _number(value, int)
        else:
            recipe[key] = str(value)
    return {k: v for k, v in recipe.items() if v is not None}


def _number(value: str, kind: Callable[[str], Any]) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


__all__ = [
    "RECIPE_CHUNK",
    "Entry",
    "History",
    "Model",
    "ModelStore",
    "ResultCache",
    "model_card",
    "png_with_recipe",
    "query_recipe",
    "read_png_recipe",
    "recipe_query",
]
