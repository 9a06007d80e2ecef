"""Adaptive discriminator augmentation (Karras et al. 2020, "Training Generative Adversarial Networks with
Limited Data", §2-3 and Appendix B), written from the paper.

`AugmentPipe` applies, each with probability p per image, the paper's non-leaking transformations:
- `b` blit: x-flip, 90° rotations, integer translation;
- `g` general geometric: isotropic scaling, rotation (twice, around anisotropic scaling), fractional translation;
- `c` colour: brightness, contrast, luma flip, hue rotation, saturation;
- `n` additive Gaussian noise, `o` cutout.
Geometric transforms are composed into one 3x3 matrix per image and applied by a single bilinear resampling with
reflection padding (exact for the pixel-aligned blit transforms); colour transforms are composed into one 4x4
matrix. Everything is differentiable, including twice (R1 through the augmentation).

`AdaController` implements the overfitting heuristic r_t = E[sign(D(x_real))] and moves p by
sign(r_t - target) · (batch · interval) / (ada_kimg · 1000) every `interval` steps.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .distributed import all_reduce_sum


def _rand(n: int, g: torch.Generator | None) -> Tensor:
    return torch.rand(n, generator=g)


def _randn(n: int, g: torch.Generator | None) -> Tensor:
    return torch.randn(n, generator=g)


def _mat3(rows: list[list[Tensor | float]], n: int) -> Tensor:
    """[n, 3, 3] from a 3x3 nested list of per-sample tensors [n] or constants."""

    def row(r: list[Tensor | float]) -> Tensor:
        return torch.stack([torch.as_tensor(v, dtype=torch.float32).expand(n) for v in r], -1)

    return torch.stack([row(r) for r in rows], -2)


def _translate(tx: Tensor, ty: Tensor) -> Tensor:
    one, zero = torch.ones_like(tx), torch.zeros_like(tx)
    return _mat3([[one, zero, tx], [zero, one, ty], [zero, zero, one]], tx.numel())


def _scale(sx: Tensor, sy: Tensor) -> Tensor:
    one, zero = torch.ones_like(sx), torch.zeros_like(sx)
    return _mat3([[sx, zero, zero], [zero, sy, zero], [zero, zero, one]], sx.numel())


def _rotate(theta: Tensor) -> Tensor:
    c, s = torch.cos(theta), torch.sin(theta)
    one, zero = torch.ones_like(theta), torch.zeros_like(theta)
    return _mat3([[c, -s, zero], [s, c, zero], [zero, zero, one]], theta.numel())


def _maybe(values: Tensor, default: float, prob: float, g: torch.Generator | None) -> Tensor:
    """Per-sample `values` with probability `prob`, `default` otherwise."""
    keep = _rand(values.numel(), g) < prob
    return torch.where(keep, values, torch.full_like(values, default))


def _maybe2(values: Tensor, default: float, prob: float, g: torch.Generator | None) -> Tensor:
    """Per-sample 2-vectors `values` [2, n] with probability `prob` (one decision for both), `default` otherwise."""
    keep = _rand(values.shape[1], g) < prob
    return torch.where(keep[None], values, torch.full_like(values, default))


class AugmentPipe(nn.Module):
    """Differentiable, non-leaking image augmentations for the discriminator's inputs (images in [-1, 1]).

    Args:
        pipe: letters of the groups to use (see the module docstring); NVIDIA's default is `bgc`.
        p: probability of each transformation (kept in the `p` buffer, which ADA adjusts).
        generator: source of randomness (its state is part of the training state).
    The strengths are the paper's: translation 0.125 of the image, scale/aniso lognormal σ 0.2, rotation up to
    a full turn, fractional translation σ 0.125, brightness σ 0.2, contrast lognormal σ 0.5, hue up to a full
    turn, saturation lognormal σ 1, noise σ 0.1, cutout half the image size.
    """

    p: Tensor

    def __init__(self, pipe: str = "bgc", p: float = 0.0, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.pipe = pipe
        self.generator = generator
        self.register_buffer("p", torch.tensor(float(p)))
        self.xint_max, self.scale_std, self.rotate_max, self.aniso_std, self.xfrac_std = 0.125, 0.2, 1.0, 0.2, 0.125
        self.brightness_std, self.contrast_std, self.hue_max, self.saturation_std = 0.2, 0.5, 1.0, 1.0
        self.noise_std, self.cutout_size = 0.1, 0.5

    def extra_repr(self) -> str:
        return f"pipe={self.pipe!r}, p={float(self.p):.4f}"

    # ---- geometric ---------------------------------------------------------------------------------------------
    def geometric_matrix(self, n: int, width: int, height: int) -> Tensor:
        """[n, 3, 3] maps output coordinates to input coordinates, in affine_grid's [-1, 1] units."""
        p, g = float(self.p), self.generator
        m = torch.eye(3).repeat(n, 1, 1)
        if "b" in self.pipe:
            flip = _maybe(torch.floor(_rand(n, g) * 2), 0.0, p, g)  # chosen with prob p, then a coin flip
            m = m @ _scale(1 - 2 * flip, torch.ones(n))
            quarter = _maybe(torch.floor(_rand(n, g) * 4), 0.0, p, g)
            m = m @ _rotate(quarter * (math.pi / 2))
            t = (_rand(2 * n, g).reshape(2, n) * 2 - 1) * self.xint_max
            t = _maybe2(
                torch.stack([torch.round(t[0] * width) * 2 / width, torch.round(t[1] * height) * 2 / height]), 0.0, p, g
            )
            m = m @ _translate(t[0], t[1])
        if "g" in self.pipe:
            s = _maybe(torch.exp2(_randn(n, g) * self.scale_std), 1.0, p, g)
            m = m @ _scale(s, s)
            p_rot = 1 - math.sqrt(max(1 - p, 0.0))  # two rotations: P(at least one) = p
            m = m @ _rotate(_maybe((_rand(n, g) * 2 - 1) * math.pi * self.rotate_max, 0.0, p_rot, g))
            a = _maybe(torch.exp2(_randn(n, g) * self.aniso_std), 1.0, p, g)
            m = m @ _scale(a, 1 / a)
            m = m @ _rotate(_maybe((_rand(n, g) * 2 - 1) * math.pi * self.rotate_max, 0.0, p_rot, g))
            t = _maybe2(_randn(2 * n, g).reshape(2, n) * self.xfrac_std * 2, 0.0, p, g)
            m = m @ _translate(t[0], t[1])
        return m

    # ---- colour ------------------------------------------------------------------------------------------------
    def color_matrix(self, n: int) -> Tensor:
        """[n, 4, 4] acting on homogeneous [r, g, b, 1] (images centred on 0)."""
        p, g = float(self.p), self.generator
        c = torch.eye(4).repeat(n, 1, 1)
        v = torch.tensor([1.0, 1.0, 1.0, 0.0]) / math.sqrt(3)  # luma axis
        vv = torch.outer(v, v)
        eye = torch.eye(4)
        b = _maybe(_randn(n, g) * self.brightness_std, 0.0, p, g)
        t = eye.repeat(n, 1, 1)
        t[:, :3, 3] = b[:, None]
        c = t @ c
        k = _maybe(torch.exp2(_randn(n, g) * self.contrast_std), 1.0, p, g)
        s = eye.repeat(n, 1, 1)
        s[:, :3, :3] *= k[:, None, None]
        c = s @ c
        flip = _maybe(torch.floor(_rand(n, g) * 2), 0.0, p, g)
        c = (eye - 2 * vv * flip[:, None, None]) @ c  # Householder reflection of the luma axis
        theta = _maybe((_rand(n, g) * 2 - 1) * math.pi * self.hue_max, 0.0, p, g)
        c = _rotate_around(v[:3], theta) @ c
        sat = _maybe(torch.exp2(_randn(n, g) * self.saturation_std), 1.0, p, g)
        c = (vv + (eye - vv) * sat[:, None, None]).clone() @ c
        return c

    # ---- forward -----------------------------------------------------------------------------------------------
    def forward(self, images: Tensor) -> Tensor:
        """images [N, C, H, W] in [-1, 1] -> augmented images of the same shape."""
        if float(self.p) <= 0:
            return images
        n, ch, h, w = images.shape
        dev, g = images.device, self.generator
        if "b" in self.pipe or "g" in self.pipe:
            m = self.geometric_matrix(n, w, h)
            if not torch.allclose(m, torch.eye(3).expand_as(m)):
                grid = F.affine_grid(m[:, :2, :].to(dev, images.dtype), [n, ch, h, w], align_corners=False)
                images = F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        if "c" in self.pipe:
            c = self.color_matrix(n).to(dev, images.dtype)
            if ch >= 3:
                rgb = images[:, :3].reshape(n, 3, h * w)
                rgb = c[:, :3, :3] @ rgb + c[:, :3, 3:]
                images = torch.cat([rgb.reshape(n, 3, h, w), images[:, 3:]], dim=1)
            else:  # grayscale: the transform of a gray pixel (x, x, x), averaged over r, g, b
                a = c[:, :3, :3].sum(dim=2).mean(dim=1)
                b = c[:, :3, 3].mean(dim=1)
                images = images * a[:, None, None, None] + b[:, None, None, None]
        if "n" in self.pipe:
            sigma = _maybe(_randn(n, g).abs() * self.noise_std, 0.0, float(self.p), g)
            noise = torch.randn(images.shape, generator=g).to(dev, images.dtype)
            images = images + noise * sigma.to(dev, images.dtype)[:, None, None, None]
        if "o" in self.pipe:
            size = _maybe(torch.full([n], self.cutout_size), 0.0, float(self.p), g)
            center = _rand(2 * n, g).reshape(2, n)
            ys = ((torch.arange(h) + 0.5) / h)[None, :, None]
            xs = ((torch.arange(w) + 0.5) / w)[None, None, :]
            inside = ((xs - center[0][:, None, None]).abs() < size[:, None, None] / 2) & (
                (ys - center[1][:, None, None]).abs() < size[:, None, None] / 2
            )
            images = images * (~inside).to(dev, images.dtype)[:, None]
        return images


