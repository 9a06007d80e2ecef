"""NVIDIA TensorFlow StyleGAN2 (and StyleGAN2-ADA TF) network pickles, read without TensorFlow.

The file is `pickle.dump((G, D, Gs))` of `dnnlib.tflib.network.Network` objects; each keeps its
constructor arguments (`static_kwargs`), its own variables as numpy arrays and its sub-networks
(`components`: `mapping`, `synthesis`). We collect the variables under component-prefixed names
(`mapping/Dense0/weight`, `synthesis/8x8/Conv0_up/weight`) and move them with one mapping table per network.

Conversion rules (TF stores weights unscaled, like us, so only layouts change):

- dense weights are [in, out] -> transpose; conv weights are [kh, kw, in, out] -> [out, in, kh, kw];
- the up-sampling convolutions (`Conv0_up`) and the generator's `Skip` are transposed convolutions in TF:
  their kernels are flipped spatially as well;
- TF adds 1 to the style bias at run time (`mod_bias + 1`); we store the biased value;
- `noise{k}` [1, 1, r, r] -> `noise_const` [r, r] with k = 2*log2(r) - 5 for conv0, 2*log2(r) - 4 for conv1;
- `dlatent_avg` -> `mapping.w_avg`; TF's `fmap_base` is half our `channel_base`.

StyleGAN (v1) networks (build functions `G_style`, `D_basic`) are read by `nvidia_tf_v1`. StyleGAN2's
progressive-growing configurations B-D (`ToRGB_lod*`) and conditional TF StyleGAN2 networks (`LabelConcat`) are
refused with a clear message.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ...errors import CheckpointError
from ...networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig, stylegan2_config
from . import (
    MappingTable,
    NetEntry,
    RawCheckpoint,
    as_bool,
    as_float,
    as_int,
    as_taps,
    check_tree,
    load_into,
    log2_exact,
    short_repr,
)
from .safe_pickle import TFNetworkStub

FORMAT = "nvidia-tf"

_G_IGNORED_KWARGS = {
    "truncation_psi",
    "truncation_cutoff",
    "truncation_psi_val",
    "truncation_cutoff_val",
    "style_mixing_prob",
    "structure",
    "dtype",
    "randomize_noise",
    "fused_modconv",
    "is_template_graph",
    "dlatent_avg_beta",
    "normalize_latents",
}
_D_IGNORED_KWARGS = {"structure", "dtype", "is_template_graph"}


def collect_variables(
    net: TFNetworkStub, *, where: str, prefix: str = "", depth: int = 0, seen: set[int] | None = None
) -> dict[str, Tensor]:
    """All variables of a TF network and its components, named `component/.../variable`, as float32 tensors."""
    if depth > 8:
        raise CheckpointError(f"{where}: sub-networks nested too deeply")
    seen = set() if seen is None else seen
    if id(net) in seen:  # walking shared sub-networks again could take forever
        raise CheckpointError(f"{where}: sub-network {prefix.rstrip('/')} appears twice; the file is damaged")
    seen.add(id(net))
    out: dict[str, Tensor] = {}
    for name, value in net.variables:
        if isinstance(value, (np.ndarray, np.generic)):
            dtype = str(value.dtype) if value.dtype.kind != "f" else None
        else:
            dtype = None if isinstance(value, float) else type(value).__name__
        if dtype is not None:
            raise CheckpointError(
                f"{where}: variable {prefix}{name} holds {dtype}; network weights are floating point: the file is "
                "damaged"
            )
        array = np.asarray(value, dtype=np.float32)
        out[prefix + name] = torch.from_numpy(array.copy())
    for comp_name, comp in net.components.items():
        out.update(collect_variables(comp, where=where, prefix=f"{prefix}{comp_name}/", depth=depth + 1, seen=seen))
    return out


class _TFKwargs:
    def __init__(self, kwargs: dict[str, Any], *, where: str, ignored: set[str]) -> None:
        check_tree(kwargs, where=where, what="static_kwargs")
        self.kwargs = {
            str(k): (v.item() if hasattr(v, "item") and getattr(v, "ndim", 1) == 0 else v) for k, v in kwargs.items()
        }
        self.where = where
        self.ignored = ignored
        self.seen: set[str] = set()

    def get(self, name: str, default: Any = None) -> Any:
        self.seen.add(name)
        value = self.kwargs.get(name, default)
        return default if value is None else value

    def get_raw(self, name: str, default: Any = None) -> Any:
        """The argument `name` as stored, None included (where None means something, e.g. no blur)."""
        self.seen.add(name)
        return self.kwargs.get(name, default)

    def get_int(self, name: str, default: Any = None) -> Any:
        """The integer argument `name` (None when absent and no default), checked for type."""
        value = self.get(name, default)
        return None if value is None else as_int(value, where=self.where, what=name)

    def get_float(self, name: str, default: Any = None) -> Any:
        """The numeric argument `name` as a float (None when absent and no default), checked for type."""
        value = self.get(name, default)
        return None if value is None else as_float(value, where=self.where, what=name)

    def done(self) -> None:
        if self.get("nonlinearity", "lrelu") != "lrelu" or self.get("mapping_nonlinearity", "lrelu") != "lrelu":
            raise CheckpointError(f"{self.where}: only the 'lrelu' nonlinearity is supported")
        if self.get_int("fmap_min", 1) != 1 or self.get_float("fmap_decay", 1.0) != 1.0:
            raise CheckpointError(f"{self.where}: fmap_min/fmap_decay other than 1 are not supported")
        unknown = sorted(set(self.kwargs) - self.seen - self.ignored)
        if unknown:
            raise CheckpointError(
                f"{self.where}: unknown TF network argument {unknown[0]}={short_repr(self.kwargs[unknown[0]])}; "
                "this network variant is not supported"
            )


def _check_network(net: TFNetworkStub, *, where: str, kind: str) -> None:
    if net.version < 4:
        raise CheckpointError(
            f"{where}: TF network pickle version {net.version} built by {net.build_func_name or 'an unknown function'}"
            "; expected a StyleGAN (G_style, D_basic) or StyleGAN2 network"
        )


# Weight layouts: TF -> ours.
def _dense(w: Tensor) -> Tensor:
    return w.t()


def _conv(w: Tensor) -> Tensor:
    return w.permute(3, 2, 0, 1)


def _conv_flipped(w: Tensor) -> Tensor:
    return w.flip(0, 1).permute(3, 2, 0, 1)


def _plus_one(b: Tensor) -> Tensor:
    return b + 1


def generator_config(net: TFNetworkStub, variables: dict[str, Tensor], *, where: str) -> GeneratorConfig:
    """Our GeneratorConfig from a TF generator's static kwargs (cross-checked against variable shapes)."""
    _check_network(net, where=where, kind="G")
    if any(k.startswith("synthesis/ToRGB_lod") or "/ToRGB_lod" in k for k in variables):
        raise CheckpointError(
            f"{where}: progressive-growing TF networks (configs A-D, ToRGB_lod*) are not supported; use config E/F"
        )
    if "mapping/LabelConcat/weight" in variables:
        raise CheckpointError(f"{where}: conditional TF StyleGAN2 networks (LabelConcat) are not supported")
    kw = _TFKwargs(net.static_kwargs, where=where, ignored=_G_IGNORED_KWARGS)
    mapping_layers = kw.get_int("mapping_layers", 8)
    layer_features = kw.get_int("mapping_fmaps", None)
    if layer_features is None and mapping_layers > 1 and "mapping/Dense0/weight" in variables:
        layer_features = int(variables["mapping/Dense0/weight"].shape[1])
    w_avg_beta = kw.get("w_avg_beta", 0.995)
    cfg = dict(
        z_dim=kw.get_int("latent_size", 512),
        c_dim=kw.get_int("label_size", 0),
        w_dim=kw.get_int("dlatent_size", 512),
        img_resolution=kw.get_int("resolution", 1024),
        img_channels=kw.get_int("num_channels", 3),
        mapping_layers=mapping_layers,
        mapping_embed_features=kw.get_int("label_fmaps", None),
        mapping_layer_features=layer_features,
        mapping_lr_multiplier=kw.get_float("mapping_lrmul", 0.01),
        w_avg_beta=as_float(w_avg_beta, where=where, what="w_avg_beta"),
        channel_base=kw.get_int("fmap_base", 16384) * 2,
        channel_max=kw.get_int("fmap_max", 512),
        conv_clamp=kw.get("conv_clamp", None),
        num_fp16_res=kw.get_int("num_fp16_res", 0),  # StyleGAN2-ADA's TensorFlow code records it
        architecture=kw.get("architecture", "skip"),
        resample_filter=as_taps(kw.get("resample_kernel", (1, 3, 3, 1)), where=where, what="resample_kernel"),
        use_noise=as_bool(kw.get("use_noise", True), where=where, what="use_noise"),
    )
    kw.done()
    if cfg["mapping_layer_features"] == cfg["w_dim"]:
        cfg["mapping_layer_features"] = None
    if cfg["conv_clamp"] is not None:
        cfg["conv_clamp"] = as_float(cfg["conv_clamp"], where=where, what="conv_clamp")
    try:
        return GeneratorConfig(**cfg)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{where}: unsupported generator settings ({err})") from None


