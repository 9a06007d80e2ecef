"""Latent operations: style swap, fusion, variations, latent sources; and their CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import stylegan
from stylegan.cli.main import cli
from stylegan.editing.latent_ops import fuse, parse_layers, resolve_latent, swap_styles, variations
from stylegan.errors import StyleGANError
from stylegan.generation import seeds_to_ws


@pytest.mark.parametrize("layers", ["1-3", "coarse", "fine", "0,5"])
def test_swap_changes_only_those_layers(layers: str) -> None:
    ws, tpl = torch.randn(3, 6, 8), torch.randn(1, 6, 8)
    idx = parse_layers(layers, 6)
    out = swap_styles(ws, tpl, idx)
    for i in range(6):
        expected = tpl[0, i].expand(3, -1) if i in idx else ws[:, i]
        assert torch.equal(out[:, i], expected), i
    assert torch.equal(ws, ws.clone())  # the input is not modified


def test_swap_errors() -> None:
    with pytest.raises(StyleGANError, match="out of range"):
        parse_layers("5-8", 6)
    with pytest.raises(StyleGANError, match="template"):
        swap_styles(torch.zeros(3, 6, 8), torch.zeros(2, 6, 8), [0])


def test_fuse_identity_and_weights() -> None:
    a, b = torch.randn(1, 6, 8), torch.randn(1, 6, 8)
    assert torch.equal(fuse([a, a]), a)
    assert torch.equal(fuse([a, a.clone(), a.clone()], [0.2, 0.3, 0.5]), a)
    assert torch.allclose(fuse([a, b]), (a + b) / 2, atol=1e-6)
    assert torch.allclose(fuse([a, b], [3, 1]), 0.75 * a + 0.25 * b, atol=1e-6)
    with pytest.raises(StyleGANError, match="sum to zero"):
        fuse([a, b], [1, -1])
    with pytest.raises(StyleGANError, match="equal shapes"):
        fuse([a, torch.zeros(1, 5, 8)])


def test_variations_keep_other_layers(G: stylegan.Generator) -> None:
    ws = seeds_to_ws(G, [42])
    out = variations(G, ws, 4, layers=[0, 1], seed=1)
    assert out.shape == (4, G.num_ws, G.w_dim)
    assert torch.equal(out[:, 2:], ws[:, 2:].expand(4, -1, -1))
    assert not torch.equal(out[0, 0], out[1, 0])
    half = variations(G, ws, 4, layers=[0, 1], seed=1, strength=0.5)
    assert torch.allclose(half[:, :2], (out[:, :2] + ws[:, :2]) / 2, atol=1e-6)


def test_resolve_latent_sources(G: stylegan.Generator, tmp_path: Path) -> None:
    ws = resolve_latent(G, "seed:1-2")
    assert torch.equal(ws, seeds_to_ws(G, [1, 2]))
    np.savez(tmp_path / "p.npz", w=ws.numpy())  # projected_w.npz
    assert torch.equal(resolve_latent(G, tmp_path / "p.npz"), ws)
    np.save(tmp_path / "w.npy", ws[0, 0].numpy())  # a single W vector: broadcast to every layer
    assert torch.equal(resolve_latent(G, tmp_path / "w.npy")[0], ws[0, 0].expand(G.num_ws, -1))
    np.savez(tmp_path / "bad.npz", w=np.zeros((1, 3, G.w_dim)))
    with pytest.raises(StyleGANError, match="does not fit"):
        resolve_latent(G, tmp_path / "bad.npz")
    with pytest.raises(StyleGANError, match="no such"):
        resolve_latent(G, tmp_path / "missing.npz")


def test_latent_cli(net_file: Path, tmp_path: Path, G: stylegan.Generator) -> None:
    run = CliRunner().invoke
    res = run(
        cli,
        [
            "latent",
            "swap",
            "--network",
            str(net_file),
            "--latent",
            "seed:1",
            "--template",
            "seed:2",
            "--layers",
            "1-2",
            "--outdir",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    swapped = np.load(tmp_path / "swap.npz")["w"]
    expected = swap_styles(seeds_to_ws(G, [1]), seeds_to_ws(G, [2]), [1, 2]).numpy()
    np.testing.assert_array_equal(swapped, expected)
    assert (tmp_path / "swap.png").is_file()

    res = run(
        cli,
        [
            "latent",
            "fuse",
            "--network",
            str(net_file),
            "--latents",
            f"{tmp_path / 'swap.npz'},{tmp_path / 'swap.npz'}",
            "--outdir",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(np.load(tmp_path / "fuse.npz")["w"], swapped)

    res = run(
        cli,
        [
            "latent",
            "variations",
            "--network",
            str(net_file),
            "--latent",
            str(tmp_path / "fuse.npz"),
            "-n",
            "3",
            "--outdir",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    var = np.load(tmp_path / "var.npz")["w"]
    assert var.shape == (3, G.num_ws, G.w_dim)
    np.testing.assert_array_equal(var[:, 1:], np.broadcast_to(swapped[:, 1:], var[:, 1:].shape))
    assert sorted(p.name for p in tmp_path.glob("var*.png")) == ["var00.png", "var01.png", "var02.png"]


def test_edit_step_zero_absolute_and_errors(G: stylegan.Generator) -> None:
    """`stylegan.editing.edit`: step 0 renders the input latents; absolute steps land at that distance from the
    boundary; the policy errors name the library's settings, which the CLI renders as its flags."""
    from stylegan.editing import Direction, edit
    from stylegan.errors import SettingError
    from stylegan.generation import synthesize

    ws = seeds_to_ws(G, [3, 4])
    vec = np.random.RandomState(0).randn(G.w_dim).astype(np.float32)
    vec /= np.linalg.norm(vec)
    d = Direction(vec[None], np.ones(G.num_ws, dtype=bool), "svm", meta={"offset": 0.25})
    res = edit(G, ws, d, [0.0, 1.5], sweep_frames=3)
    assert res.rows == 2 and res.strip().shape == (G.img_resolution * 2, G.img_resolution * 2, 3)
    assert torch.equal(res.ws[0::2], ws)
    np.testing.assert_array_equal(res.images[0::2], synthesize(G, ws))
    assert res.frames == 4 and torch.equal(res.sweeps[1][-1], res.ws[3])
    absolute = edit(G, ws, d, [-1.0, 2.0], absolute=True)
    pos = absolute.ws[:, 0].double().numpy() @ vec.astype(np.float64) + 0.25
    np.testing.assert_allclose(pos, [-1.0, 2.0, -1.0, 2.0], atol=1e-4)
    with pytest.raises(SettingError) as err:
        edit(G, ws, d, [1.0], sigma=True)
    assert str(err.value).startswith("sigma needs a GANSpace or mean-diff direction file")
    assert err.value.render({"sigma": "--sigma"}).startswith("--sigma needs")
    with pytest.raises(SettingError, match="sweep_frames needs at least two steps"):
        edit(G, ws, d, [1.0], sweep_frames=2)


