"""Importing directions made by other tools (InterFaceGAN, per-layer W+, GANSpace, SeFa) from files the tests write
in those tools' layouts: shapes, components, scales, layer masks, refusals (wrong shapes, pickles, NaN), the CLI."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import stylegan
from stylegan.cli.main import cli
from stylegan.editing import Direction, edit, import_direction
from stylegan.editing.directions import fit_direction
from stylegan.errors import SettingError, StyleGANError
from stylegan.generation import seeds_to_ws
from stylegan.io.hashing import network_hash
from stylegan.testing import tiny_generator
from tests.conftest import assert_user_error, run_stylegan


def _unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    q = np.linalg.qr(np.random.RandomState(seed).randn(dim, dim))[0].T
    return q[:n].astype(np.float32)


def _ganspace_file(path: Path, dim: int, k: int = 6, *, use_w: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A file laid out as GANSpace's decomposition writes it (lat_* in the latent space, act_* in a layer's)."""
    comp = _unit_rows(k, dim, seed=1)
    stdev = np.linspace(2.0, 0.5, k).astype(np.float32) if use_w else np.ones(k, np.float32)
    np.savez_compressed(
        path,
        act_comp=comp[:, None],
        act_mean=np.zeros((1, dim), np.float32),
        act_stdev=stdev,
        lat_comp=comp[:, None],
        lat_mean=np.full((1, dim), 0.25, np.float32),
        lat_stdev=stdev,
        var_ratio=np.full(k, 1.0 / k, np.float32),
        random_stdevs=np.ones(k, np.float32),
    )
    return comp, stdev


def test_interfacegan_boundary(G: stylegan.Generator, tmp_path: Path) -> None:
    b = _unit_rows(1, G.w_dim)  # train_boundary.py's boundary.npy: [1, dim] float32, unit length
    np.save(tmp_path / "boundary_Smiling.npy", b)
    d = import_direction(tmp_path / "boundary_Smiling.npy", G, name="smile")
    assert d.vectors.shape == (1, G.w_dim) and d.method == "svm" and d.attr == "smile"
    np.testing.assert_allclose(d.direction, b[0])
    assert d.layers.all() and len(d.layers) == G.num_ws and d.network_hash == network_hash(G)
    assert float(d.meta["offset"]) == 0.0 and d.meta["space"] == "w" and d.meta["source"] == "interfacegan"
    np.save(tmp_path / "flat.npy", b[0].astype(np.float64))  # [dim], float64: the same direction
    np.testing.assert_allclose(import_direction(tmp_path / "flat.npy", G).direction, b[0], rtol=1e-6)
    # Saved and read back as a direction file of ours; edits in InterFaceGAN's absolute mode (offset 0).
    back = Direction.load(d.save(tmp_path / "smile.npz"))
    assert back.method == "svm" and float(back.meta["offset"]) == 0.0 and back.attr == "smile"
    ws = seeds_to_ws(G, [3]).cpu()
    res = edit(G, ws, back, [-1.0, 2.0], absolute=True)
    pos = (res.ws[:, 0] @ torch.as_tensor(b[0])).tolist()
    assert pos == pytest.approx([-1.0, 2.0], abs=1e-4)


def test_interfacegan_z_space_is_recorded_and_not_edited(tmp_path: Path) -> None:
    G = tiny_generator(z_dim=24, w_dim=32)
    np.save(tmp_path / "z.npy", _unit_rows(1, 24))
    d = import_direction(tmp_path / "z.npy", G, space="z")
    assert d.meta["space"] == "z" and d.vectors.shape == (1, 24)
    with pytest.raises(StyleGANError, match="z.npy: an InterFaceGAN boundary of shape \\[1, 24\\]; .*\\[1, 32\\]"):
        import_direction(tmp_path / "z.npy", G)  # W by default: 32 wanted
    back = Direction.load(d.save(tmp_path / "zdir.npz"))
    with pytest.raises(StyleGANError, match="direction in Z"):
        edit(G, seeds_to_ws(G, [0]).cpu(), back, [1.0])


