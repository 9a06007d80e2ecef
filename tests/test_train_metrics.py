"""Training evaluates metrics at every snapshot (`stylegan train --metrics ...`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from stylegan.cli.main import cli


@pytest.mark.slow
def test_train_runs_metrics_per_snapshot(tmp_path: Path) -> None:
    src = tmp_path / "imgs"
    src.mkdir()
    for i in range(8):
        Image.fromarray((np.random.RandomState(i).rand(16, 16, 3) * 255).astype(np.uint8)).save(src / f"{i}.png")
    runner = CliRunner()
    res = runner.invoke(
        cli, ["dataset", "prepare", "--source", str(src), "--dest", str(tmp_path / "d.zip"), "--resolution", "16"]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli,
        [
            "train",
            "--data",
            str(tmp_path / "d.zip"),
            "--outdir",
            str(tmp_path / "runs"),
            "--cfg",
            "cpu-tiny",
            "--kimg",
            "0.008",
            "--metrics",
            "fid10_full",
        ],
    )
    assert res.exit_code == 0, res.output
    (run,) = (tmp_path / "runs").iterdir()
    lines = (run / "metric-fid10_full.jsonl").read_text().splitlines()
    rec = json.loads(lines[-1])
    assert rec["metric"] == "fid10_full" and np.isfinite(rec["value"]) and rec["value"] > 0
    assert "metric fid10_full" in (run / "log.txt").read_text()


def test_train_rejects_unknown_metric(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["train", "--data", str(tmp_path / "none.zip"), "--outdir", str(tmp_path), "--metrics", "fidd50k"]
    )
    assert res.exit_code != 0
    assert "fidd50k" in str(res.exception) or "fidd50k" in res.output
