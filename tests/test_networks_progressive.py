"""Progressive growing of StyleGAN2 networks (the StyleGAN2 paper's configurations B-D): the skip architecture's
RGB layers read at a level of detail `lod`, as StyleGAN (v1) does (the v1 networks are checked against an
independent reference in test_networks_v1.py)."""

from __future__ import annotations

import pytest
import torch

from stylegan.networks import Discriminator, Generator, count_parameters, v1
from stylegan.testing import randomize_, tiny_discriminator_config, tiny_generator_config


@pytest.fixture(scope="module")
def nets():
    G = randomize_(Generator(tiny_generator_config(img_resolution=32, progressive=True)), 1).eval()
    dcfg = tiny_discriminator_config(img_resolution=32, architecture="skip", progressive=True)
    return G, randomize_(Discriminator(dcfg), 2).eval()


def render(G, lod, z):
    v1.set_lod(G, lod)
    with torch.no_grad():
        return G(z, noise_mode="const")


def test_generator_blends_levels_linearly(nets):
    G, _ = nets
    z = torch.randn(3, G.z_dim, generator=torch.Generator().manual_seed(0))
    level1, level2 = render(G, 1.0, z), render(G, 2.0, z)
    assert level1.shape == (3, 3, 32, 32)  # always full resolution
    # lod 1: a 16x16 image in 2x2 tiles; lod 2: 8x8 in 4x4 tiles
    assert torch.equal(level1, level1[:, :, ::2, ::2].repeat_interleave(2, 2).repeat_interleave(2, 3))
    assert torch.equal(level2, level2[:, :, ::4, ::4].repeat_interleave(4, 2).repeat_interleave(4, 3))
    assert torch.allclose(render(G, 1.3, z), 0.7 * level1 + 0.3 * level2, atol=1e-5)
    assert torch.allclose(render(G, 1.99999, z), level2, atol=1e-3)
    assert float((render(G, 0.0, z) - level1).abs().max()) > 1e-2


def test_discriminator_reads_the_level_it_is_at(nets):
    _, D = nets
    img = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    coarse = torch.nn.functional.avg_pool2d(img, 2).repeat_interleave(2, 2).repeat_interleave(2, 3)
    with torch.no_grad():
        v1.set_lod(D, 1.0)
        at1 = D(img)
        assert torch.allclose(D(coarse), at1, atol=1e-5)  # at lod 1, D sees only the 16x16 image
        v1.set_lod(D, 1.0001)
        assert torch.allclose(D(img), at1, atol=1e-3)  # continuous in lod
        v1.set_lod(D, 0.0)
        assert float((D(img) - at1).abs().max()) > 1e-4


def test_progressive_needs_the_skip_layout_and_has_a_lod_buffer():
    with pytest.raises(ValueError, match="set architecture 'skip'"):
        tiny_generator_config(architecture="orig", progressive=True)
    cfg = tiny_generator_config(progressive=True)
    G = Generator(cfg)
    assert "synthesis.lod" in G.state_dict()
    params = sum(p.numel() for p in G.parameters())
    assert count_parameters(cfg) == (params, sum(b.numel() for b in G.state_dict().values()) - params)
    dcfg = tiny_discriminator_config(architecture="skip", progressive=True)
    D = Discriminator(dcfg)
    params = sum(p.numel() for p in D.parameters())
    assert count_parameters(dcfg) == (params, sum(b.numel() for b in D.state_dict().values()) - params)
