"""`stylegan dataset prepare`: turn a folder, zip or tarball of arbitrary images into NVIDIA's dataset layout.

Output (what NVIDIA's `dataset_tool.py` writes, so their tools read ours and we read theirs): uncompressed PNGs
named `00000/img00000000.png` (1000 per folder) plus `dataset.json` = `{"labels": [["00000/img00000000.png", 3],
...] | null}`; we add `"class_names"`, which NVIDIA's reader ignores. Files that are not images, or are corrupt,
are skipped and listed in the report, never fatal.
"""

from __future__ import annotations

import csv
import json
import math
import os
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SettingError, StyleGANError
from ..fileio import atomic_directory, atomic_open, writing
from .imageops import RESIZE_FILTERS, TRANSFORMS, BadImage, Transform, decode_image, encode_png, fit_image, to_channels
from .labels import MAX_CLASSES
from .sources import SourceFile, open_source

LabelSource = str  # "from-folders" or a path to a CSV file


@dataclass
class PrepareReport:
    """What `prepare_dataset` did: images written, files skipped (with reasons), classes found."""

    dest: Path
    resolution: int
    channels: int
    num_images: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source name, reason)
    class_names: list[str] | None = None
    label_counts: dict[int, int] | None = None

    def summary(self) -> str:
        """A few human-readable lines: counts, classes and every skipped file."""
        lines = [
            f"wrote {self.num_images} images ({self.resolution}x{self.resolution}, {self.channels} channel"
            f"{'s' if self.channels > 1 else ''}) to {self.dest}"
        ]
        if self.class_names is not None and self.label_counts is not None:
            lines.append(f"{len(self.class_names)} classes (label index: name, count):")
            for i, name in enumerate(self.class_names):
                lines.append(f"  {i}: {name}  ({self.label_counts.get(i, 0)} images)")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} files:")
            lines.extend(f"  {name}: {reason}" for name, reason in self.skipped)
        return "\n".join(lines)


#: The largest resolution `prepare` writes.
MAX_RESOLUTION = 8192


def check_resolution(resolution: int) -> None:
    """A SettingError unless `resolution` is a power of two in [4, MAX_RESOLUTION]."""
    if resolution < 4 or resolution & (resolution - 1) or resolution > MAX_RESOLUTION:
        raise SettingError(
            "{resolution} must be a power of two >= 4"
            + (f" and at most {MAX_RESOLUTION}" if resolution > MAX_RESOLUTION else "")
            + f", got {resolution}",
            "resolution",
        )


def archive_name(idx: int) -> str:
    """NVIDIA's file name for image `idx`: `00000/img00000000.png`, 1000 images per folder."""
    return f"{idx // 1000:05d}/img{idx:08d}.png"


def _parse_label(text: str) -> int | str:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def read_label_csv(path: str | os.PathLike[str]) -> dict[str, int | str]:
    """`filename,label` rows (a header row is allowed) -> {relative path: int label or class name}."""
    p = Path(path)
    if not p.is_file():
        raise SettingError(f"{{labels}} {p}: no such file (use 'from-folders' or a CSV of filename,label)", "labels")
    out: dict[str, int | str] = {}
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            for row_no, row in enumerate(csv.reader(f), start=1):
                if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
                    continue
                if len(row) < 2:
                    raise StyleGANError(f"{p}:{row_no}: expected 'filename,label', got {','.join(row)!r}")
                name, label = row[0].strip().replace("\\", "/"), _parse_label(row[1])
                if row_no == 1 and name.lower() in ("filename", "file", "path", "image", "name"):
                    continue  # header
                out[name.removeprefix("./")] = label
    except (UnicodeDecodeError, csv.Error) as e:
        raise SettingError(f"{{labels}} {p}: not a UTF-8 CSV of filename,label rows ({e})", "labels") from None
    if not out:
        raise StyleGANError(f"{p}: no labels found (expected rows 'filename,label')")
    return out


