"""Projection (ADA's projector.py + W+, batches, classes, kept noise) and `stylegan project`, on tiny networks."""

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
from stylegan.inversion.projection import (
    learning_rate,
    noise_buffer_names,
    noise_regularization,
    preprocess_target,
    project,
    render_projection,
    w_statistics,
)
from stylegan.testing import tiny_generator, without_noise


@pytest.fixture(scope="module")
def G() -> stylegan.Generator:
    return without_noise(tiny_generator())


@pytest.fixture(scope="module")
def target(G: stylegan.Generator) -> np.ndarray:
    return stylegan.generate(G, seeds=[5], psi=0.5).images  # [1, 16, 16, 3]


def test_noise_regularization_white_vs_constant() -> None:
    gen = torch.Generator().manual_seed(0)
    white = [noise_regularization([torch.randn(64, 64, generator=gen)]) for _ in range(20)]
    const = noise_regularization([torch.ones(64, 64)])
    assert float(torch.stack(white).mean()) < 1e-3
    assert float(const) == pytest.approx(2 * 4)  # (mean 1)^2 along x and y at 64, 32, 16, 8
    assert float(const) > 1000 * float(torch.stack(white).mean())


def test_learning_rate_schedule() -> None:
    assert learning_rate(0.0) == 0.0
    assert learning_rate(0.05) == pytest.approx(0.1)
    assert learning_rate(0.5) == pytest.approx(0.1)
    assert learning_rate(0.875) == pytest.approx(0.05)
    assert learning_rate(0.9999) < 1e-6


def test_w_statistics_matches_definition(G: stylegan.Generator) -> None:
    w_avg, w_std = w_statistics(G, samples=200, batch_size=64)
    z = torch.from_numpy(np.random.RandomState(123).randn(200, G.z_dim)).float()
    with torch.no_grad():
        w = G.mapping(z, None)[:, :1]
    torch.testing.assert_close(w_avg, w.mean(0, keepdim=True), atol=1e-5, rtol=1e-5)
    assert w_std == pytest.approx(float(((w - w.mean(0)).square().sum() / 200).sqrt()), rel=1e-4)


def test_preprocess_center_crop_and_gray(tmp_path: Path) -> None:
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, 10:30] = 255  # the centre square is all white, the sides black
    Image.fromarray(img).save(tmp_path / "t.png")
    out = preprocess_target(tmp_path / "t.png", 16)
    assert out.shape == (16, 16, 3) and out.min() > 240
    assert preprocess_target(tmp_path / "t.png", 8, channels=1).shape == (8, 8, 1)
    with pytest.raises(StyleGANError, match="no such target"):
        preprocess_target(tmp_path / "missing.png", 16)


def test_projection_converges_and_w_plus_beats_w(G: stylegan.Generator, target: np.ndarray) -> None:
    res_w = project(G, target, steps=25, space="w", loss="mse", w_avg_samples=500, progress=False)
    res_wp = project(G, target, steps=25, space="w+", loss="mse", w_avg_samples=500, progress=False)
    d0 = float(res_w.distances[0, 0])
    assert res_w.final_distances[0] < 0.25 * d0
    assert res_wp.final_distances[0] < res_w.final_distances[0]
    assert res_w.ws.shape == (1, G.num_ws, G.w_dim) and res_w.history.shape == (1, 25, G.num_ws, G.w_dim)
    assert torch.equal(res_w.ws[0, 0], res_w.ws[0, -1])  # W mode: one w for all layers
    assert not torch.equal(res_wp.ws[0, 0], res_wp.ws[0, -1])


def test_optimised_noise_is_kept_and_used() -> None:
    G = tiny_generator()  # noise strengths are non-zero here
    before = {k: v.clone() for k, v in G.synthesis.named_buffers() if k.endswith("noise_const")}
    target = stylegan.generate(G, seeds=[3]).images
    res = project(G, target, steps=5, space="w+", loss="mse", w_avg_samples=100, progress=False)
    for k, v in before.items():
        assert torch.equal(dict(G.synthesis.named_buffers())[k], v)  # G untouched
        assert not torch.equal(res.noise[0][k], v)
        n = res.noise[0][k]
        assert abs(float(n.mean())) < 1e-4 and float(n.square().mean()) == pytest.approx(1, abs=1e-4)
    assert set(res.noise[0]) == set(noise_buffer_names(G))
    np.testing.assert_array_equal(res.images, render_projection(G, res.ws, res.noise))
    assert not np.array_equal(res.images, render_projection(G, res.ws, None))  # the stored noise differs
    assert all(p.requires_grad for p in G.parameters())  # flags restored


def test_batch_and_conditional() -> None:
    G = tiny_generator(c_dim=3)
    targets = stylegan.generate(G, seeds=[1, 2], class_idx=1).images
    res = project(G, targets, steps=3, loss="mse", class_idx=1, w_avg_samples=50, progress=False)
    assert res.ws.shape == (2, G.num_ws, G.w_dim) and res.distances.shape == (2, 3) and len(res.noise) == 2
    with pytest.raises(StyleGANError, match="conditional"):
        project(G, targets, steps=1, loss="mse", w_avg_samples=50, progress=False)
    with pytest.raises(StyleGANError, match="w\\+"):
        project(G, targets, steps=1, space="z", loss="mse", progress=False)  # type: ignore[arg-type]


