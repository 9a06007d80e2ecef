"""Synthesis network g: ws -> image (StyleGAN2 §2 and Fig. 7): a learned 4x4 constant, then one block per
resolution of two modulated 3x3 convolutions with noise, and ToRGB layers whose outputs are summed (skip),
taken from the last block (orig), or used with residual blocks (resnet)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.activation import DEFAULT_GAIN, bias_act
from ..nn.equalized import EqualizedConv2d, EqualizedLinear
from ..nn.memory import reuse_freed_memory
from ..nn.mixed import block_input, first_fp16_resolution, runs_fp16
from ..nn.modulated import (
    broadcast_sum,
    channels_last_weight,
    demodulation_coefficients,
    modulate_and_convolve,
    modulated_conv2d,
    prenormalize,
    transposed_weight,
    weight_squares,
)
from ..nn.resample import setup_filter, transposed_conv_upsample, upsample2d
from .config import GeneratorConfig, channels_at

NoiseMode = Literal["random", "const", "none"]


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (optionally up-sampling 2x) + per-pixel noise B + bias + leaky ReLU.

    noise: x += noise_strength * n, with n ~ N(0, 1) per pixel ('random'), the stored `noise_const` map
    ('const'; [H, W], or [N, H, W] for one map per sample, e.g. swapped in with `torch.func.functional_call`), or
    nothing ('none').
    """

    resample_filter: Tensor
    noise_const: Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        *,
        kernel_size: int = 3,
        up: int = 1,
        use_noise: bool = True,
        resample_filter: Sequence[float] = (1, 3, 3, 1),
        conv_clamp: float | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.resolution = resolution
        self.up = up
        self.use_noise = use_noise
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.padding = kernel_size // 2
        self.act_gain = DEFAULT_GAIN["lrelu"]
        self.affine = EqualizedLinear(w_dim, in_channels, bias_init=1)  # A: w -> styles s
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        if use_noise:
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: Tensor, w: Tensor, noise_mode: NoiseMode = "random", gain: float = 1.0) -> Tensor:
        if noise_mode not in ("random", "const", "none"):
            raise ValueError(f"noise_mode must be 'random', 'const' or 'none', got {noise_mode!r}")
        styles = self.affine(w)  # s = A(w)
        weight: Tensor = self.weight
        if x.dtype == torch.float16:  # the same result, without overflow before demodulation
            weight, styles = prenormalize(weight, styles)
        training = torch.is_grad_enabled() and (x.requires_grad or styles.requires_grad or weight.requires_grad)
        # y = lrelu(x / sigma + B n + b) * gain. Since lrelu(a) * g = lrelu(a * g) for g > 0, the gain goes into the
        # per-channel scale and the offsets, so demodulation (Eq. 3), noise, bias and gain cost one pass over x.
        g = self.act_gain * gain
        if self.use_noise and noise_mode == "const":
            # noise_const is [H, W], or [N, H, W] per sample (the projector optimises one map per target)
            noise = self.noise_const.reshape(-1, 1, self.resolution, self.resolution)  # [1 or N, 1, H, W]
        elif self.use_noise and noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, self.resolution, self.resolution, device=x.device)
        else:
            noise = None
        if noise is not None:
            noise = noise * (self.noise_strength * g)  # B n, with the gain: [1 or N, 1, H, W]
        if training:
            scale = demodulation_coefficients(weight, styles)[:, :, None, None] * g  # [N, O, 1, 1]
            x = self._convolve(x, weight, styles)  # conv(x * s, w)   (Eq. 1)
            offset = self.bias.to(x.dtype)[None, :, None, None] * g  # [1, O, 1, 1]
            if noise is not None and noise_mode == "const":
                offset = offset + noise  # [1 or N, O, H, W]
            if x.is_contiguous(memory_format=torch.channels_last):  # keep NHWC (the result follows `offset`)
                offset = offset.contiguous(memory_format=torch.channels_last)
            x = torch.addcmul(offset, x, scale.to(x.dtype))
            if noise is not None and noise_mode == "random":
                x = x + noise
        elif x.shape[0] == 1 and x.dtype == torch.float32:
            x = self._forward_one_sample(x, weight, styles, g, noise)
        else:  # inference: reuse the convolution's output buffer (less memory, no page faults)
            scale = demodulation_coefficients(weight, styles, squares=weight_squares(self, weight))
            x = self._convolve(x, channels_last_weight(self, weight), styles)  # conv(x * s, w)   (Eq. 1)
            offset = self.bias.to(x.dtype)[None, :, None, None] * g  # [1, O, 1, 1]
            if noise is not None and noise_mode == "const":
                offset = broadcast_sum(offset, noise.to(x.dtype), like=x)  # [1 or N, O, H, W]
            x = x.mul_(scale.to(x.dtype)[:, :, None, None] * g).add_(offset)
            if noise is not None and noise_mode == "random":
                x = x.add_(noise)
        x = F.leaky_relu_(x, 0.2)
        if self.conv_clamp is not None:  # out of place when training: leaky_relu_'s backward needs its result
            c = self.conv_clamp * gain  # hardtanh = clamp, with a one-pass backward (clamp's takes four)
            x = F.hardtanh(x, -c, c) if x.requires_grad else x.clamp_(-c, c)
        return x

    def _forward_one_sample(self, x: Tensor, weight: Tensor, styles: Tensor, g: float, noise: Tensor | None) -> Tensor:
        """Inference on one sample, before the activation: s (Eq. 1), 1 / sigma (Eq. 3) and the gain fold into the
        weight, w''_ji = w_ji s_i g / sigma_j, so x is neither copied to be scaled nor scaled after the convolution;
        without up-sampling the bias is added by the convolution itself."""
        scale = demodulation_coefficients(weight, styles, squares=weight_squares(self, weight))[0] * g  # [O]
        factors = (scale[:, None] * styles[0, None, :])[:, :, None, None]  # [O, I, 1, 1]
        if self.up == 1:
            wmod = channels_last_weight(self, weight) * factors
            x = F.conv2d(x, wmod, self.bias * g, padding=self.padding)
        else:  # the weight kept in conv_transpose2d's layout [I, O, k, k]: no per-call transpose
            wt = transposed_weight(self, weight) * factors.transpose(0, 1)
            x = transposed_conv_upsample(x, wt, self.resample_filter, up=self.up, padding=self.padding)
            x = x.add_((self.bias * g)[None, :, None, None])
        if noise is not None:
            x = x.add_(noise)  # [1, 1, H, W] over all channels
        return x

    def _convolve(self, x: Tensor, weight: Tensor, styles: Tensor | None) -> Tensor:
        """conv(x * s, w) with this layer's up-sampling and padding (styles None: already in the weight)."""
        return modulate_and_convolve(
            x,
            weight,
            styles,
            up=self.up,
            padding=self.padding,
            resample_filter=self.resample_filter,
            flip_weight=self.up == 1,
        )

    def extra_repr(self) -> str:
        return f"{self.in_channels}->{self.out_channels}, resolution={self.resolution}, up={self.up}"