class _LabelResolver:
    """Maps a source file to a class index, from its top folder or a CSV row; collects the class names."""

    def __init__(self, labels: LabelSource | None, source_files: list[SourceFile]) -> None:
        self.mode = labels
        self.class_names: list[str] | None = None
        self._index: dict[str | int, int] = {}
        self._csv: dict[str, int | str] = {}
        if labels is None:
            return
        if labels == "from-folders":
            raw = sorted({f.name.split("/")[0] for f in source_files if "/" in f.name})
            if not raw:
                raise SettingError(
                    "{labels} from-folders: the source has no sub-folders (put each class in one)", "labels"
                )
            self.class_names = raw
            self._index = {name: i for i, name in enumerate(raw)}
            return
        self._csv = read_label_csv(labels)
        values = set(self._csv.values())
        if all(isinstance(v, int) for v in values):
            ints = sorted(int(v) for v in values)
            if ints[0] < 0:
                raise StyleGANError(f"{labels}: labels must be >= 0, found {ints[0]}")
            if ints[-1] >= MAX_CLASSES:
                raise StyleGANError(f"{labels}: class {ints[-1]} is too large (at most {MAX_CLASSES - 1})")
            self.class_names = [str(i) for i in range(ints[-1] + 1)]
            self._index = {i: i for i in range(ints[-1] + 1)}
        else:
            names = sorted(str(v) for v in values)
            self.class_names = names
            self._index = {name: i for i, name in enumerate(names)}

    def label(self, f: SourceFile) -> int | None:
        """The class index of a file, or None when it has none (the file is then skipped)."""
        if self.mode is None:
            return None
        if self.mode == "from-folders":
            return self._index[f.name.split("/")[0]] if "/" in f.name else None
        value = self._csv.get(f.name)
        if value is None:  # also accept a CSV that names files relative to the top folder or by base name
            value = self._csv.get(f.name.split("/", 1)[-1], self._csv.get(f.name.rsplit("/", 1)[-1]))
        if value is None:
            return None
        return self._index[value if isinstance(value, int) else str(value)]


@dataclass(frozen=True)
class _FitOptions:
    resolution: int
    transform: Transform
    channels: int
    background: tuple[int, int, int]
    resize_filter: str
    wide_aspect: float


class _Writer:
    """Writes named files into an open zip (ZIP_STORED) or into a folder."""

    def __init__(self, zip_file: zipfile.ZipFile | None, folder: Path | None) -> None:
        self._zip, self._folder = zip_file, folder

    def write(self, name: str, data: bytes) -> None:
        if self._zip is not None:
            self._zip.writestr(name, data)
        else:
            assert self._folder is not None
            p = self._folder / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)


@contextmanager
def _open_writer(dest: Path) -> Iterator[_Writer]:
    """A writer into a temp zip or folder beside `dest`, renamed to `dest` when the block ends normally and deleted
    when it raises."""
    if dest.suffix.lower() == ".zip":
        with atomic_open(dest) as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            yield _Writer(zf, None)
    else:
        if dest.exists() and not dest.is_dir():
            raise SettingError(f"{{dest}} {dest}: exists and is not a folder; give a new folder or a .zip name", "dest")
        if dest.exists() and any(dest.iterdir()):
            raise SettingError(f"{{dest}} {dest}: folder exists and is not empty", "dest")
        with atomic_directory(dest) as folder, writing(dest, disk_only=True):  # a full disk: one line naming dest
            yield _Writer(None, folder)


