"""StyleGAN2 discriminator (StyleGAN2 §4, Fig. 7): residual (default), skip or plain blocks from the image
resolution down to 4x4, then minibatch standard deviation, a 3x3 conv, two dense layers and, for
conditional networks, projection onto the mapped label (Miyato & Koyama 2018)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ..nn.equalized import EqualizedConv2d, EqualizedLinear
from ..nn.mixed import block_input, first_fp16_resolution, runs_fp16
from ..nn.resample import downsample2d, setup_filter
from .config import DiscriminatorConfig, channels_at
from .mapping import MappingNetwork


class DiscriminatorBlock(nn.Module):
    """[FromRGB] -> conv0 (3x3) -> conv1 (3x3, down 2x) [+ 1x1 down-sampling skip for resnet]. A float16 block
    (`use_fp16`, see `stylegan.nn.mixed`) computes in float16 on CUDA devices."""

    resample_filter: Tensor

    def __init__(
        self,
        in_channels: int,  # 0 = first block
        tmp_channels: int,
        out_channels: int,
        resolution: int,
        img_channels: int,
        first_layer_idx: int,
        *,
        architecture: str = "resnet",
        resample_filter: Sequence[float] = (1, 3, 3, 1),
        conv_clamp: float | None = None,
        freeze_layers: int = 0,
        use_fp16: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.use_fp16 = use_fp16
        self.resolution = resolution
        self.img_channels = img_channels
        self.architecture = architecture
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.num_layers = 0

        def trainable() -> bool:  # Freeze-D: the first `freeze_layers` layers keep their weights
            idx = first_layer_idx + self.num_layers
            self.num_layers += 1
            return idx >= freeze_layers

        if in_channels == 0 or architecture == "skip":
            self.fromrgb = EqualizedConv2d(
                img_channels, tmp_channels, 1, activation="lrelu", conv_clamp=conv_clamp, trainable=trainable()
            )
        self.conv0 = EqualizedConv2d(
            tmp_channels, tmp_channels, 3, activation="lrelu", conv_clamp=conv_clamp, trainable=trainable()
        )
        self.conv1 = EqualizedConv2d(
            tmp_channels,
            out_channels,
            3,
            activation="lrelu",
            down=2,
            resample_filter=resample_filter,
            conv_clamp=conv_clamp,
            trainable=trainable(),
        )
        if architecture == "resnet":
            self.skip = EqualizedConv2d(
                tmp_channels,
                out_channels,
                1,
                bias=False,
                down=2,
                resample_filter=resample_filter,
                trainable=trainable(),
            )

    def forward(self, x: Tensor | None, img: Tensor | None, force_fp32: bool = False) -> tuple[Tensor, Tensor | None]:
        if self.in_channels == 0 or self.architecture == "skip":
            assert img is not None
            fp16 = runs_fp16(self.use_fp16, img.device, force_fp32=force_fp32)
            img = block_input(img, True) if fp16 else img.to(torch.float32)
            y = self.fromrgb(img)
            x = block_input(x, fp16) + y if x is not None else y
            img = downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
        assert x is not None
        return self.convs(x, force_fp32), img

    def convs(self, x: Tensor, force_fp32: bool = False) -> Tensor:
        """The block's convolutions (and residual skip) on features x (float32 except in a float16 block)."""
        x = block_input(x, runs_fp16(self.use_fp16, x.device, force_fp32=force_fp32))
        if self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv0(x)
            x = self.conv1(x, gain=math.sqrt(0.5))
            return y + x
        return self.conv1(self.conv0(x))

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}, architecture={self.architecture}"


class MinibatchStdLayer(nn.Module):
    """Appends the average standard deviation of features over groups of samples (Karras et al. 2018, §3)."""

    def __init__(self, group_size: int | None, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n) if self.group_size is not None else n
        if n % g:
            raise ValueError(f"batch size {n} must be divisible by the minibatch-stddev group size {g}")
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)  # [G, n, F, c, H, W]: sample i belongs to group i % (N/G)
        y = y - y.mean(dim=0)
        y = (y.square().mean(dim=0) + 1e-8).sqrt()  # stddev over the group
        y = y.mean(dim=(2, 3, 4)).reshape(-1, f, 1, 1)  # [n, F, 1, 1]
        y = y.repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"