def _synthesis_layer(t: MappingTable, src: str, dst: str, noise: str | None, *, flip: bool) -> None:
    t.copy(f"{src}/weight", f"{dst}.weight", _conv_flipped if flip else _conv)
    t.copy(f"{src}/bias", f"{dst}.bias")
    t.copy(f"{src}/mod_weight", f"{dst}.affine.weight", _dense)
    t.copy(f"{src}/mod_bias", f"{dst}.affine.bias", _plus_one)
    if noise is not None and t.has(f"{src}/noise_strength"):
        t.copy(f"{src}/noise_strength", f"{dst}.noise_strength", lambda x: x.reshape(()))
        t.copy(noise, f"{dst}.noise_const", lambda x: x[0, 0])


def generator_table(variables: dict[str, Tensor], G: Generator, *, where: str) -> dict[str, Tensor]:
    """Move a TF generator's variables into our Generator's state dict (every tensor accounted for)."""
    cfg = stylegan2_config(G)
    t = MappingTable(
        variables,
        G.state_dict(),
        where=where,
        ignore_source=[r"lod", r"synthesis/lod"],
        ignore_target=[r".*resample_filter"],
    )
    if cfg.w_avg_beta is not None:
        t.copy("dlatent_avg", "mapping.w_avg")
    if cfg.c_dim > 0:
        t.copy("mapping/LabelEmbed/weight", "mapping.embed.weight", _dense)
        t.copy("mapping/LabelEmbed/bias", "mapping.embed.bias")
    for i in range(cfg.mapping_layers):
        t.copy(f"mapping/Dense{i}/weight", f"mapping.fc{i}.weight", _dense)
        t.copy(f"mapping/Dense{i}/bias", f"mapping.fc{i}.bias")
    s = "synthesis"
    t.copy(f"{s}/4x4/Const/const", "synthesis.b4.const", lambda x: x[0])
    _synthesis_layer(t, f"{s}/4x4/Conv", "synthesis.b4.conv1", f"{s}/noise0", flip=False)
    log2_res = log2_exact(cfg.img_resolution, where=where, what="resolution")
    for res in (2**i for i in range(2, log2_res + 1)):
        log2 = res.bit_length() - 1
        if res > 4:
            _synthesis_layer(
                t, f"{s}/{res}x{res}/Conv0_up", f"synthesis.b{res}.conv0", f"{s}/noise{2 * log2 - 5}", flip=True
            )
            _synthesis_layer(
                t, f"{s}/{res}x{res}/Conv1", f"synthesis.b{res}.conv1", f"{s}/noise{2 * log2 - 4}", flip=False
            )
            if cfg.architecture == "resnet":
                t.copy(f"{s}/{res}x{res}/Skip/weight", f"synthesis.b{res}.skip.weight", _conv_flipped)
        if cfg.architecture == "skip" or res == cfg.img_resolution:
            src, dst = f"{s}/{res}x{res}/ToRGB", f"synthesis.b{res}.torgb"
            t.copy(f"{src}/weight", f"{dst}.weight", _conv)
            t.copy(f"{src}/bias", f"{dst}.bias")
            t.copy(f"{src}/mod_weight", f"{dst}.affine.weight", _dense)
            t.copy(f"{src}/mod_bias", f"{dst}.affine.bias", _plus_one)
    return t.finish()


