"""The image -> W+ encoder: training, resume, file round trip, and `project --init encoder:PATH`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import stylegan
from stylegan.cli.main import cli
from stylegan.errors import StyleGANError
from stylegan.inversion.encoder import Encoder, EncoderConfig, encode, load_encoder, save_encoder, train_encoder
from stylegan.testing import tiny_generator


@pytest.fixture(scope="module")
def G() -> stylegan.Generator:
    return tiny_generator()


def test_encoder_trains_and_resumes(tmp_path: Path, G: stylegan.Generator) -> None:
    E, losses = train_encoder(G, tmp_path, steps=6, batch_size=4, snapshot_every=3, progress=False)
    assert len(losses) == 6 and all(np.isfinite(losses))
    assert (tmp_path / "encoder.safetensors").is_file() and (tmp_path / "encoder-state.pt").is_file()
    # A straight 8-step run equals 6 steps + a resume to 8.
    _, more = train_encoder(G, tmp_path, steps=8, batch_size=4, progress=False)
    straight, all_losses = train_encoder(G, tmp_path / "straight", steps=8, batch_size=4, progress=False)
    assert len(more) == 2
    np.testing.assert_allclose(losses + more, all_losses, rtol=1e-4)
    resumed = load_encoder(tmp_path)
    for (k, a), b in zip(resumed.state_dict().items(), straight.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=k)


def test_encoder_file_round_trip_and_errors(tmp_path: Path, G: stylegan.Generator) -> None:
    E = Encoder(EncoderConfig.for_generator(G))
    torch.nn.init.normal_(E.head.weight, std=0.01)
    save_encoder(E, tmp_path / "e.safetensors")
    E2 = load_encoder(tmp_path / "e.safetensors")
    x = torch.rand(2, 3, 16, 16) * 255
    torch.testing.assert_close(encode(E, x), encode(E2, x))
    with pytest.raises(StyleGANError, match="no such encoder"):
        load_encoder(tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    with pytest.raises(StyleGANError, match="not an encoder"):
        load_encoder(tmp_path / "bad.safetensors")


def test_cli_encoder_then_project_init(tmp_path: Path, G: stylegan.Generator) -> None:
    net = stylegan.save(tmp_path / "g.safetensors", G_ema=G)
    res = CliRunner().invoke(
        cli,
        [
            "encoder",
            "train",
            "--network",
            str(net),
            "--steps",
            "3",
            "--batch",
            "2",
            "--device",
            "cpu",
            "--outdir",
            str(tmp_path / "enc"),
        ],
    )
    assert res.exit_code == 0, res.output
    Image.fromarray(stylegan.generate(G, seeds=[1]).images[0]).save(tmp_path / "t.png")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        [
            "project",
            "--network",
            str(net),
            "--target",
            str(tmp_path / "t.png"),
            "--init",
            f"encoder:{tmp_path / 'enc'}",
            "--steps",
            "0",
            "--space",
            "w+",
            "--loss",
            "mse",
            "--device",
            "cpu",
            "--outdir",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    E = load_encoder(tmp_path / "enc")
    target = torch.from_numpy(np.array(Image.open(out / "target.png"))).permute(2, 0, 1)[None].float()
    np.testing.assert_allclose(np.load(out / "projected_w.npz")["w"], encode(E, target).numpy(), atol=1e-5)
    assert json.loads((out / "projection.json").read_text())["init"].startswith("encoder:")
    res = CliRunner().invoke(
        cli,
        ["project", "--network", str(net), "--target", str(tmp_path / "t.png"), "--init", "nope", "--outdir", str(out)],
    )
    assert isinstance(res.exception, StyleGANError) and "encoder:PATH" in str(res.exception)
