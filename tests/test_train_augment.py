"""ADA: the augmentation pipe's properties and the p controller."""

from __future__ import annotations

import math

import pytest
import torch

from stylegan.testing import tiny_discriminator
from stylegan.train.augment import AdaController, AugmentPipe
from stylegan.train.losses import r1_penalty

pytestmark = pytest.mark.usefixtures("one_thread")


def test_p_zero_is_identity() -> None:
    x = torch.randn(4, 3, 8, 8)
    assert AugmentPipe("bgcno", p=0.0)(x) is x


def test_blit_moves_whole_pixels_only() -> None:
    """x-flip, 90° rotations and integer translations (with reflection) only rearrange pixels."""
    pipe = AugmentPipe("b", p=1.0, generator=torch.Generator().manual_seed(0))
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    y = pipe(x)
    assert y.shape == x.shape and not torch.equal(x, y)
    values = set(x.flatten().tolist())
    assert all(min(abs(v - round(v)), 1) < 1e-3 and round(v) in values for v in y.flatten().tolist())
    m = pipe.geometric_matrix(16, 8, 8)
    assert torch.allclose(m[:, :2, :2].abs().round(), m[:, :2, :2].abs(), atol=1e-6)  # rotations by 90° only
    assert torch.allclose((m[:, :2, 2] * 4).round(), m[:, :2, 2] * 4, atol=1e-5)  # whole pixels (2/8 units)


def test_colour_transforms_keep_gray_gray_for_hue_and_saturation() -> None:
    pipe = AugmentPipe("c", p=1.0, generator=torch.Generator().manual_seed(1))
    c = pipe.color_matrix(64)
    gray = torch.tensor([0.3, 0.3, 0.3, 1.0])
    out = c @ gray
    assert torch.allclose(out[:, 0], out[:, 1], atol=1e-5) and torch.allclose(out[:, 1], out[:, 2], atol=1e-5)
    assert pipe(torch.zeros(2, 1, 4, 4)).shape == (2, 1, 4, 4)  # grayscale images work too
    assert pipe(torch.zeros(2, 4, 4, 4)).shape == (2, 4, 4, 4)  # so does RGBA


def test_probability_controls_how_often_images_change() -> None:
    """Each of the 12 transformations fires with probability p (x-flip and luma flip are then a coin toss, the
    90° rotation a 3-in-4 chance of a real turn), so an image is left untouched with probability about
    (1 - p/2)² (1 - 3p/4) (1 - p)⁹."""
    x = torch.randn(1000, 3, 8, 8)
    for p in (0.05, 0.3):
        y = AugmentPipe("bgc", p=p, generator=torch.Generator().manual_seed(2))(x)
        changed = float(((y - x).abs().flatten(1).max(dim=1).values > 1e-4).float().mean())
        expected = 1 - (1 - p / 2) ** 2 * (1 - 3 * p / 4) * (1 - p) ** 9
        assert abs(changed - expected) < 0.05, (p, changed, expected)


def test_r1_through_the_augmentation_is_twice_differentiable() -> None:
    D = tiny_discriminator().train()
    pipe = AugmentPipe("bgcno", p=0.5, generator=torch.Generator().manual_seed(3))
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    r1_penalty(x, D(pipe(x))).sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in D.parameters() if p.grad is not None)


def test_ada_controller_moves_p_towards_the_target() -> None:
    pipe = AugmentPipe("bgc", p=0.0)
    ada = AdaController(target=0.6, interval=4, kimg=1.0, batch=8)
    step = 8 * 4 / 1000
    for batch_idx in range(1, 9):  # D is confident on reals: overfitting -> p up
        ada.accumulate(torch.ones(8))
        ada.maybe_update(pipe, batch_idx)
    assert float(pipe.p) == pytest.approx(2 * step) and ada.last_rt == 1.0
    for batch_idx in range(9, 25):  # D unsure: p down, never below 0
        ada.accumulate(-torch.ones(8))
        ada.maybe_update(pipe, batch_idx)
    assert float(pipe.p) == 0.0
    state = ada.state_dict()
    other = AdaController()
    other.load_state_dict(state)
    assert other.state_dict()["signs_sum"] == state["signs_sum"] and math.isclose(other.last_rt, -1.0)
