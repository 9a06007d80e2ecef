"""Metric names -> protocols: NVIDIA's names (`fid50k_full`, `kid50k_full`, `pr50k3_full`, `is50k`, `ppl2_wend`,
`ppl_zfull`, ...) and any sample-count variant of them (`fid10k`, `fid2k_full`, `kid1k_full`, `pr10k3`, `is5k`,
`ppl_wend1k`).

Grammar (case-insensitive; a count is digits with an optional `k` = x1000):

    fid<count>[_full]       Fréchet Inception distance; `_full` = all real images, else the first <count> reals
    kid<count>[_full]       kernel Inception distance; `_full` = up to 1,000,000 reals, else <count>
    pr<count>k<K>[_full]    precision & recall with a K-nearest-neighbour manifold (also `pr<count>_<K>[_full]`);
                            `_full` = up to 200,000 reals, else <count>
    is<count>               Inception score, 10 splits
    ppl[2]_<z|w><full|end>[<count>]   perceptual path length, 50k samples unless <count> is given; `ppl2` = no crop

>>> parse_metric("fid10k").max_real, parse_metric("fid2k_full").max_real, parse_metric("fid2k_full").num_gen
(10000, None, 2000)
>>> spec = parse_metric("ppl_zend")
>>> spec.space, spec.sampling, spec.crop, spec.num_gen
('z', 'end', True, 50000)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..errors import StyleGANError

MetricKind = Literal["fid", "kid", "pr", "is", "ppl"]

#: NVIDIA's standard metric names, with what they measure (the names `stylegan metrics --list` shows).
STANDARD_METRICS: dict[str, str] = {
    "fid50k_full": "Fréchet Inception distance, 50k fakes against all reals (StyleGAN2-ADA default)",
    "kid50k_full": "kernel Inception distance, 50k fakes against up to 1M reals",
    "pr50k3_full": "precision and recall (k=3 VGG16 manifolds), 50k fakes against up to 200k reals",
    "ppl2_wend": "perceptual path length in W, endpoints, no crop (StyleGAN2 paper)",
    "is50k": "Inception score of 50k fakes, 10 splits",
    "fid50k": "Fréchet Inception distance, 50k fakes against the first 50k reals (StyleGAN2 paper)",
    "kid50k": "kernel Inception distance, 50k fakes against the first 50k reals",
    "pr50k3": "precision and recall (k=3), 50k fakes against the first 50k reals",
    "ppl_zfull": "perceptual path length in Z, full paths, face crop (StyleGAN paper)",
    "ppl_wfull": "perceptual path length in W, full paths, face crop (StyleGAN paper)",
    "ppl_zend": "perceptual path length in Z, endpoints, face crop",
    "ppl_wend": "perceptual path length in W, endpoints, face crop",
}

_COUNT = r"(\d+)(k?)"
_PATTERNS: list[tuple[MetricKind, re.Pattern[str]]] = [
    ("fid", re.compile(rf"^fid{_COUNT}(_full)?$")),
    ("kid", re.compile(rf"^kid{_COUNT}(_full)?$")),
    ("pr", re.compile(r"^pr(\d+)(k)(\d+)(_full)?$")),
    ("pr", re.compile(r"^pr(\d+)()_(\d+)(_full)?$")),
    ("is", re.compile(rf"^is{_COUNT}$")),
    ("ppl", re.compile(rf"^ppl(2?)_([zw])(full|end)(?:_?{_COUNT})?$")),
]

#: Real-image caps of the `_full` variants (NVIDIA's metric_main.py).
FULL_MAX_REAL: dict[str, int | None] = {"fid": None, "kid": 1_000_000, "pr": 200_000}


@dataclass(frozen=True)
class MetricSpec:
    """The protocol of one metric: what is sampled, how many, and the metric's own constants.

    Attributes:
        name: the metric's name as given (lower-case), also the key of its main result.
        kind: "fid", "kid", "pr", "is" or "ppl".
        num_gen: generated images (FID/KID/PR/IS) or path samples (PPL).
        max_real: real images read, in dataset order (None = all); 0 for metrics that read no reals.
        nhood_size: PR's k (the radius of a sample is the distance to its k-th nearest neighbour).
        num_subsets, max_subset_size: KID's subset sampling.
        num_splits: IS splits.
        space, sampling, crop, epsilon: PPL's interpolation space, t sampling, face crop and step.
    """

    name: str
    kind: MetricKind
    num_gen: int
    max_real: int | None = 0
    nhood_size: int = 3
    num_subsets: int = 100
    max_subset_size: int = 1000
    num_splits: int = 10
    space: Literal["z", "w"] | None = None
    sampling: Literal["full", "end"] | None = None
    crop: bool = False
    epsilon: float = 1e-4

    @property
    def uses_reals(self) -> bool:
        """True when the metric compares against real images (FID, KID, PR)."""
        return self.kind in ("fid", "kid", "pr")

    @property
    def result_names(self) -> list[str]:
        """Keys of the metric's results, as NVIDIA names them (e.g. `pr50k3_full_precision`)."""
        if self.kind == "pr":
            return [f"{self.name}_precision", f"{self.name}_recall"]
        if self.kind == "is":
            return [f"{self.name}_mean", f"{self.name}_std"]
        return [self.name]

    def protocol(self) -> dict[str, Any]:
        """The constants that define the number (written into every result line)."""
        keep = {
            "fid": ("num_gen", "max_real"),
            "kid": ("num_gen", "max_real", "num_subsets", "max_subset_size"),
            "pr": ("num_gen", "max_real", "nhood_size"),
            "is": ("num_gen", "num_splits"),
            "ppl": ("num_gen", "space", "sampling", "crop", "epsilon"),
        }[self.kind]
        d = asdict(self)
        return {"kind": self.kind, **{k: d[k] for k in keep}}


