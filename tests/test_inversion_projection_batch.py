"""Batched projection: N targets optimised jointly follow the same paths as N separate runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import stylegan
from stylegan.errors import StyleGANError
from stylegan.inversion.projection import noise_regularization, project
from stylegan.testing import tiny_generator

#: Joint and separate runs differ only by floating-point summation order (batched convolutions, reductions).
ATOL = 1e-4


def _assert_same(joint: stylegan.inversion.projection.ProjectionResult, alone: list, atol: float = ATOL) -> None:
    for i, res in enumerate(alone):
        torch.testing.assert_close(joint.ws[i : i + 1], res.ws, atol=atol, rtol=0)
        torch.testing.assert_close(joint.history[i : i + 1], res.history, atol=atol, rtol=0)
        torch.testing.assert_close(joint.distances[i : i + 1], res.distances, atol=atol, rtol=1e-4)
        for k, v in res.noise[0].items():
            torch.testing.assert_close(joint.noise[i][k], v, atol=atol, rtol=0)
        assert np.abs(joint.images[i].astype(int) - res.images[0].astype(int)).max() <= 1


@pytest.mark.parametrize("space", ["w", "w+"])
def test_joint_projection_equals_separate_runs(space: str) -> None:
    G = tiny_generator(seed=4)  # non-zero noise strengths: the per-target noise maps matter
    a, b = stylegan.generate(G, seeds=[1, 2]).images
    kw = {"steps": 8, "space": space, "loss": "mse", "w_avg_samples": 100, "progress": False}
    joint = project(G, np.stack([a, b]), seed=10, **kw)
    alone = [project(G, a[None], seed=10, **kw), project(G, b[None], seed=11, **kw)]  # target i uses seed + i
    _assert_same(joint, alone)
    assert not torch.equal(joint.noise[0]["b4.conv1.noise_const"], joint.noise[1]["b4.conv1.noise_const"])
    chunked = project(G, np.stack([a, b]), seed=10, batch_size=1, **kw)
    _assert_same(chunked, alone, atol=1e-6)


def test_joint_projection_per_target_classes() -> None:
    G = tiny_generator(c_dim=3, seed=5)
    imgs = np.concatenate([stylegan.generate(G, seeds=[1], class_idx=c).images for c in (0, 2)])
    kw = {"steps": 5, "loss": "mse", "w_avg_samples": 64, "progress": False}
    joint = project(G, imgs, class_idx=[0, 2], **kw)
    alone = [project(G, imgs[:1], class_idx=0, **kw), project(G, imgs[1:], class_idx=2, seed=304, **kw)]
    _assert_same(joint, alone)
    with pytest.raises(StyleGANError, match="2 targets"):
        project(G, imgs, class_idx=[0, 1, 2], **kw)


def test_joint_projection_lpips_equals_separate_runs() -> None:
    from stylegan.metrics.perceptual import find_offline_lpips, load_perceptual

    if find_offline_lpips() is None:
        pytest.skip("stlpips-pytorch weights not installed")
    net = load_perceptual("offline")
    G = tiny_generator(seed=4, img_resolution=32)
    a, b = stylegan.generate(G, seeds=[1, 2]).images
    kw = {"steps": 3, "space": "w+", "perceptual": net, "w_avg_samples": 64, "progress": False}
    joint = project(G, np.stack([a, b]), **kw)
    alone = [project(G, a[None], **kw), project(G, b[None], seed=304, **kw)]
    _assert_same(joint, alone)


def test_noise_regularization_is_per_map() -> None:
    gen = torch.Generator().manual_seed(1)
    maps = [torch.randn(3, 16, 16, generator=gen), torch.randn(3, 8, 8, generator=gen)]
    batched = noise_regularization(maps)
    assert batched.shape == (3,)
    for i in range(3):
        torch.testing.assert_close(batched[i], noise_regularization([m[i] for m in maps]))
