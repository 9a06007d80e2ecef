"""Semantic directions in W: supervised from labels, unsupervised from the network, and applying them.

Supervised (from a labels CSV of seed -> attribute scores; labels of any source):
- `mean-diff`: the face website's averaged difference, the mean of Δw / Δlabel over random sample pairs (pairs with
  a too small Δlabel are skipped: their ratio is noise divided by almost nothing);
- `logistic`: the face website's (and Puzer's) logistic regression on median-split labels, balanced classes;
- `svm`: InterFaceGAN's linear SVM on the extreme fractions (top and bottom 2 % by score), normal = coef / |coef|;
- conditional orthogonalisation (InterFaceGAN): project the condition directions out of the direction.

Unsupervised:
- `sefa` (Shen & Zhou 2021): eigenvectors of A Aᵀ, where A [w_dim, Σout] stacks the style-affine weights of the
  chosen layers, each column normalised to unit length;
- `ganspace` (Härkönen et al. 2020): principal components of sampled W.

A direction file (.npz) keeps the direction(s), the layer mask, the method and the network's content hash; using it
with another network is refused unless forced.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import SettingError, StyleGANError
from ..io.hashing import network_hash
from ..latents import NPZ_ERRORS
from ..networks import Generator

SUPERVISED = ("mean-diff", "logistic", "svm")
UNSUPERVISED = ("sefa", "ganspace")
METHODS = SUPERVISED + UNSUPERVISED
STATS = ("brightness", "saturation", "hue", "contrast", "red", "green", "blue")


# ---------------------------------------------------------------------------------------------------------
# Direction files


@dataclass
class Direction:
    """One or more directions in W.

    vectors: [K, w_dim] (K components, e.g. SeFa / GANSpace, or one supervised direction) or [K, num_ws, w_dim]
        (per-layer W+ directions); each unit length.
    layers: bool mask [num_ws] of the layers an edit moves by default.
    scale: optional [K] natural step per component (GANSpace: the standard deviation along it; mean-diff: the
        length of Δw per unit of the label; SeFa: the eigenvalues, not a step).
    """

    vectors: np.ndarray
    layers: np.ndarray
    method: str
    network_hash: str = ""
    attr: str = ""
    scale: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def direction(self) -> np.ndarray:
        """The first (or only) direction: (w_dim) or (num_ws, w_dim)."""
        return self.vectors[0]

    def component(self, index: int = 0) -> np.ndarray:
        if not 0 <= index < len(self.vectors):
            raise StyleGANError(f"component {index} is out of range: this file has {len(self.vectors)}")
        return self.vectors[index]

    def save(self, path: str | os.PathLike[str]) -> Path:
        from ..fileio import atomic_write_bytes

        arrays: dict[str, Any] = {
            "vectors": self.vectors.astype(np.float32),
            "direction": self.direction.astype(np.float32),
            "layers": self.layers.astype(bool),
            "method": np.array(self.method),
            "network_hash": np.array(self.network_hash),
            "attr": np.array(self.attr),
        }
        if self.scale is not None:
            arrays["scale"] = np.asarray(self.scale, dtype=np.float32)
        for k, v in self.meta.items():
            arrays[f"meta_{k}"] = np.asarray(v)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(path, buf.getvalue())
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Direction:
        """Read a direction file; a bare .npy (InterFaceGAN's (1, 512) boundary, Puzer's (18, 512)) also works."""
        path = Path(path)
        if not path.is_file():
            raise StyleGANError(f"{path}: no such direction file")
        try:
            return cls._from_arrays(path, np.load(path, allow_pickle=False))
        except NPZ_ERRORS as e:
            raise StyleGANError(f"{path}: not a direction file ({e})") from None

    @classmethod
    def _from_arrays(cls, path: Path, data: Any) -> Direction:
        if not isinstance(data, np.lib.npyio.NpzFile):
            v = np.asarray(data, dtype=np.float32)
            v = v.reshape(1, -1) if v.ndim == 1 or v.shape[0] == 1 else v[None]
            num_ws = v.shape[1] if v.ndim == 3 else 0
            return cls(v, np.ones(num_ws, dtype=bool), "external")
        if "vectors" not in data and "direction" not in data:
            raise StyleGANError(f"{path}: no 'vectors' or 'direction' array; not a direction file")
        vectors = data["vectors"] if "vectors" in data else data["direction"][None]
        meta = {k[5:]: data[k] for k in data.files if k.startswith("meta_")}
        return cls(
            vectors=np.asarray(vectors, dtype=np.float32),
            layers=np.asarray(data["layers"], dtype=bool) if "layers" in data else np.zeros(0, dtype=bool),
            method=str(data["method"]) if "method" in data else "external",
            network_hash=str(data["network_hash"]) if "network_hash" in data else "",
            attr=str(data["attr"]) if "attr" in data else "",
            scale=np.asarray(data["scale"]) if "scale" in data else None,
            meta=meta,
        )

    def describe(self) -> list[str]:
        """One line (method, attribute, shape, layer mask, network hash), then one `  key: value` per scalar meta."""
        layers = np.flatnonzero(self.layers).tolist() if len(self.layers) else "all"
        lines = [
            f"{self.method}{' ' + self.attr if self.attr else ''}, {len(self.vectors)} direction(s) of shape "
            f"{list(self.vectors.shape[1:])}, layers {layers}, network {self.network_hash[:12] or 'unknown'}"
        ]
        return lines + [f"  {k}: {v}" for k, v in self.meta.items() if np.asarray(v).ndim == 0]

    def check_network(self, G: Generator, *, force: bool = False, what: str = "direction") -> None:
        """Refuse to use this direction with a network other than the one it was made for, unless forced, and a
        direction in Z (an imported InterFaceGAN or GANSpace file): it does not move W latents meaningfully."""
        if str(self.meta.get("space", "w")) == "z":
            raise StyleGANError(
                f"{what} is a direction in Z; editing moves latents in W: import a W-space direction (InterFaceGAN's "
                "*_w boundaries, GANSpace computed with --use_w)"
            )
        w_dim = self.vectors.shape[-1]
        if w_dim != G.w_dim:
            raise StyleGANError(f"{what} has w_dim {w_dim} but the network has w_dim {G.w_dim}")
        if self.vectors.ndim == 3 and self.vectors.shape[1] != G.num_ws:
            raise StyleGANError(f"{what} has {self.vectors.shape[1]} layers but the network has {G.num_ws}")
        if force or not self.network_hash:
            return
        if network_hash(G) != self.network_hash:
            raise SettingError(
                f"{what} was made for another network (hash {self.network_hash[:12]}); pass {{force}} to apply it "
                "anyway",
                force="force=True",
            )


# ---------------------------------------------------------------------------------------------------------
# Samples and labels


@torch.no_grad()
def sample_latents(
    G: Generator,
    n: int,
    *,
    seed_start: int = 0,
    psi: float = 1.0,
    class_idx: int | None = None,
    batch_size: int = 256,
    progress: bool | None = None,
) -> dict[str, np.ndarray]:
    """Draw n samples: `seeds` [n], `z` [n, z_dim] (NVIDIA's per-seed z) and `w` [n, w_dim] (mapping output).

    A conditional network with no `class_idx` gives seed s the class s % c_dim, as `generate` does.
    """
    from ..latents import seed_class_labels, seeds_to_z
    from ..progress import progress_bar

    if n < 1:
        raise StyleGANError(f"the number of samples must be at least 1, got {n}")
    device = next(G.parameters()).device
    seeds = np.arange(seed_start, seed_start + n, dtype=np.int64)
    zs, ws = [], []
    bar = progress_bar(n, "sampling", unit="sample", enabled=progress)
    try:
        for start in range(0, n, batch_size):
            s = seeds[start : start + batch_size]
            z = seeds_to_z(s.tolist(), G.z_dim, device)
            try:
                c = seed_class_labels(G.c_dim, class_idx, s.tolist(), device)
            except ValueError as e:
                raise StyleGANError(str(e)) from None
            w = G.mapping(z, c, truncation_psi=psi)[:, 0]
            zs.append(z.cpu().numpy())
            ws.append(w.cpu().numpy())
            bar.update(len(s))
    finally:
        bar.close()
    return {"seeds": seeds, "z": np.concatenate(zs), "w": np.concatenate(ws).astype(np.float32)}


def save_samples(path: str | os.PathLike[str], samples: dict[str, Any]) -> Path:
    from ..fileio import atomic_write_bytes

    buf = io.BytesIO()
    np.savez(buf, **samples)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def make_samples(
    G: Generator,
    path: str | os.PathLike[str],
    n: int,
    *,
    seed_start: int = 0,
    psi: float = 1.0,
    class_idx: int | None = None,
    images_dir: str | os.PathLike[str] | None = None,
) -> dict[str, np.ndarray]:
    """`sample_latents`, saved to `path` with the network's hash; with `images_dir`, also the images
    (seedNNNN.png) for a labeller that needs them. Returns the samples."""
    from ..generation import generate_files

    samples = sample_latents(G, n, seed_start=seed_start, psi=psi, class_idx=class_idx)
    save_samples(path, {**samples, "network_hash": np.array(network_hash(G))})
    if images_dir is not None:  # written batch by batch: 20000 images do not fit in memory
        generate_files(G, samples["seeds"].tolist(), images_dir, psi=psi, class_idx=class_idx)
    return samples


def load_samples(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a samples file (arrays seeds, z, w; more allowed)."""
    path = Path(path)
    if not path.is_file():
        raise StyleGANError(f"{path}: no such samples file")
    try:
        data = np.load(path, allow_pickle=False)
        out = {k: data[k] for k in data.files}
    except (*NPZ_ERRORS, AttributeError) as e:
        raise StyleGANError(f"{path}: not a samples .npz ({e})") from None
    for key in ("seeds", "w"):
        if key not in out:
            raise StyleGANError(f"{path}: missing array {key!r}; make samples with `stylegan directions sample`")
    return out


def image_statistic(images: np.ndarray, stat: str) -> np.ndarray:
    """A per-image scalar of uint8 images [N, H, W, C]: brightness, saturation, hue (circular mean, in [0, 1)),
    contrast, red, green or blue. An offline label source for demos and tests.

    >>> image_statistic(np.full((1, 2, 2, 3), 255, np.uint8), "brightness").round(6).tolist()
    [1.0]
    """
    if stat not in STATS:
        raise StyleGANError(f"unknown image statistic {stat!r}; use one of {', '.join(STATS)}")
    x = images.astype(np.float64) / 255.0
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    x = x[..., :3]
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    lum = 0.299 * r + 0.587 * g + 0.114 * b
    if stat == "brightness":
        return lum.mean(axis=(1, 2))
    if stat == "contrast":
        return lum.std(axis=(1, 2))
    if stat in ("red", "green", "blue"):
        return {"red": r, "green": g, "blue": b}[stat].mean(axis=(1, 2))
    mx, mn = x.max(axis=-1), x.min(axis=-1)
    if stat == "saturation":
        return np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-12), 0).mean(axis=(1, 2))
    # hue: circular mean of the HSV hue angle, weighted by chroma
    angle = np.arctan2(np.sqrt(3) * (g - b), 2 * r - g - b)
    chroma = mx - mn
    s, c = (np.sin(angle) * chroma).sum(axis=(1, 2)), (np.cos(angle) * chroma).sum(axis=(1, 2))
    return (np.arctan2(s, c) / (2 * np.pi)) % 1.0


