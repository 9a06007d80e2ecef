"""A deliberately literal StyleGAN (version 1) forward pass, computed straight from TF-layout variables.

The oracle for the v1 networks and loader: it reads NVIDIA's variable names and layouts (HWIO convolutions, [in, out]
dense weights, unscaled equalised-learning-rate weights) and follows the TF build functions G_mapping, G_synthesis,
G_style and D_basic step by step, in float64. It shares no code with `stylegan.networks` or `stylegan.io`.

The resampling layers are written the way TF computes them, so that they check an implementation that does it
differently: the fused up-sampling convolution builds the explicit 4x4 kernel (transpose, zero-pad to 5x5, sum of
the four one-pixel shifts) and runs a transposed convolution; the fused down-sampling convolution does the same with
a factor 1/4 and a stride-2 convolution; the non-fused ones are nearest up-sampling then a 3x3 convolution, or a 3x3
convolution then a 2x2 box average. Progressive growing ('linear' structure) computes every resolution and blends.

Variables may be given as a dict or a list of (name, value) pairs. The generator functions also accept the
{'G': ..., 'mapping': ..., 'synthesis': ...} dict of a whole G_style and pick their part. Kwargs are the static
kwargs (unknown keys are ignored, missing ones take NVIDIA's defaults).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

SQRT2 = math.sqrt(2)

MAPPING_DEFAULTS: dict[str, Any] = dict(
    latent_size=512,
    label_size=0,
    dlatent_size=512,
    dlatent_broadcast=None,
    mapping_layers=8,
    mapping_fmaps=512,
    mapping_lrmul=0.01,
    mapping_nonlinearity="lrelu",
    use_wscale=True,
    normalize_latents=True,
)
SYNTHESIS_DEFAULTS: dict[str, Any] = dict(
    dlatent_size=512,
    num_channels=3,
    resolution=1024,
    fmap_base=8192,
    fmap_decay=1.0,
    fmap_max=512,
    use_styles=True,
    const_input_layer=True,
    use_noise=True,
    nonlinearity="lrelu",
    use_wscale=True,
    use_pixel_norm=False,
    use_instance_norm=True,
    fused_scale="auto",
    blur_filter=[1, 2, 1],
    structure="auto",
)
D_DEFAULTS: dict[str, Any] = dict(
    num_channels=1,
    resolution=32,
    label_size=0,
    fmap_base=8192,
    fmap_decay=1.0,
    fmap_max=512,
    nonlinearity="lrelu",
    use_wscale=True,
    mbstd_group_size=4,
    mbstd_num_features=1,
    fused_scale="auto",
    blur_filter=[1, 2, 1],
    structure="auto",
)


# ---------------------------------------------------------------------------------------------------------------
# Inputs


def _t(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x.detach().to(torch.float64)
    return torch.from_numpy(np.array(x, dtype=np.float64))


def _vars(variables: Any, part: str | None = None) -> dict[str, Tensor]:
    if isinstance(variables, Mapping) and part is not None and part in variables:
        variables = variables[part]
    items = variables.items() if isinstance(variables, Mapping) else variables
    return {name: _t(value) for name, value in items}


def _kw(kwargs: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    return {k: kwargs.get(k, v) for k, v in defaults.items()}


def _nf(kw: Mapping[str, Any], stage: int) -> int:
    return min(int(kw["fmap_base"] / (2.0 ** (stage * kw["fmap_decay"]))), kw["fmap_max"])


def _act(name: str):
    return {"lrelu": lrelu, "relu": torch.relu}[name]


# ---------------------------------------------------------------------------------------------------------------
# Primitive operations (NCHW, float64)


def lrelu(x: Tensor) -> Tensor:
    return torch.maximum(x, 0.2 * x)


def runtime_coef(shape: Sequence[int], gain: float, use_wscale: bool = True, lrmul: float = 1.0) -> float:
    """Equalised learning rate: the stored weight is multiplied by this at run time.
    fan_in is the product of all dims but the last ([k, k, in, out] or [in, out])."""
    fan_in = math.prod(shape[:-1])
    return gain / math.sqrt(fan_in) * lrmul if use_wscale else lrmul


def dense(x: Tensor, w: Tensor, gain: float, use_wscale: bool = True, lrmul: float = 1.0) -> Tensor:
    """x [N, ...] flattened in NCHW order, times w [in, out] (no bias)."""
    x = x.reshape(x.shape[0], -1)
    return x @ (w * runtime_coef(w.shape, gain, use_wscale, lrmul))


def conv(x: Tensor, w: Tensor, gain: float, use_wscale: bool = True) -> Tensor:
    """SAME cross-correlation with an HWIO kernel [k, k, in, out] (odd k), no bias."""
    k = w.shape[0]
    w_oihw = (w * runtime_coef(w.shape, gain, use_wscale)).permute(3, 2, 0, 1)
    return F.conv2d(x, w_oihw, padding=k // 2)


def add_bias(x: Tensor, b: Tensor, lrmul: float = 1.0) -> Tensor:
    b = b * lrmul
    return x + (b if x.ndim == 2 else b.reshape(1, -1, 1, 1))


def pixel_norm(x: Tensor, eps: float = 1e-8) -> Tensor:
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


def instance_norm(x: Tensor, eps: float = 1e-8) -> Tensor:
    x = x - x.mean(dim=(2, 3), keepdim=True)
    return x * torch.rsqrt(x.square().mean(dim=(2, 3), keepdim=True) + eps)


def upscale2d(x: Tensor, factor: int = 2) -> Tensor:
    """Nearest neighbour: every pixel becomes a factor x factor tile."""
    return x.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)


def downscale2d(x: Tensor, factor: int = 2) -> Tensor:
    """Box filter: the mean of each factor x factor tile."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // factor, factor, w // factor, factor).mean(dim=(3, 5))


