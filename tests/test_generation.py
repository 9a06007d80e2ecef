"""Generation workflows: seeds, truncation, style mixing, grids, latent files, and the generate/mix CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import stylegan
from stylegan.cli.main import cli
from stylegan.errors import StyleGANError
from stylegan.generation import load_latents, seeds_to_ws, synthesize
from stylegan.images import make_grid, to_uint8
from stylegan.latents import layer_preset, mix_styles, parse_range, seed_to_z, slerp, truncate
from stylegan.testing import tiny_generator


def test_parse_range() -> None:
    assert parse_range("0-3,7") == [0, 1, 2, 3, 7]
    assert parse_range("5") == [5]
    assert parse_range("10-12, 1") == [10, 11, 12, 1]
    for bad in ["", "a", "3-1", "1-x"]:
        with pytest.raises(ValueError):
            parse_range(bad)


def test_seed_convention_is_nvidias() -> None:
    np.testing.assert_array_equal(seed_to_z(42, 8), np.random.RandomState(42).randn(1, 8))


def test_generate_matches_direct_forward(G: stylegan.Generator) -> None:
    out = stylegan.generate(G, seeds=[5, 9], psi=0.6, truncation_cutoff=2)
    z = torch.from_numpy(np.concatenate([seed_to_z(5, G.z_dim), seed_to_z(9, G.z_dim)]))
    with torch.no_grad():
        want = to_uint8(G(z, None, truncation_psi=0.6, truncation_cutoff=2, noise_mode="const"))
    assert out.images.dtype == np.uint8 and out.images.shape == (2, 16, 16, 3)
    # Batched vs direct float rounding may flip a quantisation step; never more than one level.
    assert np.abs(out.images.astype(int) - want.astype(int)).max() <= 1
    assert out.seeds == [5, 9]


def test_quantisation_is_nvidias() -> None:
    x = torch.tensor([-1.5, -1.0, -0.5, 0.0, 0.5, 0.999, 1.0, 2.0]).reshape(1, 1, 1, 8)
    got = to_uint8(x)[0, 0, :, 0]
    want = (x * 127.5 + 128).clamp(0, 255).to(torch.uint8).flatten().numpy()
    np.testing.assert_array_equal(got, want)
    assert got[3] == 128 and got[6] == 255 and got[0] == 0


def test_truncate_and_mix_helpers() -> None:
    ws = torch.randn(2, 6, 4)
    avg = torch.randn(4)
    t = truncate(ws, avg, 0.5, cutoff=3)
    torch.testing.assert_close(t[:, 3:], ws[:, 3:])
    torch.testing.assert_close(t[:, :3], avg + 0.5 * (ws[:, :3] - avg))
    other = torch.randn(2, 6, 4)
    m = mix_styles(ws, other, [1, 4])
    torch.testing.assert_close(m[:, [1, 4]], other[:, [1, 4]])
    torch.testing.assert_close(m[:, [0, 2, 3, 5]], ws[:, [0, 2, 3, 5]])
    with pytest.raises(ValueError, match="out of range"):
        mix_styles(ws, other, [6])


def test_layer_presets() -> None:
    assert layer_preset("coarse", 18) == [0, 1, 2, 3]
    assert layer_preset("middle", 18) == [4, 5, 6, 7]
    assert layer_preset("fine", 18) == list(range(8, 18))
    assert layer_preset("5-8", 18) == [5, 6, 7, 8]
    with pytest.raises(ValueError):
        layer_preset("0-20", 18)


def test_slerp_endpoints_and_norm() -> None:
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    torch.testing.assert_close(slerp(a, b, 0.0), a / a.norm(dim=-1, keepdim=True))
    torch.testing.assert_close(slerp(a, b, 1.0), b / b.norm(dim=-1, keepdim=True), atol=1e-5, rtol=0)
    torch.testing.assert_close(slerp(a, b, 0.3).norm(dim=-1), torch.ones(3))


def test_style_mix_images_are_mixed_latents(G: stylegan.Generator) -> None:
    mix = stylegan.style_mix(G, [1, 2], [3, 4, 5], layers=[0, 1, 2], psi=0.8)
    ws = seeds_to_ws(G, [2, 4], psi=0.8)
    want = synthesize(G, mix_styles(ws[:1], ws[1:], [0, 1, 2]))[0]
    assert np.abs(mix.images[(2, 4)].astype(int) - want.astype(int)).max() <= 1
    # Layout: top row = column seeds, left column = row seeds, top-left empty.
    assert mix.grid.shape == (3 * 16, 4 * 16, 3)
    np.testing.assert_array_equal(mix.grid[:16, 16:32], mix.images[(3, 3)])
    np.testing.assert_array_equal(mix.grid[16:32, :16], mix.images[(1, 1)])
    np.testing.assert_array_equal(mix.grid[32:48, 48:64], mix.images[(2, 5)])
    assert mix.grid[:16, :16].max() == 0
    # Mixing only the layers changes the image relative to the row seed alone.
    assert not np.array_equal(mix.images[(1, 3)], mix.images[(1, 1)])


def test_make_grid_places_row_major() -> None:
    imgs = np.arange(5)[:, None, None, None].repeat(2, 1).repeat(2, 2).astype(np.uint8)
    g = make_grid(imgs, 2, 3)
    assert g.shape == (4, 6, 1)
    assert g[0, 2, 0] == 1 and g[2, 0, 0] == 3 and g[3, 5, 0] == 0
    with pytest.raises(ValueError):
        make_grid(imgs, 2, 2)


def test_conditional_generation_class_choice() -> None:
    Gc = tiny_generator(c_dim=4)
    a = stylegan.generate(Gc, [1], class_idx=0).images
    b = stylegan.generate(Gc, [1], class_idx=3).images
    assert not np.array_equal(a, b)
    # No class: seed s takes class s % c_dim (so a range of seeds shows every class).
    assert np.array_equal(stylegan.generate(Gc, [7]).images, stylegan.generate(Gc, [7], class_idx=3).images)
    with pytest.raises(StyleGANError, match="out of range"):
        stylegan.generate(Gc, [1], class_idx=4)


def test_latent_files(tmp_path: Path, G: stylegan.Generator) -> None:
    ws = seeds_to_ws(G, [1, 2]).numpy()
    np.savez(tmp_path / "projected_w.npz", w=ws)
    torch.testing.assert_close(load_latents(tmp_path / "projected_w.npz"), torch.from_numpy(ws))
    with pytest.raises(StyleGANError, match="no such file"):
        load_latents(tmp_path / "missing.npz")
    np.savez(tmp_path / "bad.npz", x=ws)
    with pytest.raises(StyleGANError, match="'w'"):
        load_latents(tmp_path / "bad.npz")
    with pytest.raises(StyleGANError, match="needs"):
        synthesize(G, torch.zeros(1, 3, G.w_dim))


def test_cli_generate_writes_nvidia_file_names(tmp_path: Path, net_file: Path, G: stylegan.Generator) -> None:
    res = CliRunner().invoke(
        cli,
        [
            "generate",
            "--network",
            str(net_file),
            "--seeds",
            "0-2,7",
            "--trunc",
            "0.7",
            "--outdir",
            str(tmp_path),
            "--device",
            "cpu",
        ],
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "seed0000.png",
        "seed0001.png",
        "seed0002.png",
        "seed0007.png",
    ]
    img = np.array(Image.open(tmp_path / "seed0007.png"))
    want = stylegan.generate(G, [7], psi=0.7).images[0]
    assert np.abs(img.astype(int) - want.astype(int)).max() <= 1


def test_cli_grid_and_grayscale(tmp_path: Path) -> None:
    net = tmp_path / "gray.safetensors"
    stylegan.save(net, G_ema=tiny_generator(img_channels=1))
    res = CliRunner().invoke(
        cli, ["generate", "--network", str(net), "--seeds", "0-5", "--grid", "2x3", "--outdir", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    grid = Image.open(tmp_path / "o" / "grid.png")
    assert grid.mode == "L" and grid.size == (48, 32)
    res = CliRunner().invoke(
        cli, ["generate", "--network", str(net), "--seeds", "0-9", "--grid", "2x3", "--outdir", str(tmp_path / "o")]
    )
    assert res.exit_code != 0


def test_cli_mix(tmp_path: Path, net_file: Path) -> None:
    res = CliRunner().invoke(
        cli,
        [
            "mix",
            "--network",
            str(net_file),
            "--rows",
            "85,100",
            "--cols",
            "55,821",
            "--styles",
            "coarse",
            "--outdir",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    names = {p.name for p in tmp_path.iterdir()}
    assert {"grid.png", "85-55.png", "100-821.png", "55-55.png"} <= names
    assert Image.open(tmp_path / "grid.png").size == (3 * 16, 3 * 16)


def test_cli_projected_w(tmp_path: Path, net_file: Path, G: stylegan.Generator) -> None:
    np.savez(tmp_path / "projected_w.npz", w=seeds_to_ws(G, [4]).numpy())
    res = CliRunner().invoke(
        cli,
        [
            "generate",
            "--network",
            str(net_file),
            "--projected-w",
            str(tmp_path / "projected_w.npz"),
            "--outdir",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "proj00.png").exists()


def test_cli_user_errors_are_one_line(tmp_path: Path, net_file: Path) -> None:
    """Bad input gets `error: ...` on stderr and exit status 1, never a traceback (real subprocess)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cases = [
        ["generate", "--network", str(net_file), "--outdir", str(tmp_path)],  # no seeds
        ["generate", "--network", str(tmp_path / "nope.pkl"), "--seeds", "1", "--outdir", str(tmp_path)],
        ["generate", "--network", str(net_file), "--seeds", "1", "--class", "2", "--outdir", str(tmp_path)],
        [
            "mix",
            "--network",
            str(net_file),
            "--rows",
            "1",
            "--cols",
            "2",
            "--styles",
            "0-99",
            "--outdir",
            str(tmp_path),
        ],
    ]
    for args in cases:
        p = subprocess.run([sys.executable, "-m", "stylegan", *args], capture_output=True, text=True, env=env)
        assert p.returncode == 1, (args, p.stderr)
        lines = [line for line in p.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, p.stderr)
        assert "Traceback" not in p.stderr