def label_samples(
    G: Generator,
    samples: dict[str, np.ndarray],
    stats: Sequence[str],
    *,
    batch_size: int = 16,
    progress: bool | None = None,
) -> dict[str, np.ndarray]:
    """Render the samples' W (as sampled, truncation included) and compute image statistics: {stat: [N]}.

    One offline labeller, so the sample -> label -> fit -> edit chain runs without any external service.
    """
    from ..generation import synthesize
    from ..progress import progress_bar

    w = torch.from_numpy(np.asarray(samples["w"], dtype=np.float32))
    ws = w[:, None].repeat(1, G.num_ws, 1)
    out: dict[str, list[np.ndarray]] = {s: [] for s in stats}
    for s in stats:
        if s not in STATS:
            raise StyleGANError(f"unknown image statistic {s!r}; use one of {', '.join(STATS)}")
    bar = progress_bar(len(ws), "labelling", enabled=progress)
    try:
        for start in range(0, len(ws), 256):
            imgs = synthesize(G, ws[start : start + 256], batch_size=batch_size, progress=False)
            for s in stats:
                out[s].append(image_statistic(imgs, s))
            bar.update(len(imgs))
    finally:
        bar.close()
    return {s: np.concatenate(v) for s, v in out.items()}


def write_labels(path: str | os.PathLike[str], seeds: Sequence[int], labels: dict[str, np.ndarray]) -> Path:
    """Write a labels CSV: header `seed,attr1,...`, one row per seed."""
    from ..fileio import atomic_write_bytes

    buf = io.StringIO()
    wr = csv.writer(buf)
    wr.writerow(["seed", *labels])
    for i, s in enumerate(seeds):
        wr.writerow([int(s), *(f"{float(v[i]):.6g}" for v in labels.values())])
    atomic_write_bytes(path, buf.getvalue().encode())
    return Path(path)


