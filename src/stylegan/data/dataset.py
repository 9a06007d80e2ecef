"""The training dataset: a folder or uncompressed zip of images plus optional `dataset.json` labels, read the
way NVIDIA's `ImageFolderDataset` reads it (same file order, same label encoding), so datasets made by either
tool work with both.

Items are `(image, label)`: image uint8 [C, H, W], label float32 [label_dim] (one-hot for integer labels,
an empty vector when labels are off). With `xflip=True` the dataset doubles, the second half mirrored.
A corrupt or odd image inside a dataset never stops a run: it is converted or replaced by its neighbour, and
named once in a warning.
"""

from __future__ import annotations

import logging
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import StyleGANError
from .imageops import BadImage, decode_image, fit_image, image_size, image_to_chw, to_channels
from .labels import DatasetLabels, load_labels, majority_resolution
from .sources import (
    UnreadableFile,
    check_zip_member,
    open_zip,
    read_file,
    read_file_head,
    read_zip_member,
    reason,
    shown,
    walk_folder,
    zip_members,
)

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
        all_names = self._list_files()
        self.image_names = [n for n in all_names if is_dataset_image(n)]
        if not self.image_names:
            raise StyleGANError(f"{self.path}: no images found")
        self._cache: dict[int, np.ndarray] | None = {} if cache else None
        self._bad: set[str] = set()

        if resolution is None:
            sizes: dict[tuple[int, int], list[str]] = {}
            for name in self.image_names:
                size = self._declared_size(name)
                if size is not None:
                    sizes.setdefault(size, []).append(name)
            resolution, note = majority_resolution(str(self.path), sizes, len(self.image_names))
            if note:
                log.warning("dataset %s", note)
        _, first = self._first_decodable()
        c = first.shape[0]
        if resolution < 4 or resolution & (resolution - 1):
            raise StyleGANError(f"{self.path}: resolution {resolution} is not a power of two >= 4")
        self.resolution = resolution
        self.num_channels = c if c in (1, 3, 4) else 3
        self.image_shape = (self.num_channels, resolution, resolution)

        labels = self._load_labels(all_names)
        self.has_labels = labels is not None
        self.class_names: tuple[str, ...] | None = labels.class_names if labels is not None else None
        self._raw_labels = labels.raw if labels is not None else np.zeros((len(self.image_names), 0), np.float32)
        self.label_dim = labels.label_dim if labels is not None else 0
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
    def _list_files(self) -> list[str]:
        """Every file of the dataset (sorted); sets the source type."""
        try:
            mode = os.stat(self.path).st_mode
        except (FileNotFoundError, ValueError):
            raise StyleGANError(f"{self.path}: no such dataset") from None
        except OSError as e:  # a link loop, no permission
            raise StyleGANError(f"{self.path}: cannot read it ({e.strerror or e})") from None
        if stat.S_ISDIR(mode):
            self._type = "dir"
            return [name for name, _ in walk_folder(self.path)[0]]
        if stat.S_ISREG(mode) and _is_zip(self.path):
            self._type = "zip"
            return sorted(i.filename for i in zip_members(self._get_zipfile()))
        raise StyleGANError(f"{self.path}: a dataset must be a folder or a .zip (see `stylegan dataset prepare`)")

    def _get_zipfile(self) -> zipfile.ZipFile:
        if self._zipfile is None or self._zip_pid != os.getpid():  # re-open in every DataLoader worker
            self._zipfile = open_zip(self.path)
            self._zip_pid = os.getpid()
        return self._zipfile

    def _read(self, name: str) -> bytes:
        """The bytes of a file, size-checked before reading (UnreadableFile, an OSError, when refused)."""
        if self._type == "dir":
            return read_file(self.path / name)
        zf = self._get_zipfile()
        try:
            info = zf.getinfo(name)
        except KeyError:
            raise UnreadableFile("missing from the zip") from None
        return read_zip_member(zf, info)

    def _read_head(self, name: str, size: int) -> bytes:
        """At most the first `size` bytes of a file (for reading image headers)."""
        if self._type == "dir":
            return read_file_head(self.path / name, size)
        zf = self._get_zipfile()
        info = zf.getinfo(name)
        check_zip_member(info)
        try:
            with zf.open(info) as f:
                return f.read(size)
        except Exception as e:  # a damaged archive can make zipfile raise anything
            raise UnreadableFile(f"unreadable zip member ({reason(e)})") from None

    def _declared_size(self, name: str) -> tuple[int, int] | None:
        """The (width, height) an image declares, from its first bytes (the whole file when its header is longer);
        None (and the file named once in a warning) when it is refused or unreadable."""
        try:
            try:
                return image_size(self._read_head(name, _HEAD_BYTES))
            except (BadImage, OSError):
                return image_size(self._read(name))
        except (BadImage, OSError) as e:
            self._bad.add(name)
            log.warning("dataset %s: skipping %s: %s", self.path, shown(name), e)
            return None

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
            if name in self._bad:
                continue
            try:
                return name, self._decode_raw(idx)
            except (BadImage, OSError) as e:
                self._bad.add(name)
                log.warning("dataset %s: skipping %s: %s", self.path, shown(name), e)
        raise StyleGANError(f"{self.path}: none of its {len(self.image_names)} images can be decoded")

    def _load_labels(self, all_names: list[str]) -> DatasetLabels | None:
        if "dataset.json" not in all_names:
            return None
        return load_labels(lambda: self._read("dataset.json"), self.image_names, str(self.path))

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
                    log.warning("dataset %s: skipping %s: %s", self.path, shown(name), e)
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
                shown(name),
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


#: Bytes read from the start of each image to learn its size (the whole file is read when its header is longer).
_HEAD_BYTES = 4096


def is_dataset_image(name: str) -> bool:
    """True for the files a dataset's images are read from: image file extensions, not hidden (dot-files,
    dot-folders and `__MACOSX`)."""
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS and not _hidden(name)


def _is_zip(path: Path) -> bool:
    try:
        return zipfile.is_zipfile(path)
    except OSError as e:
        raise StyleGANError(f"{path}: cannot read it ({e.strerror or e})") from None
    except Exception:  # a damaged header: not a zip we can read
        return False


def _hidden(name: str) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in name.split("/"))