def blur2d(x: Tensor, taps: Sequence[float]) -> Tensor:
    """Depthwise SAME cross-correlation with outer(taps, taps) normalised to sum 1 (TF's pad split for even sizes)."""
    f = torch.tensor(list(taps), dtype=torch.float64)
    f = torch.outer(f, f) if f.ndim == 1 else f
    f = f / f.sum()
    k = f.shape[0]
    top = (k - 1) // 2
    xp = F.pad(x, [top, k - 1 - top, top, k - 1 - top])
    out = torch.zeros_like(x)
    h, w = x.shape[2], x.shape[3]
    for a in range(k):
        for b in range(k):
            out += f[a, b] * xp[:, :, a : a + h, b : b + w]
    return out


def _sum_of_shifts(w: Tensor) -> Tensor:
    """[3, 3, ...] -> [4, 4, ...]: zero-pad to 5x5 and add the four one-pixel shifts."""
    w = F.pad(w.permute(2, 3, 0, 1), [1, 1, 1, 1]).permute(2, 3, 0, 1)  # pad the two spatial dims
    return w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]


def fused_upscale_conv(x: Tensor, w: Tensor, gain: float, use_wscale: bool = True) -> Tensor:
    """TF's fused `upscale2d_conv2d`: kernel [3,3,in,out] -> [3,3,out,in] -> 4x4 sum of shifts (no 1/4), then
    conv2d_transpose with stride 2 and SAME padding = torch conv_transpose2d(stride=2, padding=1), no flip."""
    w = (w * runtime_coef(w.shape, gain, use_wscale)).permute(0, 1, 3, 2)  # [k, k, out, in]
    w4 = _sum_of_shifts(w)  # [4, 4, out, in]
    return F.conv_transpose2d(x, w4.permute(3, 2, 0, 1), stride=2, padding=1)  # weight [in, out, 4, 4]


