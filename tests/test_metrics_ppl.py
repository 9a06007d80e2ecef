"""Perceptual path length: the image transform, answers computable by hand (a linear generator and a pixel-space
"perceptual" network), and parity with a literal re-derivation of NVIDIA's sampler on the tiny network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from stylegan.errors import StyleGANError
from stylegan.metrics import compute_metric, filtered_mean, ppl_images
from stylegan.metrics.feature_stats import LabelSampler
from stylegan.metrics.ppl import path_length_distances
from stylegan.metrics.testing import FlattenPerceptual, write_image_folder
from stylegan.testing import tiny_generator

pytestmark = pytest.mark.usefixtures("private_cache")


def test_crop_downsample_and_range() -> None:
    img = torch.arange(16.0 * 16).reshape(1, 1, 16, 16) / 255 - 0.5
    out = ppl_images(img, crop=True, img_resolution=16)  # c = 2: rows 6:14, columns 4:12
    torch.testing.assert_close(out[:, :1], (img[:, :, 6:14, 4:12] + 1) * 127.5)
    assert out.shape == (1, 3, 8, 8) and torch.equal(out[:, 0], out[:, 2])  # grayscale -> 3 channels
    big = torch.rand(1, 3, 512, 512) * 2 - 1
    down = ppl_images(big, crop=False, img_resolution=512)  # box filter by 512 // 256 = 2
    torch.testing.assert_close(down, (big.reshape(1, 3, 256, 2, 256, 2).mean((3, 5)) + 1) * 127.5)
    # crop first, then the factor of the network's resolution (NVIDIA: a 1024 face crop of 512 becomes 128)
    assert ppl_images(torch.zeros(1, 3, 1024, 1024), crop=True, img_resolution=1024).shape == (1, 3, 128, 128)
    assert ppl_images(torch.zeros(1, 3, 256, 256), crop=False, img_resolution=256).shape == (1, 3, 256, 256)


class LinearG(nn.Module):
    """w = z (identity mapping); image = reshape(A w): a generator whose path lengths are known in closed form."""

    def __init__(self, z_dim: int = 12, res: int = 4, channels: int = 3, seed: int = 0) -> None:
        super().__init__()
        self.z_dim = self.w_dim = z_dim
        self.c_dim, self.num_ws, self.img_resolution, self.img_channels = 0, 2, res, channels
        q, _ = torch.linalg.qr(torch.randn(channels * res * res, z_dim, generator=torch.Generator().manual_seed(seed)))
        self.register_buffer("A", q)  # orthonormal columns: |A v| = |v|
        self.dummy = nn.Parameter(torch.zeros(()))

    def mapping(self, z: Tensor, c: Tensor | None, **_: object) -> Tensor:
        return z[:, None].repeat(1, self.num_ws, 1)

    def synthesis(self, ws: Tensor, noise_mode: str = "const", **_: object) -> Tensor:
        return (ws[:, 0] @ self.A.T).reshape(-1, self.img_channels, self.img_resolution, self.img_resolution)


def _draws(seed: int, n: int, batch: int, z_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """z0, z1 in NVIDIA's draw order: per batch t = rand(batch), then randn(2 * batch, z_dim) split in halves."""
    torch.manual_seed(seed)
    z0, z1 = [], []
    for _ in range(0, n, batch):
        torch.rand([batch])
        a, b = torch.randn([2 * batch, z_dim]).chunk(2)
        z0.append(a)
        z1.append(b)
    return torch.cat(z0)[:n].double().numpy(), torch.cat(z1)[:n].double().numpy()


def test_w_space_path_length_of_a_linear_generator_is_known() -> None:
    G, net = LinearG(), FlattenPerceptual()
    pixels = 3 * 4 * 4
    # image [-1, 1] -> [0, 255] -> /255 in the stub: d = |A (w1 - w0)|^2 / 4 / pixels = |z1 - z0|^2 / (4 pixels),
    # the same for every t (lerp of a linear map): full and end paths agree.
    z0, z1 = _draws(3, 10, 2, G.z_dim)
    want = ((z1 - z0) ** 2).sum(1) / (4 * pixels)
    kw = dict(labels=LabelSampler(0, None, 3, "cpu"), batch_size=2, seed=3, space="w")
    for sampling in ("end", "full"):
        got = path_length_distances(G, net, 10, sampling=sampling, **kw)
        np.testing.assert_allclose(got, want, rtol=2e-3)
    assert filtered_mean(want) == pytest.approx(filtered_mean(got), rel=2e-3)


def test_z_space_end_path_length_is_the_slerp_speed() -> None:
    G, net = LinearG(), FlattenPerceptual()
    pixels = 3 * 4 * 4
    z0, z1 = _draws(4, 6, 3, G.z_dim)
    # t = 0: slerp moves along the great circle from z0/|z0| at angular speed theta = angle(z0, z1)
    cos = (z0 * z1).sum(1) / np.linalg.norm(z0, axis=1) / np.linalg.norm(z1, axis=1)
    want = np.arccos(cos) ** 2 / (4 * pixels)
    got = path_length_distances(
        G, net, 6, labels=LabelSampler(0, None, 4, "cpu"), batch_size=3, seed=4, space="z", sampling="end"
    )
    np.testing.assert_allclose(got, want, rtol=5e-3)