def label_samples_file(
    G: Generator, samples: str | os.PathLike[str], stats: Sequence[str], path: str | os.PathLike[str]
) -> int:
    """Label a samples file with image statistics (`label_samples`) into a labels CSV; returns the sample count."""
    data = load_samples(samples)
    write_labels(path, data["seeds"].tolist(), label_samples(G, data, stats))
    return len(data["seeds"])


def read_labels(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a labels CSV (`seed,attr1,...`) -> {"seed": int array, attr: float array (NaN where empty)}."""
    path = Path(path)
    if not path.is_file():
        raise StyleGANError(f"{path}: no such labels file")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or not rows[0] or rows[0][0].strip().lower() != "seed":
        raise StyleGANError(f"{path}: a labels CSV starts with the header seed,attr1,attr2,...")
    header = [h.strip() for h in rows[0]]
    cols: dict[str, list[float]] = {h: [] for h in header}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise StyleGANError(f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}")
        try:
            for h, v in zip(header, row):
                cols[h].append(float(v) if v.strip() else float("nan"))
        except ValueError:
            raise StyleGANError(f"{path}:{lineno}: not a number in {row}") from None
    out = {h: np.asarray(v, dtype=np.float64) for h, v in cols.items()}
    out["seed"] = out["seed"].astype(np.int64)
    return out


def align_labels(
    samples: dict[str, np.ndarray], labels: dict[str, np.ndarray], attr: str
) -> tuple[np.ndarray, np.ndarray]:
    """(w [M, ...], y [M]) for the samples that have a (non-NaN) label `attr`, matched by seed."""
    if attr not in labels:
        names = [k for k in labels if k != "seed"]
        raise StyleGANError(f"no attribute {attr!r} in the labels; they have: {', '.join(names) or 'none'}")
    pos = {int(s): i for i, s in enumerate(samples["seeds"])}
    rows = [(pos[int(s)], y) for s, y in zip(labels["seed"], labels[attr]) if int(s) in pos and np.isfinite(y)]
    if len(rows) < 4:
        raise StyleGANError(f"only {len(rows)} labelled samples for {attr!r} match the samples' seeds; need at least 4")
    idx = np.array([r[0] for r in rows])
    return np.asarray(samples["w"])[idx], np.array([r[1] for r in rows], dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------
# Estimators


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    if not np.isfinite(n) or n < 1e-12:
        raise StyleGANError("the fitted direction is zero: the labels do not vary with the latents")
    return v / n


def _standardise(flat: np.ndarray) -> np.ndarray:
    """Centre and divide by one global scale: the geometry (and so the fitted normal) is unchanged, but the
    classifiers' regularisation no longer depends on the units of W (a tiny network's W can have std 1e-3)."""
    scale = flat.std()
    return (flat - flat.mean(axis=0)) / (scale if scale > 0 else 1.0)


def fit_mean_diff(
    w: np.ndarray, y: np.ndarray, *, pairs: int = 100_000, min_quantile: float = 0.5, seed: int = 0, unit: bool = True
) -> np.ndarray:
    """Averaged difference: the mean of Δw / Δy over random sample pairs, keeping pairs whose |Δy| is above the
    `min_quantile` quantile of |Δy| (tiny label differences make the ratio explode). Unit length, or with
    `unit=False` the raw mean: the change of w per unit of the label (the face website's direction vector).
    """
    rng = np.random.RandomState(seed)
    n = len(w)
    i, j = rng.randint(0, n, size=pairs), rng.randint(0, n, size=pairs)
    dy = y[i] - y[j]
    keep = np.abs(dy) > max(np.quantile(np.abs(dy), min_quantile), 1e-12)
    if keep.sum() < 1:
        raise StyleGANError("all labels are equal: nothing to fit")
    flat = w.reshape(n, -1)
    i, j, dy = i[keep], j[keep], dy[keep]
    total = np.zeros(flat.shape[1], dtype=np.float64)
    for start in range(0, len(i), 4096):  # chunked: 100k pairs of W+ codes would not fit in memory at once
        sl = slice(start, start + 4096)
        total += ((flat[i[sl]].astype(np.float64) - flat[j[sl]]) / dy[sl, None]).sum(axis=0)
    mean = total / len(i)
    return (_unit(mean) if unit else mean).reshape(w.shape[1:])


def fit_logistic(w: np.ndarray, y: np.ndarray, *, C: float = 1.0) -> np.ndarray:
    """Logistic regression (balanced classes) on labels split at their median; the unit coefficient vector."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise SettingError(
            "{method} logistic needs scikit-learn: pip install 'stylegan[editing]'", method="method"
        ) from None
    cls = (y > np.median(y)).astype(int)
    if cls.min() == cls.max():
        raise StyleGANError("the median split puts every sample in one class: the labels barely vary")
    flat = _standardise(w.reshape(len(w), -1))
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=1000).fit(flat, cls)
    return _unit(model.coef_[0]).reshape(w.shape[1:])