def fused_conv_downscale(x: Tensor, w: Tensor, gain: float, use_wscale: bool = True) -> Tensor:
    """TF's fused `conv2d_downscale2d`: 4x4 sum of shifts times 1/4, stride-2 SAME conv (= padding 1)."""
    w = w * runtime_coef(w.shape, gain, use_wscale)  # [k, k, in, out]
    w4 = _sum_of_shifts(w) * 0.25
    return F.conv2d(x, w4.permute(3, 2, 0, 1), stride=2, padding=1)


def upscale_conv(x: Tensor, w: Tensor, gain: float, use_wscale: bool, fused_scale: Any) -> Tensor:
    """G's up-sampling conv; 'auto' fuses when the output is >= 128 pixels."""
    fused = x.shape[2] * 2 >= 128 if fused_scale == "auto" else bool(fused_scale)
    return fused_upscale_conv(x, w, gain, use_wscale) if fused else conv(upscale2d(x), w, gain, use_wscale)


def conv_downscale(x: Tensor, w: Tensor, gain: float, use_wscale: bool, fused_scale: Any) -> Tensor:
    """D's down-sampling conv; 'auto' fuses when the input is >= 128 pixels."""
    fused = x.shape[2] >= 128 if fused_scale == "auto" else bool(fused_scale)
    return fused_conv_downscale(x, w, gain, use_wscale) if fused else downscale2d(conv(x, w, gain, use_wscale))


def lerp_clip(a: Tensor, b: Tensor, t: float) -> Tensor:
    t = min(max(float(t), 0.0), 1.0)
    return a + (b - a) * t


