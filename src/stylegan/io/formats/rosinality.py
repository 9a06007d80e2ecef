"""rosinality/stylegan2-pytorch `.pt` checkpoints (also read by pSp, e4e, GANSpace and StyleCLIP).

Two kinds exist: training checkpoints `{'g', 'd', 'g_ema', 'g_optim', 'd_optim', 'args': Namespace,
'ada_aug_p'}` and converted ones `{'g_ema', 'latent_avg'[, 'g', 'd']}`. The architecture is not stored
(only the training `args` hint at it), so we infer it from the tensors: the resolution from the number of
convolutions, the channels from their shapes, the mapping depth from the `style.*` layers.

Generator table (ours <- rosinality), k = 0, 1, ... and r = 2**(k+3):

    mapping.fc{i}                 <- style.{i+1}
    mapping.w_avg                 <- latent_avg (estimated from 10 000 samples when the file has none)
    synthesis.b4.const            <- input.input[0]
    synthesis.b4.conv1            <- conv1            (conv.weight[0], conv.modulation -> affine,
    synthesis.b{r}.conv0 / conv1  <- convs.{2k} / {2k+1}   noise.weight -> noise_strength,
                                                            activate.bias -> bias)
    synthesis.b4/b{r}.torgb       <- to_rgb1 / to_rgbs.{k}  (bias [1, 3, 1, 1] -> [3])
    ...conv1/conv0.noise_const    <- noises.noise_0, noise_{2k+1}, noise_{2k+2}

Discriminator table: `convs.0` -> `b{R}.fromrgb`; residual block `convs.{k}` (k >= 1, resolution
R / 2**(k-1)): `conv1.0/1` -> `conv0.weight/bias`, `conv2.1/2` -> `conv1.weight/bias`, `skip.1` -> `skip`;
`final_conv` -> `b4.conv`, `final_linear.0/1` -> `b4.fc/out`. The fixed blur kernels (`*.kernel` buffers)
have no counterpart; they are checked to be the standard [1, 3, 3, 1] filter and skipped.
"""

from __future__ import annotations

import argparse
import math
import re
import warnings
from typing import Any

import torch
from torch import Tensor

from ...errors import CheckpointError
from ...networks import (
    AnyDiscriminator,
    Discriminator,
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
    channels_at,
    v1,
)
from . import MappingTable, NetConfig, NetEntry, RawCheckpoint, fit_channel_rule, load_into, plain, short_repr

FORMAT = "rosinality"

#: How many mapping-network samples estimate w_avg when a checkpoint has no `latent_avg`.
W_AVG_SAMPLES = 10_000


def rosinality_channels(res: int, channel_multiplier: int) -> int:
    """Channels at a resolution in rosinality's networks (its `channels` dict)."""
    return 512 if res <= 32 else 16384 * channel_multiplier // res


def _blur_kernel(scale: float) -> Tensor:
    k = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = torch.outer(k, k)
    return k / k.sum() * scale


def _check_kernel(value: Tensor, key: str, scale: float, where: str) -> None:
    expected = _blur_kernel(scale)
    if tuple(value.shape) != tuple(expected.shape) or not torch.allclose(value.float(), expected, atol=1e-6):
        raise CheckpointError(
            f"{where}: {key!r} is not the standard [1,3,3,1] blur kernel; custom kernels are not supported"
        )


def _is_state_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(v, Tensor) for v in value.values())


def looks_like(data: Any) -> bool:
    """Whether a `torch.load`ed object is a rosinality checkpoint (or a bare rosinality generator state dict)."""
    if isinstance(data, dict) and any(_is_state_dict(data.get(k)) for k in ("g_ema", "g", "d")):
        return True
    return _is_state_dict(data) and "input.input" in data and "style.1.weight" in data


def _count(sd: dict[str, Tensor], pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in sd if (m := rx.fullmatch(k))})


