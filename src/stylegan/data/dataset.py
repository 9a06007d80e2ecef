"""The training dataset: a folder or uncompressed zip of images plus optional `dataset.json` labels, read the
way NVIDIA's `ImageFolderDataset` reads it (same file order, same label encoding), so datasets made by either
tool work with both.

Items are `(image, label)`: image uint8 [C, H, W], label float32 [label_dim] (one-hot for integer labels,
an empty vector when labels are off). With `xflip=True` the dataset doubles, the second half mirrored.
A corrupt or odd image inside a dataset never stops a run: it is converted or replaced by its neighbour, and
named once in a warning.
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import StyleGANError
from .imageops import BadImage, decode_image, fit_image, image_to_chw, to_channels

log = logging.getLogger(__name__)

#: File name extensions treated as images (those PIL can open), as NVIDIA's reader does.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(ext.lower() for ext in Image.registered_extensions()) | {
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".webp",
}


@dataclass(frozen=True)
class DatasetInfo:
    """What a training run needs to know about a dataset (written into the run's config.json)."""

    path: str
    name: str
    num_images: int
    resolution: int
    num_channels: int
    label_dim: int
    has_labels: bool
    class_names: tuple[str, ...] | None = None


class ImageDataset(torch.utils.data.Dataset):
    """NVIDIA-compatible image dataset (folder or zip; `dataset.json` labels).

    Args:
        path: folder or `.zip` file.
        use_labels: return labels (one-hot for integer labels); False returns empty label vectors.
        xflip: append a mirrored copy of every image (NVIDIA's `--mirror`).
        max_size: keep a random subset of this many images (seeded by `seed`), as NVIDIA's `--subset`.
        resolution: expected resolution; None infers it from the first image.
        cache: keep decoded images in memory after the first read.

    >>> import tempfile, pathlib, numpy as np
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(3): Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(d / f"{i}.png")
    >>> ds = ImageDataset(d, xflip=True)
    >>> len(ds), ds.image_shape, ds[0][0].dtype
    (6, (3, 8, 8), dtype('uint8'))
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        use_labels: bool = False,
        xflip: bool = False,
        max_size: int | None = None,
        seed: int = 0,
        resolution: int | None = None,
        cache: bool = False,
    ) -> None:
        self.path = Path(path)
        self.name = self.path.stem
        self._zipfile: zipfile.ZipFile | None = None
        self._zip_pid: int | None = None
        if self.path.is_dir():
            self._type = "dir"
            all_names = sorted(f.relative_to(self.path).as_posix() for f in self.path.rglob("*") if f.is_file())
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            self._type = "zip"
            all_names = sorted(n for n in self._get_zipfile().namelist() if not n.endswith("/"))
        elif self.path.exists():
            raise StyleGANError(f"{self.path}: a dataset must be a folder or a .zip (see `stylegan dataset prepare`)")
        else:
            raise StyleGANError(f"{self.path}: no such dataset")
        self.image_names = [n for n in all_names if Path(n).suffix.lower() in IMAGE_EXTENSIONS and not _hidden(n)]
        if not self.image_names:
            raise StyleGANError(f"{self.path}: no images found")
        self._cache: dict[int, np.ndarray] | None = {} if cache else None
        self._bad: set[str] = set()

        first_name, first = self._first_decodable()
        c, h, w = first.shape
        if resolution is None:
            if h != w:
                raise StyleGANError(
                    f"{self.path}: images must be square, the first one ({first_name}) is {w}x{h}; "
                    "run `stylegan dataset prepare` to crop or pad them"
                )
            resolution = h
        if resolution < 4 or resolution & (resolution - 1):
            raise StyleGANError(f"{self.path}: resolution {resolution} is not a power of two >= 4")
        self.resolution = resolution
        self.num_channels = c if c in (1, 3, 4) else 3
        self.image_shape = (self.num_channels, resolution, resolution)

        self.class_names: tuple[str, ...] | None = None
        raw_labels = self._load_raw_labels()
        self.has_labels = raw_labels is not None
        self._raw_labels = raw_labels if raw_labels is not None else np.zeros((len(self.image_names), 0), np.float32)
        self.label_dim = int(self._raw_labels.max()) + 1 if self._raw_labels.ndim == 1 else self._raw_labels.shape[1]
        self.use_labels = use_labels
        if use_labels and not self.has_labels:
            raise StyleGANError(
                f"{self.path}: conditional training (--cond) needs labels, but the dataset has no dataset.json "
                "labels; prepare it with `stylegan dataset prepare --labels from-folders` or a CSV"
            )

        self._raw_idx = np.arange(len(self.image_names), dtype=np.int64)
        if max_size is not None and max_size < len(self._raw_idx):
            rng = np.random.RandomState(seed % (1 << 31))
            self._raw_idx = np.sort(rng.permutation(self._raw_idx)[:max_size])
        self.xflip = xflip
        self._xflip = np.zeros(len(self._raw_idx), dtype=np.uint8)
        if xflip:
            self._raw_idx = np.tile(self._raw_idx, 2)
            self._xflip = np.concatenate([self._xflip, np.ones_like(self._xflip)])

    # ---- file access -------------------------------------------------------------------------------------------
    def _get_zipfile(self) -> zipfile.ZipFile:
        if self._zipfile is None or self._zip_pid != os.getpid():  # re-open in every DataLoader worker
            self._zipfile = zipfile.ZipFile(self.path)
            self._zip_pid = os.getpid()
        return self._zipfile

    def _read(self, name: str) -> bytes:
        if self._type == "dir":
            return (self.path / name).read_bytes()
        return self._get_zipfile().read(name)

    def __getstate__(self) -> dict[str, object]:
        return dict(self.__dict__, _zipfile=None, _zip_pid=None)

    def close(self) -> None:
        """Close the zip file handle (reopened on demand)."""
        if self._zipfile is not None:
            self._zipfile.close()
        self._zipfile = None

    def _decode_raw(self, raw_idx: int) -> np.ndarray:
        img = decode_image(self._read(self.image_names[raw_idx]))
        if img.mode not in ("L", "RGB", "RGBA"):
            img = to_channels(img, 1 if img.mode in ("1", "I", "F") or img.mode.startswith(("I;16", "L")) else 3)
        return image_to_chw(img)

    def _first_decodable(self) -> tuple[str, np.ndarray]:
        for idx, name in enumerate(self.image_names):
            try:
                return name, self._decode_raw(idx)
            except (BadImage, OSError) as e:
                self._bad.add(name)
                log.warning("dataset %s: skipping %s: %s", self.path, name, e)
        raise StyleGANError(f"{self.path}: none of its {len(self.image_names)} images can be decoded")

    def _load_raw_labels(self) -> np.ndarray | None:
        meta_name = "dataset.json"
        try:
            data = self._read(meta_name)
        except (FileNotFoundError, KeyError):
            return None
        try:
            meta = json.loads(data)
        except (ValueError, UnicodeDecodeError) as e:
            raise StyleGANError(f"{self.path}/dataset.json: not valid JSON ({e})") from None
        labels = meta.get("labels") if isinstance(meta, dict) else None
        if labels is None:
            return None
        mapping = {str(k).replace("\\", "/"): v for k, v in labels}
        missing = [n for n in self.image_names if n not in mapping]
        if missing:
            raise StyleGANError(
                f"{self.path}/dataset.json has no label for {len(missing)} image(s), e.g. {missing[0]}; "
                'every image needs one (or set "labels": null)'
            )
        arr = np.array([mapping[n] for n in self.image_names])
        if arr.ndim == 1:
            arr = arr.astype(np.int64)
            if arr.min() < 0:
                raise StyleGANError(f"{self.path}/dataset.json: negative class label {arr.min()}")
        else:
            arr = arr.astype(np.float32)
        names = meta.get("class_names")
        if isinstance(names, list) and arr.ndim == 1 and len(names) >= int(arr.max()) + 1:
            self.class_names = tuple(str(n) for n in names)
        return arr

    def load_image(self, raw_idx: int) -> np.ndarray:
        """uint8 [C, H, W] image of raw index `raw_idx`, fitted to the dataset's shape. A file that fails to decode
        is reported once (logging warning) and replaced by the next good image."""
        if self._cache is not None and raw_idx in self._cache:
            return self._cache[raw_idx]
        for attempt in range(len(self.image_names)):
            idx = (raw_idx + attempt) % len(self.image_names)
            name = self.image_names[idx]
            try:
                img = self._decode_raw(idx)
            except (BadImage, OSError) as e:
                if name not in self._bad:
                    self._bad.add(name)
                    log.warning("dataset %s: skipping %s: %s", self.path, name, e)
                continue
            if img.shape != self.image_shape:
                img = self._conform(img, name)
            if self._cache is not None:
                self._cache[raw_idx] = img
            return img
        raise StyleGANError(f"{self.path}: no image could be decoded")

    def _conform(self, img: np.ndarray, name: str) -> np.ndarray:
        """Bring an image of the wrong size or channel count to the dataset's shape (warned once per file)."""
        if name not in self._bad:
            self._bad.add(name)
            log.warning(
                "dataset %s: %s has shape %s, expected %s; converting it (center crop)",
                self.path,
                name,
                tuple(img.shape),
                self.image_shape,
            )
        pil = Image.fromarray(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0))
        pil = to_channels(pil, self.num_channels)
        pil = fit_image(pil, self.resolution, "center-crop")
        return image_to_chw(pil)

    # ---- Dataset protocol --------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._raw_idx)

    def __getitem__(self, idx: int) -> tuple[np.ndarray, np.ndarray]:
        image = self.load_image(int(self._raw_idx[idx]))
        if self._xflip[idx]:
            image = image[:, :, ::-1]
        return np.ascontiguousarray(image), self.get_label(idx)

    def get_label(self, idx: int) -> np.ndarray:
        """float32 [label_dim] label of item `idx` (empty when labels are off)."""
        if not self.use_labels:
            return np.zeros(0, np.float32)
        raw = self._raw_labels[self._raw_idx[idx]]
        if self._raw_labels.ndim == 1:
            onehot = np.zeros(self.label_dim, np.float32)
            onehot[int(raw)] = 1
            return onehot
        return raw.astype(np.float32)

    @property
    def num_images(self) -> int:
        """Number of image files (before x-flip and subsetting)."""
        return len(self.image_names)

    @property
    def bad_files(self) -> list[str]:
        """Files found corrupt or of the wrong shape so far."""
        return sorted(self._bad)

    def label_counts(self) -> dict[int, int] | None:
        """Images per integer class, or None for unlabelled / vector-labelled datasets."""
        if not self.has_labels or self._raw_labels.ndim != 1:
            return None
        vals, counts = np.unique(self._raw_labels, return_counts=True)
        return {int(v): int(c) for v, c in zip(vals, counts)}

    def info(self) -> DatasetInfo:
        """A JSON-friendly summary for the run's config."""
        return DatasetInfo(
            path=str(self.path),
            name=self.name,
            num_images=self.num_images,
            resolution=self.resolution,
            num_channels=self.num_channels,
            label_dim=self.label_dim if self.use_labels else 0,
            has_labels=self.has_labels,
            class_names=self.class_names,
        )


def _hidden(name: str) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in name.split("/"))
