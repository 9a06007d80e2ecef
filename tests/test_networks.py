"""The networks against a literal re-derivation of the paper's equations, and their defining properties."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stylegan.networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig
from stylegan.nn.modulated import modulated_conv2d
from stylegan.nn.resample import conv2d_resample, downsample2d, setup_filter, upfirdn2d, upsample2d
from stylegan.presets import PRESETS
from stylegan.testing import (
    randomize_,
    tiny_discriminator,
    tiny_discriminator_config,
    tiny_generator,
    tiny_generator_config,
)

from . import reference_impl as ref

# Tolerances: float32 network vs float64 reference. Outputs are O(1)-O(10); 1e-4 absolute is the project's bar.
ATOL = 1e-4
GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(
    "up,down,pad",
    [
        (1, 1, (1, 1, 1, 1)),
        (2, 1, (2, 1, 2, 1)),
        (1, 2, (1, 1, 1, 1)),
        (2, 1, (0, -1, 3, 0)),
        (1, 2, (-1, 2, 0, 1)),
        (3, 1, (1, 2, 2, 1)),
    ],
)
def test_upfirdn2d_matches_naive_loops(up: int, down: int, pad: tuple[int, int, int, int]) -> None:
    x = torch.randn(2, 3, 9, 7, dtype=torch.float64)
    f = setup_filter([1, 3, 3, 1]).double()
    got = upfirdn2d(x, f, up=up, down=down, padding=pad, gain=up * up)
    want = ref.upfirdn_naive(x, f, up, down, pad, up * up)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=1e-12, rtol=0)


@pytest.mark.parametrize("taps", [(1, 3, 3, 1), (1, 1), (1, 2, 1), (1, 3, 3, 1, 2)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_polyphase_upsample_equals_zero_insertion(taps: tuple[int, ...], channels_last: bool) -> None:
    x = torch.randn(2, 4, 6, 5)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    f = setup_filter(taps)
    k = f.shape[0]
    want = upfirdn2d(x, f, up=2, padding=[(k + 1) // 2, (k - 2) // 2] * 2, gain=4)
    got = upsample2d(x, f)
    assert got.shape == (2, 4, 12, 10)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_downsample_halves_and_keeps_dc() -> None:
    x = torch.full((1, 2, 8, 8), 3.0)
    y = downsample2d(x, setup_filter([1, 3, 3, 1]))
    assert y.shape == (1, 2, 4, 4)
    assert torch.allclose(y[:, :, 1:-1, 1:-1], torch.full_like(y[:, :, 1:-1, 1:-1], 3.0))


@pytest.mark.parametrize("up,down", [(1, 1), (2, 1), (1, 2)])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("flip", [True, False])
@pytest.mark.parametrize("channels_last", [False, True])
def test_conv2d_resample_equals_filter_then_conv(up: int, down: int, k: int, flip: bool, channels_last: bool) -> None:
    """Every fast path equals the plain composition: zero-insert + FIR (gain up^2), correlate, FIR + decimate.
    Channels-last 1x1 kernels take the matrix-product path."""
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    w = torch.randn(5, 4, k, k, dtype=torch.float64)
    f = setup_filter([1, 3, 3, 1]).double()
    got = conv2d_resample(x, w, f, up=up, down=down, padding=k // 2, flip_weight=flip)
    wc = w if flip else w.flip([2, 3])
    p = k // 2
    if up > 1:
        u = ref.upfirdn_naive(x, f, 2, 1, (p + 2, p + 1, p + 2, p + 1), 4.0)
        want = F.conv2d(u, wc)
    elif down > 1:
        u = ref.upfirdn_naive(x, f, 1, 1, (p + 1, p + 1, p + 1, p + 1), 1.0)
        want = F.conv2d(u, wc)[:, :, ::2, ::2]
    else:
        want = F.conv2d(x, wc, padding=p)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=1e-10, rtol=0)


@pytest.mark.parametrize("up", [1, 2])
@pytest.mark.parametrize("demodulate", [True, False])
def test_shared_weight_modconv_equals_grouped_paper_form(up: int, demodulate: bool) -> None:
    x = torch.randn(3, 6, 8, 8)
    w = torch.randn(5, 6, 3, 3)
    s = torch.randn(3, 6)
    f = setup_filter([1, 3, 3, 1])
    kw = dict(demodulate=demodulate, up=up, padding=1, resample_filter=f, flip_weight=(up == 1))
    fast = modulated_conv2d(x, w, s, **kw)
    slow = modulated_conv2d(x, w, s, impl="grouped", **kw)
    torch.testing.assert_close(fast, slow, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("architecture", ["skip", "orig", "resnet"])
@pytest.mark.parametrize("c_dim,img_channels", [(0, 3), (4, 1)])
@pytest.mark.parametrize("batch", [3, 1])  # one sample takes the folded-weight path
def test_generator_equals_literal_paper_formulation(
    architecture: str, c_dim: int, img_channels: int, batch: int
) -> None:
    G = tiny_generator(architecture=architecture, c_dim=c_dim, img_channels=img_channels, conv_clamp=2.0)
    sd = G.state_dict()
    z = torch.randn(batch, G.z_dim)
    c = torch.eye(max(c_dim, 1))[[0, 2, 3][:batch]][:, :c_dim] if c_dim else None
    with torch.no_grad():
        for psi, cutoff in [(1.0, None), (0.6, 3)]:
            got = G(z, c, truncation_psi=psi, truncation_cutoff=cutoff, noise_mode="const")
            ws = ref.mapping(sd, z, c, G.cfg.mapping_layers, G.num_ws, psi, cutoff)
            want = ref.synthesis(sd, ws, G.img_resolution, architecture, clamp=2.0)
            assert got.shape == (batch, img_channels, 16, 16)
            torch.testing.assert_close(got.double(), want, atol=ATOL, rtol=0)
            torch.testing.assert_close(G.mapping(z, c, psi, cutoff).double(), ws, atol=ATOL, rtol=0)


def test_inference_caches_follow_weight_changes() -> None:
    """The weight-derived tensors kept for inference are made again after an in-place update or a load."""
    G = tiny_generator(seed=1)
    other = tiny_generator(seed=2)
    z = torch.randn(2, G.z_dim)
    with torch.no_grad():
        for batch in (z, z[:1]):
            G(batch, None, noise_mode="const")  # fills the caches
        for p, q in zip(G.state_dict().values(), other.state_dict().values(), strict=True):
            p.copy_(q)  # in place: same storage, new version
        for batch in (z, z[:1]):
            torch.testing.assert_close(G(batch, None, noise_mode="const"), other(batch, None, noise_mode="const"))
        G.load_state_dict(tiny_generator(seed=3).state_dict())
        torch.testing.assert_close(G(z, None, noise_mode="const"), tiny_generator(seed=3)(z, None, noise_mode="const"))


def test_num_ws_formula() -> None:
    for res in [4, 8, 16, 32, 64, 128, 256, 512, 1024]:
        cfg = GeneratorConfig(img_resolution=res, channel_base=8192, channel_max=4, z_dim=8, w_dim=8)
        assert Generator(cfg).num_ws == 2 * int(math.log2(res)) - 2 == cfg.num_ws


def test_psi_zero_gives_w_avg_everywhere() -> None:
    G = tiny_generator()
    ws = G.mapping(torch.randn(4, G.z_dim), None, truncation_psi=0.0)
    torch.testing.assert_close(ws, G.mapping.w_avg.expand_as(ws))


def test_truncation_cutoff_only_touches_early_layers() -> None:
    G = tiny_generator()
    z = torch.randn(2, G.z_dim)
    full = G.mapping(z, None)
    cut = G.mapping(z, None, truncation_psi=0.5, truncation_cutoff=2)
    torch.testing.assert_close(cut[:, 2:], full[:, 2:])
    assert not torch.allclose(cut[:, :2], full[:, :2])
    torch.testing.assert_close(cut[:, :2], G.mapping.w_avg + 0.5 * (full[:, :2] - G.mapping.w_avg))


def test_batch_independence() -> None:
    G = tiny_generator()
    z = torch.randn(4, G.z_dim)
    with torch.no_grad():
        batch = G(z, None, noise_mode="const")
        single = torch.cat([G(z[i : i + 1], None, noise_mode="const") for i in range(4)])
    torch.testing.assert_close(batch, single, atol=1e-5, rtol=0)


def test_noise_modes() -> None:
    G = tiny_generator()
    z = torch.randn(2, G.z_dim)
    with torch.no_grad():
        a, b = G(z, None, noise_mode="const"), G(z, None, noise_mode="const")
        r1, r2 = G(z, None, noise_mode="random"), G(z, None, noise_mode="random")
        n = G(z, None, noise_mode="none")
    assert torch.equal(a, b)
    assert not torch.allclose(r1, r2)
    assert not torch.allclose(a, n)
    with pytest.raises(ValueError, match="noise_mode"):
        G(z, None, noise_mode="bogus")  # type: ignore[arg-type]


def test_w_avg_tracks_only_when_asked() -> None:
    G = tiny_generator()
    before = G.mapping.w_avg.clone()
    G.mapping(torch.randn(8, G.z_dim), None)
    torch.testing.assert_close(G.mapping.w_avg, before)
    G.mapping(torch.randn(8, G.z_dim), None, update_emas=True)
    assert not torch.allclose(G.mapping.w_avg, before)


def test_conditional_generator_needs_labels() -> None:
    G = tiny_generator(c_dim=3)
    with pytest.raises(ValueError, match="conditional"):
        G(torch.randn(1, G.z_dim), None)
    out = G(torch.randn(2, G.z_dim), torch.eye(3)[:2])
    assert out.shape == (2, 3, 16, 16)


@pytest.mark.parametrize("res", [4, 8, 32])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_any_resolution_and_channel_count(res: int, channels: int) -> None:
    G = tiny_generator(img_resolution=res, img_channels=channels)
    D = tiny_discriminator(img_resolution=res, img_channels=channels, mbstd_group_size=2)
    img = G(torch.randn(2, G.z_dim), None)
    assert img.shape == (2, channels, res, res)
    assert D(img, None).shape == (2, 1)


@pytest.mark.parametrize("conv_clamp", [None, 0.5])
@pytest.mark.parametrize("noise_mode", ["random", "const"])
def test_gradients_flow_through_everything(conv_clamp: float | None, noise_mode: str) -> None:
    G = tiny_generator(architecture="resnet", conv_clamp=conv_clamp)
    G.train()
    D = tiny_discriminator(c_dim=0, conv_clamp=conv_clamp)
    loss = D(G(torch.randn(4, G.z_dim), None, noise_mode=noise_mode), None).sum()
    loss.backward()
    missing = [n for n, p in list(G.named_parameters()) + list(D.named_parameters()) if p.grad is None]
    assert missing == []


def test_training_gradients_match_the_literal_formulation() -> None:
    """Backward through the fast path (addcmul, in-place activation, clamp) equals autograd on the reference."""
    G = tiny_generator(conv_clamp=1.5).double()
    ws = torch.randn(2, G.num_ws, G.w_dim, dtype=torch.float64, requires_grad=True)
    G.synthesis(ws, noise_mode="const").square().sum().backward()
    fast = ws.grad.clone()
    ws.grad = None
    ref.synthesis(G.state_dict(), ws, 16, "skip", clamp=1.5).square().sum().backward()
    torch.testing.assert_close(fast, ws.grad, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("architecture", ["resnet", "skip"])
def test_discriminator_in_channels_last_equals_contiguous(architecture: str) -> None:
    """The CPU training layout (channels-last: 1x1 convolutions become matrix products) changes neither the scores
    nor the gradients beyond float32 rounding (the discriminator computes in float32)."""
    D = tiny_discriminator(architecture=architecture)
    img = torch.randn(3, 3, 16, 16)
    results = []
    for layout in (torch.contiguous_format, torch.channels_last):
        net = D.to(memory_format=layout)
        x = img.clone().contiguous(memory_format=layout).requires_grad_(True)
        net.zero_grad(set_to_none=True)
        scores = net(x)
        scores.square().sum().backward()
        results.append((scores.detach(), x.grad, [p.grad for p in net.parameters()]))
    (s0, g0, p0), (s1, g1, p1) = results
    torch.testing.assert_close(s1, s0, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(g1, g0, atol=1e-5, rtol=1e-5)
    for a, b in zip(p1, p0, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_minibatch_stddev_matches_explicit_groups() -> None:
    from stylegan.networks import MinibatchStdLayer

    x = torch.randn(8, 6, 4, 4, dtype=torch.float64)
    y = MinibatchStdLayer(group_size=4)(x)
    assert y.shape == (8, 7, 4, 4)
    # Group membership follows the reference: sample i is in group i % (N / G).
    for i in range(8):
        members = x[[j for j in range(8) if j % 2 == i % 2]]
        want = ((members - members.mean(0)).square().mean(0) + 1e-8).sqrt().mean()
        torch.testing.assert_close(y[i, 6], torch.full((4, 4), float(want), dtype=torch.float64))


def test_discriminator_conditioning_is_a_projection() -> None:
    D = tiny_discriminator(c_dim=3, mbstd_group_size=None)
    img = torch.randn(2, 3, 16, 16)
    c = torch.eye(3)[:2]
    out = D(img, c)
    assert out.shape == (2, 1)
    assert not torch.allclose(D(img, torch.eye(3)[1:3]), out)


def test_freeze_d_keeps_leading_layers_as_buffers() -> None:
    D = Discriminator(tiny_discriminator_config(freeze_layers=2))
    frozen = {n for n, _ in D.named_buffers() if n.endswith(".weight")}
    assert frozen == {"b16.fromrgb.weight", "b16.conv0.weight"}
    assert "b16.conv1.weight" in dict(D.named_parameters())


def test_presets_build_the_published_shapes() -> None:
    """Config F at 1024: 30,370,060 generator parameters and 18 ws (NVIDIA's count)."""
    G = Generator(PRESETS["stylegan2"].generator(1024))
    assert G.num_ws == 18
    assert sum(p.numel() for p in G.parameters()) == 30_370_060
    G256 = Generator(PRESETS["paper256"].generator(256))
    assert G256.synthesis.b256.conv1.weight.shape == (64, 64, 3, 3)


def _golden_cases() -> list[dict]:
    return json.loads((GOLDEN / "networks.json").read_text())


@pytest.mark.parametrize("case", _golden_cases(), ids=lambda c: c["name"])
def test_golden_output_slices(case: dict) -> None:
    """Fixed seed, tiny config, a 3x3 slice of the output: catches any change to the maths or the init.

    Regenerate only with `python tests/golden/make_golden.py` and review the diff.
    """
    from tests.golden.make_golden import compute_case

    got = compute_case(case["name"])
    np.testing.assert_allclose(np.array(got), np.array(case["slice"]), atol=1e-4, rtol=0)


def test_config_round_trip_and_validation() -> None:
    cfg = tiny_generator_config(architecture="resnet", c_dim=2)
    assert GeneratorConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="power of two"):
        GeneratorConfig(img_resolution=48)
    with pytest.raises(ValueError, match="channel_base"):
        GeneratorConfig(img_resolution=1024, channel_base=512)
    with pytest.raises(ValueError, match="architecture"):
        GeneratorConfig(architecture="fancy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown"):
        GeneratorConfig.from_dict({"z_dim": 4, "bogus": 1})
    # num_fp16_res (NVIDIA's float16 resolutions) is kept; written only when not 0, as files without it were.
    assert GeneratorConfig.from_dict({**cfg.to_dict(), "num_fp16_res": 4}).num_fp16_res == 4
    assert (
        "num_fp16_res" not in cfg.to_dict() and GeneratorConfig.from_dict({**cfg.to_dict(), "num_fp16_res": 0}) == cfg
    )
    dcfg = tiny_discriminator_config(num_fp16_res=2)
    assert dcfg.to_dict()["num_fp16_res"] == 2 and DiscriminatorConfig.from_dict(dcfg.to_dict()) == dcfg
    with pytest.raises(ValueError, match="num_fp16_res"):
        GeneratorConfig(num_fp16_res=-1)


def test_randomize_changes_every_tensor() -> None:
    G = Generator(tiny_generator_config())
    before = {k: v.clone() for k, v in G.state_dict().items()}
    randomize_(G, 3)
    same = [k for k, v in G.state_dict().items() if torch.equal(v, before[k]) and "resample_filter" not in k]
    assert same == []