def _args(data: dict[str, Any]) -> dict[str, Any]:
    args = data.get("args")
    if args is None:
        return {}
    args = vars(args) if isinstance(args, argparse.Namespace) else args
    if not isinstance(args, dict):
        raise CheckpointError(f"the training arguments ('args') are a {type(args).__name__}, not a namespace")
    return {str(k): v for k, v in args.items()}


def generator_config(sd: dict[str, Tensor], args: dict[str, Any], *, where: str) -> GeneratorConfig:
    """Infer a rosinality generator's architecture from its tensors (checked against `args` when present)."""
    for key in ("input.input", "conv1.conv.weight", "to_rgb1.conv.weight", "style.1.weight"):
        if key not in sd:
            raise CheckpointError(f"{where}: no {key!r}; not a rosinality StyleGAN2 generator")
    styles = _count(sd, r"style\.(\d+)\.weight")
    if styles != list(range(1, len(styles) + 1)):
        raise CheckpointError(f"{where}: mapping layers style.* are not numbered 1..n")
    convs = _count(sd, r"convs\.(\d+)\.conv\.weight")
    if convs != list(range(len(convs))) or len(convs) % 2:
        raise CheckpointError(f"{where}: synthesis layers convs.* are incomplete")
    log2_res = len(convs) // 2 + 2
    res = 2**log2_res
    style_dim = int(sd["style.1.weight"].shape[1])
    channels = {4: int(sd["input.input"].shape[1])}
    for k in range(len(convs) // 2):
        channels[2 ** (k + 3)] = int(sd[f"convs.{2 * k}.conv.weight"].shape[1])
    hint = args.get("channel_multiplier")
    preferred = [16384 * int(hint)] if isinstance(hint, int) else [32768, 16384]
    rule = fit_channel_rule(channels, preferred_bases=preferred)
    if rule is None:
        raise CheckpointError(
            f"{where}: channel counts {channels} follow no min(channel_base // res, channel_max) rule; this "
            "rosinality variant cannot be expressed by our networks"
        )
    for name, expected in (("size", res), ("latent", style_dim), ("n_mlp", len(styles))):
        value = args.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value != expected):
            raise CheckpointError(f"{where}: args.{name}={short_repr(value)} but the tensors say {expected}")
    try:
        return GeneratorConfig(
            z_dim=style_dim,
            w_dim=style_dim,
            img_resolution=res,
            img_channels=int(sd["to_rgb1.conv.weight"].shape[1]),
            mapping_layers=len(styles),
            channel_base=rule[0],
            channel_max=rule[1],
            architecture="skip",
            conv_clamp=None,
        )
    except ValueError as err:
        raise CheckpointError(f"{where}: unsupported generator ({err})") from None


def _modconv(t: MappingTable, src: str, dst: str) -> None:
    t.copy(f"{src}.conv.weight", f"{dst}.weight", lambda w: w[0])
    t.copy(f"{src}.conv.modulation.weight", f"{dst}.affine.weight")
    t.copy(f"{src}.conv.modulation.bias", f"{dst}.affine.bias")


