"""Reading direction files made by other tools into a `Direction`, checked against the network's shapes.

Formats (`format=`; "auto" tells them apart by the file's arrays and shapes):

- `interfacegan`: InterFaceGAN's boundary .npy, float [1, dim] (or [dim]): the unit normal of a linear SVM's
  hyperplane, in W (dim = w_dim) or in Z (`space="z"`, dim = z_dim). The SVM's intercept is not saved and
  InterFaceGAN's own editing measures distances from the hyperplane through the origin, so the imported direction
  keeps `meta['offset'] = 0`: `edit(..., absolute=True)` moves latents the way InterFaceGAN's edit.py does.
- `layers`: one W+ direction per layer, [num_ws, w_dim] (or [1, num_ws, w_dim]), e.g. the StyleGAN-encoder latent
  directions ([18, 512] .npy); each layer moves along its own row. Their length is kept, so that steps mean what
  they meant in the tool that made them.
- `ganspace`: GANSpace's .npz: `lat_comp` [K, 1, dim] (unit rows), `lat_mean` [1, dim], `lat_stdev` [K], and the
  activation-space `act_comp`, `act_mean`, `act_stdev` (not needed here). GANSpace writes `lat_stdev` only for
  components computed in W (all ones in Z), so a file whose stdevs are all 1 is read as Z unless `space` says
  otherwise. In W, the stdev of each component becomes the direction's `scale` (`edit(..., sigma=True)` steps in
  standard deviations, as GANSpace's sliders do) and the mean is kept as `meta['mean']`.
- `sefa`: a matrix [K, w_dim] of eigenvector rows: SeFa's `factorize_weight` boundaries saved as .npy, or an .npz
  with `boundaries` (and `values`, the eigenvalues, kept as `scale`). Rows are kept in the file's order, so
  component K is SeFa's semantic K.
- `stylegan`: a direction file of this toolkit (`stylegan directions fit`, e.g. its SeFa output).

A `.npy` of shape [num_ws, w_dim] could be per-layer directions or num_ws components: "auto" reads it as per-layer;
`format="sefa"` reads its rows as components.

Files are read with `allow_pickle=False` only: a pickled file or an array of Python objects is refused (unpickling
runs code), as are NaN, infinite, complex and zero directions.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SettingError, StyleGANError
from ..networks import Generator
from .directions import Direction

FORMATS = ("auto", "interfacegan", "layers", "ganspace", "sefa", "stylegan")
SPACES = ("w", "z")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


class _Arrays(Mapping[str, np.ndarray]):
    """The arrays of a .npy (one, named "") or .npz, each read on first use (a GANSpace file's large activation
    arrays are never read) without unpickling; every failure is one line naming the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: dict[str, np.ndarray] = {}
        self._npz: Any = None
        if not path.is_file():
            raise StyleGANError(f"{path}: no such file")
        try:
            with open(path, "rb") as f:
                head = f.read(8)
        except OSError as e:
            raise StyleGANError(f"{path}: cannot be read ({e.strerror or e})") from None
        if not head.startswith((_NPY_MAGIC, _ZIP_MAGIC)):
            if head[:1] == b"\x80":
                raise StyleGANError(self._pickled())
            raise StyleGANError(f"{path}: not a .npy or .npz array file")
        data = self._guard(lambda: np.load(path, allow_pickle=False))
        if isinstance(data, np.ndarray):
            self._cache[""] = data
            self._keys = [""]
        else:
            self._npz, self._keys = data, list(data.files)

    def _pickled(self) -> str:
        return (
            f"{self.path}: holds pickled Python objects, which are never loaded (unpickling can run code); save "
            "plain numbers instead, e.g. np.save(path, np.asarray(x, dtype=np.float32))"
        )

    def _guard(self, read: Any) -> Any:
        try:
            return read()
        except ValueError as e:
            if "pickle" in str(e).lower() or "object" in str(e).lower():
                raise StyleGANError(self._pickled()) from None
            raise StyleGANError(f"{self.path}: not a readable .npy/.npz file ({e})") from None
        except (OSError, EOFError, KeyError, MemoryError, zipfile.BadZipFile) as e:
            raise StyleGANError(f"{self.path}: not a readable .npy/.npz file ({type(e).__name__}: {e})") from None

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._cache:
            if key not in self._keys:
                raise KeyError(key)
            self._cache[key] = self._guard(lambda: self._npz[key])
        return self._cache[key]

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def close(self) -> None:
        if self._npz is not None:
            self._npz.close()


