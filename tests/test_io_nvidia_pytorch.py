"""NVIDIA StyleGAN2-ADA-PyTorch / StyleGAN3-repository network pickles, read without NVIDIA's code.

Fixture files are written by `stylegan.testing.write_nvidia_pickle`, whose streams reference the same globals
as NVIDIA's files (persistence records, EasyDict, OrderedDict, torch rebuild functions, numpy scalars).
Parity with NVIDIA's own code on files it wrote was checked outside this repository.
"""

from __future__ import annotations

import dataclasses
import io
import pickle

import pytest
import torch

import stylegan.io as sio
from stylegan.errors import CheckpointError
from stylegan.io.formats.safe_pickle import PersistentObject, RestrictedUnpickler
from stylegan.testing import tiny_discriminator, tiny_generator, write_nvidia_pickle

TOL = 1e-5


def _check_same(G_src, G_loaded, D_src=None, D_loaded=None) -> None:
    z = torch.randn(2, G_src.z_dim, generator=torch.Generator().manual_seed(0))
    c = torch.eye(G_src.c_dim)[:2] if G_src.c_dim else None
    with torch.no_grad():
        torch.testing.assert_close(
            G_loaded(z, c, truncation_psi=0.7, noise_mode="const"),
            G_src(z, c, truncation_psi=0.7, noise_mode="const"),
            atol=TOL,
            rtol=0,
        )
        if D_src is not None:
            x = torch.randn(4, D_src.img_channels, D_src.img_resolution, D_src.img_resolution)
            cd = torch.eye(D_src.c_dim)[[0, 1, 0, 1]] if D_src.c_dim else None
            torch.testing.assert_close(D_loaded(x, cd), D_src(x, cd), atol=TOL, rtol=0)


@pytest.mark.parametrize("layout", ["ada", "sg3"])
@pytest.mark.parametrize("protocol", [3, 4])
def test_round_trip_layouts(tmp_path, layout, protocol):
    G_ema = tiny_generator(1, conv_clamp=256.0, num_fp16_res=4)
    G = tiny_generator(2, conv_clamp=256.0, num_fp16_res=4)
    D = tiny_discriminator(3, conv_clamp=256.0, num_fp16_res=4)
    path = write_nvidia_pickle(tmp_path / "snap.pkl", G_ema=G_ema, G=G, D=D, layout=layout, protocol=protocol)
    nets = sio.load(path, which="all")
    assert nets.source_format == f"nvidia-pytorch/{layout}"
    assert (nets.G_ema.cfg, nets.G.cfg, nets.D.cfg) == (G_ema.cfg, G.cfg, D.cfg)  # num_fp16_res kept
    assert nets.metadata["training_set_kwargs"]["resolution"] == 16
    for ours, src in ((nets.G_ema, G_ema), (nets.G, G)):
        for key, value in src.state_dict().items():
            assert torch.equal(ours.state_dict()[key], value), key
    _check_same(G_ema, nets.G_ema, D, nets.D)


@pytest.mark.parametrize(
    "g_kw, d_kw",
    [
        (dict(architecture="orig", c_dim=4, mapping_lr_multiplier=0.1), dict(architecture="orig", c_dim=4)),
        (
            dict(architecture="resnet", img_channels=1, w_avg_beta=0.999),
            dict(architecture="skip", img_channels=1, mbstd_group_size=2),
        ),
        (
            dict(c_dim=2, mapping_embed_features=8, mapping_layer_features=16),
            dict(c_dim=2, cmap_dim=16, freeze_layers=2),
        ),
    ],
)
def test_round_trip_variants(tmp_path, g_kw, d_kw):
    G, D = tiny_generator(4, **g_kw), tiny_discriminator(5, **d_kw)
    path = write_nvidia_pickle(tmp_path / "v.pkl", G_ema=G, D=D)
    nets = sio.load(path, which="all")
    assert nets.G_ema.cfg == G.cfg and nets.D.cfg == D.cfg
    _check_same(G, nets.G_ema, D, nets.D)


def test_sg3_defaults_without_recorded_attributes(tmp_path):
    """The stylegan3 repository's train.py leaves conv_clamp=256 and num_fp16_res=4 implicit: the defaults must
    supply them."""
    G, D = tiny_generator(conv_clamp=256.0, num_fp16_res=4), tiny_discriminator(conv_clamp=256.0, num_fp16_res=4)
    path = write_nvidia_pickle(tmp_path / "sg3.pkl", G_ema=G, D=D, layout="sg3", record_attributes=False)
    nets = sio.load(path, which="all")
    assert nets.G_ema.cfg.conv_clamp == 256 and nets.D.cfg.conv_clamp == 256
    assert nets.G_ema.cfg.num_fp16_res == 4 and nets.D.cfg.num_fp16_res == 4
    path = write_nvidia_pickle(
        tmp_path / "ada.pkl", G_ema=tiny_generator(), D=tiny_discriminator(), layout="ada", record_attributes=False
    )
    nets = sio.load(path, which="all")
    assert nets.G_ema.cfg.conv_clamp is None and nets.D.cfg.conv_clamp is None
    assert nets.G_ema.cfg.num_fp16_res == 0 and nets.D.cfg.num_fp16_res == 0