def generator_table(sd: dict[str, Tensor], latent_avg: Tensor | None, G: Generator, *, where: str) -> dict[str, Tensor]:
    """Move a rosinality generator state dict into ours; w_avg is left for the caller when latent_avg is None."""
    source = dict(sd)
    if latent_avg is not None:
        source["latent_avg"] = latent_avg.reshape(-1) if latent_avg.ndim == 2 and len(latent_avg) == 1 else latent_avg
    t = MappingTable(
        source,
        G.state_dict(),
        where=where,
        ignore_target=[r".*resample_filter"] + ([r"mapping\.w_avg"] if latent_avg is None else []),
    )
    for key in list(source):
        if re.fullmatch(r"convs\.\d+\.conv\.blur\.kernel|to_rgbs\.\d+\.upsample\.kernel", key):
            _check_kernel(source[key], key, 4.0, where)
            t.skip(key)
    for i in range(G.cfg.mapping_layers):
        t.copy(f"style.{i + 1}.weight", f"mapping.fc{i}.weight")
        t.copy(f"style.{i + 1}.bias", f"mapping.fc{i}.bias")
    if latent_avg is not None:
        t.copy("latent_avg", "mapping.w_avg")
    t.copy("input.input", "synthesis.b4.const", lambda x: x[0])

    def styled(src: str, dst: str, noise: str) -> None:
        _modconv(t, src, dst)
        t.copy(f"{src}.noise.weight", f"{dst}.noise_strength", lambda x: x.reshape(()))
        t.copy(f"{src}.activate.bias", f"{dst}.bias")
        t.copy(noise, f"{dst}.noise_const", lambda x: x[0, 0])

    def torgb(src: str, dst: str) -> None:
        _modconv(t, src, dst)
        t.copy(f"{src}.bias", f"{dst}.bias", lambda b: b.reshape(-1))

    styled("conv1", "synthesis.b4.conv1", "noises.noise_0")
    torgb("to_rgb1", "synthesis.b4.torgb")
    for k, res in enumerate(G.synthesis.block_resolutions[1:]):
        styled(f"convs.{2 * k}", f"synthesis.b{res}.conv0", f"noises.noise_{2 * k + 1}")
        styled(f"convs.{2 * k + 1}", f"synthesis.b{res}.conv1", f"noises.noise_{2 * k + 2}")
        torgb(f"to_rgbs.{k}", f"synthesis.b{res}.torgb")
    return t.finish()


def discriminator_config(sd: dict[str, Tensor], *, where: str) -> DiscriminatorConfig:
    """Infer a rosinality discriminator's architecture from its tensors."""
    for key in ("convs.0.0.weight", "final_conv.0.weight", "final_linear.0.weight", "final_linear.1.weight"):
        if key not in sd:
            raise CheckpointError(f"{where}: no {key!r}; not a rosinality StyleGAN2 discriminator")
    blocks = _count(sd, r"convs\.(\d+)\.conv1\.0\.weight")
    if blocks != list(range(1, len(blocks) + 1)):
        raise CheckpointError(f"{where}: residual blocks convs.* are incomplete")
    res = 2 ** (len(blocks) + 2)
    channels = {res: int(sd["convs.0.0.weight"].shape[0])}
    for k in blocks:
        channels[res >> (k - 1)] = int(sd[f"convs.{k}.conv1.0.weight"].shape[0])
        channels[res >> k] = int(sd[f"convs.{k}.conv2.1.weight"].shape[0])
    rule = fit_channel_rule(channels, preferred_bases=[32768, 16384])
    if rule is None:
        raise CheckpointError(
            f"{where}: channel counts {channels} follow no min(channel_base // res, channel_max) "
            "rule; this variant cannot be expressed by our networks"
        )
    return DiscriminatorConfig(
        img_resolution=res,
        img_channels=int(sd["convs.0.0.weight"].shape[1]),
        architecture="resnet",
        channel_base=rule[0],
        channel_max=rule[1],
        mbstd_group_size=4,
        mbstd_num_channels=1,
        conv_clamp=None,
    )


def discriminator_table(sd: dict[str, Tensor], D: Discriminator, *, where: str) -> dict[str, Tensor]:
    """Move a rosinality discriminator state dict into ours."""
    t = MappingTable(sd, D.state_dict(), where=where, ignore_target=[r".*resample_filter"])
    for key in list(sd):
        if re.fullmatch(r"convs\.\d+\.(conv2|skip)\.0\.kernel", key):
            _check_kernel(sd[key], key, 1.0, where)
            t.skip(key)

    def conv(src: str, dst: str) -> None:
        t.copy(f"{src}.0.weight", f"{dst}.weight")
        t.copy(f"{src}.1.bias", f"{dst}.bias")

    top = D.block_resolutions[0]
    conv("convs.0", f"b{top}.fromrgb")
    for k, res in enumerate(D.block_resolutions, start=1):
        conv(f"convs.{k}.conv1", f"b{res}.conv0")
        t.copy(f"convs.{k}.conv2.1.weight", f"b{res}.conv1.weight")
        t.copy(f"convs.{k}.conv2.2.bias", f"b{res}.conv1.bias")
        t.copy(f"convs.{k}.skip.1.weight", f"b{res}.skip.weight")
    conv("final_conv", "b4.conv")
    for i, name in enumerate(("fc", "out")):
        t.copy(f"final_linear.{i}.weight", f"b4.{name}.weight")
        t.copy(f"final_linear.{i}.bias", f"b4.{name}.bias")
    return t.finish()


