"""Filter a dataset with a classifier: keep the images it puts in one class with at least a given probability.

The subset is written in the layout `stylegan dataset prepare` writes (PNG files `00000/img00000000.png`, ... and
`dataset.json`), atomically (a zip, or a new folder). The source's labels are carried over for the kept images,
and every other dataset.json key (class names, source, licence) is copied; a `"filtered"` key records how the
subset was made.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import SettingError, StyleGANError
from .classifier import Classifier


@dataclass
class FilterReport:
    """What `filter_dataset` kept."""

    dest: Path
    kept: int
    total: int
    class_name: str
    min_prob: float

    def summary(self) -> str:
        share = self.kept / self.total if self.total else 0.0
        return (
            f"kept {self.kept} of {self.total} images ({share:.1%}) with p({self.class_name}) >= {self.min_prob:g} "
            f"-> {self.dest}"
        )


def _dataset_json(ds: Any) -> dict[str, Any]:
    """The source's dataset.json as a dict ({} when it has none)."""
    path = Path(ds.path)
    try:
        if path.is_dir():
            f = path / "dataset.json"
            return json.loads(f.read_bytes()) if f.is_file() else {}
        from ..data.sources import open_zip, read_zip_member

        with open_zip(path) as zf:
            try:
                info = zf.getinfo("dataset.json")
            except KeyError:
                return {}
            return json.loads(read_zip_member(zf, info))
    except (OSError, ValueError) as e:
        raise StyleGANError(f"{path}: dataset.json: {e}") from None


def filter_dataset(
    source: str | os.PathLike[str],
    classifier: Classifier,
    class_: str | int,
    min_prob: float,
    dest: str | os.PathLike[str],
    *,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> FilterReport:
    """Write the images of `source` that `classifier` assigns to `class_` (name or index) with probability >=
    `min_prob` to `dest` (`.zip` or a new folder). Returns the counts. An empty result is refused (nothing written).
    """
    from ..data import ImageDataset, archive_name
    from ..data.imageops import encode_png
    from ..data.prepare import _open_writer
    from ..io.hashing import network_hash

    if not 0 <= min_prob <= 1:
        raise SettingError(f"{{min_prob}} must be in [0, 1], got {min_prob}", "min_prob")
    k = classifier.class_index(class_)
    src, dst = Path(source), Path(dest)
    if dst.exists() and dst.resolve() == src.resolve():
        raise SettingError("{dest} must differ from {source}", "dest", "source")
    ds = ImageDataset(src)
    meta = _dataset_json(ds)
    labels = meta.get("labels")
    by_name: dict[str, Any] = {}
    if isinstance(labels, list):
        by_name = {str(n).replace("\\", "/"): v for n, v in labels}
    elif isinstance(labels, dict):
        by_name = {str(n).replace("\\", "/"): v for n, v in labels.items()}
    total = ds.num_images
    keep: list[int] = []
    for start in range(0, total, batch_size):
        idx = list(range(start, min(start + batch_size, total)))
        batch = np.stack([ds.load_image(i) for i in idx]).transpose(0, 2, 3, 1)
        probs = classifier.predict(batch, batch_size=batch_size)[:, k].cpu().numpy()
        keep += [i for i, p in zip(idx, probs) if p >= min_prob]
        if progress is not None:
            progress(idx[-1] + 1, total)
    name = classifier.class_names[k]
    if not keep:
        raise StyleGANError(f"{src}: no image has p({name}) >= {min_prob:g}; lower --min-prob")
    out_labels: list[list[Any]] = []
    with _open_writer(dst) as writer:
        for j, i in enumerate(keep):
            chw = ds.load_image(i)
            img = Image.fromarray(chw[0] if chw.shape[0] == 1 else chw.transpose(1, 2, 0))
            new = archive_name(j)
            writer.write(new, encode_png(img))
            if by_name:
                out_labels.append([new, by_name[ds.image_names[i]]])
        out = {k2: v for k2, v in meta.items() if k2 != "labels"}
        out = {"labels": out_labels if by_name else None, **out}
        out["filtered"] = {
            "source": src.name,
            "classifier_sha256": classifier.info.weights_sha256 or network_hash(classifier),
            "class": name,
            "min_prob": min_prob,
            "kept": len(keep),
            "total": total,
        }
        writer.write("dataset.json", json.dumps(out).encode())
    return FilterReport(dest=dst, kept=len(keep), total=total, class_name=name, min_prob=min_prob)


__all__ = ["FilterReport", "filter_dataset"]