def test_per_layer_directions(G: stylegan.Generator, tmp_path: Path) -> None:
    v = np.random.RandomState(2).randn(G.num_ws, G.w_dim).astype(np.float32) * 0.3  # not unit: kept as it is
    np.save(tmp_path / "smile.npy", v)
    d = import_direction(tmp_path / "smile.npy", G, layers="0-3")
    assert d.vectors.shape == (1, G.num_ws, G.w_dim) and d.method == "external"
    np.testing.assert_allclose(d.direction, v)
    assert d.layers.tolist() == [True] * 4 + [False] * (G.num_ws - 4)
    assert float(d.meta["norm"]) == pytest.approx(np.linalg.norm(v), rel=1e-5)
    np.save(tmp_path / "batched.npy", v[None])  # [1, num_ws, w_dim]
    assert import_direction(tmp_path / "batched.npy", G).vectors.shape == (1, G.num_ws, G.w_dim)
    ws = seeds_to_ws(G, [1]).cpu()
    res = edit(G, ws, d, [2.0])
    expect = ws[0].clone()
    expect[:4] += 2.0 * torch.as_tensor(v[:4])
    assert torch.allclose(res.ws[0], expect, atol=1e-5)
    # The same matrix read as components (SeFa): rows are directions in W.
    d = import_direction(tmp_path / "smile.npy", G, format="sefa", component=2)
    np.testing.assert_allclose(d.direction, v[2])
    np.save(tmp_path / "short.npy", v[:-1])
    with pytest.raises(StyleGANError, match=f"short.npy: per-layer directions of shape \\[{G.num_ws - 1}, 32\\]"):
        import_direction(tmp_path / "short.npy", G, format="layers")


def test_ganspace_w(G: stylegan.Generator, tmp_path: Path) -> None:
    comp, stdev = _ganspace_file(tmp_path / "stylegan-ffhq_style_ipca_c6_n1000_w.npz", G.w_dim)
    path = tmp_path / "stylegan-ffhq_style_ipca_c6_n1000_w.npz"
    d = import_direction(path, G)  # component 0 by default
    np.testing.assert_allclose(d.direction, comp[0])
    assert d.method == "ganspace" and d.scale is not None and d.scale.tolist() == pytest.approx([stdev[0]])
    assert float(d.meta["stdev"]) == pytest.approx(stdev[0]) and d.meta["space"] == "w"
    np.testing.assert_allclose(d.meta["mean"], np.full(G.w_dim, 0.25))
    d3 = import_direction(path, G, component=3)
    np.testing.assert_allclose(d3.direction, comp[3])
    assert d3.scale.tolist() == pytest.approx([stdev[3]]) and int(d3.meta["component"]) == 3
    every = import_direction(path, G, component=None)
    assert every.vectors.shape == (6, G.w_dim) and every.scale.tolist() == pytest.approx(stdev.tolist())
    # --sigma steps are standard deviations along the component, as GANSpace's sliders.
    ws = seeds_to_ws(G, [2]).cpu()
    res = edit(G, ws, d3, [1.5], sigma=True)
    assert torch.allclose(res.ws[0] - ws[0], torch.as_tensor(1.5 * stdev[3] * comp[3]).expand_as(ws[0]), atol=1e-5)
    with pytest.raises(SettingError, match="component 6 is out of range: the file has 6 directions \\(0-5\\)"):
        import_direction(path, G, component=6)


def test_ganspace_z_and_bad_shapes(G: stylegan.Generator, tmp_path: Path) -> None:
    _ganspace_file(tmp_path / "z.npz", G.z_dim, use_w=False)  # GANSpace in Z: lat_stdev all ones
    d = import_direction(tmp_path / "z.npz", G, component=1)
    assert d.meta["space"] == "z" and d.scale is None
    assert import_direction(tmp_path / "z.npz", G, space="w").meta["space"] == "w"
    _ganspace_file(tmp_path / "big.npz", 512)
    with pytest.raises(StyleGANError, match="big.npz: GANSpace lat_comp of shape \\[6, 1, 512\\]; .*\\[K, 1, 32\\]"):
        import_direction(tmp_path / "big.npz", G)
    np.savez(tmp_path / "few.npz", lat_comp=_unit_rows(3, G.w_dim)[:, None], lat_stdev=np.ones(2) * 2)
    with pytest.raises(StyleGANError, match="lat_stdev has 2 values for 3 components"):
        import_direction(tmp_path / "few.npz", G)