def _rotate_around(axis: Tensor, theta: Tensor) -> Tensor:
    """[n, 4, 4] rotation by theta around a unit 3-vector (Rodrigues' formula)."""
    x, y, z = (float(a) for a in axis)
    k = torch.tensor([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    kk = torch.outer(axis, axis)
    s, c = torch.sin(theta)[:, None, None], torch.cos(theta)[:, None, None]
    r = c * torch.eye(3) + s * k + (1 - c) * kk
    out = torch.eye(4).repeat(theta.numel(), 1, 1)
    out[:, :3, :3] = r
    return out


class AdaController:
    """The ADA heuristic: accumulate sign(D(real)) and move p towards the target every `interval` steps."""

    def __init__(self, target: float = 0.6, interval: int = 4, kimg: float = 500.0, batch: int = 32) -> None:
        self.target = target
        self.interval = interval
        self.kimg = kimg
        self.batch = batch
        self.signs_sum = 0.0
        self.count = 0.0
        self.last_rt = float("nan")

    def accumulate(self, real_signs: Tensor) -> None:
        """Record sign(D(x)) of this process's real images."""
        self.signs_sum += float(real_signs.sum())
        self.count += real_signs.numel()

    def maybe_update(self, pipe: AugmentPipe, batch_idx: int) -> bool:
        """Every `interval` steps (batch_idx counted after the step): p += sign(r_t - target)·speed, p in [0, 1].
        Collective under multi-process training: every rank must call it every step."""
        if batch_idx % self.interval:
            return False
        totals = all_reduce_sum(torch.tensor([self.signs_sum, self.count], dtype=torch.float64))
        self.signs_sum, self.count = 0.0, 0.0
        if totals[1] <= 0:
            return False
        self.last_rt = float(totals[0] / totals[1])
        adjust = math.copysign(1.0, self.last_rt - self.target) if self.last_rt != self.target else 0.0
        adjust *= self.batch * self.interval / (self.kimg * 1000)
        pipe.p.copy_(torch.clamp(pipe.p + adjust, 0.0, 1.0))
        return True

    def state_dict(self) -> dict[str, float]:
        """The accumulators (saved with the training state so that resuming is exact)."""
        return {"signs_sum": self.signs_sum, "count": self.count, "last_rt": self.last_rt}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Inverse of `state_dict`."""
        self.signs_sum = float(state["signs_sum"])
        self.count = float(state["count"])
        self.last_rt = float(state.get("last_rt", float("nan")))
