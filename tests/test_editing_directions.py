"""Directions: planted-direction recovery, SeFa and GANSpace maths, direction files, the offline CLI chain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import stylegan
from stylegan.cli.main import cli
from stylegan.editing.directions import (
    Direction,
    apply_direction,
    fit_direction,
    ganspace,
    image_statistic,
    orthogonalize,
    read_labels,
    sefa,
    write_labels,
)
from stylegan.errors import StyleGANError
from stylegan.io.hashing import network_hash
from stylegan.testing import tiny_generator

pytest.importorskip("sklearn")


def _planted(n: int = 1500, dim: int = 32, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    """Synthetic W samples w = noise + (y + 0.5 c) d... with a planted attribute direction d and a condition c."""
    rng = np.random.RandomState(seed)
    d = rng.randn(dim)
    d /= np.linalg.norm(d)
    cond = rng.randn(dim)
    cond /= np.linalg.norm(cond)
    y, yc = rng.randn(n), rng.randn(n)
    w = rng.randn(n, dim) * 0.5 + 2.0 * y[:, None] * d + 2.0 * yc[:, None] * cond + 3.0
    samples = {"seeds": np.arange(n), "w": w.astype(np.float32)}
    return samples, d, np.stack([y, yc])


@pytest.mark.parametrize("method", ["mean-diff", "logistic", "svm"])
def test_planted_direction_recovered(method: str) -> None:
    samples, d, (y, yc) = _planted()
    labels = {"seed": samples["seeds"], "attr": y, "cond": yc}
    found = fit_direction(method, samples=samples, labels=labels, attr="attr", ratio=0.1)
    assert found.vectors.shape == (1, 32) and found.method == method
    assert float(found.direction @ d) > 0.9
    if method == "mean-diff":  # the face website's vector: Δw per unit of the label, planted as 2 d
        assert found.scale is not None and abs(float(found.scale[0]) - 2.0) < 0.2
    # conditional: the direction stays orthogonal to the condition's fitted direction
    cond_only = fit_direction(method, samples=samples, labels=labels, attr="cond", ratio=0.1).direction
    ortho = fit_direction(method, samples=samples, labels=labels, attr="attr", conditions=["cond"], ratio=0.1)
    assert abs(float(ortho.direction @ cond_only)) < 1e-5
    assert float(ortho.direction @ d) > 0.9


def test_orthogonalize_several() -> None:
    rng = np.random.RandomState(1)
    c = [rng.randn(16), rng.randn(16)]
    out = orthogonalize(rng.randn(16), c)
    assert abs(np.linalg.norm(out) - 1) < 1e-9
    assert max(abs(out @ x) for x in c) < 1e-9


def test_sefa_orthonormal_eigenvectors(G: stylegan.Generator) -> None:
    sd = G.state_dict()
    for layers, names in [([0], ["synthesis.b4.conv1"]), ([1, 2], ["synthesis.b8.conv0", "synthesis.b8.conv1"])]:
        vecs, vals = sefa(G, layers)
        # A = [affine weightᵀ] with every column (one output channel's weights) of unit norm
        a = torch.cat([sd[f"{n}.affine.weight"].double().T for n in names], dim=1).numpy()
        a = a / np.linalg.norm(a, axis=0, keepdims=True)
        m = a @ a.T
        assert vecs.shape == (G.w_dim, G.w_dim)
        np.testing.assert_allclose(vecs @ vecs.T, np.eye(G.w_dim), atol=1e-5)
        np.testing.assert_allclose(vecs @ m, vals[:, None] * vecs, atol=1e-4)  # v M = λ v (M symmetric)
        assert np.all(np.diff(vals) <= 1e-6)  # largest first
        assert abs(vals.sum() - np.trace(m)) < 1e-3


def test_ganspace_finds_the_widest_axis() -> None:
    rng = np.random.RandomState(0)
    axis = np.zeros(8)
    axis[3] = 1
    w = rng.randn(500, 8) * 0.1 + rng.randn(500, 1) * 5 * axis + 1
    comps, std, mean = ganspace(w, 4)
    assert comps.shape == (4, 8) and abs(abs(comps[0] @ axis) - 1) < 1e-3
    assert 4 < std[0] < 6 and np.allclose(mean, w.mean(0), atol=1e-5)


def test_apply_direction_layers() -> None:
    ws, d = torch.randn(2, 6, 4), np.random.RandomState(0).randn(4)
    out = apply_direction(ws, d, [-1.0, 0.0, 2.0], layers=[1, 2]).reshape(2, 3, 6, 4)
    assert torch.equal(out[:, 1], ws)
    assert torch.equal(out[:, :, [0, 3, 4, 5]], ws[:, None, [0, 3, 4, 5]].expand(-1, 3, -1, -1))
    assert torch.allclose(out[:, 2, 1], ws[:, 1] + 2 * torch.as_tensor(d, dtype=ws.dtype))
    mask = np.array([True, False, False, False, False, False])
    assert torch.equal(apply_direction(ws, d, [1.0], mask)[:, 1:], ws[:, 1:])


def test_direction_file_and_network_check(G: stylegan.Generator, tmp_path: Path) -> None:
    found = fit_direction("sefa", G=G, layers=[0, 1], num_components=5)
    assert found.vectors.shape == (5, G.w_dim) and found.layers.tolist() == [True, True] + [False] * (G.num_ws - 2)
    path = found.save(tmp_path / "sefa.npz")
    back = Direction.load(path)
    np.testing.assert_array_equal(back.vectors, found.vectors)
    assert back.method == "sefa" and back.network_hash == network_hash(G)
    back.check_network(G)
    other = tiny_generator(seed=4)
    with pytest.raises(StyleGANError, match="another network"):
        back.check_network(other)
    back.check_network(other, force=True)
    np.save(tmp_path / "boundary.npy", np.ones((1, G.w_dim), np.float32))  # InterFaceGAN's format
    assert Direction.load(tmp_path / "boundary.npy").direction.shape == (G.w_dim,)


def test_labels_csv_and_stats(tmp_path: Path) -> None:
    write_labels(tmp_path / "l.csv", [3, 5], {"smile": np.array([0.5, 1.0]), "age": np.array([20.0, 30.0])})
    labels = read_labels(tmp_path / "l.csv")
    assert labels["seed"].tolist() == [3, 5] and labels["age"].tolist() == [20.0, 30.0]
    (tmp_path / "bad.csv").write_text("name,smile\nx,1\n")
    with pytest.raises(StyleGANError, match="header"):
        read_labels(tmp_path / "bad.csv")
    red = np.zeros((1, 4, 4, 3), np.uint8)
    red[..., 0] = 255
    assert image_statistic(red, "saturation")[0] == 1.0 and abs(image_statistic(red, "hue")[0]) < 1e-9
    assert image_statistic(red, "red")[0] == 1.0


def test_offline_chain_cli(net_file: Path, tmp_path: Path, G: stylegan.Generator) -> None:
    run = CliRunner().invoke
    net = ["--network", str(net_file)]
    s, lab = str(tmp_path / "s.npz"), str(tmp_path / "l.csv")
    res = run(cli, ["directions", "sample", *net, "-n", "120", "--out", s])
    assert res.exit_code == 0, res.output
    data = np.load(s)
    assert data["w"].shape == (120, G.w_dim) and data["z"].shape == (120, G.z_dim) and data["seeds"][5] == 5
    res = run(cli, ["directions", "label", *net, "--samples", s, "--stat", "brightness,hue", "--out", lab])
    assert res.exit_code == 0, res.output
    assert read_labels(lab)["brightness"].shape == (120,)
    res = run(
        cli,
        [
            "directions",
            "fit",
            *net,
            "--samples",
            s,
            "--labels",
            lab,
            "--attr",
            "brightness",
            "--method",
            "svm",
            "--ratio",
            "0.1",
            "--condition",
            "hue",
            "--out",
            str(tmp_path / "b.npz"),
        ],
    )
    assert res.exit_code == 0, res.output
    res = run(cli, ["directions", "info", str(tmp_path / "b.npz")])
    assert res.exit_code == 0 and "svm brightness" in res.output and "val_accuracy" in res.output, res.output
    res = run(
        cli,
        [
            "edit",
            *net,
            "--latent",
            "seed:7",
            "--direction",
            str(tmp_path / "b.npz"),
            "--steps",
            "-2,0,2",
            "--layers",
            "0-1",
            "--out",
            str(tmp_path / "strip.png"),
            "--video",
            str(tmp_path / "sweep.mp4"),
            "--frames-per-step",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    from PIL import Image

    assert Image.open(tmp_path / "strip.png").size == (3 * 16, 16)
    edited = np.load(tmp_path / "strip.npz")["w"]
    assert edited.shape == (3, G.num_ws, G.w_dim)
    np.testing.assert_array_equal(edited[:, 2:], np.broadcast_to(edited[1, 2:], edited[:, 2:].shape))
    pytest.importorskip("imageio_ffmpeg")
    from stylegan.video import read_video

    assert read_video(tmp_path / "sweep.mp4").shape == (5, 16, 16, 3)
    res = run(
        cli,
        [
            "directions",
            "fit",
            *net,
            "--method",
            "ganspace",
            "--samples",
            s,
            "--components",
            "4",
            "--out",
            str(tmp_path / "g.npz"),
        ],
    )
    assert res.exit_code == 0, res.output
    other = tmp_path / "other.safetensors"
    stylegan.save(other, G_ema=tiny_generator(seed=9))
    res = run(
        cli,
        [
            "edit",
            "--network",
            str(other),
            "--latent",
            "seed:7",
            "--direction",
            str(tmp_path / "g.npz"),
            "--out",
            str(tmp_path / "x.png"),
        ],
    )
    assert isinstance(res.exception, StyleGANError) and "--force" in str(res.exception)
    res = run(
        cli,
        [
            "directions",
            "fit",
            "--network",
            str(other),
            "--method",
            "ganspace",
            "--samples",
            s,
            "--out",
            str(tmp_path / "g2.npz"),
        ],
    )
    assert isinstance(res.exception, StyleGANError) and "another network" in str(res.exception)


def test_planted_wplus_direction() -> None:
    """Per-layer (W+) samples give a (num_ws, w_dim) direction, as Puzer's 18x512 ones."""
    rng = np.random.RandomState(2)
    d = rng.randn(4, 8)
    d /= np.linalg.norm(d)
    y = rng.randn(1500)
    w = rng.randn(1500, 4, 8) * 0.5 + 2.0 * y[:, None, None] * d  # as hard as the flat 32-dim case above
    samples = {"seeds": np.arange(1500), "w": w}
    for method in ("mean-diff", "logistic"):
        found = fit_direction(method, samples=samples, labels={"seed": np.arange(1500), "a": y}, attr="a")
        assert found.direction.shape == (4, 8) and float((found.direction * d).sum()) > 0.9


