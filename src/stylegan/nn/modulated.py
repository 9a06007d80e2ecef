"""Modulated convolution with weight demodulation (StyleGAN2 §2.2, Eq. 1-3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from .resample import conv2d_resample


def modulated_conv2d(
    x: Tensor,
    weight: Tensor,
    styles: Tensor,
    *,
    demodulate: bool = True,
    up: int = 1,
    padding: int = 0,
    resample_filter: Tensor | None = None,
    flip_weight: bool = True,
    impl: Literal["shared", "grouped"] = "shared",
) -> Tensor:
    """Convolve every sample with its own style-modulated weights.

    x: [N, I, H, W]; weight: [O, I, k, k]; styles: [N, I] (s = A(w)). Returns [N, O, H*up, W*up].

    Eq. 1  w'_ijk  = s_i * w_ijk                      (modulation)
    Eq. 3  w''_ijk = w'_ijk / sqrt(sum_ik w'_ijk^2 + eps)   (demodulation)

    `impl="shared"` (default) applies the same maths as scaling the activations before and after one
    convolution with the *shared* weight: conv(x * s, w) * d, d = 1/sigma_j. That is one dense convolution for
    the whole batch, much faster on CPUs than `impl="grouped"`, the paper's literal formulation (a grouped
    convolution with per-sample weights), which is kept as the reference that tests compare with.
    """
    n, i = styles.shape
    if impl == "grouped":
        w = weight[None] * styles[:, None, :, None, None]  # Eq. 1  [N, O, I, k, k]
        if demodulate:
            w = w * (w.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).rsqrt()  # Eq. 3
        o, k = weight.shape[0], weight.shape[-1]
        out = conv2d_resample(
            x.reshape(1, n * i, *x.shape[2:]),
            w.reshape(n * o, i, k, k),
            resample_filter,
            up=up,
            padding=padding,
            flip_weight=flip_weight,
            groups=n,
        )
        return out.reshape(n, o, *out.shape[2:])

    if demodulate and x.dtype == torch.float16:
        weight, styles = prenormalize(weight, styles)
    x = modulate_and_convolve(
        x, weight, styles, up=up, padding=padding, resample_filter=resample_filter, flip_weight=flip_weight
    )
    if demodulate:
        x = x * demodulation_coefficients(weight, styles).to(x.dtype)[:, :, None, None]
    return x


def modulate_and_convolve(
    x: Tensor,
    weight: Tensor,
    styles: Tensor | None,
    *,
    up: int = 1,
    padding: int = 0,
    resample_filter: Tensor | None = None,
    flip_weight: bool = True,
) -> Tensor:
    """conv(x * s, w): the modulated convolution before demodulation, as one convolution with the shared weight.

    Keeps x's memory format; with channels-last input the weight is made channels-last too, which is what
    oneDNN's fastest CPU kernels want.
    """
    if styles is not None:  # None: the styles are already in the weight
        x = x * styles.to(x.dtype)[:, :, None, None]
    w = weight.to(x.dtype)
    if x.is_contiguous(memory_format=torch.channels_last) and x.shape[1] > 1:
        w = w.contiguous(memory_format=torch.channels_last)
    return conv2d_resample(x, w, resample_filter, up=up, padding=padding, flip_weight=flip_weight)


def prenormalize(weight: Tensor, styles: Tensor) -> tuple[Tensor, Tensor]:
    """(weight, styles) rescaled for a float16 modulated convolution *with* demodulation, the same result in exact
    arithmetic: Eq. 3 divides each output channel by its own norm, so scaling the weights of an output channel, or the
    styles of a sample, changes nothing. With max|s| = 1 and max|w_j| = 1 / sqrt(fan_in), x * s is no larger than x
    and conv(x * s, w) at most sqrt(fan_in) max|x|: with activations clamped to 256 (conv_clamp), well inside
    float16's range (65504), whatever the magnitude of the raw styles and weights. Both stay float32.
    """
    fan_in = weight[0].numel()
    w_max = weight.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-30)  # [O, 1, 1, 1]; all-zero stays zero
    weight = weight / (w_max * fan_in**0.5)
    styles = styles / styles.abs().amax(dim=1, keepdim=True).clamp_min(1e-30)  # [N, I]
    return weight, styles


def demodulation_coefficients(
    weight: Tensor, styles: Tensor, eps: float = 1e-8, squares: Tensor | None = None
) -> Tensor:
    """1 / sigma_j of Eq. 3 for every sample and output channel: [N, O].

    sum_ik (s_i w_jik)^2 = sum_i s_i^2 (sum_k w_jik^2), so it is one small matmul instead of N weight copies.
    `squares` is sum_k w_jik^2 [O, I] when already known (see `weight_squares`).
    """
    sq = weight.square().sum(dim=(2, 3)) if squares is None else squares
    return (styles.square() @ sq.t() + eps).rsqrt()


def _derived(module: torch.nn.Module, name: str, weight: Tensor, make: Callable[[Tensor], Tensor]) -> Tensor:
    """make(weight), kept on `module` while `weight` is unchanged (same storage, same version counter: an optimiser
    step or a load_state_dict makes it again). For inference only: the kept tensor carries no autograd history."""
    key = (weight.data_ptr(), weight._version, weight.dtype, weight.device, tuple(weight.shape))
    store: dict[str, tuple[tuple[object, ...], Tensor]] = module.__dict__.setdefault("_derived_weights", {})
    hit = store.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    with torch.no_grad():
        value = make(weight)
    store[name] = (key, value)
    return value


def weight_squares(module: torch.nn.Module, weight: Tensor) -> Tensor:
    """sum_k w_jik^2 [O, I] of a modulated convolution's weight, kept while the weight is unchanged (inference)."""
    return _derived(module, "squares", weight, lambda w: w.square().sum(dim=(2, 3)))


def channels_last_weight(module: torch.nn.Module, weight: Tensor) -> Tensor:
    """The weight in channels-last layout (what oneDNN's NHWC kernels read), kept while it is unchanged (inference)."""
    return _derived(module, "channels_last", weight, lambda w: w.contiguous(memory_format=torch.channels_last))


def transposed_weight(module: torch.nn.Module, weight: Tensor) -> Tensor:
    """The weight [O, I, k, k] as conv_transpose2d takes it, [I, O, k, k] channels-last, kept while it is unchanged
    (inference; see `stylegan.nn.resample.transposed_conv_upsample`)."""
    return _derived(
        module, "transposed", weight, lambda w: w.transpose(0, 1).contiguous(memory_format=torch.channels_last)
    )


def broadcast_sum(a: Tensor, b: Tensor, like: Tensor) -> Tensor:
    """a + b (broadcast), laid out like `like` (channels-last when it is): adding it to `like` is then a contiguous
    pass instead of a strided one. Under torch.compile it is plain a + b (the compiler fuses and lays out itself)."""
    if (
        torch.compiler.is_compiling()
        or not like.is_contiguous(memory_format=torch.channels_last)
        or torch.is_grad_enabled()
        and (a.requires_grad or b.requires_grad)
    ):
        return a + b
    shape = torch.broadcast_shapes(a.shape, b.shape)
    out = torch.empty(shape, dtype=torch.result_type(a, b), device=like.device, memory_format=torch.channels_last)
    return torch.add(a, b, out=out)


__all__ = ["modulated_conv2d", "prenormalize"]
