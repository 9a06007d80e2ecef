"""The metric-name registry: NVIDIA's names and their sample-count variants."""

from __future__ import annotations

import pytest

from stylegan.errors import StyleGANError
from stylegan.metrics import STANDARD_METRICS, MetricSpec, list_metrics, parse_metric, parse_metric_list


@pytest.mark.parametrize("spec", list_metrics(), ids=lambda s: s.name)
def test_standard_metrics_parse_with_nvidia_protocol(spec: MetricSpec) -> None:
    assert spec.name in STANDARD_METRICS
    assert spec.num_gen == 50_000
    assert spec.result_names[0].startswith(spec.name)
    assert spec.protocol()["kind"] == spec.kind


@pytest.mark.parametrize(
    "name, kind, num_gen, max_real",
    [
        ("fid50k_full", "fid", 50_000, None),
        ("fid50k", "fid", 50_000, 50_000),
        ("fid10k", "fid", 10_000, 10_000),
        ("fid2k_full", "fid", 2_000, None),
        ("FID500_full", "fid", 500, None),
        ("kid50k_full", "kid", 50_000, 1_000_000),
        ("kid1k_full", "kid", 1_000, 1_000_000),
        ("kid50k", "kid", 50_000, 50_000),
        ("pr50k3_full", "pr", 50_000, 200_000),
        ("pr10k5", "pr", 10_000, 10_000),
        ("pr500_3", "pr", 500, 500),
        ("is50k", "is", 50_000, 0),
        ("is2k", "is", 2_000, 0),
    ],
)
def test_sample_count_variants(name: str, kind: str, num_gen: int, max_real: int | None) -> None:
    spec = parse_metric(name)
    assert (spec.kind, spec.num_gen, spec.max_real) == (kind, num_gen, max_real)
    assert spec.name == name.lower()


def test_metric_constants() -> None:
    assert parse_metric("pr50k3_full").nhood_size == 3 and parse_metric("pr10k5").nhood_size == 5
    kid = parse_metric("kid50k_full")
    assert (kid.num_subsets, kid.max_subset_size) == (100, 1000)
    assert parse_metric("is50k").num_splits == 10
    assert parse_metric("pr50k3_full").result_names == ["pr50k3_full_precision", "pr50k3_full_recall"]
    assert parse_metric("is50k").result_names == ["is50k_mean", "is50k_std"]


@pytest.mark.parametrize(
    "name, space, sampling, crop, num",
    [
        ("ppl_zfull", "z", "full", True, 50_000),
        ("ppl_wfull", "w", "full", True, 50_000),
        ("ppl_zend", "z", "end", True, 50_000),
        ("ppl_wend", "w", "end", True, 50_000),
        ("ppl2_wend", "w", "end", False, 50_000),
        ("ppl_wend1k", "w", "end", True, 1_000),
        ("ppl2_zfull_200", "z", "full", False, 200),
    ],
)
def test_ppl_names(name: str, space: str, sampling: str, crop: bool, num: int) -> None:
    spec = parse_metric(name)
    assert (spec.kind, spec.space, spec.sampling, spec.crop, spec.num_gen, spec.epsilon) == (
        "ppl",
        space,
        sampling,
        crop,
        num,
        1e-4,
    )
    assert not spec.uses_reals


@pytest.mark.parametrize("bad", ["fid", "fid0", "fidk", "kid50k_ful", "ppl_xend", "pr50k", "lpips", "fid50k_full_x"])
def test_unknown_names_are_one_clear_error(bad: str) -> None:
    with pytest.raises(StyleGANError, match="metric") as e:
        parse_metric(bad)
    assert "\n" not in str(e.value)


def test_metric_lists() -> None:
    assert [s.name for s in parse_metric_list("fid50k_full, kid50k_full,FID50K_FULL")] == ["fid50k_full", "kid50k_full"]
    with pytest.raises(StyleGANError, match="did you mean fid50k_full"):
        parse_metric_list("fid50k_ful")
    with pytest.raises(StyleGANError, match="no metric"):
        parse_metric_list(" , ")
