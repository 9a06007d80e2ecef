"""StyleGAN (v1) networks against the independent reference (tests/reference_v1.py), through NVIDIA's TF layout.

Each test writes a TF-layout pickle of random weights (tests/tf_v1_fixture.py), loads it with our safe loader and
compares our float32 networks with the float64 reference computed from the same TF variables. Tolerance: 1e-4
relative to the output's largest magnitude (the random fixture weights give images up to about 20 in size), i.e.
1e-4 absolute for outputs in [-1, 1].
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import stylegan.io as sio
from stylegan.networks import Generator, v1

from . import reference_v1 as ref
from . import tf_v1_fixture as fx

TINY = dict(
    resolution=32,
    num_channels=3,
    fmap_base=128,
    fmap_max=32,
    latent_size=32,
    dlatent_size=32,
    mapping_layers=3,
    mapping_fmaps=24,
)
#: 256 px: blocks 128 and 256 use the fused up-sampling convolution (and D's fused down-sampling), 8-64 do not.
FUSED = dict(TINY, resolution=256, fmap_base=256, fmap_max=16, latent_size=16, dlatent_size=16, mapping_fmaps=16)


def close(ours: torch.Tensor, expected: torch.Tensor, tol: float = 1e-4) -> None:
    scale = max(1.0, float(expected.abs().max()))
    err = float((ours.double() - expected.double()).abs().max())
    assert err <= tol * scale, f"max error {err:.3g} for outputs up to {scale:.3g}"


def load(tmp_path, kwargs, *, lod=0.0, seed=0, **write):
    gv = fx.generator_variables(kwargs, seed=seed)
    dv = fx.discriminator_variables(kwargs, seed=seed + 1)
    path = fx.write_tf_v1_pickle(tmp_path / "v1.pkl", kwargs=kwargs, Gs_vars=gv, D_vars=dv, lod=lod, **write)
    return sio.load(path, which="all"), gv, dv


def z_batch(kwargs, n=4, seed=0):
    return np.random.RandomState(seed).randn(n, kwargs["latent_size"])


@pytest.mark.parametrize(
    "kwargs",
    [
        TINY,
        FUSED,
        dict(TINY, const_input_layer=False),  # the traditional input (configs B and C)
        dict(TINY, use_noise=False, use_instance_norm=False, use_pixel_norm=True),
        dict(TINY, fused_scale=True),  # fused at every resolution
        dict(TINY, blur_filter=None, normalize_latents=False),
        dict(TINY, use_styles=False, const_input_layer=False, mapping_layers=0, dlatent_size=32),  # baseline
    ],
    ids=["tiny", "fused-256", "traditional-input", "pixelnorm-no-noise", "fused-all", "no-blur", "no-styles"],
)
def test_generator_matches_reference(tmp_path, kwargs):
    nets, gv, _ = load(tmp_path, kwargs)
    G = nets.G_ema
    assert isinstance(G, Generator) and G.version == 1
    z = z_batch(kwargs)
    for psi, cutoff in ((1.0, None), (0.7, 8), (0.5, 3)):
        expected = ref.generator(gv, kwargs, z, psi=psi, cutoff=cutoff)
        with torch.no_grad():
            ours = G(
                torch.from_numpy(z).float(), None, truncation_psi=psi, truncation_cutoff=cutoff, noise_mode="const"
            )
        close(ours, expected)


def test_default_cutoff_is_eight_layers(tmp_path):
    kwargs = dict(TINY, resolution=64)  # 12 layers, so a cutoff of 8 is not all of them
    nets, gv, _ = load(tmp_path, kwargs)
    z = torch.from_numpy(z_batch(kwargs)).float()
    with torch.no_grad():
        ours = nets.G_ema(z, None, truncation_psi=0.5, noise_mode="const")
        all_layers = nets.G_ema(z, None, truncation_psi=0.5, truncation_cutoff=12, noise_mode="const")
    close(ours, ref.generator(gv, kwargs, z.double().numpy(), psi=0.5, cutoff=8))
    assert float((ours - all_layers).abs().max()) > 1e-3


@pytest.mark.parametrize("lod", [0.0, 0.3, 1.0, 1.5, 2.7])
@pytest.mark.parametrize("kwargs", [TINY, FUSED], ids=["tiny", "fused-256"])
def test_fractional_level_of_detail(tmp_path, kwargs, lod):
    nets, gv, dv = load(tmp_path, kwargs, lod=lod)
    G, D = nets.G_ema, nets.D
    assert v1.get_lod(G) == pytest.approx(lod) and v1.get_lod(D) == pytest.approx(lod)
    z = z_batch(kwargs)
    expected = ref.generator(gv, kwargs, z, psi=1.0, cutoff=None, lod=lod)
    with torch.no_grad():
        ours = G(torch.from_numpy(z).float(), None, noise_mode="const")
    assert ours.shape[-1] == kwargs["resolution"]  # always drawn at full resolution
    close(ours, expected)
    with torch.no_grad():
        close(D(expected.float()), ref.discriminator(dv, kwargs, expected, lod=lod))


def test_level_of_detail_changes_the_image(tmp_path):
    nets, gv, _ = load(tmp_path, TINY)
    G = nets.G_ema
    z = torch.from_numpy(z_batch(TINY)).float()
    with torch.no_grad():
        full = G(z, noise_mode="const")
        v1.set_lod(G, 1.0)
        half = G(z, noise_mode="const")
    # lod 1: a 16x16 image, nearest-upsampled: every 2x2 tile is constant
    assert torch.equal(half, half[:, :, ::2, ::2].repeat_interleave(2, 2).repeat_interleave(2, 3))
    assert float((half - full).abs().max()) > 1e-2


@pytest.mark.parametrize("kwargs", [TINY, FUSED, dict(TINY, mbstd_group_size=1)], ids=["tiny", "fused-256", "no-mbstd"])
def test_discriminator_matches_reference(tmp_path, kwargs):
    nets, _, dv = load(tmp_path, kwargs)
    D = nets.D
    assert isinstance(D, v1.Discriminator)
    res = kwargs["resolution"]
    images = torch.from_numpy(np.random.RandomState(3).randn(8, 3, res, res))
    with torch.no_grad():
        close(D(images.float()), ref.discriminator(dv, kwargs, images))


def test_conditional_networks(tmp_path):
    kwargs = dict(TINY, label_size=5)
    nets, gv, dv = load(tmp_path, kwargs)
    z = z_batch(kwargs)
    labels = np.eye(5)[[0, 3, 4, 1]]
    expected = ref.generator(gv, kwargs, z, labels, psi=1.0, cutoff=None)
    with torch.no_grad():
        ours = nets.G_ema(torch.from_numpy(z).float(), torch.from_numpy(labels).float(), noise_mode="const")
        close(ours, expected)
        scores = nets.D(expected.float(), torch.from_numpy(labels).float())
    close(scores, ref.discriminator(dv, kwargs, expected, labels=labels))


def test_stored_noise_is_used_and_random_noise_differs(tmp_path):
    nets, gv, _ = load(tmp_path, TINY)
    G = nets.G_ema
    z = torch.from_numpy(z_batch(TINY)).float()
    with torch.no_grad():
        const = G(z, noise_mode="const")
        none = G(z, noise_mode="none")
        random = G(z, noise_mode="random")
    close(none, ref.generator(gv, TINY, z.double().numpy(), psi=1.0, cutoff=None, noise="none"))
    assert float((const - none).abs().max()) > 1e-2 and float((const - random).abs().max()) > 1e-2


def test_fused_and_unfused_layers_read_the_same_weights_differently():
    """From 128 px the up-sampling layer is the transposed 4-shift convolution, which equals nearest up-sampling
    then the spatially flipped kernel; the unfused layer uses the kernel unflipped."""
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64)
    w = torch.randn(3, 4, 3, 3, dtype=torch.float64)
    fused = v1.layers.conv2d_up(x, w, fused=True)
    assert torch.allclose(fused, v1.layers.conv2d_up(x, w.flip(2, 3), fused=False), atol=1e-10)
    assert not torch.allclose(fused, v1.layers.conv2d_up(x, w, fused=False), atol=1e-2)
    down = v1.layers.conv2d_down(torch.randn(2, 4, 8, 8, dtype=torch.float64), w, fused=True)
    assert down.shape == (2, 3, 4, 4)


def test_parameter_counts_match_nvidia():
    """NVIDIA's FFHQ 1024 generator has 26,219,627 parameters (their README); computed without building."""
    assert v1.count_parameters(v1.GeneratorConfig())[0] == 26_219_627
    assert v1.count_parameters(v1.DiscriminatorConfig())[0] == 23_087_249
    cfg = v1.GeneratorConfig(img_resolution=32, channel_base=256, channel_max=32, z_dim=16, w_dim=16, c_dim=3)
    G = Generator(cfg)
    params = sum(p.numel() for p in G.parameters())
    buffers = sum(b.numel() for b in G.state_dict().values()) - params
    assert v1.count_parameters(cfg) == (params, buffers)
    dcfg = v1.DiscriminatorConfig(img_resolution=32, channel_base=256, channel_max=32, c_dim=3, mbstd_group_size=2)
    D = v1.Discriminator(dcfg)
    assert v1.count_parameters(dcfg)[0] == sum(p.numel() for p in D.parameters())


