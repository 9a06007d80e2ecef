"""rosinality stylegan2-pytorch `.pt` checkpoints: both kinds, both torch serialisations, and export.

Parity with rosinality's own Generator/Discriminator on files they wrote is checked outside this repository.
"""

from __future__ import annotations

import argparse
import math

import pytest
import torch

import stylegan.io as sio
from stylegan.errors import CheckpointError
from stylegan.io.formats.rosinality import channel_multiplier, rosinality_channels, to_rosinality
from stylegan.io.formats.rosinality import generator_config as rosinality_generator_config
from stylegan.networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig, channels_at
from stylegan.testing import (
    randomize_,
    tiny_discriminator,
    tiny_generator,
    tiny_generator_config,
    write_rosinality_checkpoint,
)

TOL = 1e-5


def _channels(net) -> list[int]:
    return [channels_at(2**i, net.cfg.channel_base, net.cfg.channel_max) for i in range(2, 5)]


def _same_generator(a: Generator, b: Generator, psi: float = 1.0) -> None:
    z = torch.randn(2, a.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(
            a(z, None, truncation_psi=psi, noise_mode="const"),
            b(z, None, truncation_psi=psi, noise_mode="const"),
            atol=TOL,
            rtol=0,
        )


@pytest.mark.parametrize("zip_format", [True, False])
def test_converted_checkpoint(tmp_path, zip_format):
    G_ema, G, D = tiny_generator(1), tiny_generator(2), tiny_discriminator(3)
    path = write_rosinality_checkpoint(tmp_path / "c.pt", G_ema=G_ema, G=G, D=D, zip_format=zip_format)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"g_ema", "latent_avg", "g", "d"} and "style.1.weight" in raw["g_ema"]
    nets = sio.load(path, which="all")
    assert nets.source_format == "rosinality/converted"
    assert _channels(nets.G_ema) == _channels(G_ema) and _channels(nets.D) == _channels(D)
    _same_generator(G_ema, nets.G_ema, psi=0.6)  # latent_avg -> w_avg, so truncation agrees too
    _same_generator(G, nets.G)
    x = torch.randn(4, 3, 16, 16)
    torch.testing.assert_close(nets.D(x), D(x), atol=TOL, rtol=0)


@pytest.mark.parametrize("zip_format", [True, False])
def test_training_checkpoint_with_namespace(tmp_path, zip_format):
    G_ema, G, D = tiny_generator(1), tiny_generator(2), tiny_discriminator(3)
    path = write_rosinality_checkpoint(tmp_path / "t.pt", G_ema=G_ema, G=G, D=D, kind="training", zip_format=zip_format)
    with pytest.raises(Exception, match="argparse.Namespace|Unsupported global"):
        torch.load(path, weights_only=True)  # what plain torch >= 2.6 does with these files
    nets = sio.load(path, which="all")
    assert nets.source_format == "rosinality/training"
    assert nets.metadata["args"]["size"] == 16 and nets.metadata["ada_aug_p"] == 0.0
    assert "estimated" in nets.metadata["w_avg"]
    _same_generator(G_ema, nets.G_ema)
    _same_generator(G, nets.G)
    # No latent_avg in training files: w_avg is estimated as E[mapping(z)].
    w = nets.G_ema.mapping(torch.randn(4096, 32, generator=torch.Generator().manual_seed(5)), None)[:, 0]
    assert (nets.G_ema.mapping.w_avg - w.mean(0)).abs().max() < 0.1 * w.std(0).max()


def test_bare_generator_state_dict(tmp_path):
    G = tiny_generator()
    torch.save(to_rosinality(G, strict=False)["g_ema"], tmp_path / "g.pt")
    _same_generator(G, sio.load(tmp_path / "g.pt"))


#: rosinality's `channels` table (model.py), written out: multipliers only differ from 64x64 up.
def _rosinality_table(m: int) -> dict[int, int]:
    return {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * m, 128: 128 * m, 256: 64 * m, 512: 32 * m, 1024: 16 * m}


@pytest.mark.parametrize("m", [1, 2])
def test_rosinality_channel_table(m: int) -> None:
    """channel_multiplier m (1 or 2) is min(16384 * m // res, 512): channel_base 16384 * m, channel_max 512."""
    for res, ch in _rosinality_table(m).items():
        assert rosinality_channels(res, m) == ch == channels_at(res, 16384 * m, 512), res
        cfg = GeneratorConfig(img_resolution=res, channel_base=16384 * m, channel_max=512)
        # Up to 32x32 every multiplier gives the same table: the smallest one is reported.
        assert channel_multiplier(cfg) == (m if res >= 64 else 1), res
    assert channel_multiplier(tiny_generator_config()) is None