def test_edit_cli_names_its_flags(net_file: Path, tmp_path: Path, G: stylegan.Generator) -> None:
    from stylegan.editing import Direction

    vec = np.eye(G.w_dim, dtype=np.float32)[:1]
    Direction(vec, np.ones(G.num_ws, dtype=bool), "sefa", scale=np.ones(1)).save(tmp_path / "d.npz")
    base = ["edit", "--network", str(net_file), "--latent", "seed:1", "--direction", str(tmp_path / "d.npz")]
    res = CliRunner().invoke(cli, [*base, "--steps", "1", "--video", str(tmp_path / "v.gif"), "--out", "s.png"])
    assert isinstance(res.exception, StyleGANError)
    assert str(res.exception) == "--video needs at least two --steps to sweep between"
    res = CliRunner().invoke(cli, [*base, "--label-units", "--out", str(tmp_path / "s.png")])
    assert str(res.exception) == "--sigma needs a GANSpace or mean-diff direction file (this one is sefa)"


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        ("v1", "5 (16px), 6 (32px), 7 (32px), 8 (64px)"),
        ("v2", "5 (32px), 6 (32px), 7 (64px), 8 (64px)"),
    ],
)
def test_swap_5_8_is_the_face_website_recipe(tmp_path: Path, make: str, shown: str) -> None:
    """`latent swap --layers 5-8`: 0-based w indices 5..8 come from the template, every other from the latent; the
    command names the resolution each drives (StyleGAN and StyleGAN2 place them differently)."""
    from stylegan.testing import tiny_generator, tiny_v1_generator

    G = tiny_v1_generator(seed=1, img_resolution=64) if make == "v1" else tiny_generator(seed=1, img_resolution=64)
    net = tmp_path / "net.safetensors"
    stylegan.save(net, G_ema=G)
    args = ["latent", "swap", "--network", str(net), "--latent", "seed:3", "--template", "seed:9", "--layers", "5-8"]
    result = CliRunner().invoke(cli, [*args, "--outdir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert shown in result.output
    with np.load(tmp_path / "out" / "swap.npz") as data:
        ws = data["w"][0]
    base, tpl = seeds_to_ws(G, [3])[0].numpy(), seeds_to_ws(G, [9])[0].numpy()
    swapped = [5, 6, 7, 8]
    np.testing.assert_array_equal(ws[swapped], tpl[swapped])
    others = [i for i in range(G.num_ws) if i not in swapped]
    np.testing.assert_array_equal(ws[others], base[others])