def test_ganspace_reads_only_the_latent_arrays(G: stylegan.Generator, tmp_path: Path) -> None:
    # The activation-space arrays can be large (a convolution layer's PCA); they are never read, even broken ones.
    comp = _unit_rows(2, G.w_dim)
    np.savez(tmp_path / "g.npz", lat_comp=comp[:, None], lat_stdev=np.array([1.5, 0.5]), act_comp=np.array([None]))
    d = import_direction(tmp_path / "g.npz", G, component=1)
    np.testing.assert_allclose(d.direction, comp[1])
    assert d.scale.tolist() == [0.5]


def test_sefa_matrices(G: stylegan.Generator, tmp_path: Path) -> None:
    vecs = _unit_rows(G.w_dim, G.w_dim, seed=5)  # factorize_weight's eigen_vectors.T: one eigenvector per row
    vals = np.linspace(9.0, 1.0, G.w_dim)
    np.save(tmp_path / "boundaries.npy", vecs)
    d = import_direction(tmp_path / "boundaries.npy", G, component=4, layers=[0, 1])
    np.testing.assert_allclose(d.direction, vecs[4])
    assert d.method == "sefa" and d.scale is None and d.layers.tolist() == [True, True] + [False] * (G.num_ws - 2)
    np.savez(tmp_path / "sefa.npz", boundaries=vecs, values=vals)
    d = import_direction(tmp_path / "sefa.npz", G, component=1)
    assert d.scale.tolist() == pytest.approx([vals[1]]) and float(d.meta["eigenvalue"]) == pytest.approx(vals[1])
    # np.linalg.eig may return complex arrays with zero imaginary parts: read as real.
    np.save(tmp_path / "complex.npy", vecs.astype(np.complex64))
    np.testing.assert_allclose(import_direction(tmp_path / "complex.npy", G).direction, vecs[0])
    np.save(tmp_path / "wrong.npy", _unit_rows(5, 16))
    with pytest.raises(StyleGANError, match="wrong.npy: SeFa components of shape \\[5, 16\\]; .*\\[K, 32\\]"):
        import_direction(tmp_path / "wrong.npy", G)


def test_own_sefa_file(G: stylegan.Generator, tmp_path: Path) -> None:
    found = fit_direction("sefa", G=G, layers=[0, 1, 2], num_components=5)
    path = found.save(tmp_path / "sefa_coarse.npz")
    d = import_direction(path, G, component=2, name="pose")
    np.testing.assert_allclose(d.direction, found.vectors[2])
    assert d.method == "sefa" and d.attr == "pose" and d.scale.tolist() == pytest.approx([found.scale[2]])
    assert d.layers.tolist() == found.layers.tolist() and d.network_hash == network_hash(G)
    assert import_direction(path, G, component=None).vectors.shape == (5, G.w_dim)
    with pytest.raises(StyleGANError, match="sefa_coarse.npz: directions of shape \\[5, 32\\]; .*\\[K, 64\\]"):
        import_direction(path, num_ws=6, w_dim=64)


