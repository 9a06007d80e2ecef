"""Every tool works on StyleGAN (v1) networks: mixing, video, projection (W and W+), the encoder, directions and
edits, latent swap / fuse / variations, metrics and attribution, through the CLI on a tiny v1 network."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import stylegan.io as sio
from stylegan.testing import tiny_v1_discriminator, tiny_v1_generator, without_noise

from .conftest import run_stylegan


@pytest.fixture(scope="module")
def v1_net(tmp_path_factory):
    path = tmp_path_factory.mktemp("v1net") / "v1.safetensors"
    G = without_noise(
        tiny_v1_generator(seed=3, img_resolution=32)
    )  # 32 px: the LPIPS network's minimum  # noiseless: a perfect projection exists
    sio.save(path, G_ema=G, D=tiny_v1_discriminator(seed=4, img_resolution=32))
    return path


def ok(*args: str, timeout: float = 300) -> str:
    result = run_stylegan(*args, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def test_mix_uses_all_eighteen_styles_at_1024(tmp_path):
    G = tiny_v1_generator(img_resolution=1024, channel_base=2048, channel_max=8, z_dim=8, w_dim=8)
    assert G.num_ws == 18
    net = sio.save(tmp_path / "big.safetensors", G_ema=G)
    out = ok(
        "mix", "--network", str(net), "--rows", "1,2", "--cols", "3", "--styles", "8-17", "--outdir", str(tmp_path)
    )
    assert "8, 9, 10, 11, 12, 13, 14, 15, 16, 17" in out
    assert Image.open(tmp_path / "grid.png").size == (1024 * 2, 1024 * 3)


def test_generate_video_and_latent_operations(v1_net, tmp_path):
    ok("video", "--network", str(v1_net), "--seeds", "0,1", "--frames-per-key", "4", "--out", str(tmp_path / "v.mp4"))
    assert (tmp_path / "v.mp4").stat().st_size > 0
    ok(
        "latent",
        "swap",
        "--network",
        str(v1_net),
        "--latent",
        "seed:1",
        "--template",
        "seed:2",
        "--layers",
        "4-5",
        "--outdir",
        str(tmp_path / "swap"),
    )
    swapped = np.load(tmp_path / "swap" / "swap.npz")["w"]
    assert swapped.shape[-2:] == (8, 32)
    ok("latent", "fuse", "--network", str(v1_net), "--latents", "seed:1,seed:2", "--outdir", str(tmp_path / "fuse"))
    ok(
        "latent",
        "variations",
        "--network",
        str(v1_net),
        "--latent",
        "seed:1",
        "-n",
        "3",
        "--layers",
        "0",
        "--outdir",
        str(tmp_path / "var"),
    )
    assert len(list((tmp_path / "var").glob("*.png"))) == 3


def test_directions_and_edits(v1_net, tmp_path):
    ok("directions", "fit", "--network", str(v1_net), "--method", "sefa", "--out", str(tmp_path / "sefa.npz"))
    ok("directions", "sample", "--network", str(v1_net), "-n", "16", "--out", str(tmp_path / "s.npz"))
    ok(
        "directions",
        "fit",
        "--network",
        str(v1_net),
        "--samples",
        str(tmp_path / "s.npz"),
        "--method",
        "ganspace",
        "--out",
        str(tmp_path / "gs.npz"),
    )
    for d in ("sefa.npz", "gs.npz"):
        ok(
            "edit",
            "--network",
            str(v1_net),
            "--latent",
            "seed:1",
            "--direction",
            str(tmp_path / d),
            "--steps",
            "-3,0,3",
            "--out",
            str(tmp_path / f"{d}.png"),
        )
        strip = np.asarray(Image.open(tmp_path / f"{d}.png"))
        left, middle = strip[:, :32], strip[:, 32:64]
        assert np.abs(left.astype(int) - middle.astype(int)).max() > 0  # the edit changed the image


@pytest.mark.slow
def test_projection_encoder_metrics_and_attribution(v1_net, tmp_path):
    ok("generate", "--network", str(v1_net), "--seeds", "5-8", "--outdir", str(tmp_path / "reals"))
    target = str(tmp_path / "reals" / "seed0005.png")
    for space in ("w", "w+"):
        out = ok(
            "project",
            "--network",
            str(v1_net),
            "--target",
            target,
            "--steps",
            "60",
            "--space",
            space,
            "--outdir",
            str(tmp_path / space),
        )
        assert "lpips distance" in out
        w = np.load(next((tmp_path / space).glob("*.npz")))["w"]
        assert w.shape[-2:] == (8, 32)
    ok("encoder", "train", "--network", str(v1_net), "--steps", "4", "--batch", "2", "--outdir", str(tmp_path / "enc"))
    ok(
        "project",
        "--network",
        str(v1_net),
        "--target",
        target,
        "--steps",
        "2",
        "--init",
        f"encoder:{tmp_path / 'enc' / 'encoder.safetensors'}",
        "--outdir",
        str(tmp_path / "pe"),
    )
    ok(
        "metrics",
        "--network",
        str(v1_net),
        "--data",
        str(tmp_path / "reals"),
        "--metrics",
        "fid20_full,kid20_full",
        "--batch",
        "4",
        "--outdir",
        str(tmp_path),
    )
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert {r["metric"] for r in rows} >= {"fid20_full", "kid20_full"}
    ok(
        "attribute",
        "--network",
        str(v1_net),
        "--image",
        target,
        "--steps",
        "40",
        "--threshold",
        "0.3",
        "--out",
        str(tmp_path / "attr.json"),
    )
    assert json.loads((tmp_path / "attr.json").read_text())