def discriminator_config(net: TFNetworkStub, variables: dict[str, Tensor], *, where: str) -> DiscriminatorConfig:
    """Our DiscriminatorConfig from a TF discriminator's static kwargs."""
    _check_network(net, where=where, kind="D")
    if any(k.startswith("FromRGB_lod") for k in variables):
        raise CheckpointError(f"{where}: progressive-growing TF discriminators (FromRGB_lod*) are not supported")
    kw = _TFKwargs(net.static_kwargs, where=where, ignored=_D_IGNORED_KWARGS)
    cmap = kw.get("mapping_fmaps", None)
    group = kw.get("mbstd_group_size", 4)  # TF's own default (NVIDIA's converter assumes None = whole batch)
    cfg = dict(
        c_dim=kw.get_int("label_size", 0),
        img_resolution=kw.get_int("resolution", 1024),
        img_channels=kw.get_int("num_channels", 3),
        architecture=kw.get("architecture", "resnet"),
        channel_base=kw.get_int("fmap_base", 16384) * 2,
        channel_max=kw.get_int("fmap_max", 512),
        conv_clamp=kw.get("conv_clamp", None),
        num_fp16_res=kw.get_int("num_fp16_res", 0),  # StyleGAN2-ADA's TensorFlow code records it
        cmap_dim=as_int(cmap, where=where, what="mapping_fmaps") if cmap is not None else None,
        mbstd_group_size=as_int(group, where=where, what="mbstd_group_size") if group else None,
        mbstd_num_channels=kw.get_int("mbstd_num_features", 1),
        mapping_layers=kw.get_int("mapping_layers", 0),
        mapping_lr_multiplier=kw.get_float("mapping_lrmul", 0.1),
        freeze_layers=kw.get_int("freeze_layers", 0),
        resample_filter=as_taps(kw.get("resample_kernel", (1, 3, 3, 1)), where=where, what="resample_kernel"),
    )
    kw.done()
    if cfg["conv_clamp"] is not None:
        cfg["conv_clamp"] = as_float(cfg["conv_clamp"], where=where, what="conv_clamp")
    try:
        return DiscriminatorConfig(**cfg)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{where}: unsupported discriminator settings ({err})") from None


