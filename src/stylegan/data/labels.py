"""`dataset.json` labels: the one validation that training (`ImageDataset`) and `stylegan dataset check` share.

The format is NVIDIA's: `{"labels": [["00000/img00000000.png", 3], ...] | null}` (a `{name: label}` object is
read too), labels either integer classes (made one-hot) or equal-length vectors of numbers; we add an optional
`"class_names"` list. Anything else is refused with one line naming the dataset, the entry and what is wrong, e.g.
`data.zip: dataset.json entry 17 ('img00017.png'): class 2.5 is not an integer`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import StyleGANError
from .sources import shown

#: Class labels must be below this (the networks embed a one-hot vector of `max class + 1` entries), and label
#: vectors at most this long.
MAX_CLASSES = 100_000
#: The largest dataset.json read.
MAX_JSON_BYTES = 256 << 20


@dataclass(frozen=True)
class DatasetLabels:
    """Validated labels in image order: int64 [N] classes or float32 [N, D] vectors."""

    raw: np.ndarray
    label_dim: int
    class_names: tuple[str, ...] | None = None

    @property
    def is_classes(self) -> bool:
        """True for integer class labels."""
        return self.raw.ndim == 1


def _show(value: Any, limit: int = 40) -> str:
    text = json.dumps(value) if not isinstance(value, (bytes, bytearray)) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _as_class(value: Any) -> int | None:
    """The class of an integer (or integral float) label, None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def parse_labels(data: bytes, image_names: Sequence[str], dataset: str) -> DatasetLabels | None:
    """The labels of `image_names` from the bytes of `dataset.json`, or None when it says `"labels": null` (or has
    no `labels`). Any malformed content raises one StyleGANError starting `<dataset>: dataset.json`.

    >>> parse_labels(b'{"labels": [["b.png", 1], ["a.png", 0]]}', ["a.png", "b.png"], "d.zip").raw.tolist()
    [0, 1]
    >>> parse_labels(b'{"labels": [["a.png", 2.5]]}', ["a.png"], "d.zip")
    Traceback (most recent call last):
    ...
    stylegan.errors.StyleGANError: d.zip: dataset.json entry 0 ('a.png'): class 2.5 is not an integer
    """
    where = f"{dataset}: dataset.json"
    if len(data) > MAX_JSON_BYTES:
        raise StyleGANError(f"{where} is too large ({len(data)} bytes, at most {MAX_JSON_BYTES})")
    try:
        meta = json.loads(data)
    except RecursionError:
        raise StyleGANError(f"{where} is nested too deeply to be a dataset.json") from None
    except UnicodeDecodeError:
        raise StyleGANError(f"{where} is not UTF-8 text") from None
    except ValueError as e:
        raise StyleGANError(f"{where} is not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise StyleGANError(f'{where}: expected an object {{"labels": ...}}, got {_kind(meta)}')
    labels = meta.get("labels")
    class_names = _class_names(meta.get("class_names"), where)
    if labels is None:
        return None
    if isinstance(labels, dict):
        entries: list[Any] = [[k, v] for k, v in labels.items()]
    elif isinstance(labels, list):
        entries = labels
    else:
        raise StyleGANError(
            f'{where}: "labels" must be a list of [file name, label] pairs or null, got {_kind(labels)}'
        )

    mapping: dict[str, tuple[int, Any]] = {}
    vector_len: int | None = None
    first_kind: tuple[int, str] | None = None  # (entry, "class" | "vector")
    for i, entry in enumerate(entries):
        if not isinstance(entry, list) or len(entry) != 2:
            raise StyleGANError(f"{where} entry {i}: expected [file name, label], got {_show(entry)}")
        name, label = entry
        if not isinstance(name, str):
            raise StyleGANError(f"{where} entry {i}: the file name must be a string, got {_show(name)}")
        name = name.replace("\\", "/")
        at = f"{where} entry {i} ({name!r})"
        if name in mapping:
            raise StyleGANError(f"{at}: a second label for this file (entry {mapping[name][0]} is the first)")
        if isinstance(label, list):
            kind = "vector"
            if not label:
                raise StyleGANError(f"{at}: the label vector is empty")
            if len(label) > MAX_CLASSES:
                raise StyleGANError(f"{at}: the label vector has {len(label)} numbers (at most {MAX_CLASSES})")
            for x in label:
                if isinstance(x, bool) or not isinstance(x, (int, float)):
                    raise StyleGANError(f"{at}: the label vector holds {_show(x)}, not a number")
                if not math.isfinite(x) or abs(x) > 1e30:
                    raise StyleGANError(f"{at}: the label vector holds {x}, not a finite number")
            if vector_len is None:
                vector_len = len(label)
            elif len(label) != vector_len:
                raise StyleGANError(
                    f"{at}: the label vector has {len(label)} numbers, the first one {vector_len} (they must agree)"
                )
            value: Any = label
        else:
            kind = "class"
            cls = _as_class(label)
            if cls is None:
                raise StyleGANError(f"{at}: class {_show(label)} is not an integer")
            if cls < 0:
                raise StyleGANError(f"{at}: class {cls} is negative")
            if cls >= MAX_CLASSES:
                raise StyleGANError(f"{at}: class {cls} is too large (at most {MAX_CLASSES - 1})")
            value = cls
        if first_kind is None:
            first_kind = (i, kind)
        elif kind != first_kind[1]:
            raise StyleGANError(f"{at}: a {kind} label, but entry {first_kind[0]} has a {first_kind[1]} label")
        mapping[name] = (i, value)

    names = [n.replace("\\", "/") for n in image_names]
    known = set(names)
    for name, (i, _) in mapping.items():
        if name not in known:
            raise StyleGANError(f"{where} entry {i} ({name!r}): no such image in the dataset")
    missing = [n for n in names if n not in mapping]
    if missing:
        raise StyleGANError(
            f"{where} has no label for {len(missing)} image(s), e.g. {shown(missing[0])}; "
            'every image needs one (or set "labels": null)'
        )
    values = [mapping[n][1] for n in names]
    if vector_len is not None:
        return DatasetLabels(np.array(values, dtype=np.float32).reshape(len(names), vector_len), vector_len)
    raw = np.array(values, dtype=np.int64)
    label_dim = int(raw.max()) + 1 if len(raw) else 0
    if class_names is not None and len(class_names) < label_dim:
        raise StyleGANError(
            f'{where}: "class_names" names {len(class_names)} classes but the labels use {label_dim} (0 to '
            f"{label_dim - 1})"
        )
    if class_names is not None:  # named classes fix the label size, even when a subset lacks the last ones
        label_dim = len(class_names)
    return DatasetLabels(raw, label_dim, class_names)


def _class_names(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise StyleGANError(f'{where}: "class_names" must be a list of strings, got {_show(value)}')
    return tuple(value)


def load_labels(read: Callable[[], bytes], image_names: Sequence[str], dataset: str) -> DatasetLabels | None:
    """`parse_labels` of the dataset.json that `read` returns; a refused or unreadable file is one StyleGANError."""
    try:
        data = read()
    except OSError as e:
        raise StyleGANError(f"{dataset}: dataset.json: {e}") from None
    return parse_labels(data, image_names, dataset)


def majority_resolution(
    dataset: str, sizes: Mapping[tuple[int, int], Sequence[str]], num_images: int
) -> tuple[int, str | None]:
    """The resolution of a dataset whose images have these (width, height) sizes (each with the names of its
    images, in file order): the most common size (the first one met on a tie), which must be square and a power of
    two >= 4. Returns it with a warning line when other images disagree (they are center-cropped and resized when
    read), None when all agree. `num_images` counts every image, decodable or not.

    >>> majority_resolution("d", {(8, 8): ["a", "b"], (4, 6): ["c"]}, 3)
    (8, 'd: 1 of 3 images are not 8x8 (c is 4x6); they are center-cropped and resized to 8x8 when read')
    """
    if not sizes:
        raise StyleGANError(f"{dataset}: none of its {num_images} images can be decoded")
    (w, h), names = max(sizes.items(), key=lambda kv: len(kv[1]))  # max keeps the first of equal counts
    if w != h:
        raise StyleGANError(
            f"{dataset}: images must be square, but most of them ({len(names)} of {num_images}) are {w}x{h}; "
            "run `stylegan dataset prepare` to crop or pad them"
        )
    if w < 4 or w & (w - 1):
        raise StyleGANError(f"{dataset}: resolution {w} is not a power of two >= 4")
    others = [(n[0], s, len(n)) for s, n in sizes.items() if s != (w, h)]
    if not others:
        return w, None
    count = sum(k for _, _, k in others)
    examples = ", ".join(f"{shown(name)} is {s[0]}x{s[1]}" for name, s, _ in others[:3])
    return w, (
        f"{dataset}: {count} of {num_images} images are not {w}x{h} ({examples}{', ...' if len(others) > 3 else ''}); "
        f"they are center-cropped and resized to {w}x{w} when read"
    )