@torch.no_grad()
def estimate_w_avg(G: Generator, num_samples: int = W_AVG_SAMPLES, seed: int = 0) -> Tensor:
    """E[w] over `num_samples` deterministic z draws (what rosinality's `mean_latent` estimates at random)."""
    g = torch.Generator().manual_seed(seed)
    total = torch.zeros(G.w_dim)
    done = 0
    while done < num_samples:
        n = min(2048, num_samples - done)
        z = torch.randn(n, G.z_dim, generator=g)
        total += G.mapping(z, None)[:, 0].sum(dim=0)
        done += n
    return total / num_samples


def read(data: Any, *, path: str) -> RawCheckpoint:
    """A `RawCheckpoint` from a `torch.load`ed rosinality checkpoint."""
    if _is_state_dict(data):  # a bare generator state dict
        data = {"g_ema": data}
    try:
        args = _args(data)
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {err}") from None
    latent_avg = data.get("latent_avg")
    if latent_avg is not None and not isinstance(latent_avg, Tensor):
        raise CheckpointError(f"{path}: latent_avg is a {type(latent_avg).__name__}, not a tensor")
    nets: dict[str, NetEntry] = {}
    estimated: list[str] = []
    for ours, theirs in (("G_ema", "g_ema"), ("G", "g")):
        sd = data.get(theirs)
        if sd is None:
            continue
        where = f"{path} [{theirs}]"
        if not _is_state_dict(sd):
            raise CheckpointError(f"{where}: not a state dict of tensors")
        cfg = generator_config(sd, args, where=where)
        avg = latent_avg if ours == "G_ema" else None
        if avg is None:
            estimated.append(ours)
        nets[ours] = NetEntry(cfg, _generator_builder(sd, avg, cfg, where))
    if data.get("d") is not None:
        sd = data["d"]
        where = f"{path} [d]"
        if not _is_state_dict(sd):
            raise CheckpointError(f"{where}: not a state dict of tensors")
        dcfg = discriminator_config(sd, where=where)
        nets["D"] = NetEntry(dcfg, _discriminator_builder(sd, dcfg, where))
    if not nets:
        raise CheckpointError(f"{path}: a rosinality-style file without g_ema, g or d")
    kind = "training" if "args" in data or "g_optim" in data else "converted"
    metadata: dict[str, Any] = {}
    if args:
        metadata["args"] = plain(args, where=path, what="args")
    if "ada_aug_p" in data:
        metadata["ada_aug_p"] = plain(data["ada_aug_p"], where=path, what="ada_aug_p")
    if estimated:
        nets_text = ", ".join(estimated)
        metadata["w_avg"] = f"estimated from {W_AVG_SAMPLES} samples for {nets_text} (the file has no latent_avg)"
    return RawCheckpoint(f"{FORMAT}/{kind}", nets, metadata)


def _generator_builder(sd: dict[str, Tensor], avg: Tensor | None, cfg: GeneratorConfig, where: str) -> Any:
    def build() -> Generator:
        G = Generator(cfg)
        load_into(G, generator_table(sd, avg, G, where=where), where=where)
        if avg is None:
            G.mapping.w_avg.copy_(estimate_w_avg(G))
        return G

    return build


