"""`benchmarks/gpu_speed.py` on a machine without a CUDA GPU (any GPU is hidden): one clear line and status 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_speed.py"


def test_without_a_gpu_it_says_so_and_exits_nonzero(tmp_path: Path) -> None:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path / "r.json")], capture_output=True, text=True, env=env
    )
    assert res.returncode == 1 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("no CUDA GPU found: "), res.stderr
    assert not (tmp_path / "r.json").exists()
