"""`stylegan dataset check`: what is in a folder, zip or tarball of images, and what would go wrong training on it."""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StyleGANError
from .dataset import is_dataset_image
from .imageops import BadImage, decode_image
from .labels import load_labels, majority_resolution
from .sources import SourceFile, UnreadableFile, open_source, shown, source_kind, walk_folder


@dataclass
class CheckReport:
    """Counts by size / mode / format, bad files (each named), exact duplicates, labels, training readiness."""

    path: Path
    num_files: int = 0
    num_images: int = 0
    sizes: Counter[tuple[int, int]] = field(default_factory=Counter)  # (width, height)
    modes: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    not_images: list[str] = field(default_factory=list)
    not_regular: list[str] = field(default_factory=list)  # FIFOs, devices, sockets, dangling links: never opened
    duplicates: list[list[str]] = field(default_factory=list)  # groups of files with identical pixels
    label_counts: dict[str, int] | None = None  # label (class name when known) -> images
    label_problems: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # why training refuses the dataset (the same words)
    size_note: str | None = None  # images whose size is not the dataset's resolution

    @property
    def ready(self) -> bool:
        """True when training accepts the dataset (no refusals; corrupt files are skipped when training)."""
        return not self.refusals

    @property
    def problems(self) -> list[str]:
        """Reasons this is not a ready-to-train dataset (empty when it is): first the refusals, then advice."""
        out: list[str] = list(self.refusals)
        if self.num_images == 0 and not self.refusals:
            out.append("no images")
        if len(self.sizes) > 1:
            out.append(f"{len(self.sizes)} different image sizes (run `stylegan dataset prepare`)")
        for w, h in self.sizes:
            if w != h or w < 4 or w & (w - 1):
                out.append(f"size {w}x{h} is not a square power of two (run `stylegan dataset prepare`)")
        odd_modes = sorted(m for m in self.modes if m not in ("L", "RGB"))
        if odd_modes:
            out.append(f"image modes {', '.join(odd_modes)} are converted on the fly (prepare once to save time)")
        if len(self.modes) > 1:
            out.append(f"mixed image modes: {', '.join(sorted(self.modes))}")
        if self.corrupt:
            out.append(f"{len(self.corrupt)} corrupt files (skipped when training)")
        if self.duplicates:
            out.append(f"{sum(len(g) - 1 for g in self.duplicates)} exact duplicates")
        out.extend(p for p in self.label_problems if p not in self.refusals)
        return out

    def summary(self) -> str:
        """A human-readable multi-line report that names every bad file."""

        def top(counter: Counter[Any], fmt: Callable[[object], str] = str) -> str:
            return ", ".join(f"{fmt(k)}: {v}" for k, v in counter.most_common())

        lines = [f"{self.path}: {self.num_files} files, {self.num_images} images"]
        if self.num_images:
            lines.append(f"  sizes:   {top(self.sizes, lambda s: f'{s[0]}x{s[1]}')}")  # type: ignore[index]
            lines.append(f"  modes:   {top(self.modes)}")
            lines.append(f"  formats: {top(self.formats)}")
        if self.label_counts is not None:
            lines.append(f"  labels:  {len(self.label_counts)} classes")
            lines.extend(f"    {k}: {v}" for k, v in self.label_counts.items())
        else:
            lines.append("  labels:  none (no dataset.json labels)")
        if self.corrupt:
            lines.append(f"corrupt files ({len(self.corrupt)}):")
            lines.extend(f"  {shown(n)}: {r}" for n, r in self.corrupt)
        if self.not_images:
            lines.append(f"not images ({len(self.not_images)}):")
            lines.extend(f"  {shown(n)}" for n in self.not_images)
        if self.not_regular:
            lines.append(f"skipped, not regular files ({len(self.not_regular)}):")
            lines.extend(f"  {shown(n)}" for n in self.not_regular)
        if self.duplicates:
            lines.append(f"exact duplicates ({len(self.duplicates)} groups):")
            lines.extend("  " + " = ".join(map(shown, g)) for g in self.duplicates)
        if self.size_note:
            lines.append(f"warning: {self.size_note}")
        probs = self.problems
        lines.append("ready to train: yes" if not probs else "problems:\n" + "\n".join(f"  - {p}" for p in probs))
        if self.refusals:
            lines.append(f"not ready to train: {self.refusals[0]}")
        return "\n".join(lines)