def test_steps_zero_and_init_ws(G: stylegan.Generator, target: np.ndarray) -> None:
    ws_true = stylegan.generate(G, seeds=[5], psi=0.5).ws
    res = project(G, target, steps=0, space="w+", loss="mse", init_ws=ws_true, progress=False)
    torch.testing.assert_close(res.ws, ws_true)
    assert np.abs(res.images.astype(int) - target.astype(int)).max() <= 1


def test_lpips_offline_runs_at_32px() -> None:
    from stylegan.metrics.perceptual import find_offline_lpips, load_perceptual

    if find_offline_lpips() is None:
        pytest.skip("stlpips-pytorch weights not installed")
    G = without_noise(tiny_generator(img_resolution=32))
    target = stylegan.generate(G, seeds=[2], psi=0.5).images
    res = project(
        G, target, steps=2, space="w+", perceptual=load_perceptual("offline"), w_avg_samples=100, progress=False
    )
    assert res.perceptual is not None and res.perceptual["name"] == "lpips-vgg16-st"
    assert torch.isfinite(res.distances).all()
    with pytest.raises(StyleGANError, match="use loss mse"):  # the CLI says --loss
        project(tiny_generator(), target[:, :16, :16], steps=1, perceptual=load_perceptual("offline"), progress=False)


def test_cli_project_outputs_and_generate_roundtrip(tmp_path: Path, G: stylegan.Generator) -> None:
    net = stylegan.save(tmp_path / "g.safetensors", G_ema=G)
    imgs = stylegan.generate(G, seeds=[5, 6], psi=0.5).images
    paths = []
    for i, img in enumerate(imgs):
        paths.append(tmp_path / f"face{i}.png")
        Image.fromarray(img).save(paths[-1])
    out = tmp_path / "out"
    args = [
        "project",
        "--network",
        str(net),
        "--steps",
        "4",
        "--loss",
        "mse",
        "--w-avg-samples",
        "50",
        "--save-video",
        "--device",
        "cpu",
        "--outdir",
        str(out),
    ]
    res = CliRunner().invoke(cli, [*args, "--target", str(paths[0]), "--target", str(paths[1])])
    assert res.exit_code == 0, res.output
    for name in ("face0", "face1"):
        d = out / name
        for f in ("projected_w.npz", "projected_noise.npz", "target.png", "proj.png", "proj.mp4", "projection.json"):
            assert (d / f).is_file(), f
        w = np.load(d / "projected_w.npz")["w"]
        assert w.shape == (1, G.num_ws, G.w_dim)
        record = json.loads((d / "projection.json").read_text())
        assert record["loss"] == "mse" and len(record["distances"]) == 4
    from stylegan.video import read_video

    frames = read_video(out / "face0" / "proj.mp4")
    assert frames.shape[0] == 4 and frames.shape[2] >= 2 * G.img_resolution

    w_file = str(out / "face0" / "projected_w.npz")
    res = CliRunner().invoke(
        cli, ["generate", "--network", str(net), "--projected-w", w_file, "--outdir", str(tmp_path / "gen")]
    )
    assert res.exit_code == 0, res.output
    regenerated = np.asarray(Image.open(tmp_path / "gen" / "proj00.png"))
    np.testing.assert_array_equal(regenerated, np.asarray(Image.open(out / "face0" / "proj.png")))


def test_cli_project_errors(tmp_path: Path, G: stylegan.Generator) -> None:
    net = stylegan.save(tmp_path / "g.safetensors", G_ema=G)
    res = CliRunner().invoke(
        cli, ["project", "--network", str(net), "--target", str(tmp_path / "nope.png"), "--outdir", str(tmp_path / "o")]
    )
    assert isinstance(res.exception, StyleGANError) and "no such file" in str(res.exception)


def test_generate_with_projected_noise_reproduces_proj_png(tmp_path: Path) -> None:
    """proj.png uses the kept, optimised noise; `generate --projected-w --projected-noise` renders the same image."""
    main_cli = cli
    net = tmp_path / "net.safetensors"
    G = tiny_generator(seed=4)  # non-zero noise strengths: the noise maps matter
    stylegan.save(net, G_ema=G)
    target = tmp_path / "target.png"
    Image.fromarray(stylegan.generate(G, [11]).images[0]).save(target)
    out = tmp_path / "proj"
    res = CliRunner().invoke(
        main_cli,
        [
            "project",
            "--network",
            str(net),
            "--target",
            str(target),
            "--steps",
            "3",
            "--loss",
            "mse",
            "--w-avg-samples",
            "200",
            "--outdir",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(
        main_cli,
        [
            "generate",
            "--network",
            str(net),
            "--projected-w",
            str(out / "projected_w.npz"),
            "--projected-noise",
            str(out / "projected_noise.npz"),
            "--outdir",
            str(tmp_path / "gen"),
        ],
    )
    assert res.exit_code == 0, res.output
    want = np.array(Image.open(out / "proj.png")).astype(int)
    got = np.array(Image.open(tmp_path / "gen" / "proj00.png")).astype(int)
    assert np.abs(got - want).max() <= 1
    plain = CliRunner().invoke(
        main_cli,
        [
            "generate",
            "--network",
            str(net),
            "--projected-w",
            str(out / "projected_w.npz"),
            "--outdir",
            str(tmp_path / "plain"),
        ],
    )
    assert plain.exit_code == 0
    assert np.abs(np.array(Image.open(tmp_path / "plain" / "proj00.png")).astype(int) - want).max() > 1