def fit_svm(w: np.ndarray, y: np.ndarray, *, ratio: float = 0.02, C: float = 1.0) -> tuple[np.ndarray, float]:
    """InterFaceGAN: a linear SVM separating the top and bottom `ratio` of the samples by score.

    Returns the unit normal of the hyperplane and the accuracy on a held-out 30 % of the chosen samples.
    """
    try:
        from sklearn.svm import SVC
    except ImportError:
        raise SettingError(
            "{method} svm needs scikit-learn: pip install 'stylegan[editing]'", method="method"
        ) from None
    n = len(w)
    k = max(2, int(round(n * ratio)))
    if 2 * k > n:
        raise StyleGANError(f"{n} samples are too few for the top/bottom {ratio:.0%}")
    order = np.argsort(-y, kind="stable")
    pos, neg = order[:k], order[-k:]
    rng = np.random.RandomState(0)
    pos, neg = rng.permutation(pos), rng.permutation(neg)
    ntr = max(1, int(k * 0.7))
    flat = _standardise(w.reshape(n, -1))
    xtr = np.concatenate([flat[pos[:ntr]], flat[neg[:ntr]]])
    ytr = np.concatenate([np.ones(ntr), np.zeros(ntr)])
    model = SVC(kernel="linear", C=C).fit(xtr, ytr)
    xva = np.concatenate([flat[pos[ntr:]], flat[neg[ntr:]]])
    yva = np.concatenate([np.ones(k - ntr), np.zeros(k - ntr)])
    acc = float((model.predict(xva) == yva).mean()) if len(yva) else float("nan")
    return _unit(model.coef_[0]).reshape(w.shape[1:]), acc


