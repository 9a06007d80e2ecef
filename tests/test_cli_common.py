"""The CLI's shared error handling: click's own usage errors are one `error:` line too (exit status 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_stylegan


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["generate", "--projected-w", "{tmp}", "--outdir", "{tmp}/o"], "'--projected-w': File"),
        (["generate", "--no-such-option"], "No such option '--no-such-option'"),
        (["train", "--aug", "bogus"], "'bogus' is not one of"),
        (["no-such-command"], "No such command 'no-such-command'"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = run_stylegan(*[a.format(tmp=tmp_path) for a in args])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.stderr
    assert "--help'" in lines[0]  # where to look next


def test_a_group_without_a_command_shows_its_help() -> None:
    result = run_stylegan("dataset")
    assert "Usage: stylegan dataset" in result.stdout + result.stderr and "Traceback" not in result.stderr
