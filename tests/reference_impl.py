"""A deliberately literal StyleGAN2 forward pass, written from the paper's equations, for checking the fast one.

Everything here reads tensors straight from a state dict and uses the slowest, most obvious formulation:
zero-insertion up-sampling with an explicit FIR filter loop, per-sample convolutions with modulated and
demodulated weights (Eq. 1-3), and no layout tricks. It shares no code with `stylegan.nn` / `stylegan.networks`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

LRELU_GAIN = math.sqrt(2)


def fir_filter(taps=(1, 3, 3, 1)) -> Tensor:
    f = torch.tensor(taps, dtype=torch.float64)
    f = torch.outer(f, f)
    return f / f.sum()


def upfirdn_naive(x: Tensor, f: Tensor, up: int, down: int, pad: tuple[int, int, int, int], gain: float) -> Tensor:
    """Direct loops over filter taps: zero-insert, pad (x0, x1, y0, y1), convolve with f (flipped), decimate."""
    n, c, h, w = x.shape
    u = torch.zeros(n, c, h * up, w * up, dtype=x.dtype)
    u[:, :, ::up, ::up] = x
    px0, px1, py0, py1 = pad
    u = F.pad(u, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    u = u[:, :, max(-py0, 0) : u.shape[2] - max(-py1, 0), max(-px0, 0) : u.shape[3] - max(-px1, 0)]
    k = f.shape[0]
    fk = (f * gain).flip([0, 1]).to(x.dtype)
    oh, ow = u.shape[2] - k + 1, u.shape[3] - k + 1
    out = torch.zeros(n, c, oh, ow, dtype=x.dtype)
    for a in range(k):
        for b in range(k):
            out += fk[a, b] * u[:, :, a : a + oh, b : b + ow]
    return out[:, :, ::down, ::down]


def dense(sd: dict[str, Tensor], prefix: str, x: Tensor, lr_mul: float = 1.0, act: bool = False) -> Tensor:
    w = sd[prefix + ".weight"].double()
    b = sd[prefix + ".bias"].double()
    y = x @ (w * (lr_mul / math.sqrt(w.shape[1]))).t() + b * lr_mul
    return F.leaky_relu(y, 0.2) * LRELU_GAIN if act else y


def mapping(
    sd: dict[str, Tensor],
    z: Tensor,
    c: Tensor | None,
    num_layers: int,
    num_ws: int,
    psi: float = 1.0,
    cutoff: int | None = None,
) -> Tensor:
    def norm(v: Tensor) -> Tensor:
        return v / (v.square().mean(dim=1, keepdim=True) + 1e-8).sqrt()

    x = norm(z.double())
    if c is not None:
        x = torch.cat([x, norm(dense(sd, "mapping.embed", c.double()))], dim=1)
    for i in range(num_layers):
        x = dense(sd, f"mapping.fc{i}", x, lr_mul=0.01, act=True)
    ws = x[:, None].repeat(1, num_ws, 1)
    if psi != 1:
        avg = sd["mapping.w_avg"].double()
        k = num_ws if cutoff is None else cutoff
        ws[:, :k] = avg + psi * (ws[:, :k] - avg)
    return ws


def modconv(x: Tensor, weight: Tensor, style: Tensor, demod: bool, up: bool) -> Tensor:
    """One sample: Eq. 1 (modulate), Eq. 3 (demodulate), then convolve (up-sampling: zero-insert, 3x3, FIR)."""
    w = weight.double() * style[None, :, None, None]
    if demod:
        w = w / (w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8).sqrt()
    k = w.shape[-1]
    if not up:
        return F.conv2d(x, w, padding=k // 2)
    # Transposed convolution = zero insertion followed by a true convolution; then the [1,3,3,1] FIR, gain 4.
    n, i, h, wd = x.shape
    u = torch.zeros(n, i, 2 * h + 1, 2 * wd + 1, dtype=x.dtype)
    u[:, :, ::2, ::2][:, :, :h, :wd] = x
    y = F.conv2d(F.pad(u, [k - 1, k - 1 - 1, k - 1, k - 1 - 1]), w.flip([2, 3]))  # convolution, not correlation
    return upfirdn_naive(y, fir_filter(), 1, 1, (1, 1, 1, 1), 4.0)[:, :, : 2 * h, : 2 * wd]


def synthesis_layer(sd, p, x, w, up, noise_mode, gain=1.0, clamp=None):
    styles = dense(sd, p + ".affine", w)
    out = torch.cat([modconv(x[j : j + 1], sd[p + ".weight"], styles[j], True, up) for j in range(len(x))])
    if noise_mode == "const":
        out = out + sd[p + ".noise_const"].double() * sd[p + ".noise_strength"].double()
    out = F.leaky_relu(out + sd[p + ".bias"].double()[None, :, None, None], 0.2) * LRELU_GAIN * gain
    return out.clamp(-clamp * gain, clamp * gain) if clamp is not None else out


def torgb(sd, p, x, w, clamp=None):
    styles = dense(sd, p + ".affine", w) / math.sqrt(sd[p + ".weight"].shape[1])
    out = torch.cat([modconv(x[j : j + 1], sd[p + ".weight"], styles[j], False, False) for j in range(len(x))])
    out = out + sd[p + ".bias"].double()[None, :, None, None]
    return out.clamp(-clamp, clamp) if clamp is not None else out


def synthesis(
    sd: dict[str, Tensor],
    ws: Tensor,
    resolution: int,
    architecture: str,
    noise_mode: str = "const",
    clamp: float | None = None,
) -> Tensor:
    ws = ws.double()
    x = img = None
    wi = 0
    for r in [2**k for k in range(2, int(np.log2(resolution)) + 1)]:
        b = f"synthesis.b{r}"
        last = r == resolution
        if r == 4:
            x = sd[b + ".const"].double()[None].repeat(len(ws), 1, 1, 1)
            x = synthesis_layer(sd, b + ".conv1", x, ws[:, wi], False, noise_mode, clamp=clamp)
            wi += 1
        elif architecture == "resnet":
            skip_w = sd[b + ".skip.weight"].double() / math.sqrt(sd[b + ".skip.weight"].shape[1])
            y = upfirdn_naive(F.conv2d(x, skip_w), fir_filter(), 2, 1, (2, 1, 2, 1), 4.0) * math.sqrt(0.5)
            x = synthesis_layer(sd, b + ".conv0", x, ws[:, wi], True, noise_mode, clamp=clamp)
            x = synthesis_layer(sd, b + ".conv1", x, ws[:, wi + 1], False, noise_mode, math.sqrt(0.5), clamp)
            x = y + x
            wi += 2
        else:
            x = synthesis_layer(sd, b + ".conv0", x, ws[:, wi], True, noise_mode, clamp=clamp)
            x = synthesis_layer(sd, b + ".conv1", x, ws[:, wi + 1], False, noise_mode, clamp=clamp)
            wi += 2
        if img is not None:
            img = upfirdn_naive(img, fir_filter(), 2, 1, (2, 1, 2, 1), 4.0)
        if last or architecture == "skip":
            y = torgb(sd, b + ".torgb", x, ws[:, wi], clamp=clamp)
            img = img + y if img is not None else y
    return img
