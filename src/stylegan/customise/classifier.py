"""A small image classifier for any labelled dataset, trained from scratch in pure PyTorch (CPU-first).

It steers and filters generation: `filter_dataset` keeps the images it puts in a class, and the Z-code generator
(`stylegan.customise.zgen`) is trained through its differentiable `predict`.

Working size: every image is resized (bilinear, antialiased, in float) to `resolution` px, 32 by default, before
it is classified: small enough that a few epochs on a CPU take seconds, large enough for the colour, layout and
coarse shape that a generated image's class usually depends on. Channels are matched to the dataset's (grey is
repeated, an alpha channel dropped). Network: three stages of two 3x3 convolutions (leaky ReLU) and a 2x average
pool (width, 2 width, 4 width channels), a global average pool (the penultimate features, `features`) and a
linear layer to the class logits.

File: one `.safetensors` with the weights and JSON metadata (format, configuration, class names, working size,
held-out accuracy, the dataset's file name, the sha256 of the weights, checked on loading).

>>> clf = Classifier(ClassifierConfig(num_classes=2), class_names=("red", "blue"))
>>> clf.predict(np.zeros((3, 64, 64, 3), np.uint8)).shape
torch.Size([3, 2])
>>> clf.class_index("blue"), clf.class_index(0), clf.class_index("1")
(1, 0, 1)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import SettingError, StyleGANError

FORMAT = "stylegan-classifier/1"
#: Label smoothing of the training loss: keeps the logits bounded, so that the gradients a Z-code generator trains
#: with do not vanish on images the classifier is sure about (two classes: a perfect fit gives p = 0.975).
LABEL_SMOOTHING = 0.05
#: The default working size (pixels) images are resized to before they are classified.
DEFAULT_RESOLUTION = 32


@dataclass(frozen=True)
class ClassifierConfig:
    """Shape of a classifier: working size, channels it reads, number of classes, width of its first stage."""

    num_classes: int
    resolution: int = DEFAULT_RESOLUTION
    channels: int = 3
    width: int = 32

    def __post_init__(self) -> None:
        if self.resolution < 8 or self.resolution & (self.resolution - 1) or self.resolution > 256:
            raise SettingError(
                f"{{resolution}} must be a power of two in [8, 256], got {self.resolution}", "resolution"
            )
        if self.channels not in (1, 3, 4):
            raise StyleGANError(f"a classifier reads 1, 3 or 4 channels, not {self.channels}")
        if not 2 <= self.num_classes <= 100_000:
            raise StyleGANError(f"a classifier needs at least 2 classes, got {self.num_classes}")
        if not 1 <= self.width <= 1024:
            raise StyleGANError(f"classifier width must be in [1, 1024], got {self.width}")


@dataclass
class ClassifierInfo:
    """What a classifier file records besides its weights."""

    class_names: tuple[str, ...]
    dataset: str = ""
    val_accuracy: float | None = None
    num_train: int = 0
    num_val: int = 0
    epochs: int = 0
    weights_sha256: str = ""


def match_channels(x: Tensor, channels: int) -> Tensor:
    """Float images [N, C, H, W] with `channels` channels: grey repeated to 3, alpha dropped, colour averaged to grey.

    >>> match_channels(torch.zeros(1, 1, 4, 4), 3).shape, match_channels(torch.zeros(1, 4, 4, 4), 1).shape
    (torch.Size([1, 3, 4, 4]), torch.Size([1, 1, 4, 4]))
    """
    c = x.shape[1]
    if c == channels:
        return x
    if c == 4:
        x, c = x[:, :3], 3
        if channels == 3:
            return x
    if c == 3 and channels == 1:
        return x.mean(dim=1, keepdim=True)
    if c == 1 and channels in (3, 4):
        x = x.expand(-1, 3, -1, -1)
        return x if channels == 3 else torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
    if c == 3 and channels == 4:
        return torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
    raise StyleGANError(f"cannot classify images with {x.shape[1]} channels (the classifier reads {channels})")


def to_working_size(x: Tensor, resolution: int, channels: int) -> Tensor:
    """Float images [N, C, H, W] in [-1, 1] -> [N, channels, resolution, resolution] (bilinear, antialiased)."""
    x = match_channels(x, channels)
    if x.shape[-2:] != (resolution, resolution):
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=True)
    return x


class Classifier(nn.Module):
    """Images -> class logits. `predict` gives probabilities for uint8 or float images; `class_index` resolves
    a class given by name or index."""

    def __init__(self, cfg: ClassifierConfig, class_names: Sequence[str] | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        names = tuple(class_names) if class_names is not None else tuple(str(i) for i in range(cfg.num_classes))
        if len(names) != cfg.num_classes:
            raise StyleGANError(f"{len(names)} class names for {cfg.num_classes} classes")
        self.info = ClassifierInfo(class_names=names)
        layers: list[nn.Module] = []
        ch_in, ch = cfg.channels, cfg.width
        for _ in range(3):
            layers += [nn.Conv2d(ch_in, ch, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(ch, ch, 3, padding=1)]
            layers += [nn.LeakyReLU(0.2), nn.AvgPool2d(2)]
            ch_in, ch = ch, ch * 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(ch_in, cfg.num_classes)
        self.feature_dim = ch_in

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names

    def features(self, x: Tensor) -> Tensor:
        """Penultimate features [N, feature_dim] of float images [N, C, H, W] in [-1, 1] (any size, resized)."""
        x = to_working_size(x.float(), self.cfg.resolution, self.cfg.channels)
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits [N, K] of float images [N, C, H, W] in [-1, 1] (any size: resized to the working size)."""
        return self.head(self.features(x))

    def predict(self, images: np.ndarray | Tensor, batch_size: int = 256) -> Tensor:
        """Class probabilities [N, K].

        uint8 images [N, H, W, C] (numpy or torch) are classified without gradients, in batches; float tensors
        [N, C, H, W] in [-1, 1] (a generator's output) go through one differentiable call.
        """
        device = next(self.parameters()).device
        if isinstance(images, np.ndarray) or images.dtype == torch.uint8:
            arr = torch.from_numpy(np.array(images)) if isinstance(images, np.ndarray) else images
            if arr.ndim != 4:
                raise StyleGANError(f"expected uint8 images [N, H, W, C], got shape {list(arr.shape)}")
            out = []
            with torch.no_grad():
                for i in range(0, len(arr), batch_size):
                    x = arr[i : i + batch_size].to(device).permute(0, 3, 1, 2).float() / 127.5 - 1
                    out.append(self(x).softmax(dim=1))
            return torch.cat(out) if out else torch.zeros(0, self.cfg.num_classes, device=device)
        if images.ndim != 4:
            raise StyleGANError(f"expected float images [N, C, H, W], got shape {list(images.shape)}")
        return self(images.to(device)).softmax(dim=1)

    def class_index(self, name_or_index: str | int) -> int:
        """The index of a class given by name (as the dataset names it) or by index (an int or a digit string)."""
        names = self.class_names
        if isinstance(name_or_index, str) and name_or_index in names:
            return names.index(name_or_index)
        try:
            idx = int(name_or_index)
        except (TypeError, ValueError):
            idx = -1
        if 0 <= idx < len(names) and not isinstance(name_or_index, bool):
            return idx
        shown = ", ".join(f"{i}={n}" for i, n in enumerate(names[:20])) + (", ..." if len(names) > 20 else "")
        raise SettingError(f"{{class_}} {str(name_or_index)[:40]!r}: no such class; the classes are {shown}", "class_")

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self.cfg).items())


