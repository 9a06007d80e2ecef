"""Mixed precision as StyleGAN2-ADA trains on GPUs: the blocks of the `num_fp16_res` highest resolutions of G's
synthesis network and of D compute in float16, everything else in float32.

What keeps float16 safe:
- weights stay float32 parameters and are cast to the activations' dtype at every forward pass (the optimiser and
  G_ema never see float16);
- `conv_clamp` (NVIDIA's 256) clamps every convolution's output, far below float16's largest value (65504);
- the modulated convolutions pre-normalise their weights and styles (`stylegan.nn.modulated`), so that the
  activations before demodulation cannot overflow;
- G's ToRGB outputs are summed into a float32 image and D's epilogue runs in float32.

Float16 runs on CUDA devices only: CPUs have no fast float16 convolutions, so on a CPU every block computes in
float32 and the numbers are exactly those of a network without float16 blocks. Under an active autocast (bfloat16
training) the blocks leave the choice of dtype to autocast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor

#: Tests only: run the float16 blocks on a CPU too (see `fp16_on_cpu`).
_FP16_ON_CPU = False


def first_fp16_resolution(img_resolution: int, num_fp16_res: int) -> int:
    """The lowest resolution whose block runs in float16: the `num_fp16_res` highest resolutions do, never the 4x4
    one (NVIDIA's rule: max(2 ** (log2(img_resolution) + 1 - num_fp16_res), 8)); above `img_resolution` when none.

    >>> first_fp16_resolution(256, 4), first_fp16_resolution(256, 0), first_fp16_resolution(16, 9)
    (32, 512, 8)
    """
    return max(1 << max(img_resolution.bit_length() - num_fp16_res, 0), 8)


def runs_fp16(use_fp16: bool, device: torch.device, *, force_fp32: bool = False) -> bool:
    """Whether a block computes in float16 now: it is one of the float16 blocks (`use_fp16`), the network runs on a
    CUDA `device`, no autocast is active there and `force_fp32` is not set."""
    return use_fp16 and not force_fp32 and _fp16_device(device) and not torch.is_autocast_enabled(device.type)


def _fp16_device(device: torch.device) -> bool:
    return device.type == "cuda" or (_FP16_ON_CPU and device.type == "cpu")


def block_input(x: Tensor, fp16: bool, base: torch.dtype = torch.float32) -> Tensor:
    """`x` as a block takes it: float16 and channels-last (the layout of the fastest tensor-core convolutions) in a
    block that `runs_fp16`; back in the network's `base` dtype after such a block; otherwise unchanged (float32, or
    autocast's dtype)."""
    if fp16:
        return x.to(dtype=torch.float16, memory_format=torch.channels_last)
    if x.dtype == torch.float16 and base != torch.float16:
        return x.to(base)
    return x


@contextlib.contextmanager
def fp16_on_cpu() -> Iterator[None]:
    """Within this block, the float16 blocks run in float16 on a CPU as well (slow: for tests of their numerics)."""
    global _FP16_ON_CPU
    before, _FP16_ON_CPU = _FP16_ON_CPU, True
    try:
        yield
    finally:
        _FP16_ON_CPU = before


def fp16_active(num_fp16_res: int, device: torch.device) -> bool:
    """Whether a network with `num_fp16_res` float16 resolutions runs any block in float16 on `device` (outside
    autocast)."""
    return num_fp16_res > 0 and _fp16_device(device)


__all__ = ["block_input", "first_fp16_resolution", "fp16_active", "fp16_on_cpu", "runs_fp16"]