def test_without_a_network(tmp_path: Path) -> None:
    np.save(tmp_path / "b.npy", _unit_rows(1, 8))
    d = import_direction(tmp_path / "b.npy", num_ws=4, w_dim=8, layers="0-1")
    assert d.network_hash == "" and d.layers.tolist() == [True, True, False, False]
    with pytest.raises(SettingError, match="give the network"):
        import_direction(tmp_path / "b.npy")
    with pytest.raises(SettingError, match="a direction in Z needs the network G \\(or its z_dim\\)"):
        import_direction(tmp_path / "b.npy", w_dim=8, space="z")
    assert import_direction(tmp_path / "b.npy", w_dim=4, z_dim=8, space="z").meta["space"] == "z"


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda p: np.save(p, np.array([{"boundary": 1}], dtype=object), allow_pickle=True), "pickled Python objects"),
        (lambda p: p.write_bytes(pickle.dumps(np.ones((1, 32)))), "pickled Python objects"),
        (lambda p: np.savez(p, lat_comp=np.array([None, 1], dtype=object)), "pickled Python objects"),
        (lambda p: np.save(p, np.full((1, 32), np.nan, np.float32)), "NaN or infinite"),
        (lambda p: np.save(p, np.array([[np.inf] * 32])), "NaN or infinite"),
        (lambda p: np.save(p, np.zeros((1, 32), np.float32)), "the direction is zero"),
        (lambda p: np.save(p, np.array(["a"] * 32)), "not numbers"),
        (lambda p: np.save(p, np.ones((1, 32)) + 1j), "complex numbers"),
        (lambda p: np.save(p, np.ones((2, 3, 4, 32))), "an array of shape [2, 3, 4, 32]"),
        (lambda p: np.savez(p, a=np.ones(32), b=np.ones(32)), "an .npz with arrays a, b"),
        (lambda p: p.write_text("0.1 0.2\n"), "not a .npy or .npz array file"),
        (lambda p: p.write_bytes(b"\x93NUMPY\x01\x00garbage"), "not a readable .npy/.npz file"),
        (lambda p: p.write_bytes(b"PK\x03\x04truncated"), "not a readable .npy/.npz file"),
    ],
)
def test_refusals(G: stylegan.Generator, tmp_path: Path, write, message: str) -> None:
    path = tmp_path / "bad.npy"
    write(path)
    if not path.exists():  # np.savez adds .npz
        path = tmp_path / "bad.npy.npz"
    with pytest.raises(StyleGANError) as info:
        import_direction(path, G)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_cli_import(net_file: Path, tmp_path: Path, G: stylegan.Generator) -> None:
    run = CliRunner().invoke
    comp, stdev = _ganspace_file(tmp_path / "gs.npz", G.w_dim)
    out = tmp_path / "pc2.npz"
    args = ["directions", "import", str(tmp_path / "gs.npz"), "--network", str(net_file), "--component", "2"]
    res = run(cli, [*args, "--name", "pc2", "--layers", "coarse", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert f"wrote {out}: ganspace pc2, 1 direction(s) of shape [32], layers [0, 1, 2, 3]" in res.output
    assert "stdev: " in res.output and "space: w" in res.output
    d = Direction.load(out)
    np.testing.assert_allclose(d.direction, comp[2], rtol=1e-6)
    assert d.scale.tolist() == pytest.approx([stdev[2]]) and d.network_hash == network_hash(G)
    res = run(cli, [*args[:-2], "--component", "all", "--out", str(tmp_path / "all.npz")])
    assert res.exit_code == 0 and Direction.load(tmp_path / "all.npz").vectors.shape == (6, G.w_dim), res.output
    # The imported file edits like any other: --sigma steps in standard deviations.
    strip = tmp_path / "strip.png"
    res = run(
        cli,
        ["edit", "--network", str(net_file), "--latent", "seed:1", "--direction", str(out)]
        + ["--steps", "-2,0,2", "--sigma", "--out", str(strip)],
    )
    assert res.exit_code == 0 and strip.is_file(), res.output


def test_cli_import_errors(net_file: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "boundary.npy", _unit_rows(1, 512))
    res = run_stylegan(
        "directions", "import", tmp_path / "boundary.npy", "--network", net_file, "--out", tmp_path / "o.npz"
    )
    assert_user_error(res, "boundary.npy: an InterFaceGAN boundary of shape [1, 512]", "needs [1, 32] or [32]")
    assert not (tmp_path / "o.npz").exists()
    np.save(tmp_path / "obj.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    res = run_stylegan("directions", "import", tmp_path / "obj.npy", "--network", net_file, "--out", tmp_path / "o.npz")
    assert_user_error(res, "obj.npy: holds pickled Python objects")
    res = run_stylegan(
        "directions", "import", tmp_path / "boundary.npy", "--component", "x", "--out", tmp_path / "o.npz"
    )
    assert_user_error(res, "--component: expected a number")
    np.save(tmp_path / "s.npy", _unit_rows(4, 32))
    res = run_stylegan(
        "directions",
        "import",
        tmp_path / "s.npy",
        "--network",
        net_file,
        "--component",
        "9",
        "--out",
        tmp_path / "o.npz",
    )
    assert_user_error(res, "s.npy: --component 9 is out of range: the file has 4 directions (0-3)")