def _numbers(path: Path, name: str, a: np.ndarray) -> np.ndarray:
    """`a` as float64, refusing non-numeric, complex (with an imaginary part), NaN and infinite values."""
    what = f"array {name!r}" if name else "the array"
    if np.iscomplexobj(a):
        if np.abs(a.imag).max(initial=0) > 1e-6 * max(np.abs(a.real).max(initial=0), 1e-30):
            raise StyleGANError(f"{path}: {what} holds complex numbers; a direction is real")
        a = a.real
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number):
        raise StyleGANError(f"{path}: {what} holds {a.dtype} values, not numbers")
    out = a.astype(np.float64)
    if not np.isfinite(out).all():
        raise StyleGANError(f"{path}: {what} holds NaN or infinite values")
    return out


def _shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def _detect(path: Path, arrays: Mapping[str, np.ndarray], num_ws: int | None) -> str:
    keys = set(arrays)
    if "lat_comp" in keys:
        return "ganspace"
    if keys & {"vectors", "direction"}:
        return "stylegan"
    if "boundaries" in keys:
        return "sefa"
    if len(arrays) != 1:
        names = ", ".join(sorted(keys)) or "none"
        raise StyleGANError(
            f"{path}: an .npz with arrays {names}; expected GANSpace's lat_comp, SeFa's boundaries, a direction file "
            "(vectors) or a single array"
        )
    shape = next(iter(arrays.values())).shape
    if 1 <= len(shape) <= 3 and all(s == 1 for s in shape[:-1]):
        return "interfacegan"
    if (len(shape) == 2 and shape[0] == num_ws) or (len(shape) == 3 and shape[0] == 1):
        return "layers"
    if len(shape) == 2 or (len(shape) == 3 and shape[1] == 1):
        return "sefa"
    raise StyleGANError(
        f"{path}: an array of shape {_shape(shape)}; expected a boundary [1, dim], per-layer directions "
        f"[num_ws, w_dim] or components [K, w_dim]"
    )


def _dim(space: str, w_dim: int, z_dim: int | None) -> int:
    """The size of a vector in `space`."""
    if space == "w":
        return w_dim
    if z_dim is None:
        raise SettingError("a direction in Z needs the network {G} (or its {z_dim})", "G", "z_dim")
    return z_dim


def _pick(path: Path, vectors: np.ndarray, component: int | None) -> np.ndarray:
    """The chosen row(s): all with component None, else row `component` (checked)."""
    if component is None:
        return vectors
    n = len(vectors)
    if not 0 <= component < n:
        raise SettingError(
            f"{path}: {{component}} {component} is out of range: the file has {n} direction{'s' if n != 1 else ''}"
            + (f" (0-{n - 1})" if n > 1 else ""),
            "component",
        )
    return vectors[component : component + 1]


def import_direction(
    path: str | os.PathLike[str],
    G: Generator | None = None,
    *,
    num_ws: int | None = None,
    w_dim: int | None = None,
    z_dim: int | None = None,
    format: str = "auto",
    space: str | None = None,
    component: int | None = 0,
    layers: str | Sequence[int] | None = None,
    name: str = "",
) -> Direction:
    """Read a direction made by another tool (InterFaceGAN, GANSpace, SeFa, per-layer W+ directions) or by this one
    into a `Direction` for the network G (or for the shapes num_ws, w_dim, z_dim when G is not at hand).

    Args:
        format: one of FORMATS (see the module's help); "auto" tells them apart by the arrays in the file.
        space: "w" or "z", the latent space of an InterFaceGAN boundary or GANSpace file (default: W, except a GANSpace
            file whose stdevs are all 1, which was computed in Z). Recorded as `meta['space']`; `edit` refuses
            Z directions, which do not move W latents meaningfully.
        component: which row of a multi-component file (GANSpace, SeFa, a fitted file) to keep; None keeps them all.
        layers: the layers an edit moves by default (indices, `0-7`, or a preset such as `coarse`); default all.
        name: the attribute's name (e.g. "smile"), kept as the direction's `attr`.

    The result carries G's content hash (so that using it with another network is refused unless forced); a file of
    this toolkit keeps its own hash.
    """
    path = Path(path)
    if G is not None:
        num_ws, w_dim, z_dim = G.num_ws, G.w_dim, G.z_dim
    if w_dim is None:
        raise SettingError("give the network {G}, or its {w_dim} (and {num_ws})", "G", "w_dim", "num_ws")
    if format not in FORMATS:
        raise SettingError(f"{{format}} {format!r}: use one of {', '.join(FORMATS)}", "format")
    if space is not None and space not in SPACES:
        raise SettingError(f"{{space}} {space!r}: use w or z", "space")
    arrays = _Arrays(path)
    try:
        return _convert(path, arrays, G, num_ws, w_dim, z_dim, format, space, component, layers, name)
    finally:
        arrays.close()


