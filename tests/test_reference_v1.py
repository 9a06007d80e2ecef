"""Self-tests of the StyleGAN v1 oracle (tests/reference_v1.py) and the TF-layout fixture (tests/tf_v1_fixture.py).

They check the oracle against facts that do not depend on our networks: the fused resampling convolutions against
their separable equivalents, the progressive-growing blend against rendering a smaller network, the published
parameter count of the FFHQ 1024 generator, and the pickle's structure as a plain unpickler sees it.
"""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest
import torch

from . import reference_v1 as ref
from . import tf_v1_fixture as fx

# A tiny 32 px network: 4x4 and 8x8 at 64 channels, 16x16 at 32, 32x32 at 16.
TINY = dict(
    resolution=32,
    num_channels=3,
    fmap_base=256,
    fmap_max=64,
    latent_size=32,
    dlatent_size=32,
    mapping_layers=2,
    mapping_fmaps=32,
)


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.RandomState(seed).randn(*shape))


def _ws(kw: dict, n: int = 2, seed: int = 5) -> torch.Tensor:
    return _rand(n, ref.num_styles(kw), kw["dlatent_size"], seed=seed)


# ---------------------------------------------------------------------------------------------------------------
# Resampling convolutions


def test_fused_upscale_conv_is_nearest_then_flipped_conv():
    x, w = _rand(2, 3, 5, 6, seed=1), _rand(3, 3, 3, 4, seed=2)  # HWIO
    fused = ref.fused_upscale_conv(x, w, gain=ref.SQRT2)
    assert fused.shape == (2, 4, 10, 12)
    flipped = ref.conv(ref.upscale2d(x), w.flip(0, 1), gain=ref.SQRT2)
    unflipped = ref.conv(ref.upscale2d(x), w, gain=ref.SQRT2)
    assert (fused - flipped).abs().max() < 1e-10
    assert (fused - unflipped).abs().max() > 0.1


def test_fused_conv_downscale_is_conv_then_box_average_unflipped():
    x, w = _rand(2, 3, 8, 6, seed=3), _rand(3, 3, 3, 4, seed=4)
    fused = ref.fused_conv_downscale(x, w, gain=ref.SQRT2)
    assert fused.shape == (2, 4, 4, 3)
    separate = ref.downscale2d(ref.conv(x, w, gain=ref.SQRT2))
    assert (fused - separate).abs().max() < 1e-10
    assert (fused - ref.downscale2d(ref.conv(x, w.flip(0, 1), gain=ref.SQRT2))).abs().max() > 0.1


def test_blur_is_the_normalised_121_kernel_with_zero_padding():
    x = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    x[0, 0, 2, 2] = 16.0
    y = ref.blur2d(x, [1, 2, 1])[0, 0]
    assert torch.equal(y[1:4, 1:4], torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=torch.float64))
    assert y.sum() == 16.0
    corner = ref.blur2d(torch.ones(1, 1, 4, 4, dtype=torch.float64), [1, 2, 1])[0, 0, 0, 0]
    assert corner == pytest.approx(9 / 16)  # zero padding, not replicate


def test_fused_threshold_is_output_128_in_G_and_input_128_in_D():
    x, w = _rand(1, 2, 64, 64, seed=1), _rand(3, 3, 2, 2, seed=2)
    fused_up = ref.fused_upscale_conv(x, w, 1.0)
    assert torch.equal(ref.upscale_conv(x, w, 1.0, True, "auto"), fused_up)  # 64 -> 128
    x32 = x[:, :, :32, :32]
    assert torch.equal(ref.upscale_conv(x32, w, 1.0, True, "auto"), ref.conv(ref.upscale2d(x32), w, 1.0))  # 32 -> 64
    assert torch.equal(ref.conv_downscale(x, w, 1.0, True, "auto"), ref.downscale2d(ref.conv(x, w, 1.0)))  # 64 in
    x128 = ref.upscale2d(x)
    assert torch.equal(ref.conv_downscale(x128, w, 1.0, True, "auto"), ref.fused_conv_downscale(x128, w, 1.0))