def test_configuration_is_validated():
    with pytest.raises(ValueError, match="fused_scale"):
        v1.GeneratorConfig(fused_scale="sometimes")
    with pytest.raises(ValueError, match="structure"):
        v1.DiscriminatorConfig(structure="recursive")
    with pytest.raises(ValueError, match="z_dim 16 must give w_dim 32"):
        v1.GeneratorConfig(mapping_layers=0, z_dim=16, w_dim=32)
    with pytest.raises(ValueError, match="not a StyleGAN \\(v1\\) configuration"):
        v1.GeneratorConfig.from_dict({"img_resolution": 32})
    cfg = v1.GeneratorConfig(img_resolution=64, blur_filter=None)
    assert v1.GeneratorConfig.from_dict(cfg.to_dict()) == cfg and cfg.to_dict()["version"] == 1


def test_training_mode_gradients_flow():
    cfg = v1.GeneratorConfig(img_resolution=16, channel_base=128, channel_max=16, z_dim=8, w_dim=8, mapping_layers=2)
    G = Generator(cfg).train()
    D = v1.Discriminator(v1.DiscriminatorConfig(img_resolution=16, channel_base=128, channel_max=16))
    v1.set_lod(G, 0.5)
    v1.set_lod(D, 0.5)
    loss = D(G(torch.randn(4, 8))).sum()
    loss.backward()
    grads = [p.grad for p in G.parameters()]
    assert all(g is not None for g in grads[:3])
    assert G.mapping.fc0.weight.grad is not None and float(G.mapping.fc0.weight.grad.abs().sum()) > 0