def orthogonalize(direction: np.ndarray, conditions: Sequence[np.ndarray]) -> np.ndarray:
    """Project the span of the condition directions out of `direction` (InterFaceGAN's conditional editing).

    >>> d = orthogonalize(np.array([1.0, 1.0, 0.0]), [np.array([1.0, 0.0, 0.0])])
    >>> d.round(6).tolist()
    [0.0, 1.0, 0.0]
    """
    if not conditions:
        return direction
    shape = direction.shape
    c = np.stack([np.asarray(x, dtype=np.float64).reshape(-1) for x in conditions])  # [m, D]
    d = direction.reshape(-1).astype(np.float64)
    coef, *_ = np.linalg.lstsq(c @ c.T, c @ d, rcond=None)
    return _unit(d - c.T @ coef).reshape(shape)


def style_affines(
    G: Generator, layers: Sequence[int] | None = None, *, include_torgb: bool = False
) -> list[tuple[str, Tensor]]:
    """(name, weight [out, w_dim]) of the style affines that read the given w indices (all by default)."""
    syn = G.synthesis
    consumers: list[tuple[int, str, Any]] = []
    w_idx = 0
    for res in syn.block_resolutions:
        block = getattr(syn, f"b{res}")
        convs = [n for n in ("conv0", "conv1") if hasattr(block, n)]
        for k, n in enumerate(convs):
            consumers.append((w_idx + k, f"synthesis.b{res}.{n}", getattr(block, n)))
        if include_torgb and hasattr(block, "torgb"):
            consumers.append((w_idx + len(convs), f"synthesis.b{res}.torgb", block.torgb))
        w_idx += block.num_conv
    wanted = set(range(G.num_ws) if layers is None else layers)
    return [
        (f"{name}.affine", layer.affine.weight.detach().cpu().double())
        for i, name, layer in consumers
        if i in wanted and hasattr(layer, "affine")  # StyleGAN v1's ToRGB layers, and its baselines, read no style
    ]


