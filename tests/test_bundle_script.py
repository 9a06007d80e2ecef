"""`scripts/bundle_emoji.py`: a real (tiny) training run, resumed in bf16, packaged with its model card."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import stylegan
from stylegan.cli.main import cli
from stylegan.data import prepare_dataset

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bundle_emoji.py"


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def bundle() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle_emoji", SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_precision_switches_read_from_the_log(bundle: ModuleType) -> None:
    log = "\n".join(
        [
            "training 9 kimg on d (12 images), batch 4 = 1 x 1 x 4, device cpu",
            "resuming r at kimg 2.000 (step 5)",
            "training 9 kimg on d (12 images), batch 4 = 1 x 1 x 4, device cpu",
            "resuming r at kimg 4.500 (step 9)",
            "training 9 kimg on d, device cpu, precision bf16",
            "resuming r at kimg 6.000 (step 12)",
            "training 9 kimg on d, device cpu, precision bf16",
        ]
    )
    assert bundle.precision_switches(log) == [(0.0, "fp32"), (4.5, "bf16")]
    assert bundle.resume_note(log) == "stopped and resumed 3 times with --resume latest; --precision bf16 from 4.5 kimg"
    assert bundle.resume_note(log.splitlines()[0]) == ""  # ran in one go


def test_bundles_a_real_run_with_its_card(bundle: ModuleType, tmp_path: Path) -> None:
    src = tmp_path / "src"
    rng = np.random.RandomState(0)
    for k, name in enumerate(["red", "blue"]):
        (src / name).mkdir(parents=True)
        for i in range(4):
            a = rng.randint(0, 60, (16, 16, 3)).astype(np.uint8)
            a[:, :, 2 * k] += 180
            Image.fromarray(a).save(src / name / f"{i}.png")
    prepare_dataset(src, tmp_path / "d.zip", resolution=16, labels="from-folders")
    base = ["train", "--outdir", str(tmp_path / "runs")]
    args = [
        *base,
        "--data",
        str(tmp_path / "d.zip"),
        "--cfg",
        "cpu-tiny",
        "--cbase",
        "256",
        "--cmax",
        "16",
        "--tick",
        "0.004",
        "--snap",
        "1",
        "--device",
        "cpu",
        "--cond",
        "--kimg",
        "0.004",
        "--precision",
        "fp32",
    ]
    assert CliRunner().invoke(cli, args).exit_code == 0
    res = CliRunner().invoke(cli, [*base, "--resume", "latest", "--kimg", "0.008", "--precision", "bf16"])
    assert res.exit_code == 0, res.output
    (run,) = (tmp_path / "runs").glob("00000-*")
    first = sorted(run.glob("network-snapshot-*.safetensors"))[-1]
    # a second stage: fine-tune that snapshot on a second dataset, as the emoji run did
    prepare_dataset(src, tmp_path / "d2.zip", resolution=16, labels="from-folders")
    args = [
        *base,
        "--data",
        str(tmp_path / "d2.zip"),
        "--cfg",
        "cpu-tiny",
        "--tick",
        "0.004",
        "--snap",
        "1",
        "--device",
        "cpu",
        "--cond",
        "--pl-weight",
        "0",
        "--mixing",
        "0",
        "--aug",
        "ada",
        "--p",
        "0.05",
        "--kimg",
        "0.004",
        "--precision",
        "bf16",
        "--resume-from",
        str(first),
    ]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    (run2,) = (tmp_path / "runs").glob("00001-*")
    snapshot = sorted(run2.glob("network-snapshot-*.safetensors"))[-1]
    fid = tmp_path / "fid.jsonl"
    fid.write_text(
        json.dumps(
            {
                "metric": "fid5k_full",
                "results": {"fid5k_full": 123.456},
                "num_gen": 5000,
                "num_real": 8,
                "detector": {"name": "inception-fidhelper"},
                "dataset": {"path": str(tmp_path / "d2.zip")},
            }
        )
        + "\n"
    )

    out = tmp_path / "assets" / "emoji32.safetensors"
    out.parent.mkdir()
    bundle.main(["--snapshot", str(snapshot), "--fid", str(fid), "--status", "tiny", "--out", str(out)])

    card = stylegan.io.inspect(out).metadata["model_card"]
    one, two = card["training"]
    assert one["command"].startswith("stylegan train --data d.zip --outdir runs --cfg cpu-tiny --cmax 16")
    assert "--cond" in one["command"] and "--kimg 0.004" in one["command"] and "--resume-from" not in one["command"]
    assert one["notes"] == "stopped and resumed once with --resume latest; --precision bf16 from 0.004 kimg"
    assert one["data"] == "d.zip (8 images)" and one["kimg"] == 0.0
    assert two["command"].startswith("stylegan train --data d2.zip")
    assert two["command"].endswith(
        f"--pl-weight 0 --mixing 0 --aug ada --p 0.05 --kimg 0.004 --precision bf16 --resume-from {first.name}"
    )
    assert two["notes"] == "" and two["data"] == "d2.zip (8 images)"
    assert card["fid"]["value"] == 123.46 and card["fid"]["data"] == "d2.zip" and card["status"] == "tiny"
    markdown = out.with_suffix(".md").read_text()
    assert "in stages, each fine-tuning the last one's snapshot:" in markdown
    assert f"  2. `{two['command']}` on d2.zip (8 images): 0.0 kimg" in markdown
    assert "**FID:** 123.46 (fid5k_full against d2.zip: 5000 generated vs 8 real images" in markdown
    info = CliRunner().invoke(cli, ["info", str(out)]).output  # one line per stage
    assert f"      2. command {two['command']} | data d2.zip (8 images) | kimg 0.0 | wall_time_hours" in info

    # float16 storage of the run's G_ema: the same images within float16 rounding
    ref, packed = stylegan.load(snapshot), stylegan.load(out)
    assert all(p.dtype == torch.float32 for p in packed.parameters())
    a = stylegan.generate(ref, seeds=[0, 1], noise_mode="const").images.astype(int)
    b = stylegan.generate(packed, seeds=[0, 1], noise_mode="const").images.astype(int)
    assert np.abs(a - b).max() <= 2