def _discriminator_builder(sd: dict[str, Tensor], cfg: DiscriminatorConfig, where: str) -> Any:
    def build() -> Discriminator:
        D = Discriminator(cfg)
        return load_into(D, discriminator_table(sd, D, where=where), where=where)

    return build


# ---------------------------------------------------------------------------------------------------------
# Export: our networks -> rosinality state dicts.


def channel_multiplier(cfg: GeneratorConfig | DiscriminatorConfig) -> int | None:
    """The rosinality `channel_multiplier` whose channel table equals this network's, or None."""
    resolutions = [2**i for i in range(2, int(math.log2(cfg.img_resolution)) + 1)]
    if cfg.img_resolution > 1024:
        return None
    for m in (1, 2):  # larger multipliers give more channels at 64x64 than at 32x32: no channel_base rule fits
        if all(channels_at(r, cfg.channel_base, cfg.channel_max) == rosinality_channels(r, m) for r in resolutions):
            return m
    return None


def _check_exportable(cfg: NetConfig, what: str, strict: bool) -> int | None:
    if isinstance(cfg, (v1.GeneratorConfig, v1.DiscriminatorConfig)):
        raise CheckpointError(
            f"{what}: StyleGAN (version 1) networks have no rosinality format (it holds StyleGAN2 only)"
        )
    problems = []
    if cfg.c_dim:
        problems.append("conditional networks (c_dim > 0)")
    if tuple(cfg.resample_filter) != (1, 3, 3, 1):
        problems.append(f"resample filter {list(cfg.resample_filter)}")
    if isinstance(cfg, GeneratorConfig):
        if cfg.architecture != "skip":
            problems.append(f"the {cfg.architecture!r} generator architecture (rosinality has 'skip' only)")
        if cfg.z_dim != cfg.w_dim or cfg.mapping_layer_features not in (None, cfg.w_dim):
            problems.append("z_dim, w_dim and mapping width must all be equal")
        if cfg.mapping_lr_multiplier != 0.01 or not cfg.use_noise:
            problems.append("mapping lr multiplier other than 0.01 or networks without noise")
    else:
        if cfg.architecture != "resnet":
            problems.append(f"the {cfg.architecture!r} discriminator architecture (rosinality has 'resnet' only)")
        if cfg.mbstd_group_size != 4 or cfg.mbstd_num_channels != 1:
            problems.append("minibatch-stddev settings other than group 4, 1 channel")
    if problems:
        raise CheckpointError(f"{what}: cannot be written in rosinality's layout: {'; '.join(problems)}")
    mult = channel_multiplier(cfg)
    if strict and (mult is None or cfg.img_channels != 3):
        raise CheckpointError(
            f"{what}: its channel counts or image channels match no rosinality channel_multiplier, so rosinality's "
            "classes (and pSp/e4e) could not rebuild it; only networks with rosinality's channel table can be exported"
        )
    if cfg.conv_clamp is not None:
        warnings.warn(
            f"{what}: conv_clamp={cfg.conv_clamp} is dropped in rosinality's layout (its code never clamps); "
            "outputs can differ where activations exceed the clamp",
            stacklevel=3,
        )
    return mult


