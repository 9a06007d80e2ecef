"""FIR resampling (StyleGAN2 §4, "up/downsampling with a [1,3,3,1] low-pass filter").

`upfirdn2d` is the general operation (upsample by zero insertion, pad, FIR filter, downsample) written with
plain PyTorch ops. `conv2d_resample` composes it with a convolution the way the official networks do, so that
weights trained with NVIDIA's code give the same numbers here. Everything runs on CPU, CUDA and MPS; nothing is
compiled.

Conventions (the same as StyleGAN2-ADA's torch_utils/ops, so weights are interchangeable):
- filters are applied as true convolutions (flipped), which does not matter for the symmetric [1,3,3,1];
- `flip_weight=True` means cross-correlation (what `torch.nn.functional.conv2d` computes), `False` means
  convolution; the synthesis network's up-sampling layers use convolution.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

Padding = int | Sequence[int]


def setup_filter(f: Sequence[float] | Tensor | None = (1, 3, 3, 1), *, normalize: bool = True) -> Tensor:
    """Build a 2D FIR filter `outer(f, f)` (normalised to unit DC gain) as a float32 [k, k] tensor."""
    f = torch.as_tensor([1.0] if f is None else f, dtype=torch.float32)
    if f.ndim == 0:
        f = f[None]
    if f.ndim == 1:
        f = torch.outer(f, f)
    if normalize:
        f = f / f.sum()
    return f


def _parse_padding(padding: Padding) -> tuple[int, int, int, int]:
    """Padding as (x0, x1, y0, y1) from an int, (x, y) or (x0, x1, y0, y1)."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    padding = [int(p) for p in padding]
    if len(padding) == 2:
        px, py = padding
        return px, px, py, py
    if len(padding) == 4:
        return padding[0], padding[1], padding[2], padding[3]
    raise ValueError(f"padding must have 1, 2 or 4 entries, got {padding}")


def _depthwise_fir(x: Tensor, f: Tensor, padding: int = 0, stride: int = 1) -> Tensor:
    """True convolution of every channel of x with the 2D filter f (zero padding, then valid), keeping every
    `stride`-th output (computed only there)."""
    c = x.shape[1]
    if x.requires_grad and x.device.type == "cpu" and _bfloat16_conv(x):
        # oneDNN's bfloat16 depthwise convolution has a slow backward on CPUs (40x its forward at stride 2, 15x the
        # float32 one): with gradients the filter runs in float32, and its output goes back to bfloat16
        with torch.autocast("cpu", enabled=False):
            return _depthwise_fir(x.float(), f, padding, stride).to(torch.bfloat16)
    kernel = f.flip([0, 1]).to(x.dtype)[None, None].expand(c, 1, *f.shape)
    if x.is_contiguous(memory_format=torch.channels_last):  # keep NHWC: oneDNN's depthwise kernels are 3x faster
        kernel = kernel.contiguous(memory_format=torch.channels_last)
    return F.conv2d(x, kernel, padding=padding, stride=stride, groups=c)


def _bfloat16_conv(x: Tensor) -> bool:
    """Whether a CPU convolution of x runs in bfloat16: x is bfloat16, or bfloat16 autocast is on."""
    return x.dtype == torch.bfloat16 or (
        torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
    )


def conv1x1(x: Tensor, w: Tensor, b: Tensor | None = None) -> Tensor:
    """`F.conv2d(x, w, b)` for a 1x1 kernel w [O, I, 1, 1]. On a CPU with channels-last x (NHWC in memory) it is one
    matrix product over the pixels, [N*H*W, I] @ [I, O], whose result is channels-last again: 1.2-1.35x faster than
    PyTorch's channels-last 1x1 convolution forward and backward (which, for small batches on one thread, takes a
    slow unfold-based kernel). Otherwise it is the convolution itself."""
    n, i, h, wd = x.shape
    if x.device.type != "cpu" or i == 1 or not x.is_contiguous(memory_format=torch.channels_last):
        return F.conv2d(x, w, b)
    x2 = x.permute(0, 2, 3, 1).reshape(n * h * wd, i)  # a view
    w2 = w.reshape(w.shape[0], i).t()  # [I, O]
    y = x2 @ w2 if b is None else torch.addmm(b, x2, w2)
    return y.reshape(n, h, wd, -1).permute(0, 3, 1, 2)  # [N, O, H, W], channels-last