def discriminator_table(variables: dict[str, Tensor], D: Discriminator, *, where: str) -> dict[str, Tensor]:
    """Move a TF discriminator's variables into our Discriminator's state dict."""
    cfg = D.cfg
    t = MappingTable(
        variables, D.state_dict(), where=where, ignore_source=[r"lod"], ignore_target=[r".*resample_filter"]
    )

    def conv(src: str, dst: str, bias: bool = True) -> None:
        t.copy(f"{src}/weight", f"{dst}.weight", _conv)
        if bias:
            t.copy(f"{src}/bias", f"{dst}.bias")

    for res in D.block_resolutions:
        if res == cfg.img_resolution or cfg.architecture == "skip":
            conv(f"{res}x{res}/FromRGB", f"b{res}.fromrgb")
        conv(f"{res}x{res}/Conv0", f"b{res}.conv0")
        conv(f"{res}x{res}/Conv1_down", f"b{res}.conv1")
        if cfg.architecture == "resnet":
            conv(f"{res}x{res}/Skip", f"b{res}.skip", bias=False)
    if cfg.architecture == "skip":
        conv("4x4/FromRGB", "b4.fromrgb")
    conv("4x4/Conv", "b4.conv")
    t.copy("4x4/Dense0/weight", "b4.fc.weight", _dense)
    t.copy("4x4/Dense0/bias", "b4.fc.bias")
    t.copy("Output/weight", "b4.out.weight", _dense)
    t.copy("Output/bias", "b4.out.bias")
    if cfg.c_dim > 0:
        t.copy("LabelEmbed/weight", "mapping.embed.weight", _dense)
        t.copy("LabelEmbed/bias", "mapping.embed.bias")
        for i in range(cfg.mapping_layers):
            t.copy(f"Mapping{i}/weight", f"mapping.fc{i}.weight", _dense)
            t.copy(f"Mapping{i}/bias", f"mapping.fc{i}.bias")
    return t.finish()


def _entry(net: TFNetworkStub, *, where: str, kind: str) -> NetEntry:
    from . import nvidia_tf_v1

    if nvidia_tf_v1.is_v1(net):
        return nvidia_tf_v1.entry(net, where=where, kind=kind)
    variables = collect_variables(net, where=where)
    if kind == "G":
        gcfg = generator_config(net, variables, where=where)

        def build_generator() -> Generator:
            G = Generator(gcfg)
            return load_into(G, generator_table(variables, G, where=where), where=where)

        return NetEntry(gcfg, build_generator)
    dcfg = discriminator_config(net, variables, where=where)

    def build_discriminator() -> Discriminator:
        D = Discriminator(dcfg)
        return load_into(D, discriminator_table(variables, D, where=where), where=where)

    return NetEntry(dcfg, build_discriminator)


def is_tf_pickle(data: Any) -> bool:
    """Whether an unpickled object is TF StyleGAN's (G, D, Gs) tuple (or a single TF network)."""
    if isinstance(data, TFNetworkStub):
        return True
    return isinstance(data, tuple) and len(data) > 0 and all(isinstance(n, TFNetworkStub) for n in data)


def read(data: Any, *, path: str) -> RawCheckpoint:
    """A `RawCheckpoint` from an unpickled TF pickle: (G, D, Gs) -> G, D, G_ema."""
    if isinstance(data, TFNetworkStub):
        data = (data,)
    if len(data) == 3:
        named = {"G_ema": data[2], "G": data[0], "D": data[1]}
    elif len(data) == 1:
        named = {"G_ema": data[0]}
    else:
        raise CheckpointError(f"{path}: a TF pickle with {len(data)} networks; expected (G, D, Gs)")
    nets = {
        name: _entry(net, where=f"{path} [{name}]", kind="D" if name == "D" else "G") for name, net in named.items()
    }
    metadata = {"tf_network_names": {name: net.name for name, net in named.items()}}
    return RawCheckpoint(FORMAT, nets, metadata)