def _convert(
    path: Path,
    arrays: _Arrays,
    G: Generator | None,
    num_ws: int | None,
    w_dim: int,
    z_dim: int | None,
    format: str,
    space: str | None,
    component: int | None,
    layers: str | Sequence[int] | None,
    name: str,
) -> Direction:
    """`import_direction` on the file's arrays."""
    from ..io.hashing import network_hash
    from .latent_ops import parse_layers

    fmt = _detect(path, arrays, num_ws) if format == "auto" else format
    if space == "z" and fmt not in ("interfacegan", "ganspace"):
        raise SettingError(f"{path}: {{space}} z is for InterFaceGAN boundaries and GANSpace files, not {fmt}", "space")
    if layers is not None and num_ws is None:
        raise SettingError("{layers} needs the network {G} (or {num_ws})", "layers", "G", "num_ws")
    mask = np.ones(num_ws or 0, dtype=bool)
    if layers is not None and num_ws is not None:
        mask[:] = False
        mask[parse_layers(layers, num_ws)] = True

    if fmt == "stylegan":
        return _own_file(path, num_ws, w_dim, component, mask if layers is not None else None, name, G)

    meta: dict[str, Any] = {"source": fmt, "source_file": path.name}
    scale = None
    several = False  # whether the file held several directions to choose from
    single = next(iter(arrays.values())) if len(arrays) == 1 else None
    if fmt in ("interfacegan", "layers") and single is None:
        raise StyleGANError(f"{path}: an {fmt} file holds one array; this one has {', '.join(sorted(arrays))}")
    if fmt == "interfacegan":
        assert single is not None
        space = space or "w"
        dim = _dim(space, w_dim, z_dim)
        v = _numbers(path, "", single)
        if v.ndim == 0 or v.shape[-1] != dim or v.size != dim:
            raise StyleGANError(
                f"{path}: an InterFaceGAN boundary of shape {_shape(v.shape)}; this network needs [1, {dim}] or "
                f"[{dim}] ({space.upper()} has {dim} dimensions)"
            )
        vectors = _pick(path, v.reshape(1, dim), component)
        method = "svm"
        meta["offset"] = 0.0
    elif fmt == "layers":
        assert single is not None
        v = _numbers(path, "", single)
        want = f"[{num_ws}, {w_dim}]" if num_ws is not None else f"[num_ws, {w_dim}]"
        if v.ndim == 3 and v.shape[0] == 1:
            v = v[0]
        if v.ndim != 2 or v.shape[1] != w_dim or (num_ws is not None and v.shape[0] != num_ws):
            raise StyleGANError(
                f"{path}: per-layer directions of shape {_shape(single.shape)}; this network needs {want} "
                "(one row per style layer)"
            )
        vectors = _pick(path, v[None], component)
        method = "external"
        space = "w"
    elif fmt == "ganspace":
        vectors, scale, space = _ganspace(path, arrays, w_dim, z_dim, space, meta)
        several = len(vectors) > 1
        vectors = _pick(path, vectors, component)
        if scale is not None:
            scale = _pick(path, scale, component)
        method = "ganspace"
    else:  # sefa
        key = "boundaries" if "boundaries" in arrays else next(iter(arrays)) if len(arrays) == 1 else None
        if key is None:
            raise StyleGANError(f"{path}: no 'boundaries' array; arrays: {', '.join(sorted(arrays))}")
        v = _numbers(path, key, arrays[key])
        if v.ndim == 3 and v.shape[1] == 1:
            v = v[:, 0]
        if v.ndim != 2 or v.shape[1] != w_dim:
            raise StyleGANError(
                f"{path}: SeFa components of shape {_shape(arrays[key].shape)}; this network needs [K, {w_dim}] "
                f"(one eigenvector of w_dim {w_dim} per row)"
            )
        several = len(v) > 1
        vectors = _pick(path, v, component)
        if "values" in arrays:
            vals = _numbers(path, "values", arrays["values"]).reshape(-1)
            if len(vals) != len(v):
                raise StyleGANError(f"{path}: {len(vals)} eigenvalues for {len(v)} eigenvectors")
            scale = _pick(path, vals, component)
        method = "sefa"
        space = "w"
    norms = np.linalg.norm(vectors.reshape(len(vectors), -1), axis=1)
    if (norms < 1e-12).any():
        raise StyleGANError(f"{path}: the direction is zero")
    if component is not None and several:
        meta["component"] = int(component)
        if method == "ganspace" and scale is not None:
            meta["stdev"] = float(scale[0])
        elif method == "sefa" and scale is not None:
            meta["eigenvalue"] = float(scale[0])
    if len(norms) == 1 and abs(norms[0] - 1) > 1e-3:
        meta["norm"] = float(norms[0])
    meta["space"] = space
    return Direction(
        vectors=vectors.astype(np.float32),
        layers=mask,
        method=method,
        network_hash=network_hash(G) if G is not None else "",
        attr=name,
        scale=None if scale is None else np.asarray(scale, dtype=np.float32),
        meta=meta,
    )


