"""benchmarks/precision_quality.py at a tiny scale: float32 and bf16 runs of the training-quality benchmark, and
the table merged from two folders made by separate processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .benchmark_support import run_benchmark


@pytest.mark.slow
def test_runs_both_precisions_and_merges(tmp_path: Path) -> None:
    for seed in (0, 1):
        out_dir = str(tmp_path / f"s{seed}")
        run_benchmark(
            "precision_quality.py",
            "--kimg",
            "0.016",
            "--seeds",
            str(seed),
            "--samples",
            "50",
            "--threads",
            "1",
            "--out",
            out_dir,
        )
    out = run_benchmark(
        "precision_quality.py", "--merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(tmp_path / "all")
    )
    summary = json.loads((tmp_path / "all" / "summary.json").read_text())
    assert summary["seeds"] == [0, 1] and set(summary["runs"]) == {"fp32", "bf16"}
    for precision in ("fp32", "bf16"):
        runs = summary["runs"][precision]
        assert set(runs) == {"0", "1"} and all(r["kimg"] >= 0.016 for r in runs.values())
        assert all(r["FD64"] > 0 and 1 <= r["digit_IS"] <= 10 for r in runs.values())
    # the seed spread is the largest max - min over one precision's seeds, reproduced from the runs
    fd = [summary["runs"][p][s]["FD64"] for p in ("fp32", "bf16") for s in ("0", "1")]
    assert summary["seed_spread"]["FD64"] == pytest.approx(max(abs(fd[0] - fd[1]), abs(fd[2] - fd[3])))
    assert "bf16 - fp32" in out and "seed spread" in out