def _shape_only_generator(res: int, m: int, style_dim: int = 32, n_mlp: int = 2) -> dict[str, torch.Tensor]:
    """The tensors of a rosinality Generator that carry its architecture, as zero-strided views (no memory)."""

    def empty(*shape: int) -> torch.Tensor:
        return torch.zeros(1).expand(*shape)

    ch = _rosinality_table(m)
    sd = {f"style.{i}.weight": empty(style_dim, style_dim) for i in range(1, n_mlp + 1)}
    sd["input.input"] = empty(1, ch[4], 4, 4)
    sd["conv1.conv.weight"] = empty(1, ch[4], ch[4], 3, 3)
    sd["to_rgb1.conv.weight"] = empty(1, 3, ch[4], 1, 1)
    for k, r in enumerate(2**i for i in range(3, int(math.log2(res)) + 1)):
        sd[f"convs.{2 * k}.conv.weight"] = empty(1, ch[r], ch[r // 2], 3, 3)
        sd[f"convs.{2 * k + 1}.conv.weight"] = empty(1, ch[r], ch[r], 3, 3)
    return sd


@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("hint", [True, False])
def test_channel_multiplier_is_read_from_the_tensors(m: int, hint: bool) -> None:
    """A 64x64 generator's tensors tell multipliers 1 and 2 apart, with or without `args.channel_multiplier`."""
    args = {"channel_multiplier": m, "size": 64} if hint else {}
    cfg = rosinality_generator_config(_shape_only_generator(64, m), args, where="g_ema")
    assert (cfg.channel_base, cfg.channel_max, cfg.img_resolution) == (16384 * m, 512, 64)
    assert channel_multiplier(cfg) == m


def test_rosinality_compatible_network_keeps_its_canonical_config(tmp_path):
    """A rosinality-compatible network (channel_multiplier 1 -> channel_base 16384) keeps its canonical config."""
    cfg = GeneratorConfig(z_dim=32, w_dim=32, img_resolution=8, mapping_layers=2, channel_base=16384, channel_max=512)
    G = randomize_(Generator(cfg), 1).eval()
    D = randomize_(Discriminator(DiscriminatorConfig(img_resolution=8, channel_base=16384)), 2).eval()
    path = write_rosinality_checkpoint(tmp_path / "r.pt", G_ema=G, D=D, kind="training")
    nets = sio.load(path, which="all")
    assert nets.G_ema.cfg == cfg
    _same_generator(G, nets.G_ema)


def test_args_must_match_tensors(tmp_path):
    G = tiny_generator()
    obj = to_rosinality(G, strict=False)
    obj["args"] = argparse.Namespace(size=32, latent=32, n_mlp=2, channel_multiplier=2)
    torch.save(obj, tmp_path / "a.pt")
    with pytest.raises(CheckpointError, match=r"a.pt \[g_ema\]: args.size=32 but the tensors say 16"):
        sio.load(tmp_path / "a.pt")


def test_missing_and_extra_tensors(tmp_path):
    obj = to_rosinality(tiny_generator(), strict=False)
    del obj["g_ema"]["convs.1.activate.bias"]
    torch.save(obj, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match=r"tensor 'convs.1.activate.bias' is missing"):
        sio.load(tmp_path / "m.pt")
    obj = to_rosinality(tiny_generator(), strict=False)
    obj["g_ema"]["extra.weight"] = torch.zeros(1)
    torch.save(obj, tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match=r"'extra.weight' have no place"):
        sio.load(tmp_path / "x.pt")


def test_custom_blur_kernel_is_refused(tmp_path):
    obj = to_rosinality(tiny_generator(), strict=False)
    obj["g_ema"]["convs.0.conv.blur.kernel"] = torch.ones(4, 4)
    torch.save(obj, tmp_path / "k.pt")
    with pytest.raises(CheckpointError, match="not the standard"):
        sio.load(tmp_path / "k.pt")


def test_export_keys_match_rosinality_layout():
    cfg = GeneratorConfig(z_dim=32, w_dim=32, img_resolution=8, mapping_layers=2, channel_base=16384)
    out = to_rosinality(Generator(cfg), None, Discriminator(DiscriminatorConfig(img_resolution=8, channel_base=16384)))
    g, d = out["g_ema"], out["d"]
    assert g["conv1.conv.weight"].shape == (1, 512, 512, 3, 3) and g["to_rgb1.bias"].shape == (1, 3, 1, 1)
    assert g["noises.noise_2"].shape == (1, 1, 8, 8) and g["conv1.noise.weight"].shape == (1,)
    assert torch.allclose(g["convs.0.conv.blur.kernel"].sum(), torch.tensor(4.0))
    assert torch.allclose(d["convs.1.conv2.0.kernel"].sum(), torch.tensor(1.0))
    assert d["final_linear.0.weight"].shape == (512, 512 * 16) and out["latent_avg"].shape == (32,)


def test_export_refuses_what_rosinality_cannot_express():
    with pytest.raises(CheckpointError, match="'resnet' generator architecture"):
        to_rosinality(tiny_generator(architecture="resnet"))
    with pytest.raises(CheckpointError, match="conditional"):
        to_rosinality(tiny_generator(c_dim=2), strict=False)
    with pytest.raises(CheckpointError, match="match no rosinality channel_multiplier"):
        to_rosinality(tiny_generator())  # 32 channels: rosinality's classes always have 512 at 4x4
    with pytest.warns(UserWarning, match="conv_clamp"):
        to_rosinality(tiny_generator(conv_clamp=256.0), strict=False)