def _ganspace(
    path: Path, arrays: Mapping[str, np.ndarray], w_dim: int, z_dim: int | None, space: str | None, meta: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(unit components [K, dim], stdevs [K] or None, space) of a GANSpace .npz; `meta` gains the mean."""
    if "lat_comp" not in arrays:
        raise StyleGANError(f"{path}: no 'lat_comp' array; not a GANSpace file ({', '.join(sorted(arrays))})")
    comp = _numbers(path, "lat_comp", arrays["lat_comp"])
    stdev = _numbers(path, "lat_stdev", arrays["lat_stdev"]).reshape(-1) if "lat_stdev" in arrays else None
    if space is None:
        space = "z" if stdev is not None and np.all(stdev == 1) else "w"
    dim = _dim(space, w_dim, z_dim)
    if comp.ndim == 3 and comp.shape[1] == 1:
        comp = comp[:, 0]
    if comp.ndim != 2 or comp.shape[1] != dim:
        raise StyleGANError(
            f"{path}: GANSpace lat_comp of shape {_shape(arrays['lat_comp'].shape)}; this network needs "
            f"[K, 1, {dim}] ({space.upper()} has {dim} dimensions)"
        )
    if stdev is not None and len(stdev) != len(comp):
        raise StyleGANError(f"{path}: lat_stdev has {len(stdev)} values for {len(comp)} components")
    if "lat_mean" in arrays:
        mean = _numbers(path, "lat_mean", arrays["lat_mean"]).reshape(-1)
        if len(mean) != dim:
            raise StyleGANError(
                f"{path}: GANSpace lat_mean of shape {_shape(arrays['lat_mean'].shape)}; this network needs [1, {dim}]"
            )
        meta["mean"] = mean.astype(np.float32)
    if stdev is not None and (space == "z" or np.all(stdev == 1)):
        stdev = None  # GANSpace's placeholder: no spread was measured
    return comp, stdev, space


def _own_file(
    path: Path,
    num_ws: int | None,
    w_dim: int,
    component: int | None,
    mask: np.ndarray | None,
    name: str,
    G: Generator | None,
) -> Direction:
    """A direction file of this toolkit, checked against the shapes; a chosen component and layer mask applied."""
    from ..io.hashing import network_hash

    d = Direction.load(path)
    v = d.vectors
    if not np.isfinite(v).all():
        raise StyleGANError(f"{path}: holds NaN or infinite values")
    want = f"[K, {w_dim}] or [K, {num_ws if num_ws is not None else 'num_ws'}, {w_dim}]"
    if v.ndim not in (2, 3) or v.shape[-1] != w_dim or (v.ndim == 3 and num_ws is not None and v.shape[1] != num_ws):
        raise StyleGANError(f"{path}: directions of shape {_shape(v.shape)}; this network needs {want}")
    d.vectors = _pick(path, v, component)
    if d.scale is not None and len(d.scale) == len(v):
        d.scale = _pick(path, np.asarray(d.scale), component)
    if component is not None and len(v) > 1:
        d.meta["component"] = int(component)
    if mask is not None:
        d.layers = mask
    elif num_ws is not None and len(d.layers) != num_ws:
        d.layers = np.ones(num_ws, dtype=bool)
    if name:
        d.attr = name
    if not d.network_hash and G is not None:
        d.network_hash = network_hash(G)
    return d


__all__ = ["FORMATS", "SPACES", "import_direction"]