def _slerp_nvidia(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    d = (a * b).sum(dim=-1, keepdim=True)
    p = t * torch.acos(d)
    c = b - d * a
    c = c / c.norm(dim=-1, keepdim=True)
    d = a * torch.cos(p) + c * torch.sin(p)
    return d / d.norm(dim=-1, keepdim=True)


@torch.no_grad()
def _reference_ppl(G: nn.Module, net: nn.Module, n: int, *, space: str, sampling: str, crop: bool, seed: int) -> float:
    """StyleGAN2-ADA's metrics/perceptual_path_length.py written out step by step on a deep copy of G, batch 2."""
    import copy

    G = copy.deepcopy(G)
    eps = 1e-4
    torch.manual_seed(seed)
    dist = []
    for _ in range(0, n, 2):
        t = torch.rand([2]) * (1 if sampling == "full" else 0)
        z0, z1 = torch.randn([4, G.z_dim]).chunk(2)
        if space == "w":
            w0, w1 = G.mapping(torch.cat([z0, z1]), None).chunk(2)
            wt0, wt1 = w0.lerp(w1, t[:, None, None]), w0.lerp(w1, t[:, None, None] + eps)
        else:
            zt0, zt1 = _slerp_nvidia(z0, z1, t[:, None]), _slerp_nvidia(z0, z1, t[:, None] + eps)
            wt0, wt1 = G.mapping(torch.cat([zt0, zt1]), None).chunk(2)
        for name, buf in G.named_buffers():
            if name.endswith(".noise_const"):
                buf.copy_(torch.randn_like(buf))
        img = G.synthesis(torch.cat([wt0, wt1]), noise_mode="const")
        if crop:
            c = img.shape[2] // 8
            img = img[:, :, c * 3 : c * 7, c * 2 : c * 6]
        img = (img + 1) * (255 / 2)
        e0, e1 = net(img, resize_images=False, return_lpips=True).chunk(2)
        dist.append((e0 - e1).square().sum(1) / eps**2)
    d = torch.cat(dist)[:n].numpy()
    lo, hi = np.percentile(d, 1, method="lower"), np.percentile(d, 99, method="higher")
    return float(d[(d >= lo) & (d <= hi)].mean())


@pytest.mark.parametrize("name", ["ppl_zfull", "ppl_wfull", "ppl_zend", "ppl_wend", "ppl2_wend"])
def test_parity_with_literal_protocol_on_tiny_network(name: str) -> None:
    G = tiny_generator(seed=5)
    noise_before = {k: v.clone() for k, v in G.named_buffers() if k.endswith("noise_const")}
    res = compute_metric(G, f"{name}6", perceptual=FlattenPerceptual(), seed=11, progress=False)
    spec = res.protocol
    want = _reference_ppl(
        G, FlattenPerceptual(), 6, space=spec["space"], sampling=spec["sampling"], crop=spec["crop"], seed=11
    )
    assert res.value == pytest.approx(want, rel=1e-6)
    assert res.detector["name"] == "stub-flatten" and res.num_gen == 6 and res.num_real is None
    for k, v in G.named_buffers():  # G itself is untouched (the noise is re-drawn in a copy)
        if k in noise_before:
            assert torch.equal(v, noise_before[k])


def test_noise_is_redrawn_per_batch_and_conditional_labels(tmp_path: Path) -> None:
    G = tiny_generator(seed=6)
    a = compute_metric(G, "ppl2_wend4", perceptual=FlattenPerceptual(), ppl_batch_size=2, progress=False)
    b = compute_metric(G, "ppl2_wend4", perceptual=FlattenPerceptual(), ppl_batch_size=4, progress=False)
    assert a.value != b.value and a.protocol["batch_size"] == 2  # different batching -> different draws
    Gc = tiny_generator(seed=7, c_dim=2)
    data = write_image_folder(tmp_path / "lab", n=4, labels=[0, 1, 1, 0])
    res = compute_metric(Gc, "ppl_wend4", data=data, perceptual=FlattenPerceptual(), progress=False)
    assert np.isfinite(res.value) and res.dataset["num_images"] == 4
    with pytest.raises(StyleGANError, match="conditional"):
        compute_metric(Gc, "ppl_wend4", perceptual=FlattenPerceptual(), progress=False)


def test_real_perceptual_network_on_small_images_is_a_clear_error() -> None:
    from stylegan.metrics.perceptual import find_offline_lpips

    if find_offline_lpips() is None:
        pytest.skip("stlpips-pytorch not installed (make install adds it)")
    with pytest.raises(StyleGANError, match="at least 32x32.*ppl2"):
        compute_metric(tiny_generator(), "ppl_wend2", perceptual="offline", progress=False)
    res = compute_metric(tiny_generator(img_resolution=32), "ppl2_wend2", perceptual="offline", progress=False)
    assert res.detector["name"] == "lpips-vgg16-st" and res.value > 0
    assert any("stlpips" in d for d in res.protocol["deviations"])