class ToRGBLayer(nn.Module):
    """Modulated 1x1 convolution to image channels, without demodulation."""

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, *, kernel_size: int = 1, conv_clamp: float | None = None
    ) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = EqualizedLinear(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        styles = self.affine(w) * self.weight_gain
        if self.weight.shape[-1] == 1 and x.is_contiguous(memory_format=torch.channels_last):
            # 1x1 modulated conv = one batched matmul with per-sample weights w'_oi = w_oi s_i: [N, HW, I] @ [N, I, O]
            n, i, h, wd = x.shape
            wmod = self.weight[None, :, :, 0, 0].to(x.dtype) * styles[:, None, :].to(x.dtype)  # [N, O, I]
            y = torch.bmm(x.permute(0, 2, 3, 1).reshape(n, h * wd, i), wmod.transpose(1, 2))
            x = y.reshape(n, h, wd, -1).permute(0, 3, 1, 2)
        else:
            x = modulated_conv2d(x, self.weight, styles, demodulate=False)
        return bias_act(x, self.bias.to(x.dtype), clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution: [const or up-sampling conv0] -> conv1 -> [ToRGB], per the chosen architecture. A float16
    block (`use_fp16`, see `stylegan.nn.mixed`) computes in float16 on CUDA devices; its ToRGB output is added to
    the image in float32."""

    resample_filter: Tensor

    def __init__(
        self,
        in_channels: int,  # 0 = first block (4x4 constant input)
        out_channels: int,
        w_dim: int,
        resolution: int,
        img_channels: int,
        is_last: bool,
        *,
        architecture: str = "skip",
        resample_filter: Sequence[float] = (1, 3, 3, 1),
        conv_clamp: float | None = None,
        use_noise: bool = True,
        use_fp16: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.use_fp16 = use_fp16
        self.w_dim = w_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.is_last = is_last
        self.architecture = architecture
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.resample_taps = tuple(resample_filter)  # plain numbers: the polyphase kernel is cached by value
        self.channels_last = True  # NHWC activations: oneDNN's fastest CPU convolutions (about 1.5-3x here)
        self.num_conv = 0
        self.num_torgb = 0
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(
                in_channels,
                out_channels,
                w_dim,
                resolution,
                up=2,
                use_noise=use_noise,
                resample_filter=resample_filter,
                conv_clamp=conv_clamp,
            )
            self.num_conv += 1
        self.conv1 = SynthesisLayer(
            out_channels,
            out_channels,
            w_dim,
            resolution,
            use_noise=use_noise,
            resample_filter=resample_filter,
            conv_clamp=conv_clamp,
        )
        self.num_conv += 1
        if is_last or architecture == "skip":
            self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
            self.num_torgb += 1
        if in_channels != 0 and architecture == "resnet":
            self.skip = EqualizedConv2d(
                in_channels, out_channels, kernel_size=1, bias=False, up=2, resample_filter=resample_filter
            )

    def forward(
        self,
        x: Tensor | None,
        img: Tensor | None,
        ws: Tensor,
        noise_mode: NoiseMode = "random",
        force_fp32: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """ws: [N, num_conv + num_torgb, w_dim] (this block's slice; ToRGB shares the next block's first w)."""
        w_iter = iter(ws.unbind(dim=1))
        fp16 = runs_fp16(self.use_fp16, ws.device, force_fp32=force_fp32)
        if self.in_channels == 0:
            x = block_input(self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1), fp16, ws.dtype)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            x = self.conv1(x, next(w_iter), noise_mode)
        elif self.architecture == "resnet":
            assert x is not None
            x = block_input(x, fp16, ws.dtype)
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv0(x, next(w_iter), noise_mode)
            x = self.conv1(x, next(w_iter), noise_mode, gain=math.sqrt(0.5))
            x = y + x
        else:
            assert x is not None
            x = self.conv0(block_input(x, fp16, ws.dtype), next(w_iter), noise_mode)
            x = self.conv1(x, next(w_iter), noise_mode)

        if img is not None:
            img = upsample2d(img, self.resample_taps)
        if self.is_last or self.architecture == "skip":
            y = self.torgb(x, next(w_iter))
            if fp16:  # the image accumulates in the network's dtype (float32)
                y = y.to(ws.dtype)
            img = img + y if img is not None else y
        return x, img

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}, architecture={self.architecture}"


class SynthesisNetwork(nn.Module):
    """g(ws) -> image [N, img_channels, R, R], roughly in [-1, 1]."""

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.w_dim = cfg.w_dim
        self.img_resolution = cfg.img_resolution
        self.img_resolution_log2 = int(math.log2(cfg.img_resolution))
        self.img_channels = cfg.img_channels
        self.block_resolutions = [2**i for i in range(2, self.img_resolution_log2 + 1)]
        self.progressive = cfg.progressive
        if cfg.progressive:
            self.register_buffer("lod", torch.zeros([]))
        self.num_ws = 0
        fp16_resolution = first_fp16_resolution(cfg.img_resolution, cfg.num_fp16_res)
        for res in self.block_resolutions:
            in_ch = channels_at(res // 2, cfg.channel_base, cfg.channel_max) if res > 4 else 0
            out_ch = channels_at(res, cfg.channel_base, cfg.channel_max)
            is_last = res == cfg.img_resolution
            block = SynthesisBlock(
                in_ch,
                out_ch,
                cfg.w_dim,
                res,
                cfg.img_channels,
                is_last,
                architecture=cfg.architecture,
                resample_filter=cfg.resample_filter,
                conv_clamp=cfg.conv_clamp,
                use_noise=cfg.use_noise,
                use_fp16=res >= fp16_resolution,
            )
            self.num_ws += block.num_conv + (block.num_torgb if is_last else 0)
            setattr(self, f"b{res}", block)

    def forward(
        self, ws: Tensor, noise_mode: NoiseMode = "random", force_fp32: bool = False, **_ignored: object
    ) -> Tensor:
        """ws: [N, num_ws, w_dim]. `force_fp32` runs the float16 blocks (`num_fp16_res`, CUDA only) in float32.
        NVIDIA's `fused_modconv` is accepted and ignored: this implementation picks its own convolution strategy."""
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise ValueError(f"ws must have shape [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        ws = ws.to(self.get_parameter("b4.const").dtype)  # float32 unless the whole network was cast
        if ws.device.type != "cpu" or torch.is_grad_enabled() or self.training:  # training: glibc's own heap reuse
            return self._run(ws, noise_mode, force_fp32)
        with reuse_freed_memory():  # inference: each layer's output reuses the last one's pages, not fresh ones
            return self._run(ws, noise_mode, force_fp32)

    def _run(self, ws: Tensor, noise_mode: NoiseMode, force_fp32: bool) -> Tensor:
        if self.progressive:
            return self._grow(ws, noise_mode, force_fp32)
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            x, img = block(x, img, ws.narrow(1, w_idx, block.num_conv + block.num_torgb), noise_mode, force_fp32)
            w_idx += block.num_conv
        assert img is not None
        return img.contiguous()

    def _grow(self, ws: Tensor, noise_mode: NoiseMode, force_fp32: bool) -> Tensor:
        """Progressive growing: with lod = f + t, the ToRGB of resolution R / 2^f blended with weight t with the
        nearest-upsampled ToRGB of the resolution below, then nearest-upsampled to R x R (blocks above not run)."""
        lod = min(max(float(self.get_buffer("lod")), 0.0), self.img_resolution_log2 - 2)
        level = int(math.floor(lod))
        fade = lod - level
        top = self.img_resolution >> level
        x = img = below = None
        w_idx = 0
        for res in self.block_resolutions:
            if res > top:
                break
            block = getattr(self, f"b{res}")
            below = img
            x, img = block(x, None, ws.narrow(1, w_idx, block.num_conv + block.num_torgb), noise_mode, force_fp32)
            w_idx += block.num_conv
        assert img is not None
        if fade > 0 and below is not None:  # lerp(img, up(below), fade)
            img = img + (below.repeat_interleave(2, 2).repeat_interleave(2, 3) - img) * fade
        factor = self.img_resolution // top
        return img.repeat_interleave(factor, 2).repeat_interleave(factor, 3).contiguous()

    def extra_repr(self) -> str:
        return f"w_dim={self.w_dim}, num_ws={self.num_ws}, img_resolution={self.img_resolution}"