def test_edit_sigma_ganspace(net_file: Path, tmp_path: Path, G: stylegan.Generator) -> None:
    samples = {"seeds": np.arange(50), "w": np.random.RandomState(0).randn(50, G.w_dim).astype(np.float32)}
    fit_direction("ganspace", G=G, samples=samples, num_components=3).save(tmp_path / "g.npz")
    fit_direction("sefa", G=G, num_components=3).save(tmp_path / "s.npz")
    base = ["edit", "--network", str(net_file), "--latent", "seed:1", "--steps", "0,1"]
    res = CliRunner().invoke(
        cli,
        [
            *base,
            "--direction",
            str(tmp_path / "g.npz"),
            "--component",
            "1",
            "--sigma",
            "--out",
            str(tmp_path / "e.png"),
        ],
    )
    assert res.exit_code == 0, res.output
    w = np.load(tmp_path / "e.npz")["w"]
    d = Direction.load(tmp_path / "g.npz")
    np.testing.assert_allclose(w[1, 0] - w[0, 0], d.scale[1] * d.vectors[1], atol=1e-5)
    res = CliRunner().invoke(
        cli, [*base, "--direction", str(tmp_path / "s.npz"), "--sigma", "--out", str(tmp_path / "e.png")]
    )
    assert isinstance(res.exception, StyleGANError) and "GANSpace or mean-diff" in str(res.exception)


def test_apply_direction_absolute() -> None:
    """InterFaceGAN's absolute edits: every output sits at the requested signed distance from the boundary."""
    rng = np.random.RandomState(3)
    n = rng.randn(4)
    n /= np.linalg.norm(n)
    ws = torch.as_tensor(rng.randn(2, 1, 4)).expand(-1, 5, -1).contiguous()
    out = apply_direction(ws, n, [-1.0, 0.0, 2.5], layers=[0, 1], offset=0.3).reshape(2, 3, 5, 4)
    pos = out[:, :, 0].numpy() @ n + 0.3
    np.testing.assert_allclose(pos, [[-1.0, 0.0, 2.5]] * 2, atol=1e-9)
    assert torch.equal(out[:, :, 2:], ws[:, None, 2:].expand(-1, 3, -1, -1))
    samples, d, (y, _) = _planted()
    found = fit_direction("svm", samples=samples, labels={"seed": samples["seeds"], "a": y}, attr="a")
    proj = samples["w"] @ found.direction + found.meta["offset"]
    assert abs(np.median(proj)) < 1e-4  # the boundary is the median split