def minibatch_stddev(x: Tensor, group_size: int = 4, num_new_features: int = 1) -> Tensor:
    """Group members are samples m, m+M, m+2M, ... (reshape [G, M, ...]); the new feature maps come last."""
    n, c, h, w = x.shape
    g = min(group_size, n)
    y = x.reshape(g, -1, num_new_features, c // num_new_features, h, w)  # [G, M, n, c, H, W]
    y = y - y.mean(dim=0, keepdim=True)
    y = (y.square().mean(dim=0) + 1e-8).sqrt()  # [M, n, c, H, W]
    y = y.mean(dim=(2, 3, 4))  # [M, n]
    y = y[:, :, None, None].repeat(g, 1, h, w)  # [N, n, H, W]: sample i gets group statistic i % M
    return torch.cat([x, y], dim=1)


# ---------------------------------------------------------------------------------------------------------------
# Generator


def num_layers(kwargs: Mapping[str, Any]) -> int:
    return 2 * int(math.log2(_kw(kwargs, SYNTHESIS_DEFAULTS)["resolution"])) - 2


def num_styles(kwargs: Mapping[str, Any]) -> int:
    kw = _kw(kwargs, SYNTHESIS_DEFAULTS)
    return num_layers(kw) if kw["use_styles"] else 1


def mapping(variables: Any, kwargs: Mapping[str, Any], z: Any, labels: Any = None) -> Tensor:
    """G_mapping: [N, latent] (+ labels [N, label_size]) -> dlatents [N, num_styles, dlatent_size].

    The broadcast count is `dlatent_broadcast` when the kwargs have it, else what G_style passes (num_layers, or
    1 without styles)."""
    v = _vars(variables, "mapping")
    kw = _kw(kwargs, MAPPING_DEFAULTS)
    act = _act(kw["mapping_nonlinearity"])
    x = _t(z)
    if kw["label_size"]:
        x = torch.cat([x, _t(labels) @ v["LabelConcat/weight"]], dim=1)  # plain matmul, no run-time scaling
    if kw["normalize_latents"]:
        x = pixel_norm(x)
    lrmul = kw["mapping_lrmul"]
    for i in range(kw["mapping_layers"]):
        x = dense(x, v[f"Dense{i}/weight"], SQRT2, kw["use_wscale"], lrmul)
        x = act(add_bias(x, v[f"Dense{i}/bias"], lrmul))
    broadcast = kw["dlatent_broadcast"] or num_styles(kwargs)
    return x[:, None, :].repeat(1, broadcast, 1)


def truncate(dlatents: Any, dlatent_avg: Any, psi: float | None, cutoff: int | None = None) -> Tensor:
    """G_style's truncation: rows < cutoff (all rows if None) become avg + psi * (w - avg); psi None = off."""
    w = _t(dlatents).clone()
    if psi is None:
        return w
    avg = _t(dlatent_avg)
    k = w.shape[1] if cutoff is None else cutoff
    w[:, :k] = avg + (w[:, :k] - avg) * psi
    return w


def synthesis(
    variables: Any,
    kwargs: Mapping[str, Any],
    dlatents: Any,
    lod: float | None = None,
    noise: str | Sequence[Any] = "stored",
) -> Tensor:
    """G_synthesis: dlatents [N, num_styles, dlatent] -> images [N, C, R, R] (always full resolution).

    lod: level of detail (None = the stored `lod`); 'linear' structure blends the ToRGB outputs, 'fixed' ignores it.
    noise: 'stored' (the `noise{i}` variables), 'none' (no noise added) or a list with one [N or 1, 1, r, r] array
    per layer."""
    v = _vars(variables, "synthesis")
    kw = _kw(kwargs, SYNTHESIS_DEFAULTS)
    act = _act(kw["nonlinearity"])
    rlog2 = int(math.log2(kw["resolution"]))
    wscale = kw["use_wscale"]
    ws = _t(dlatents)
    n = ws.shape[0]
    lod_in = float(v["lod"]) if lod is None else float(lod)
    if not kw["use_noise"] or (isinstance(noise, str) and noise == "none"):
        noises = None
    elif isinstance(noise, str):
        if noise != "stored":
            raise ValueError(f"noise must be 'stored', 'none' or a list, got {noise!r}")
        noises = [v[f"noise{i}"] for i in range(num_layers(kw))]
    else:
        noises = [_t(a) for a in noise]

    def epilogue(x: Tensor, scope: str, layer: int) -> Tensor:
        if kw["use_noise"] and noises is not None:
            x = x + noises[layer] * v[f"{scope}/Noise/weight"].reshape(1, -1, 1, 1)
        x = act(add_bias(x, v[f"{scope}/bias"]))
        if kw["use_pixel_norm"]:
            x = pixel_norm(x)
        if kw["use_instance_norm"]:
            x = instance_norm(x)
        if kw["use_styles"]:
            c = x.shape[1]
            style = dense(ws[:, layer], v[f"{scope}/StyleMod/weight"], 1.0, wscale)  # gain 1
            style = add_bias(style, v[f"{scope}/StyleMod/bias"])  # stored as is; the +1 comes next
            style = style.reshape(n, 2, c, 1, 1)
            x = x * (style[:, 0] + 1) + style[:, 1]
        return x

    def blur(x: Tensor) -> Tensor:
        return blur2d(x, kw["blur_filter"]) if kw["blur_filter"] else x

    def block(x: Tensor, res: int) -> Tensor:
        s = f"{2**res}x{2**res}"
        x = blur(upscale_conv(x, v[f"{s}/Conv0_up/weight"], SQRT2, wscale, kw["fused_scale"]))
        x = epilogue(x, f"{s}/Conv0_up", 2 * res - 4)
        x = epilogue(conv(x, v[f"{s}/Conv1/weight"], SQRT2, wscale), f"{s}/Conv1", 2 * res - 3)
        return x

    def torgb(x: Tensor, res: int) -> Tensor:
        s = f"ToRGB_lod{rlog2 - res}"
        return add_bias(conv(x, v[f"{s}/weight"], 1.0, wscale), v[f"{s}/bias"])

    c = _nf(kw, 1)
    if kw["const_input_layer"]:
        x = epilogue(v["4x4/Const/const"].repeat(n, 1, 1, 1), "4x4/Const", 0)
    else:
        x = dense(ws[:, 0], v["4x4/Dense/weight"], SQRT2 / 4, wscale).reshape(n, c, 4, 4)
        x = epilogue(x, "4x4/Dense", 0)
    x = epilogue(conv(x, v["4x4/Conv/weight"], SQRT2, wscale), "4x4/Conv", 1)

    if kw["structure"] == "fixed":
        for res in range(3, rlog2 + 1):
            x = block(x, res)
        return torgb(x, rlog2)
    images = torgb(x, 2)
    for res in range(3, rlog2 + 1):
        x = block(x, res)
        images = lerp_clip(torgb(x, res), upscale2d(images), lod_in - (rlog2 - res))
    return images


def generator(
    G_vars: Mapping[str, Any],
    kwargs: Mapping[str, Any],
    z: Any,
    labels: Any = None,
    psi: float | None = 0.7,
    cutoff: int | None = 8,
    lod: float | None = None,
    noise: str | Sequence[Any] = "stored",
) -> Tensor:
    """G_style out of training: mapping, truncation towards G's own `dlatent_avg`, synthesis at G's own `lod`.

    psi == 1, psi None, cutoff None or cutoff <= 0 disable the truncation, as in G_style."""
    own = _vars(G_vars, "G")
    ws = mapping(G_vars, kwargs, z, labels)
    if psi is not None and psi != 1 and cutoff is not None and cutoff > 0:
        ws = truncate(ws, own["dlatent_avg"], psi, cutoff)
    return synthesis(G_vars, kwargs, ws, float(own["lod"]) if lod is None else lod, noise)


# ---------------------------------------------------------------------------------------------------------------
# Discriminator


def discriminator(
    variables: Any, kwargs: Mapping[str, Any], images: Any, lod: float | None = None, labels: Any = None
) -> Tensor:
    """D_basic: images [N, C, R, R] (full resolution) -> scores [N, 1] (the label's score when label_size > 0)."""
    v = _vars(variables)
    kw = _kw(kwargs, D_DEFAULTS)
    act = _act(kw["nonlinearity"])
    rlog2 = int(math.log2(kw["resolution"]))
    wscale = kw["use_wscale"]
    lod_in = float(v["lod"]) if lod is None else float(lod)

    def layer(x: Tensor, scope: str, gain: float = SQRT2) -> Tensor:
        return act(add_bias(conv(x, v[f"{scope}/weight"], gain, wscale), v[f"{scope}/bias"]))

    def fromrgb(x: Tensor, res: int) -> Tensor:
        return layer(x, f"FromRGB_lod{rlog2 - res}")

    def blur(x: Tensor) -> Tensor:
        return blur2d(x, kw["blur_filter"]) if kw["blur_filter"] else x

    def block(x: Tensor, res: int) -> Tensor:
        s = f"{2**res}x{2**res}"
        x = layer(x, f"{s}/Conv0")
        x = conv_downscale(blur(x), v[f"{s}/Conv1_down/weight"], SQRT2, wscale, kw["fused_scale"])
        return act(add_bias(x, v[f"{s}/Conv1_down/bias"]))

    img = _t(images)
    x = fromrgb(img, rlog2)
    for res in range(rlog2, 2, -1):
        x = block(x, res)
        if kw["structure"] != "fixed":
            img = downscale2d(img)
            x = lerp_clip(x, fromrgb(img, res - 1), lod_in - (rlog2 - res))

    if kw["mbstd_group_size"] > 1:
        x = minibatch_stddev(x, kw["mbstd_group_size"], kw["mbstd_num_features"])
    x = layer(x, "4x4/Conv")
    x = act(add_bias(dense(x, v["4x4/Dense0/weight"], SQRT2, wscale), v["4x4/Dense0/bias"]))
    x = add_bias(dense(x, v["4x4/Dense1/weight"], 1.0, wscale), v["4x4/Dense1/bias"])
    if kw["label_size"]:
        x = (x * _t(labels)).sum(dim=1, keepdim=True)
    return x