class DiscriminatorEpilogue(nn.Module):
    """4x4 head: [FromRGB for skip] -> minibatch stddev -> conv -> fc -> out (-> projection with cmap)."""

    def __init__(
        self,
        in_channels: int,
        cmap_dim: int,
        resolution: int,
        img_channels: int,
        *,
        architecture: str = "resnet",
        mbstd_group_size: int | None = 4,
        mbstd_num_channels: int = 1,
        conv_clamp: float | None = None,
        is_first: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.cmap_dim = cmap_dim
        self.is_first = is_first  # a 4x4 discriminator has no blocks: the head reads the image itself
        self.resolution = resolution
        self.architecture = architecture
        if architecture == "skip" or is_first:
            self.fromrgb = EqualizedConv2d(img_channels, in_channels, 1, activation="lrelu")  # no clamp, as NVIDIA
        self.mbstd = MinibatchStdLayer(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else None
        self.conv = EqualizedConv2d(
            in_channels + mbstd_num_channels, in_channels, 3, activation="lrelu", conv_clamp=conv_clamp
        )
        self.fc = EqualizedLinear(in_channels * resolution**2, in_channels, activation="lrelu")
        self.out = EqualizedLinear(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def forward(self, x: Tensor | None, img: Tensor | None, cmap: Tensor | None) -> Tensor:
        return self.output(self.penultimate(x, img), cmap)

    def penultimate(self, x: Tensor | None, img: Tensor | None) -> Tensor:
        """[FromRGB,] minibatch stddev, conv and fc: the features the output layer reads."""
        if self.architecture == "skip" or self.is_first:
            assert img is not None
            y = self.fromrgb(img.to(torch.float32))
            x = x + y if x is not None else y
        assert x is not None
        return self.features(x)

    def head(self, x: Tensor, cmap: Tensor | None) -> Tensor:
        """Minibatch stddev, conv, fc, out (and the projection onto cmap) on 4x4 features x."""
        return self.output(self.features(x), cmap)

    def features(self, x: Tensor) -> Tensor:
        """Minibatch stddev, conv and fc on 4x4 features x: the penultimate features [N, in_channels] (what the
        output layer and an InfoGAN Q head read)."""
        x = x.to(torch.float32)
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x)
        return self.fc(x.flatten(1))

    def output(self, x: Tensor, cmap: Tensor | None) -> Tensor:
        """The output layer (and the projection onto cmap) on the penultimate features x."""
        x = self.out(x)
        if self.cmap_dim > 0:  # projection discriminator: <out, cmap> / sqrt(cmap_dim)
            assert cmap is not None
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))
        return x


class QHead(nn.Module):
    """InfoGAN's Q head on D's trunk: fc (lrelu) -> out, from D's penultimate features to `q_dim` predictions of
    G's latent codes (category logits, then the means of the continuous codes)."""

    def __init__(self, in_features: int, q_dim: int) -> None:
        super().__init__()
        self.fc = EqualizedLinear(in_features, in_features, activation="lrelu")
        self.out = EqualizedLinear(in_features, q_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.fc(x))