def sefa(
    G: Generator, layers: Sequence[int] | None = None, *, include_torgb: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """SeFa: A = [affine weightᵀ of the chosen layers] [w_dim, Σout], each column normalised to unit length;
    returns the eigenvectors of A Aᵀ as rows [w_dim, w_dim] and their eigenvalues, largest first.
    """
    affines = style_affines(G, layers, include_torgb=include_torgb)
    if not affines:
        which = f"layers {list(layers)}" if layers else "any layer (a network without styles)"
        raise StyleGANError(f"no style affines read {which}")
    a = torch.cat([wt.T for _, wt in affines], dim=1).numpy()  # [w_dim, Σout]
    a = a / np.linalg.norm(a, axis=0, keepdims=True)
    vals, vecs = np.linalg.eigh(a @ a.T)
    order = np.argsort(-vals)
    return vecs[:, order].T.astype(np.float32), vals[order].astype(np.float32)


def ganspace(w: np.ndarray, num_components: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA of W samples [N, w_dim] -> (components [K, w_dim] unit rows, std along each [K], mean [w_dim])."""
    w = np.asarray(w, dtype=np.float64).reshape(len(w), -1)
    if len(w) < 2:
        raise StyleGANError("GANSpace needs at least 2 samples")
    mean = w.mean(axis=0)
    _, s, vt = np.linalg.svd(w - mean, full_matrices=False)
    k = min(num_components, len(vt))
    return vt[:k].astype(np.float32), (s[:k] / np.sqrt(len(w) - 1)).astype(np.float32), mean.astype(np.float32)


def fit_direction(
    method: str,
    *,
    G: Generator | None = None,
    samples: dict[str, np.ndarray] | None = None,
    labels: dict[str, np.ndarray] | None = None,
    attr: str = "",
    conditions: Sequence[str] = (),
    layers: Sequence[int] | None = None,
    num_components: int = 32,
    ratio: float = 0.02,
) -> Direction:
    """Fit a direction by `method` (mean-diff, logistic, svm, sefa, ganspace) and package it with the layer mask
    (`layers`, all by default) and the network's hash (when G is given)."""
    if method not in METHODS:
        raise StyleGANError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    num_ws = G.num_ws if G is not None else 0
    meta: dict[str, Any] = {}
    scale = None
    if method in SUPERVISED:
        if samples is None or labels is None or not attr:
            raise SettingError(
                f"{{method}} {method} needs samples, labels and an attribute ({{attr}})", method="method", attr="attr"
            )
        w, y = align_labels(samples, labels, attr)
        if method == "mean-diff":
            d = fit_mean_diff(w, y, unit=False)
            scale = np.array([np.linalg.norm(d)], dtype=np.float32)  # |Δw| per unit of the label
            d = _unit(d)
        elif method == "logistic":
            d = fit_logistic(w, y)
        else:
            d, acc = fit_svm(w, y, ratio=ratio)
            meta["val_accuracy"] = acc
        conds = []
        for c in conditions:
            wc, yc = align_labels(samples, labels, c)
            conds.append(
                fit_mean_diff(wc, yc)
                if method == "mean-diff"
                else fit_logistic(wc, yc)
                if method == "logistic"
                else fit_svm(wc, yc, ratio=ratio)[0]
            )
        d = orthogonalize(d, conds)
        vectors = d[None]
        # The boundary for absolute edits: the median sample's position along d (the median split).
        meta["offset"] = -float(np.median(w.reshape(len(w), -1) @ d.reshape(-1)))
        meta["samples"] = len(y)
        if conditions:
            meta["conditions"] = ",".join(conditions)
    elif method == "sefa":
        if G is None:
            raise SettingError("{method} sefa needs the network", method="method")
        vecs, vals = sefa(G, layers)
        vectors, scale = vecs[:num_components], vals[:num_components]
    else:
        if samples is None:
            raise SettingError("{method} ganspace needs samples (stylegan directions sample)", method="method")
        vectors, scale, mean = ganspace(samples["w"], num_components)
        meta["mean"] = mean
    if G is not None:
        mask = np.zeros(num_ws, dtype=bool)
        mask[list(range(num_ws)) if layers is None else list(layers)] = True
    else:
        mask = np.zeros(0, dtype=bool)
    return Direction(
        vectors=np.asarray(vectors, dtype=np.float32),
        layers=mask,
        method=method,
        network_hash=network_hash(G) if G is not None else "",
        attr=attr,
        scale=scale,
        meta=meta,
    )


def fit_direction_files(
    G: Generator,
    method: str,
    *,
    samples: str | os.PathLike[str] | None = None,
    labels: str | os.PathLike[str] | None = None,
    attr: str = "",
    conditions: Sequence[str] = (),
    layers: str | Sequence[int] | None = None,
    num_components: int = 32,
    ratio: float = 0.02,
) -> Direction:
    """`fit_direction` from a samples file and a labels CSV (`stylegan directions sample|label`), which must belong
    to G; `layers` may be a range or preset (`0-3`, `coarse`)."""
    from .latent_ops import parse_layers

    data = load_samples(samples) if samples else None
    if method in SUPERVISED and (data is None or labels is None or not attr):
        raise SettingError(
            f"{{method}} {method} needs {{samples}}, {{labels}} and {{attr}}",
            method="method",
            samples="samples",
            labels="labels",
            attr="attr",
        )
    if method == "ganspace" and data is None:
        raise SettingError(
            "{method} ganspace needs {samples} (stylegan directions sample)", method="method", samples="samples"
        )
    label_table = read_labels(labels) if labels else None
    idx = parse_layers(layers, G.num_ws) if layers else None
    if data is not None and data["w"].shape[-1] != G.w_dim:
        raise StyleGANError(f"{samples}: w_dim {data['w'].shape[-1]} does not match the network ({G.w_dim})")
    if data is not None and "network_hash" in data and str(data["network_hash"]) != network_hash(G):
        raise SettingError(
            f"{samples} was sampled from another network; sample again with this {{network}}", network="network"
        )
    return fit_direction(
        method,
        G=G,
        samples=data,
        labels=label_table,
        attr=attr,
        conditions=conditions,
        layers=idx,
        num_components=num_components,
        ratio=ratio,
    )


# ---------------------------------------------------------------------------------------------------------
# Applying


def apply_direction(
    ws: Tensor,
    direction: np.ndarray | Tensor,
    steps: Sequence[float],
    layers: Sequence[int] | np.ndarray | None = None,
    *,
    offset: float | None = None,
) -> Tensor:
    """w + step * direction on the chosen layers, for every step: ws [N, num_ws, w_dim] -> [N * S, num_ws, w_dim]
    (latent-major: the S steps of latent 0 first). `direction` is (w_dim) or (num_ws, w_dim); `layers` is a list of
    indices or a bool mask (all layers when None or empty). With `offset` (a supervised direction file's
    `meta['offset']`), steps are absolute: the edited latents sit at signed distance `step` from the boundary.

    >>> out = apply_direction(torch.zeros(1, 3, 2), np.array([1.0, 0.0]), [-1, 2], layers=[0])
    >>> out[:, :, 0].tolist()
    [[-1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]
    """
    num_ws = ws.shape[1]
    d = torch.as_tensor(np.asarray(direction), dtype=ws.dtype)
    if d.ndim == 1:
        d = d[None].expand(num_ws, -1)
    if d.shape != ws.shape[1:]:
        raise StyleGANError(f"direction shape {list(d.shape)} does not fit latents {list(ws.shape[1:])}")
    mask = torch.zeros(num_ws, dtype=ws.dtype)
    if layers is None or len(layers) == 0:
        mask[:] = 1
    else:
        arr = np.asarray(layers)
        idx = np.flatnonzero(arr) if arr.dtype == bool else arr.astype(int)
        if len(idx) and (idx.min() < 0 or idx.max() >= num_ws):
            raise StyleGANError(f"layers {idx.tolist()} are out of range: this network has layers 0..{num_ws - 1}")
        mask[torch.as_tensor(idx, dtype=torch.long)] = 1
    delta = d * mask[:, None]  # [num_ws, w_dim]
    s = torch.as_tensor(list(steps), dtype=ws.dtype)[None, :]  # [1, S]
    if offset is not None:
        # InterFaceGAN's absolute mode: each step is a target position along the direction, measured from the
        # boundary n·w + offset = 0 (a 1-D direction reads the mean of the moved layers; W+ reads all of them).
        if d.ndim == 2 and np.asarray(direction).ndim == 1:
            pos = (ws[:, mask.bool()].mean(dim=1) @ d[0]) + offset  # [N]
        else:
            pos = (ws * d).sum(dim=(1, 2)) + offset
        s = s - pos[:, None]  # [N, S]
    return (ws[:, None] + s[:, :, None, None] * delta).reshape(-1, *ws.shape[1:])


__all__ = [
    "Direction",
    "METHODS",
    "STATS",
    "align_labels",
    "apply_direction",
    "fit_direction",
    "fit_direction_files",
    "fit_logistic",
    "fit_mean_diff",
    "fit_svm",
    "ganspace",
    "image_statistic",
    "label_samples",
    "label_samples_file",
    "load_samples",
    "make_samples",
    "orthogonalize",
    "read_labels",
    "sample_latents",
    "save_samples",
    "sefa",
    "style_affines",
    "write_labels",
]