def upfirdn2d(
    x: Tensor,
    f: Tensor | None,
    *,
    up: int = 1,
    down: int = 1,
    padding: Padding = 0,
    gain: float = 1.0,
) -> Tensor:
    """Upsample (zero insertion), pad, FIR-filter and downsample a batch of images.

    x: [N, C, H, W]; f: [k, k] float32 filter (None = identity). Negative padding crops. `gain` scales the
    signal (use `up**2` to keep brightness after zero insertion). Output size per axis:
    `(in * up + pad0 + pad1 - k) // down + 1`.
    """
    if f is None:
        f = torch.ones(1, 1, dtype=torch.float32, device=x.device)
    n, c, h, w = x.shape
    px0, px1, py0, py1 = _parse_padding(padding)
    if up > 1:  # zero insertion: [.., H, 1, W, 1] -> pad -> [.., H*up, W*up]
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    # down-sampling keeps every `down`-th output of the filter: the strided convolution computes only those
    if px0 == px1 == py0 == py1 and px0 >= 0:  # let the convolution pad: no extra copy of x
        return _depthwise_fir(x, f.to(x.device) * gain, padding=px0, stride=down)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0) : x.shape[2] - max(-py1, 0), max(-px0, 0) : x.shape[3] - max(-px1, 0)]
    return _depthwise_fir(x, f.to(x.device) * gain, stride=down)


@functools.lru_cache(maxsize=32)
def _polyphase_kernel_cached(taps: tuple[tuple[float, ...], ...], up: int) -> tuple[Tensor, int, int]:
    return _polyphase_kernel(torch.tensor(taps, dtype=torch.float32), up)


def _polyphase_kernel_of_taps(taps: tuple[float, ...], up: int) -> tuple[Tensor, int, int]:
    """`_polyphase_kernel` of the 2D filter made from the 1D `taps` (e.g. (1, 3, 3, 1)), a constant for torch.compile
    (see below)."""
    return _polyphase_kernel_cached(tuple(map(tuple, setup_filter(taps).tolist())), up)


# torch.compile takes the kernels as constants instead of tracing how they are made. This is the mark that
# `torch.compiler.assume_constant_result` sets, set directly: calling it would import the compiler (1.6 s) in every
# process. tests/test_compile.py checks that the networks still compile without a graph break.
_polyphase_kernel_of_taps._dynamo_marked_constant = True  # type: ignore[attr-defined]


def _polyphase_kernel(f: Tensor, up: int) -> tuple[Tensor, int, int]:
    """Split "zero-insert by `up`, then FIR f (gain up**2)" into up*up small correlation kernels.

    Returns (kernel [up*up, 1, m, m], pad_before, pad_after): output phase (a, b) at (i, j) is the correlation of
    the padded input with kernel[a * up + b] at (i, j). Found by running `upfirdn2d` on a unit impulse, which
    keeps this exactly consistent with the general operation.
    """
    k = f.shape[-1]
    p0, p1 = (k + up - 1) // 2, (k - up) // 2
    size = 2 * k + 1
    impulse = torch.zeros(1, 1, size, size, dtype=torch.float64)
    impulse[0, 0, k, k] = 1
    y = upfirdn2d(impulse, f.to(torch.float64), up=up, padding=[p0, p1, p0, p1], gain=up * up)[0, 0]
    # y[up*i + a] = kc_a[k - i], where kc_a is the correlation kernel indexed by input offset d = i_in - i_out.
    phases = y.reshape(size, up, size, up).permute(1, 3, 0, 2).flip([2, 3])  # [a, b, d + k, e + k]
    nonzero = phases.abs().sum(dim=(0, 1, 3)).nonzero()
    lo, hi = int(nonzero.min()), int(nonzero.max())
    kernel = phases[:, :, lo : hi + 1, lo : hi + 1].reshape(up * up, 1, hi - lo + 1, hi - lo + 1)
    return kernel.to(torch.float32), k - lo, hi - k


def upsample2d(x: Tensor, f: Tensor | Sequence[float], *, up: int = 2) -> Tensor:
    """Upsample by `up` with FIR filter f (output exactly `up` times larger), keeping the signal's brightness.

    Equal to `upfirdn2d(x, f, up=up, padding=..., gain=up**2)` but computed in polyphase form: each output phase
    is a small filter over the original pixels, so no inserted zero is ever multiplied. `f` is a 2D filter tensor
    or the 1D taps (e.g. (1, 3, 3, 1)); passing the taps avoids reading a GPU tensor back on every call.
    """
    n, c, h, w = x.shape
    if isinstance(f, Tensor):
        kernel, pad0, pad1 = _polyphase_kernel_cached(tuple(map(tuple, f.detach().cpu().tolist())), up)
    else:
        kernel, pad0, pad1 = _polyphase_kernel_of_taps(tuple(f), up)
    kernel = kernel.to(device=x.device, dtype=x.dtype).repeat(c, 1, 1, 1)  # [C*up*up, 1, m, m]
    y = F.conv2d(F.pad(x, [pad0, pad1, pad0, pad1]), kernel, groups=c)  # [N, C*up*up, H, W]
    return F.pixel_shuffle(y, up)