#: The most samples one metric may draw (NVIDIA's protocols use 50k; 200x that is surely a typo).
MAX_METRIC_SAMPLES = 10_000_000


def _count(digits: str, k: str) -> int:
    n = int(digits[:12]) * (1000 if k else 1) if len(digits) <= 12 else MAX_METRIC_SAMPLES + 1
    if n < 1:
        raise StyleGANError("a metric's sample count must be at least 1")
    if n > MAX_METRIC_SAMPLES:
        shown = digits if len(digits) <= 20 else digits[:20] + "..."
        raise StyleGANError(f"a metric's sample count must be at most {MAX_METRIC_SAMPLES}, got {shown}{k}")
    return n


def parse_metric(name: str) -> MetricSpec:
    """The protocol for a metric name (NVIDIA's, or a sample-count variant). Unknown names are a StyleGANError.

    >>> parse_metric("pr50k3_full").max_real, parse_metric("kid1k_full").max_real
    (200000, 1000000)
    """
    text = str(name).strip().lower()
    for kind, pattern in _PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        if kind in ("fid", "kid"):
            n = _count(m.group(1), m.group(2))
            return MetricSpec(text, kind, num_gen=n, max_real=FULL_MAX_REAL[kind] if m.group(3) else n)
        if kind == "pr":
            n = _count(m.group(1), m.group(2))
            k = int(m.group(3)[:6]) if len(m.group(3)) <= 6 else 10**6
            if not 1 <= k <= 10_000:
                raise StyleGANError(f"{name}: the neighbourhood size k must be in [1, 10000]")
            return MetricSpec(text, "pr", num_gen=n, max_real=FULL_MAX_REAL["pr"] if m.group(4) else n, nhood_size=k)
        if kind == "is":
            return MetricSpec(text, "is", num_gen=_count(m.group(1), m.group(2)))
        n = _count(m.group(4), m.group(5)) if m.group(4) else 50_000
        return MetricSpec(
            text,
            "ppl",
            num_gen=n,
            space="z" if m.group(2) == "z" else "w",
            sampling="full" if m.group(3) == "full" else "end",
            crop=not m.group(1),
        )
    import difflib

    close = difflib.get_close_matches(text, list(STANDARD_METRICS), n=2)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    raise StyleGANError(
        f"unknown metric {name!r}{hint}; use e.g. fid50k_full, fid10k, kid50k_full, pr50k3_full, is50k, ppl2_wend, "
        "ppl_zfull (`stylegan metrics --list` shows them all)"
    )


def parse_metric_list(text: str) -> list[MetricSpec]:
    """`fid50k_full,kid50k_full` -> specs (duplicates dropped, order kept).

    >>> [s.name for s in parse_metric_list("fid2k_full, ppl2_wend,fid2k_full")]
    ['fid2k_full', 'ppl2_wend']
    """
    names = [n.strip() for n in str(text).split(",") if n.strip()]
    if not names:
        raise StyleGANError("no metric given: pass e.g. --metrics fid50k_full")
    return [parse_metric(n) for n in dict.fromkeys(n.lower() for n in names)]


def list_metrics() -> list[MetricSpec]:
    """NVIDIA's standard metrics (any sample-count variant of them parses too)."""
    return [parse_metric(n) for n in STANDARD_METRICS]