class Discriminator(nn.Module):
    """D(img, c) -> logits [N, 1]; with a Q head (`cfg.q_dim` > 0), `forward_with_q` also returns its predictions
    (the plain forward pass is the same with or without one)."""

    def __init__(self, cfg: DiscriminatorConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        cfg = cfg if cfg is not None else DiscriminatorConfig(**kwargs)
        self.cfg = cfg
        self.c_dim = cfg.c_dim
        self.img_resolution = cfg.img_resolution
        self.img_resolution_log2 = int(math.log2(cfg.img_resolution))
        self.img_channels = cfg.img_channels
        self.block_resolutions = [2**i for i in range(self.img_resolution_log2, 2, -1)]
        self.progressive = cfg.progressive
        if cfg.progressive:
            self.register_buffer("lod", torch.zeros([]))

        def ch(res: int) -> int:
            return channels_at(res, cfg.channel_base, cfg.channel_max)

        cmap_dim = (ch(4) if cfg.cmap_dim is None else cfg.cmap_dim) if cfg.c_dim > 0 else 0
        layer_idx = 0
        fp16_resolution = first_fp16_resolution(cfg.img_resolution, cfg.num_fp16_res)
        for res in self.block_resolutions:
            block = DiscriminatorBlock(
                ch(res) if res < cfg.img_resolution else 0,
                ch(res),
                ch(res // 2),
                res,
                cfg.img_channels,
                layer_idx,
                architecture=cfg.architecture,
                resample_filter=cfg.resample_filter,
                conv_clamp=cfg.conv_clamp,
                freeze_layers=cfg.freeze_layers,
                use_fp16=res >= fp16_resolution,
            )
            setattr(self, f"b{res}", block)
            layer_idx += block.num_layers
        if cfg.c_dim > 0:
            self.mapping = MappingNetwork(
                0,
                cfg.c_dim,
                cmap_dim,
                None,
                num_layers=cfg.mapping_layers,
                lr_multiplier=cfg.mapping_lr_multiplier,
                w_avg_beta=None,
            )
        self.b4 = DiscriminatorEpilogue(
            ch(4),
            cmap_dim,
            4,
            cfg.img_channels,
            architecture=cfg.architecture,
            mbstd_group_size=cfg.mbstd_group_size,
            mbstd_num_channels=cfg.mbstd_num_channels,
            conv_clamp=cfg.conv_clamp,
            is_first=(cfg.img_resolution == 4),
        )
        self.q_dim = cfg.q_dim
        if cfg.q_dim > 0:
            self.q_head = QHead(ch(4), cfg.q_dim)

    def forward(self, img: Tensor, c: Tensor | None = None, force_fp32: bool = False, **_ignored: object) -> Tensor:
        """D(img, c). `force_fp32` runs the float16 blocks (`num_fp16_res`, CUDA only) in float32."""
        feats, cmap = self._features(img, c, force_fp32)
        return self.b4.output(feats, cmap)

    def forward_with_q(self, img: Tensor, c: Tensor | None = None, force_fp32: bool = False) -> tuple[Tensor, Tensor]:
        """(logits [N, 1], Q head predictions [N, q_dim]) from one pass through the trunk."""
        if self.q_dim == 0:
            raise ValueError("this discriminator has no Q head (q_dim 0)")
        feats, cmap = self._features(img, c, force_fp32)
        return self.b4.output(feats, cmap), self.q_head(feats)

    def _features(self, img: Tensor, c: Tensor | None, force_fp32: bool) -> tuple[Tensor, Tensor | None]:
        """(the epilogue's penultimate features, the mapped label or None)."""
        expected = [self.img_channels, self.img_resolution, self.img_resolution]
        if img.ndim != 4 or list(img.shape[1:]) != expected:
            raise ValueError(f"img must have shape [N, {', '.join(map(str, expected))}], got {list(img.shape)}")
        cmap = self.mapping(None, c) if self.c_dim > 0 else None
        if self.progressive:
            return self._grow(img, force_fp32), cmap
        x = None
        for res in self.block_resolutions:
            x, img = getattr(self, f"b{res}")(x, img, force_fp32)
        return self.b4.penultimate(x, img), cmap

    def _grow(self, img: Tensor, force_fp32: bool) -> Tensor:
        """Progressive growing: with lod = f + t, the image box-downsampled by 2^f is read by the FromRGB of
        resolution R / 2^f; after that block, its features are blended with weight t with the FromRGB of the image
        downsampled once more. Blocks above R / 2^f are not run."""
        lod = min(max(float(self.get_buffer("lod")), 0.0), self.img_resolution_log2 - 2)
        level = int(math.floor(lod))
        fade = lod - level
        top = self.img_resolution >> level
        img = img.to(torch.float32)

        def fromrgb(res: int) -> Tensor:
            layer = self.b4.fromrgb if res == 4 else getattr(self, f"b{res}").fromrgb
            factor = self.img_resolution // res
            return layer(torch.nn.functional.avg_pool2d(img, factor) if factor > 1 else img)

        x = fromrgb(top)
        for res in self.block_resolutions:
            if res > top:
                continue
            x = getattr(self, f"b{res}").convs(x, force_fp32)
            if res == top and fade > 0:  # lerp(x, fromrgb(res / 2), fade)
                x = x + (fromrgb(res // 2) - x) * fade
        return self.b4.features(x)

    def extra_repr(self) -> str:
        return f"c_dim={self.c_dim}, img_resolution={self.img_resolution}, img_channels={self.img_channels}"