def test_stream_references_nvidia_globals(tmp_path):
    """The fixture exercises exactly the names real files use (checked on files made by NVIDIA's code)."""
    path = write_nvidia_pickle(tmp_path / "s.pkl", G_ema=tiny_generator(), D=tiny_discriminator(), protocol=3)
    seen = set()

    class Spy(RestrictedUnpickler):
        def find_class(self, module, name):
            seen.add(f"{module}.{name}")
            return super().find_class(module, name)

    data = Spy(io.BytesIO(path.read_bytes())).load()
    assert seen == {
        "torch_utils.persistence._reconstruct_persistent_obj",
        "dnnlib.util.EasyDict",
        "collections.OrderedDict",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_tensor_v2",
        "torch.storage._load_from_bytes",
        "numpy.core.multiarray.scalar",
        "numpy.dtype",
        "builtins.set",
    }
    rec = data["G_ema"]
    assert isinstance(rec, PersistentObject) and rec.class_name == "Generator" and rec.version == 6
    assert rec.find("synthesis.b4.conv1").class_name == "SynthesisLayer"
    assert rec.find("mapping.fc0").class_name == "FullyConnectedLayer"


def test_generator_only_and_bare_pickles(tmp_path):
    G = tiny_generator()
    path = write_nvidia_pickle(tmp_path / "g.pkl", G_ema=G)  # G defaults to G_ema, no D
    with pytest.raises(CheckpointError, match=r"has no D network \(it holds G_ema, G\)"):
        sio.load(path, which="D")
    _check_same(G, sio.load(path))
    data = sio.read_checkpoint(path)
    assert set(data.nets) == {"G_ema", "G"}


def test_augment_pipe_is_skipped(tmp_path):
    path = write_nvidia_pickle(tmp_path / "p.pkl", G_ema=tiny_generator(), augment_pipe=True)
    assert "augment_pipe" in sio.inspect(path).metadata


def test_unknown_constructor_argument(tmp_path):
    path = write_nvidia_pickle(tmp_path / "u.pkl", G_ema=tiny_generator(), extra_init_kwargs={"fancy_option": 3})
    with pytest.raises(CheckpointError, match=r"u.pkl \[G_ema\]: unknown constructor argument G.fancy_option=3"):
        sio.load(path)


def test_harmless_arguments_are_accepted(tmp_path):
    """Memory-layout settings are read past; the number of float16 resolutions is kept (the same numbers on a CPU)."""
    G = tiny_generator()
    extra = {
        "synthesis_kwargs": {
            "channel_base": 512,
            "channel_max": 32,
            "fp16_channels_last": True,
            "num_fp16_res": 2,
            "conv_clamp": None,
        }
    }
    path = write_nvidia_pickle(tmp_path / "h.pkl", G_ema=G, extra_init_kwargs=extra)
    loaded = sio.load(path)
    assert loaded.cfg == dataclasses.replace(G.cfg, num_fp16_res=2)
    _check_same(G, loaded)


def test_settings_that_disagree_with_weights(tmp_path):
    extra = {"synthesis_kwargs": {"channel_base": 1024, "channel_max": 64}}
    path = write_nvidia_pickle(
        tmp_path / "w.pkl", G_ema=tiny_generator(), extra_init_kwargs=extra, record_attributes=False
    )
    with pytest.raises(CheckpointError, match=r"w.pkl \[G_ema\]: 'synthesis\.b4\.const' has shape \[32, 4, 4\]"):
        sio.load(path)


def test_unsupported_activation(tmp_path):
    extra = {"mapping_kwargs": {"num_layers": 2, "activation": "relu"}}
    path = write_nvidia_pickle(tmp_path / "a.pkl", G_ema=tiny_generator(), extra_init_kwargs=extra)
    with pytest.raises(CheckpointError, match="only 'lrelu' is supported"):
        sio.load(path)


def test_stylegan3_networks_are_refused(tmp_path):
    class Generator(torch.nn.Module):  # stands in for networks_stylegan3.Generator: same class name, SG3 layout
        def __init__(self) -> None:
            super().__init__()
            self.img_resolution = 16
            self.synthesis = torch.nn.Module()
            self.synthesis.input = torch.nn.Linear(2, 2)
            self.synthesis.L0_36_512 = torch.nn.Linear(2, 2)

    path = write_nvidia_pickle(tmp_path / "sg3t.pkl", G_ema=Generator())  # type: ignore[arg-type]
    with pytest.raises(CheckpointError, match="StyleGAN3 networks are not supported yet"):
        sio.load(path)


def test_not_a_network_pickle(tmp_path):
    path = tmp_path / "dict.pkl"
    path.write_bytes(pickle.dumps({"hello": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match="not an NVIDIA network pickle"):
        sio.load(path)