# ---- training ------------------------------------------------------------------------------------------------


@dataclass
class ClassifierMetrics:
    """What training measured: per-epoch lines and the final accuracies (held-out is None without a split)."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    train_accuracy: float = 0.0
    val_accuracy: float | None = None
    num_train: int = 0
    num_val: int = 0


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices: `val_fraction` of each class held out (rounded; at least one image of a class
    with two or more, none of a class with one), shuffled with `seed`.

    >>> tr, va = stratified_split(np.array([0] * 10 + [1] * 5), 0.2, seed=0)
    >>> len(tr), len(va), sorted(np.bincount(np.array([0] * 10 + [1] * 5)[va]).tolist())
    (12, 3, [1, 2])
    """
    rng = np.random.RandomState(seed % 2**32)
    train, val = [], []
    for k in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == k))
        n_val = 0 if len(idx) < 2 or val_fraction <= 0 else min(len(idx) - 1, max(1, round(val_fraction * len(idx))))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return rng.permutation(np.concatenate(train)), np.sort(np.concatenate(val)).astype(np.int64)


def augment(x: Tensor, gen: torch.Generator) -> Tensor:
    """Random horizontal flips, translations by up to 1/16 of the size (edge pixels repeated), and colour jitter
    (brightness +-0.1, contrast and saturation x[0.8, 1.2]) of float images [N, C, R, R] in [-1, 1]."""
    n, c, r, _ = x.shape
    dev = x.device
    flip = torch.rand(n, generator=gen, device=dev) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    pad = max(1, r // 16)
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen, device=dev).tolist()
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen, device=dev).tolist()
    x = torch.stack([padded[i, :, dy[i] : dy[i] + r, dx[i] : dx[i] + r] for i in range(n)])
    u = torch.rand(n, 3, generator=gen, device=dev)
    x = x + (u[:, 0] * 0.2 - 0.1)[:, None, None, None]
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = mean + (x - mean) * (0.8 + 0.4 * u[:, 1])[:, None, None, None]
    if c >= 3:
        grey = x[:, :3].mean(dim=1, keepdim=True)
        rgb = grey + (x[:, :3] - grey) * (0.8 + 0.4 * u[:, 2])[:, None, None, None]
        x = torch.cat([rgb, x[:, 3:]], dim=1)
    return x.clamp(-1, 1)