def check_dataset(path: str | os.PathLike[str], *, progress: Callable[[int, int], None] | None = None) -> CheckReport:
    """Decode every file of a folder, zip or tarball and report on it (nothing is modified).

    Duplicates are images with identical decoded pixels (same mode and size), whatever their file format.
    """
    with open_source(path) as files:
        report = _check_files(files, Path(path), progress)
    if source_kind(path) == "dir":
        report.not_regular = walk_folder(path)[1]
    return report


def _check_files(files: list[SourceFile], path: Path, progress: Callable[[int, int], None] | None) -> CheckReport:
    report = CheckReport(path=path)
    hashes: dict[str, list[str]] = defaultdict(list)
    meta: SourceFile | None = None
    dataset_images: list[str] = []  # the files training reads images from, in its order
    sizes: dict[tuple[int, int], list[str]] = {}  # sizes of those that decode
    for done, f in enumerate(files, start=1):
        report.num_files += 1
        if is_dataset_image(f.name):
            dataset_images.append(f.name)
        if f.name == "dataset.json":
            meta = f
        elif f.hidden:
            report.not_images.append(f.name)
        else:
            try:
                img = decode_image(f.read())
            except BadImage as e:
                if str(e) == "not an image":
                    report.not_images.append(f.name)
                else:
                    report.corrupt.append((f.name, str(e)))
            except UnreadableFile as e:
                report.corrupt.append((f.name, str(e)))
            except OSError as e:
                report.corrupt.append((f.name, f"unreadable ({e})"))
            else:
                report.num_images += 1
                report.sizes[img.size] += 1
                report.modes[img.mode] += 1
                report.formats[img.format or "?"] += 1
                digest = hashlib.sha1(f"{img.mode}{img.size}".encode() + img.tobytes()).hexdigest()
                hashes[digest].append(f.name)
                if is_dataset_image(f.name):
                    sizes.setdefault(img.size, []).append(f.name)
        if progress is not None:
            progress(done, len(files))
    report.duplicates = sorted(g for g in hashes.values() if len(g) > 1)
    _check_training(report, path, dataset_images, sizes, meta)
    return report


def _check_training(
    report: CheckReport,
    path: Path,
    images: list[str],
    sizes: dict[tuple[int, int], list[str]],
    meta: SourceFile | None,
) -> None:
    """What training would refuse, in the order it checks, with its words (`ImageDataset`)."""
    refuse = report.refusals.append
    if source_kind(path) == "tar":
        refuse(f"{path}: a dataset must be a folder or a .zip (see `stylegan dataset prepare`)")
    if not images:
        refuse(f"{path}: no images found")
    else:
        try:
            _, report.size_note = majority_resolution(str(path), sizes, len(images))
        except StyleGANError as e:
            refuse(str(e))
    if meta is None:
        return
    try:
        labels = load_labels(meta.read, images, str(path))
    except StyleGANError as e:
        refuse(str(e))
        report.label_problems.append(str(e))
        return
    if labels is None:
        return
    counts: Counter[str] = Counter()
    for value in labels.raw:
        if labels.is_classes:
            k = int(value)
            names = labels.class_names
            counts[f"{k} ({names[k]})" if names is not None and k < len(names) else str(k)] += 1
        else:
            counts["[" + ", ".join(f"{float(x):g}" for x in value) + "]"] += 1
    report.label_counts = dict(sorted(counts.items(), key=lambda kv: (len(kv[0]), kv[0])))