def prepare_dataset(
    source: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    resolution: int,
    transform: Transform = "center-crop",
    channels: int = 3,
    labels: LabelSource | None = None,
    max_images: int | None = None,
    background: tuple[int, int, int] = (0, 0, 0),
    resize_filter: str = "lanczos",
    wide_aspect: float = 4 / 3,
    progress: Callable[[int, int], None] | None = None,
    metadata: dict[str, object] | None = None,
) -> PrepareReport:
    """Convert the images of `source` (folder, zip or tarball) into an NVIDIA-layout dataset at `dest`.

    `metadata` (e.g. source and licence) is stored as extra keys of dataset.json, which NVIDIA's reader ignores.

    `dest` ending in `.zip` gives an uncompressed zip (written to a temp file, then renamed); anything else a
    folder. `labels` is None, `"from-folders"` (class = top-level sub-folder) or a CSV path (`filename,label`,
    integer labels or class names). Files that cannot be decoded, and labelled runs' files without a label,
    are skipped and listed in the returned report. `progress(done, total)` is called after every file.

    >>> import tempfile, pathlib, numpy as np
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(d / "a.png")
    >>> _ = (d / "notes.txt").write_text("hello")
    >>> r = prepare_dataset(d, d / "out.zip", resolution=16)
    >>> r.num_images, r.skipped
    (1, [('notes.txt', 'not an image')])
    """
    check_resolution(resolution)
    if max_images is not None and max_images < 1:
        raise SettingError(f"{{max_images}} must be at least 1, got {max_images}", "max_images")
    if not (math.isfinite(wide_aspect) and 1 / 64 <= wide_aspect <= 64):
        raise SettingError(
            f"{{wide_aspect}} must be a width:height ratio in [1/64, 64], got {wide_aspect}", "wide_aspect"
        )
    if transform not in TRANSFORMS:
        raise SettingError(
            f"{{transform}} must be one of {', '.join(TRANSFORMS)}, got {transform!r}",
            "transform",
        )
    if resize_filter not in RESIZE_FILTERS:
        raise SettingError(
            f"{{resize_filter}} must be one of {', '.join(RESIZE_FILTERS)}, got {resize_filter!r}",
            "resize_filter",
        )
    if channels not in (1, 3, 4):
        raise SettingError(f"{{channels}} must be 1, 3 or 4, got {channels}", "channels")
    src, dst = Path(source), Path(dest)
    if dst.resolve() == src.resolve():
        raise SettingError("{dest} must differ from {source}", "dest", "source")
    fit = _FitOptions(resolution, transform, channels, background, resize_filter, wide_aspect)
    with open_source(src) as files:
        return _prepare_files(files, src, dst, labels, max_images, fit, progress, metadata or {})


def _prepare_files(
    files: list[SourceFile],
    src: Path,
    dst: Path,
    labels: LabelSource | None,
    max_images: int | None,
    fit: _FitOptions,
    progress: Callable[[int, int], None] | None,
    metadata: dict[str, object],
) -> PrepareReport:
    label_csv = Path(labels).resolve() if labels not in (None, "from-folders") else None
    resolver = _LabelResolver(labels, files)
    report = PrepareReport(dest=dst, resolution=fit.resolution, channels=fit.channels, class_names=resolver.class_names)
    out_labels: list[list[object]] = []
    with _open_writer(dst) as writer:
        for done, f in enumerate(files, start=1):
            if max_images is not None and report.num_images >= max_images:
                break
            reason = _prepare_one(f, report, resolver, writer, out_labels, src, label_csv, fit)
            if reason is not None:
                report.skipped.append((f.name, reason))
            if progress is not None:
                progress(done, len(files))
        if report.num_images == 0:
            raise StyleGANError(f"{src}: no usable images found ({len(report.skipped)} files skipped)")
        meta: dict[str, object] = {"labels": out_labels if labels is not None else None, **metadata}
        if resolver.class_names is not None:
            meta["class_names"] = resolver.class_names
            report.label_counts = dict(sorted(Counter(int(lab) for _, lab in out_labels).items()))  # type: ignore[call-overload]
        writer.write("dataset.json", json.dumps(meta).encode())
    return report


def _prepare_one(
    f: SourceFile,
    report: PrepareReport,
    resolver: _LabelResolver,
    writer: _Writer,
    out_labels: list[list[object]],
    src: Path,
    label_csv: Path | None,
    fit: _FitOptions,
) -> str | None:
    """Convert one source file; returns the reason it was skipped, or None when it was written."""
    if f.hidden:
        return "hidden or system file"
    if f.name == "dataset.json" or (label_csv is not None and (src / f.name).resolve() == label_csv):
        return "metadata"
    label = resolver.label(f)
    if resolver.mode is not None and label is None:
        return "no label (not in a class folder)" if resolver.mode == "from-folders" else "no label in the CSV"
    try:
        img = decode_image(f.read())
    except BadImage as e:
        return str(e)
    except OSError as e:
        return f"unreadable ({e})"
    img = to_channels(img, fit.channels, fit.background)
    img = fit_image(
        img,
        fit.resolution,
        fit.transform,
        wide_aspect=fit.wide_aspect,
        background=fit.background,
        resize_filter=fit.resize_filter,
    )
    name = archive_name(report.num_images)
    writer.write(name, encode_png(img))
    if label is not None:
        out_labels.append([name, label])
    report.num_images += 1
    return None


__all__ = ["MAX_RESOLUTION", "PrepareReport", "archive_name", "check_resolution", "prepare_dataset", "read_label_csv"]