def load_labelled_images(dataset_path: str | os.PathLike[str], resolution: int) -> tuple[Tensor, np.ndarray, Any]:
    """A labelled dataset's images at the working size (uint8 [N, C, R, R]), their classes (int64 [N]) and the
    `ImageDataset`. A dataset without integer class labels is refused in one line."""
    from ..data import ImageDataset

    path = Path(dataset_path)
    ds = ImageDataset(path)
    if not ds.has_labels:
        raise StyleGANError(
            f"{path}: the dataset has no class labels; prepare it with `stylegan dataset prepare --labels "
            "from-folders` (one sub-folder per class) or a CSV of filename,label"
        )
    ds.use_labels = True
    if ds.label_counts() is None:
        raise StyleGANError(f"{path}: the dataset's labels are vectors, not classes; a classifier needs classes")
    counts = ds.label_counts() or {}
    if len(counts) < 2:
        raise StyleGANError(f"{path}: only one class has images; a classifier needs images of at least two classes")
    labels = np.array([int(ds.get_label(i).argmax()) for i in range(ds.num_images)], dtype=np.int64)
    chunks = []
    for start in range(0, ds.num_images, 256):
        batch = np.stack([ds.load_image(i) for i in range(start, min(start + 256, ds.num_images))])
        x = torch.from_numpy(batch).float() / 127.5 - 1
        x = to_working_size(x, resolution, ds.num_channels)
        chunks.append(((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8))
    return torch.cat(chunks), labels, ds


def _accuracy(clf: Classifier, images: Tensor, labels: np.ndarray, batch: int) -> float:
    if len(labels) == 0:
        return float("nan")
    probs = clf.predict(images.permute(0, 2, 3, 1), batch_size=batch)
    return float((probs.argmax(1).cpu().numpy() == labels).mean())


def train_classifier(
    dataset_path: str | os.PathLike[str],
    *,
    epochs: int = 10,
    batch: int = 64,
    val_fraction: float = 0.2,
    seed: int = 0,
    resolution: int | None = None,
    width: int = 32,
    lr: float = 2e-3,
    device: torch.device | str = "cpu",
    progress: Callable[[str], None] | None = None,
) -> tuple[Classifier, ClassifierMetrics]:
    """Train a classifier on a labelled dataset (folder or zip with dataset.json class labels).

    A stratified `val_fraction` of each class is held out; each epoch shuffles the rest, augments it (`augment`) and
    takes Adam steps on the cross-entropy. `progress` receives one line per epoch (loss, training and held-out
    accuracy). The held-out accuracy of the last epoch is stored in the classifier's `info` (and its file).
    `resolution` is the working size (default `DEFAULT_RESOLUTION`).
    """
    if epochs < 1:
        raise SettingError(f"{{epochs}} must be at least 1, got {epochs}", "epochs")
    if batch < 1:
        raise SettingError(f"{{batch}} must be at least 1, got {batch}", "batch")
    if not 0 <= val_fraction < 1:
        raise SettingError(f"{{val_fraction}} must be in [0, 1), got {val_fraction}", "val_fraction")
    res = resolution or DEFAULT_RESOLUTION
    images, labels, ds = load_labelled_images(dataset_path, res)
    names = ds.class_names if ds.class_names is not None else [str(i) for i in range(ds.label_dim)]
    names = tuple(names[: ds.label_dim]) if len(names) >= ds.label_dim else tuple(str(i) for i in range(ds.label_dim))
    cfg = ClassifierConfig(num_classes=ds.label_dim, resolution=res, channels=ds.num_channels, width=width)
    dev = torch.device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        clf = Classifier(cfg, names).to(dev)
    train_idx, val_idx = stratified_split(labels, val_fraction, seed)
    x_train, y_train = images[train_idx], torch.from_numpy(labels[train_idx])
    x_val, y_val = images[val_idx], labels[val_idx]
    gen = torch.Generator(device="cpu").manual_seed(seed)
    opt = torch.optim.Adam(clf.parameters(), lr=lr, betas=(0.9, 0.99))
    steps_per_epoch = math.ceil(len(train_idx) / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    metrics = ClassifierMetrics(num_train=len(train_idx), num_val=len(val_idx))
    for epoch in range(1, epochs + 1):
        clf.train()
        order = torch.randperm(len(train_idx), generator=gen)
        total_loss = correct = 0.0
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            x = augment(x_train[idx].float() / 127.5 - 1, gen).to(dev)
            y = y_train[idx].to(dev)
            logits = clf(x)
            loss = F.cross_entropy(logits, y, label_smoothing=LABEL_SMOOTHING)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += float(loss.detach()) * len(idx)
            correct += float((logits.argmax(1) == y).sum())
        clf.eval()
        train_acc = correct / len(train_idx)
        val_acc = _accuracy(clf, x_val, y_val, batch) if len(val_idx) else None
        row = {"epoch": epoch, "loss": total_loss / len(train_idx), "train_accuracy": train_acc}
        if val_acc is not None:
            row["val_accuracy"] = val_acc
        metrics.epochs.append(row)
        if progress is not None:
            held = f", held-out accuracy {val_acc:.3f}" if val_acc is not None else ""
            progress(f"epoch {epoch}/{epochs}: loss {row['loss']:.4f}, train accuracy {train_acc:.3f}{held}")
    metrics.train_accuracy = metrics.epochs[-1]["train_accuracy"]
    metrics.val_accuracy = metrics.epochs[-1].get("val_accuracy")
    clf.info = ClassifierInfo(
        class_names=names,
        dataset=Path(dataset_path).name,
        val_accuracy=metrics.val_accuracy,
        num_train=len(train_idx),
        num_val=len(val_idx),
        epochs=epochs,
    )
    return clf.requires_grad_(False), metrics


# ---- files ---------------------------------------------------------------------------------------------------


def save_classifier(clf: Classifier, path: str | os.PathLike[str]) -> Path:
    """Write weights + metadata to one .safetensors file (atomically); records the weights' sha256."""
    from ..io.hashing import network_hash
    from ..io.modelfile import save_module_file

    clf.info.weights_sha256 = network_hash(clf)
    meta = {"format": FORMAT, "config": json.dumps(asdict(clf.cfg)), "info": json.dumps(asdict(clf.info))}
    return save_module_file(path, clf, meta)


def load_classifier(path: str | os.PathLike[str], device: torch.device | str = "cpu") -> Classifier:
    """Read a classifier written by `save_classifier`; anything else (or a damaged file) is one StyleGANError."""
    from ..io.hashing import network_hash
    from ..io.modelfile import read_module_file

    state, meta = read_module_file(path, FORMAT, "classifier", "train one with `stylegan classifier train`")
    try:
        cfg = ClassifierConfig(**json.loads(meta["config"]))
        info = ClassifierInfo(**json.loads(meta["info"]))
        info.class_names = tuple(info.class_names)
        clf = Classifier(cfg, info.class_names)
        clf.load_state_dict(state, strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError, StyleGANError) as e:
        raise StyleGANError(f"{path}: damaged classifier file ({str(e).splitlines()[0][:100]})") from None
    if network_hash(clf) != info.weights_sha256:
        raise StyleGANError(f"{path}: the weights do not match their recorded sha256; the file is damaged or altered")
    clf.info = info
    return clf.eval().requires_grad_(False).to(device)


def predict_files(clf: Classifier, paths: Sequence[str | os.PathLike[str]]) -> list[tuple[Path, str, float]]:
    """(file, most likely class name, its probability) for each image file; an unreadable file is one error."""
    from ..data.imageops import BadImage, decode_image, to_channels

    out = []
    for p in map(Path, paths):
        try:
            img = to_channels(decode_image(p.read_bytes()), 3 if clf.cfg.channels == 4 else clf.cfg.channels)
        except (BadImage, OSError) as e:
            raise StyleGANError(f"{p}: cannot read the image ({e})") from None
        arr = np.asarray(img)
        arr = arr[:, :, None] if arr.ndim == 2 else arr
        probs = clf.predict(arr[None])[0]
        k = int(probs.argmax())
        out.append((p, clf.class_names[k], float(probs[k])))
    return out


__all__ = [
    "DEFAULT_RESOLUTION",
    "Classifier",
    "ClassifierConfig",
    "ClassifierInfo",
    "ClassifierMetrics",
    "augment",
    "load_classifier",
    "load_labelled_images",
    "match_channels",
    "predict_files",
    "save_classifier",
    "stratified_split",
    "to_working_size",
    "train_classifier",
]