def downsample2d(x: Tensor, f: Tensor, *, down: int = 2) -> Tensor:
    """Low-pass filter with f and keep every `down`-th pixel (output exactly `down` times smaller)."""
    k = f.shape[-1]
    p0, p1 = (k - down + 1) // 2, (k - down) // 2
    return upfirdn2d(x, f, down=down, padding=[p0, p1, p0, p1])


def transposed_conv_upsample(
    x: Tensor, wt: Tensor, f: Tensor | None, *, up: int = 2, padding: int = 0, groups: int = 1
) -> Tensor:
    """`conv2d_resample(x, w, f, up=up, padding=padding, flip_weight=False)` for a weight already in
    conv_transpose2d's layout, wt = w transposed to [I, O / groups, k, k] (a caller that keeps it avoids the copy):
    a transposed stride-`up` convolution, then the FIR filter with gain up**2."""
    k = wt.shape[-1]
    fk = f.shape[-1] if f is not None else 1
    px0 = padding + (fk + up - 1) // 2 - (k - 1)
    px1 = padding + (fk - up) // 2 - (k - up)
    pt = max(min(-px0, -px1), 0)
    x = F.conv_transpose2d(x, wt, stride=up, padding=pt, groups=groups)
    return upfirdn2d(x, f, padding=[px0 + pt, px1 + pt, px0 + pt, px1 + pt], gain=up**2)


def conv2d_resample(
    x: Tensor,
    w: Tensor,
    f: Tensor | None = None,
    *,
    up: int = 1,
    down: int = 1,
    padding: int = 0,
    flip_weight: bool = True,
    groups: int = 1,
) -> Tensor:
    """Convolution with optional FIR up/down-sampling, padding given with respect to the up-sampled image.

    x: [N, I, H, W]; w: [O, I // groups, k, k]. Up-sampling is a transposed stride-`up` convolution followed by the FIR
    filter (gain up**2); down-sampling filters first and then runs a strided convolution; a 1x1 kernel
    resamples on the cheaper side. The order of operations is that of StyleGAN2-ADA's conv2d_resample.py, so results
    agree with it to float rounding.
    """
    o, i, kh, kw = w.shape
    fk = f.shape[-1] if f is not None else 1
    px0 = px1 = py0 = py1 = padding
    if up > 1:
        px0 += (fk + up - 1) // 2
        px1 += (fk - up) // 2
    if down > 1:
        px0 += (fk - down + 1) // 2
        px1 += (fk - down) // 2
    py0, py1 = px0, px1
    if up > 1 and down == 1 and (kw > 1 or kh > 1):  # transposed strided conv, then filter
        # conv_transpose2d scatters with the weight as given, i.e. it convolves: flip only for correlation.
        if flip_weight:
            w = w.flip([2, 3])
        wt = w.reshape(groups, o // groups, i, kh, kw).transpose(1, 2).reshape(groups * i, o // groups, kh, kw)
        if x.is_contiguous(memory_format=torch.channels_last):
            wt = wt.contiguous(memory_format=torch.channels_last)
        return transposed_conv_upsample(x, wt, f, up=up, padding=padding, groups=groups)
    if not flip_weight:
        w = w.flip([2, 3])

    if kw == 1 and kh == 1 and down > 1 and up == 1:  # filter + decimate, then 1x1
        x = upfirdn2d(x, f, down=down, padding=[px0, px1, py0, py1])
        return conv1x1(x, w) if groups == 1 else F.conv2d(x, w, groups=groups)
    if kw == 1 and kh == 1 and up > 1 and down == 1:  # 1x1 first, then upsample
        x = conv1x1(x, w) if groups == 1 else F.conv2d(x, w, groups=groups)
        return upfirdn2d(x, f, up=up, padding=[px0, px1, py0, py1], gain=up**2)
    if down > 1 and up == 1:  # filter, then strided conv
        x = upfirdn2d(x, f, padding=[px0, px1, py0, py1])
        return F.conv2d(x, w, stride=down, groups=groups)
    if up == 1 and down == 1 and px0 == px1 and px0 >= 0:
        return F.conv2d(x, w, padding=px0, groups=groups)
    x = upfirdn2d(x, f if up > 1 else None, up=up, padding=[px0, px1, py0, py1], gain=up**2)
    x = F.conv2d(x, w, groups=groups)
    if down > 1:
        x = upfirdn2d(x, f, down=down)
    return x
