"""NVIDIA TensorFlow StyleGAN2 pickles, read without TensorFlow.

`stylegan.testing.write_tf_pickle` writes a (G, D, Gs) tuple of `dnnlib.tflib.network.Network` objects with
TF's variable names and layouts (the inverse of StyleGAN2-ADA's legacy.py, written independently of the reader). The
same fixture files were also converted by NVIDIA's own `legacy.py` outside this repository and gave
identical parameters, which pins both directions to NVIDIA's reading of the format.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

import stylegan.io as sio
from stylegan.errors import CheckpointError
from stylegan.io.formats.safe_pickle import RestrictedUnpickler, TFNetworkStub
from stylegan.testing import _make_foreign_pickler, _TFNetwork, tiny_discriminator, tiny_generator, write_tf_pickle

TOL = 1e-5


def _rewrite(path: Path, edit: Callable[[tuple[TFNetworkStub, ...]], None]) -> Path:
    """Read a TF fixture as stubs, let `edit` change their pickled state, and write it back."""
    with open(path, "rb") as f:
        nets = RestrictedUnpickler(f).load()
    edit(nets)

    def convert(stub: TFNetworkStub) -> _TFNetwork:
        state = dict(stub.state)
        state["components"] = {k: convert(v) for k, v in state["components"].items()}
        return _TFNetwork(state)

    with open(path, "wb") as f:
        _make_foreign_pickler()(f, 4).dump(tuple(convert(n) for n in nets))
    return path


@pytest.mark.parametrize(
    "g_kw, d_kw",
    [
        ({}, {}),
        (dict(architecture="orig", conv_clamp=256.0), dict(architecture="orig", conv_clamp=256.0)),
        (dict(architecture="resnet", img_channels=1), dict(architecture="skip", img_channels=1)),
        (dict(c_dim=3, mapping_layer_features=24), dict(c_dim=3, cmap_dim=16, mbstd_group_size=2)),
        (dict(use_noise=False, mapping_lr_multiplier=0.05), dict(mbstd_num_channels=2)),
    ],
)
@pytest.mark.parametrize("num_fp16_res", [0, 4])  # recorded by the StyleGAN2-ADA TF code; kept
def test_round_trip(tmp_path, g_kw, d_kw, num_fp16_res):
    g_kw, d_kw = {**g_kw, "num_fp16_res": num_fp16_res}, {**d_kw, "num_fp16_res": num_fp16_res}
    Gs, G, D = tiny_generator(1, **g_kw), tiny_generator(2, **g_kw), tiny_discriminator(3, **d_kw)
    path = write_tf_pickle(tmp_path / "tf.pkl", Gs=Gs, G=G, D=D)
    nets = sio.load(path, which="all")
    assert nets.source_format == "nvidia-tf"
    assert nets.G_ema.cfg == Gs.cfg and nets.G.cfg == G.cfg and nets.D.cfg == D.cfg
    for ours, src in ((nets.G_ema, Gs), (nets.G, G), (nets.D, D)):
        for key, value in src.state_dict().items():
            torch.testing.assert_close(ours.state_dict()[key], value, atol=0, rtol=0, msg=key)
    z = torch.randn(2, Gs.z_dim)
    c = torch.eye(Gs.c_dim)[:2] if Gs.c_dim else None
    x = torch.randn(4, D.img_channels, 16, 16)
    cd = torch.eye(D.c_dim)[[0, 1, 2, 0]] if D.c_dim else None
    with torch.no_grad():
        torch.testing.assert_close(
            nets.G_ema(z, c, truncation_psi=0.5, noise_mode="const"),
            Gs(z, c, truncation_psi=0.5, noise_mode="const"),
            atol=TOL,
            rtol=0,
        )
        torch.testing.assert_close(nets.D(x, cd), D(x, cd), atol=TOL, rtol=0)


def test_fixture_uses_tf_layouts(tmp_path):
    """Spot-check the fixture against legacy.py: HWIO kernels, flipped Conv0_up, mod_bias = bias - 1."""
    G = tiny_generator()
    path = write_tf_pickle(tmp_path / "tf.pkl", Gs=G)
    with open(path, "rb") as f:
        _, D, Gs = RestrictedUnpickler(f).load()
    assert Gs.name == "Gs" and D.build_func_name == "D_stylegan2" and Gs.version == 4
    syn = dict(Gs.components["synthesis"].variables)
    w = G.synthesis.b8.conv0.weight.detach().numpy()  # [O, I, 3, 3]
    np.testing.assert_array_equal(syn["8x8/Conv0_up/weight"], w.transpose(2, 3, 1, 0)[::-1, ::-1])
    np.testing.assert_array_equal(syn["8x8/Conv1/mod_bias"] + 1, G.synthesis.b8.conv1.affine.bias.detach().numpy())
    assert syn["noise0"].shape == (1, 1, 4, 4) and syn["noise3"].shape == (1, 1, 16, 16)
    assert isinstance(syn["4x4/Conv/noise_strength"], np.float32)
    assert dict(Gs.variables)["dlatent_avg"].shape == (G.w_dim,)
    assert Gs.static_kwargs["fmap_base"] * 2 == G.cfg.channel_base


def test_conditional_tf_stylegan2_is_refused(tmp_path):
    path = write_tf_pickle(tmp_path / "c.pkl", Gs=tiny_generator())

    def add_label_concat(nets):
        mapping = nets[2].components["mapping"]
        mapping.state["variables"].append(("LabelConcat/weight", np.zeros((3, 32), np.float32)))

    _rewrite(path, add_label_concat)
    with pytest.raises(CheckpointError, match=r"c.pkl \[G_ema\]: conditional TF StyleGAN2 networks \(LabelConcat\)"):
        sio.load(path)


def test_progressive_networks_are_refused(tmp_path):
    path = write_tf_pickle(tmp_path / "p.pkl", Gs=tiny_generator())

    def rename_torgb(nets):
        syn = nets[2].components["synthesis"]
        syn.state["variables"] = [(n.replace("16x16/ToRGB", "ToRGB_lod0"), v) for n, v in syn.variables]

    _rewrite(path, rename_torgb)
    with pytest.raises(CheckpointError, match="progressive-growing TF networks"):
        sio.load(path)


def test_old_pickle_versions_of_stylegan2_builders_are_refused(tmp_path):
    path = write_tf_pickle(tmp_path / "old.pkl", Gs=tiny_generator())

    def make_old(nets):
        for net in nets:
            net.state["version"] = 3

    _rewrite(path, make_old)
    with pytest.raises(CheckpointError, match="TF network pickle version 3 built by G_main"):
        sio.load(path)


def test_a_stylegan2_network_labelled_g_style_is_refused(tmp_path):
    """Dispatch is on the build function: a StyleGAN2 network under G_style is read as v1 and refused cleanly."""
    path = write_tf_pickle(tmp_path / "v1.pkl", Gs=tiny_generator())
    _rewrite(path, lambda nets: nets[2].state.update(build_func_name="G_style"))
    with pytest.raises(CheckpointError, match="unknown TF network argument architecture='skip'"):
        sio.load(path)


def test_unknown_static_kwarg(tmp_path):
    path = write_tf_pickle(tmp_path / "k.pkl", Gs=tiny_generator())
    _rewrite(path, lambda nets: nets[2].state["static_kwargs"].update(fmap_wobble=7))
    with pytest.raises(CheckpointError, match="unknown TF network argument fmap_wobble=7"):
        sio.load(path)


def test_every_variable_accounted_for(tmp_path):
    path = write_tf_pickle(tmp_path / "m.pkl", Gs=tiny_generator())

    def drop(nets):
        syn = nets[2].components["synthesis"]
        syn.state["variables"] = [(n, v) for n, v in syn.variables if n != "8x8/Conv1/bias"]

    _rewrite(path, drop)
    with pytest.raises(CheckpointError, match=r"tensor 'synthesis/8x8/Conv1/bias' is missing"):
        sio.load(path)

    path = write_tf_pickle(tmp_path / "x.pkl", Gs=tiny_generator())
    _rewrite(
        path,
        lambda nets: (
            nets[2].components["mapping"].state["variables"].append(("Dense9/weight", np.zeros((2, 2), np.float32)))
        ),
    )
    with pytest.raises(CheckpointError, match=r"'mapping/Dense9/weight' have no place"):
        sio.load(path)


def test_shape_mismatch_names_the_key(tmp_path):
    path = write_tf_pickle(tmp_path / "s.pkl", Gs=tiny_generator())
    _rewrite(path, lambda nets: nets[2].state["static_kwargs"].update(fmap_max=16))
    with pytest.raises(CheckpointError, match=r"'synthesis.b4.const' has shape \[32, 4, 4\].*needs \[16, 4, 4\]"):
        sio.load(path)