def generator_to_rosinality(G: Generator) -> tuple[dict[str, Tensor], Tensor]:
    """Our generator as a rosinality `g_ema` state dict, plus `latent_avg`."""
    sd = {k: v.detach().cpu().float() for k, v in G.state_dict().items()}
    out: dict[str, Tensor] = {}
    for i in range(G.cfg.mapping_layers):
        out[f"style.{i + 1}.weight"] = sd[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = sd[f"mapping.fc{i}.bias"]
    out["input.input"] = sd["synthesis.b4.const"][None]

    def modconv(dst: str, src: str) -> None:
        out[f"{dst}.conv.weight"] = sd[f"{src}.weight"][None]
        out[f"{dst}.conv.modulation.weight"] = sd[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = sd[f"{src}.affine.bias"]

    def styled(dst: str, src: str, noise: int, up: bool) -> None:
        modconv(dst, src)
        if up:
            out[f"{dst}.conv.blur.kernel"] = _blur_kernel(4.0)
        out[f"{dst}.noise.weight"] = sd[f"{src}.noise_strength"].reshape(1)
        out[f"{dst}.activate.bias"] = sd[f"{src}.bias"]
        out[f"noises.noise_{noise}"] = sd[f"{src}.noise_const"][None, None]

    def torgb(dst: str, src: str, up: bool) -> None:
        if up:
            out[f"{dst}.upsample.kernel"] = _blur_kernel(4.0)
        modconv(dst, src)
        out[f"{dst}.bias"] = sd[f"{src}.bias"].reshape(1, -1, 1, 1)

    styled("conv1", "synthesis.b4.conv1", 0, up=False)
    torgb("to_rgb1", "synthesis.b4.torgb", up=False)
    for k, res in enumerate(G.synthesis.block_resolutions[1:]):
        styled(f"convs.{2 * k}", f"synthesis.b{res}.conv0", 2 * k + 1, up=True)
        styled(f"convs.{2 * k + 1}", f"synthesis.b{res}.conv1", 2 * k + 2, up=False)
        torgb(f"to_rgbs.{k}", f"synthesis.b{res}.torgb", up=True)
    return out, sd["mapping.w_avg"].clone()


def discriminator_to_rosinality(D: Discriminator) -> dict[str, Tensor]:
    """Our (resnet, unconditional) discriminator as a rosinality `d` state dict."""
    sd = {k: v.detach().cpu().float() for k, v in D.state_dict().items()}
    out: dict[str, Tensor] = {}

    def conv(dst: str, src: str) -> None:
        out[f"{dst}.0.weight"] = sd[f"{src}.weight"]
        out[f"{dst}.1.bias"] = sd[f"{src}.bias"]

    conv("convs.0", f"b{D.block_resolutions[0]}.fromrgb")
    for k, res in enumerate(D.block_resolutions, start=1):
        conv(f"convs.{k}.conv1", f"b{res}.conv0")
        out[f"convs.{k}.conv2.0.kernel"] = _blur_kernel(1.0)
        out[f"convs.{k}.conv2.1.weight"] = sd[f"b{res}.conv1.weight"]
        out[f"convs.{k}.conv2.2.bias"] = sd[f"b{res}.conv1.bias"]
        out[f"convs.{k}.skip.0.kernel"] = _blur_kernel(1.0)
        out[f"convs.{k}.skip.1.weight"] = sd[f"b{res}.skip.weight"]
    conv("final_conv", "b4.conv")
    for i, name in enumerate(("fc", "out")):
        out[f"final_linear.{i}.weight"] = sd[f"b4.{name}.weight"]
        out[f"final_linear.{i}.bias"] = sd[f"b4.{name}.bias"]
    return out


def to_rosinality(
    G_ema: Generator, G: Generator | None = None, D: AnyDiscriminator | None = None, *, strict: bool = True
) -> dict[str, Any]:
    """`{'g_ema', 'latent_avg'[, 'g', 'd']}` as rosinality's `convert_weight.py` writes it.

    `strict` requires channel counts that rosinality's own classes can rebuild (some `channel_multiplier`);
    pSp/e4e/GANSpace build those classes, so leave it on for files meant for them.
    """
    _check_exportable(G_ema.cfg, "G_ema", strict)
    g_ema, latent_avg = generator_to_rosinality(G_ema)
    out: dict[str, Any] = {"g_ema": g_ema, "latent_avg": latent_avg}
    if G is not None:
        _check_exportable(G.cfg, "G", strict)
        out["g"] = generator_to_rosinality(G)[0]
    if D is not None:
        _check_exportable(D.cfg, "D", strict)
        assert isinstance(D, Discriminator)
        out["d"] = discriminator_to_rosinality(D)
    return out