def test_minibatch_stddev_groups_are_strided_and_the_feature_is_last():
    x = _rand(4, 3, 2, 2, seed=7)
    y = ref.minibatch_stddev(x, group_size=2)
    assert y.shape == (4, 4, 2, 2)
    assert torch.equal(y[:, :3], x)
    for i in range(4):
        pair = x[[i % 2, i % 2 + 2]]  # group size 2, M = 2: samples m and m + 2
        expected = (pair.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        assert torch.allclose(y[i, 3], expected.expand(2, 2))
    consecutive = x[[0, 1]]
    assert not torch.allclose(y[0, 3, 0, 0], (consecutive.var(dim=0, unbiased=False) + 1e-8).sqrt().mean())


# ---------------------------------------------------------------------------------------------------------------
# Progressive growing


def _smaller_generator(G_vars: dict, kw: dict, k: int) -> tuple[dict, dict]:
    """The variables and kwargs of the same generator at resolution R / 2**k (ToRGB_lod names shift by k)."""
    small_kw = dict(kw, resolution=kw["resolution"] >> k)
    names = {n for n, _, _ in fx.synthesis_shapes(small_kw)}
    syn = {}
    for name, value in G_vars["synthesis"]:
        if name.startswith("ToRGB_lod"):
            lod, rest = name[len("ToRGB_lod") :].split("/")
            name = f"ToRGB_lod{int(lod) - k}/{rest}"
        if name in names:
            syn[name] = value
    assert set(syn) == names
    return dict(G_vars, synthesis=syn), small_kw


def _smaller_discriminator(D_vars: list, kw: dict, k: int) -> tuple[dict, dict]:
    small_kw = dict(kw, resolution=kw["resolution"] >> k)
    names = {n for n, _, _ in fx.discriminator_shapes(small_kw)}
    out = {}
    for name, value in D_vars:
        if name.startswith("FromRGB_lod"):
            lod, rest = name[len("FromRGB_lod") :].split("/")
            name = f"FromRGB_lod{int(lod) - k}/{rest}"
        if name in names:
            out[name] = value
    assert set(out) == names
    return out, small_kw


@pytest.mark.parametrize("fused_scale", ["auto", True])
def test_integer_lod_equals_the_smaller_generator_upsampled(fused_scale):
    kw = dict(TINY, fused_scale=fused_scale)
    G_vars = fx.generator_variables(kw, seed=1)
    ws = _ws(kw)
    full = ref.synthesis(G_vars, kw, ws, lod=0.0)
    assert full.shape == (2, 3, 32, 32)
    for k in (1, 2):
        small_vars, small_kw = _smaller_generator(G_vars, kw, k)
        small = ref.synthesis(small_vars, small_kw, ws[:, : ref.num_styles(small_kw)], lod=0.0)
        assert small.shape[-1] == 32 >> k
        blended = ref.synthesis(G_vars, kw, ws, lod=float(k))
        assert (blended - ref.upscale2d(small, 2**k)).abs().max() < 1e-10
    assert (ref.synthesis(G_vars, kw, ws, lod=1.0) - full).abs().max() > 0.1
    assert torch.equal(ref.synthesis(G_vars, kw, ws, lod=5.0), ref.synthesis(G_vars, kw, ws, lod=3.0))  # clamped


def test_fractional_lod_is_a_linear_blend_of_the_neighbouring_levels():
    G_vars = fx.generator_variables(TINY, seed=2)
    ws = _ws(TINY)
    a, b = ref.synthesis(G_vars, TINY, ws, lod=1.0), ref.synthesis(G_vars, TINY, ws, lod=2.0)
    mid = ref.synthesis(G_vars, TINY, ws, lod=1.25)
    assert (mid - (0.75 * a + 0.25 * b)).abs().max() < 1e-10


def test_integer_lod_equals_the_smaller_discriminator_on_box_downsampled_images():
    kw = dict(TINY, fused_scale=True)
    D_vars = fx.discriminator_variables(kw, seed=3)
    images = _rand(4, 3, 32, 32, seed=9)
    for k in (1, 2):
        small_vars, small_kw = _smaller_discriminator(D_vars, kw, k)
        expected = ref.discriminator(small_vars, small_kw, ref.downscale2d(images, 2**k), lod=0.0)
        got = ref.discriminator(D_vars, kw, images, lod=float(k))
        assert got.shape == (4, 1)
        assert (got - expected).abs().max() < 1e-10
    assert (ref.discriminator(D_vars, kw, images, lod=0.5) - ref.discriminator(D_vars, kw, images, 0.0)).abs().max() > 0


def test_fixed_structure_equals_linear_at_lod_0():
    G_lin = fx.generator_variables(TINY, seed=4)
    fixed_kw = dict(TINY, structure="fixed")
    fixed_names = [n for n, _, _ in fx.synthesis_shapes(fixed_kw)]
    assert fixed_names == [n for n, _ in G_lin["synthesis"] if not n.startswith("ToRGB_lod") or "lod0/" in n]
    ws = _ws(TINY)
    assert torch.equal(ref.synthesis(G_lin, fixed_kw, ws, lod=2.0), ref.synthesis(G_lin, TINY, ws, lod=0.0))
    D_vars = fx.discriminator_variables(TINY, seed=5)
    d_fixed = [n for n, _, _ in fx.discriminator_shapes(fixed_kw)]
    assert d_fixed == [n for n, _ in D_vars if not n.startswith("FromRGB_lod") or "lod0/" in n]
    images = _rand(2, 3, 32, 32, seed=6)
    assert torch.equal(ref.discriminator(D_vars, fixed_kw, images, 1.0), ref.discriminator(D_vars, TINY, images, 0.0))


# ---------------------------------------------------------------------------------------------------------------
# Generator terms


def test_every_generator_term_matters():
    G_vars = fx.generator_variables(TINY, seed=6)
    z = _rand(2, 32, seed=8)
    base = ref.generator(G_vars, TINY, z, psi=0.7, cutoff=8)
    assert base.shape == (2, 3, 32, 32) and torch.isfinite(base).all()
    assert 0.05 < base.std() < 50
    no_noise = ref.generator(G_vars, TINY, z, psi=0.7, cutoff=8, noise="none")
    zero_weights = {k: v for k, v in G_vars.items()}
    zero_weights["synthesis"] = [(n, 0 * a if n.endswith("Noise/weight") else a) for n, a in G_vars["synthesis"]]
    assert torch.equal(no_noise, ref.generator(zero_weights, TINY, z, psi=0.7, cutoff=8))
    assert (no_noise - base).abs().max() > 0.01
    stored = [a for n, a in G_vars["synthesis"] if n.startswith("noise")]
    assert torch.equal(base, ref.generator(G_vars, TINY, z, psi=0.7, cutoff=8, noise=stored))
    untruncated = ref.generator(G_vars, TINY, z, psi=None)
    assert torch.equal(untruncated, ref.generator(G_vars, TINY, z, psi=1.0))
    assert torch.equal(untruncated, ref.generator(G_vars, TINY, z, psi=0.5, cutoff=0))
    assert (untruncated - base).abs().max() > 0.01
    for name in ("4x4/Conv/StyleMod/bias", "32x32/Conv1/bias", "16x16/Conv0_up/Noise/weight", "Dense1/bias"):
        edited = {part: [(n, a + 0.5 if n == name else a) for n, a in vs] for part, vs in G_vars.items()}
        assert (ref.generator(edited, TINY, z, psi=0.7, cutoff=8) - base).abs().max() > 1e-3, name


def test_mapping_and_truncation():
    kw = dict(TINY, label_size=3)
    G_vars = fx.generator_variables(kw, seed=7)
    v = fx.as_dict(G_vars["mapping"])
    z, labels = _rand(2, 32, seed=1), torch.eye(3, dtype=torch.float64)[[0, 2]]
    ws = ref.mapping(G_vars, kw, z, labels)
    assert ws.shape == (2, 8, 32) and torch.equal(ws[:, 0], ws[:, 7])
    x = torch.cat([z, labels @ torch.from_numpy(v["LabelConcat/weight"]).double()], 1)  # concat, then normalise
    x = x / (x.square().mean(1, keepdim=True) + 1e-8).sqrt()
    for i in range(2):
        w, b = (torch.from_numpy(v[f"Dense{i}/{p}"]).double() for p in ("weight", "bias"))
        x = x @ w * (ref.SQRT2 / w.shape[0] ** 0.5 * 0.01) + b * 0.01
        x = torch.where(x > 0, x, 0.2 * x)  # the last layer has the activation too
    assert (ws[:, 0] - x).abs().max() < 1e-10
    avg = fx.as_dict(G_vars["G"])["dlatent_avg"]
    t = ref.truncate(ws, avg, 0.5, 3)
    assert torch.allclose(t[:, :3], torch.from_numpy(avg).double() * 0.5 + ws[:, :3] * 0.5)
    assert torch.equal(t[:, 3:], ws[:, 3:])
    assert torch.equal(ref.truncate(ws, avg, None, 3), ws)


def test_traditional_input_and_no_styles():
    kw = dict(TINY, const_input_layer=False, use_styles=False, use_noise=False, use_pixel_norm=True)
    kw.update(use_instance_norm=False, mapping_layers=0, dlatent_size=32)
    G_vars = fx.generator_variables(kw, seed=8)
    names = [n for n, _ in G_vars["synthesis"]]
    assert names[:4] == ["lod", "4x4/Dense/weight", "4x4/Dense/bias", "4x4/Conv/weight"]
    assert not any("noise" in n or "Noise" in n or "StyleMod" in n for n in names)
    assert G_vars["mapping"] == []
    z = _rand(2, 32, seed=2)
    ws = ref.mapping(G_vars, kw, z)
    assert ws.shape == (2, 1, 32)
    img = ref.generator(G_vars, kw, z, psi=None)
    assert img.shape == (2, 3, 32, 32) and torch.isfinite(img).all()


def test_discriminator_labels_select_the_score():
    kw = dict(TINY, label_size=3)
    D_vars = fx.discriminator_variables(kw, seed=9)
    assert fx.as_dict(D_vars)["4x4/Dense1/weight"].shape == (64, 3)
    images = _rand(4, 3, 32, 32, seed=3)
    labels = torch.eye(3, dtype=torch.float64)[[0, 1, 2, 1]]
    scores = ref.discriminator(D_vars, kw, images, labels=labels)
    all_scores = ref.discriminator(D_vars, dict(kw, label_size=0), images)  # Dense1 output, no label switch
    assert all_scores.shape == (4, 3) and scores.shape == (4, 1)
    assert torch.allclose(scores[:, 0], all_scores[[0, 1, 2, 3], [0, 1, 2, 1]])


# ---------------------------------------------------------------------------------------------------------------
# Fixture: names, shapes and sizes


def test_ffhq_1024_parameter_counts():
    kwargs = dict(resolution=1024)
    G = fx.generator_shapes(kwargs)
    trainable = fx.count(G["mapping"]) + fx.count(G["synthesis"])
    assert trainable == 26_219_627  # the README's "Total 26219627" for Gs
    assert fx.count(G["synthesis"], trainable=False) == 2_796_192 + 1  # noise + lod
    assert fx.count(G["G"], trainable=None) == 1 + 512
    assert fx.count(fx.discriminator_shapes(kwargs)) == 23_087_249
    assert fx.count(fx.discriminator_shapes(kwargs), trainable=False) == 1


def test_ffhq_1024_names_and_order():
    G = fx.generator_shapes(dict(resolution=1024))
    syn = [(n, s) for n, s, _ in G["synthesis"]]
    assert syn[:3] == [("lod", ()), ("noise0", (1, 1, 4, 4)), ("noise1", (1, 1, 4, 4))]
    assert syn[18] == ("noise17", (1, 1, 1024, 1024))
    assert [n for n, _ in syn[19:30]] == [
        "4x4/Const/const",
        "4x4/Const/Noise/weight",
        "4x4/Const/bias",
        "4x4/Const/StyleMod/weight",
        "4x4/Const/StyleMod/bias",
        "4x4/Conv/weight",
        "4x4/Conv/Noise/weight",
        "4x4/Conv/bias",
        "4x4/Conv/StyleMod/weight",
        "4x4/Conv/StyleMod/bias",
        "ToRGB_lod8/weight",
    ]
    shapes = dict(syn)
    assert shapes["4x4/Const/const"] == (1, 512, 4, 4)
    assert shapes["64x64/Conv0_up/weight"] == (3, 3, 512, 256)
    assert shapes["1024x1024/Conv1/StyleMod/weight"] == (512, 32)
    assert syn[-2:] == [("ToRGB_lod0/weight", (1, 1, 16, 3)), ("ToRGB_lod0/bias", (3,))]
    assert [n for n, _, _ in G["mapping"]][:2] == ["Dense0/weight", "Dense0/bias"]
    D = [(n, s) for n, s, _ in fx.discriminator_shapes(dict(resolution=1024, num_channels=3))]
    assert D[:5] == [
        ("lod", ()),
        ("FromRGB_lod0/weight", (1, 1, 3, 16)),
        ("FromRGB_lod0/bias", (16,)),
        ("1024x1024/Conv0/weight", (3, 3, 16, 16)),
        ("1024x1024/Conv0/bias", (16,)),
    ]
    assert D[5:8] == [
        ("1024x1024/Conv1_down/weight", (3, 3, 16, 32)),
        ("1024x1024/Conv1_down/bias", (32,)),
        ("FromRGB_lod1/weight", (1, 1, 3, 32)),
    ]
    assert D[-6:] == [
        ("4x4/Conv/weight", (3, 3, 513, 512)),
        ("4x4/Conv/bias", (512,)),
        ("4x4/Dense0/weight", (8192, 512)),
        ("4x4/Dense0/bias", (512,)),
        ("4x4/Dense1/weight", (512, 1)),
        ("4x4/Dense1/bias", (1,)),
    ]


def test_ffhq_1024_values_can_be_allocated():
    start = time.perf_counter()
    G = fx.generator_variables(dict(resolution=1024), seed=0)
    assert sum(a.size for part in ("mapping", "synthesis") for n, a in G[part] if not n.startswith("noise")) == (
        26_219_627 + 1
    )
    assert all(a.dtype == np.float32 for part in G.values() for _, a in part)
    assert time.perf_counter() - start < 30


def test_fixture_values_are_nonzero_where_it_matters():
    G = fx.generator_variables(TINY, seed=0)
    for part in ("mapping", "synthesis"):
        for name, value in G[part]:
            if name != "lod":
                assert np.abs(value).mean() > 0.05, name
    noise = fx.as_dict(G["synthesis"])["noise3"]
    assert noise.shape == (1, 1, 8, 8) and abs(noise.std() - 1) < 0.5
    assert np.abs(fx.as_dict(G["G"])["dlatent_avg"]).mean() > 0.1


# ---------------------------------------------------------------------------------------------------------------
# Pickle


class _Network:
    def __setstate__(self, state):
        self.state = state


class _StubUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("dnnlib.tflib.network", "Network"):
            return _Network
        if module == "numpy.core.multiarray":  # numpy >= 2 calls it numpy._core
            module = "numpy._core.multiarray" if np.__version__ >= "2" else module
        if module.startswith("numpy"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name}")


def _load(path):
    with open(path, "rb") as f:
        return _StubUnpickler(f, encoding="latin1").load()


def _globals(path) -> set[tuple[str, str]]:
    """Every (module, name) the pickle asks for."""
    seen = set()

    class Recorder(_StubUnpickler):
        def find_class(self, module, name):
            seen.add((module, name))
            return super().find_class(module, name)

    with open(path, "rb") as f:
        Recorder(f, encoding="latin1").load()
    return seen


def test_pickle_structure(tmp_path):
    kw = dict(TINY, mbstd_group_size=2)
    G_vars = fx.generator_variables(kw, seed=1)
    path = fx.write_tf_v1_pickle(tmp_path / "net.pkl", kwargs=kw, Gs_vars=G_vars, lod=0.5)
    assert _globals(path) == {
        ("dnnlib.tflib.network", "Network"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }
    nets = _load(path)
    assert isinstance(nets, tuple) and len(nets) == 3
    G, D, Gs = (n.state for n in nets)
    for state, name, func in ((G, "G", "G_style"), (D, "D", "D_basic"), (Gs, "Gs", "G_style")):
        assert list(state) == [
            "version",
            "name",
            "static_kwargs",
            "components",
            "build_module_src",
            "build_func_name",
            "variables",
        ]
        assert (state["version"], state["name"], state["build_func_name"]) == (3, name, func)
        assert "def G_style" in state["build_module_src"]
        assert type(state["static_kwargs"]) is dict and type(state["components"]) is dict
    assert "mbstd_group_size" in D["static_kwargs"] and "mbstd_group_size" not in Gs["static_kwargs"]
    assert "mapping_layers" in Gs["static_kwargs"] and "mapping_layers" not in D["static_kwargs"]
    assert Gs["static_kwargs"]["num_channels"] == 3 and D["static_kwargs"]["label_size"] == 0
    assert list(Gs["components"]) == ["synthesis", "mapping"]
    syn, mapping = (Gs["components"][k].state for k in ("synthesis", "mapping"))
    assert (syn["name"], syn["build_func_name"], mapping["name"], mapping["build_func_name"]) == (
        "G_synthesis",
        "G_synthesis",
        "G_mapping",
        "G_mapping",
    )
    assert mapping["static_kwargs"] == dict(Gs["static_kwargs"], dlatent_broadcast=8)
    assert syn["static_kwargs"] == Gs["static_kwargs"] and syn["components"] == {}
    assert [n for n, _ in Gs["variables"]] == ["lod", "dlatent_avg"]
    assert [n for n, _ in syn["variables"]] == [n for n, _ in G_vars["synthesis"]]
    assert [n for n, _ in mapping["variables"]] == [n for n, _ in G_vars["mapping"]]
    for state in (G, D, Gs, syn):
        lod = dict(state["variables"])["lod"]
        assert type(lod) is np.float32 and not isinstance(lod, np.ndarray) and lod == 0.5
    for state in (D, Gs, syn, mapping):
        for name, value in state["variables"]:
            if name != "lod":
                assert type(value) is np.ndarray and value.dtype == np.float32, name
    a = dict(syn["variables"])["8x8/Conv1/weight"]
    assert np.array_equal(a, fx.as_dict(G_vars["synthesis"])["8x8/Conv1/weight"])


def test_pickle_variants(tmp_path):
    kw = dict(TINY)
    path = fx.write_tf_v1_pickle(tmp_path / "a.pkl", kwargs=kw, version=4, lod=2.0, synthesis_lod=0.0)
    G, D, Gs = (n.state for n in _load(path))
    assert {G["version"], D["version"], Gs["version"]} == {4}
    assert Gs["build_func_name"] == "G_style" and Gs["components"]["synthesis"].state["version"] == 4
    assert dict(Gs["variables"])["lod"] == 2.0 and dict(Gs["components"]["synthesis"].state["variables"])["lod"] == 0
    single = _load(fx.write_tf_v1_pickle(tmp_path / "b.pkl", kwargs=kw, single="Gs"))
    assert isinstance(single, _Network) and single.state["name"] == "Gs"
    with pytest.raises(KeyError, match="not a StyleGAN v1 kwarg"):
        fx.write_tf_v1_pickle(tmp_path / "c.pkl", kwargs=dict(kw, fmap_wobble=1))


def test_pickle_round_trip_through_the_reference(tmp_path):
    """The oracle computes the same images from the unpickled variables as from the fixture's."""
    G_vars = fx.generator_variables(TINY, seed=3)
    Gs = _load(fx.write_tf_v1_pickle(tmp_path / "n.pkl", kwargs=TINY, Gs_vars=G_vars))[2].state
    loaded = {
        "G": Gs["variables"],
        "mapping": Gs["components"]["mapping"].state["variables"],
        "synthesis": Gs["components"]["synthesis"].state["variables"],
    }
    z = _rand(2, 32, seed=4)
    kwargs = Gs["static_kwargs"]
    assert torch.equal(ref.generator(loaded, kwargs, z), ref.generator(G_vars, TINY, z))
