"""The seeded mutation fuzzer (scripts/fuzz.py), run briefly: the checkpoint readers never fail on mutated files.

Longer runs are for maintainers: `python scripts/fuzz.py --target all --seconds 3600 --seed N`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fuzz.py"


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("stylegan_fuzz_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fuzz():
    return _fuzz_module()


@pytest.mark.slow
def test_checkpoint_readers_survive_300_mutated_files(fuzz, one_thread) -> None:
    report = fuzz.fuzz("checkpoint", cases=300, seed=0, timeout=60, log=lambda _: None)
    assert report.cases == 300
    assert report.failures == [], report.failures[:5]
    assert 0 < report.refused < report.cases  # the mutations reach both outcomes: refused, and read anyway


@pytest.mark.slow
def test_dataset_reader_survives_300_mutated_datasets(fuzz, one_thread) -> None:
    report = fuzz.fuzz("dataset", cases=300, seed=0, timeout=60, log=lambda _: None)
    assert report.cases == 300
    assert report.failures == [], report.failures[:5]


def test_fuzzer_reports_hangs_and_crashes(fuzz, tmp_path, monkeypatch) -> None:
    """The harness itself: a case that hangs or kills its process is a failure, and the run goes on."""
    import os
    import signal
    import time

    def fake_case(target, case_seed, folder, seeds):
        if case_seed == 1:
            time.sleep(60)
        if case_seed == 2:
            os.kill(os.getpid(), signal.SIGSEGV)
        return fuzz.REFUSED

    monkeypatch.setattr(fuzz, "run_case", fake_case)
    monkeypatch.setattr(fuzz, "checkpoint_seeds", lambda folder: [])
    report = fuzz.fuzz("dataset", cases=5, seed=0, timeout=2, log=lambda _: None)
    assert [seed for seed, _ in report.failures] == [1, 2]
    assert report.failures[0][1].startswith("hang") and report.failures[1][1].startswith("crash")
    assert report.cases == 5 and report.refused == 3


def test_command_line_summary(tmp_path) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--target", "checkpoint", "--cases", "20", "--seed", "4"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "checkpoint: 20 cases, 0 failures" in result.stdout
