"""NVIDIA StyleGAN2-ADA-PyTorch and StyleGAN3-repo network pickles (StyleGAN2 networks).

A snapshot is `{'G', 'D', 'G_ema', 'augment_pipe', 'training_set_kwargs'}` where each network is a
`torch_utils.persistence` record (see `safe_pickle`). Our modules use the same attribute names as NVIDIA's
`training/networks.py` (and the StyleGAN3 repository's `networks_stylegan2.py`), so the weights map key for
key; what needs care is the architecture, which we rebuild from the constructor arguments the record keeps:

- stylegan2-ada-pytorch: `Generator(z_dim, c_dim, w_dim, img_resolution, img_channels, mapping_kwargs={...},
  synthesis_kwargs={...})`;
- stylegan3 repo: the synthesis arguments are flattened to the top level (and its defaults differ:
  `conv_clamp=256`, `num_fp16_res=4`).

Plain attributes recorded on the sub-modules (`conv_clamp`, `architecture`, the minibatch-stddev group
size) are what NVIDIA's code actually ran with, so they take precedence over defaults. `num_fp16_res` is kept: the
networks run those blocks in float16 on CUDA devices, as NVIDIA's code does (float32 on a CPU).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import CheckpointError
from ...networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig
from . import (
    NET_NAMES,
    MappingTable,
    NetEntry,
    RawCheckpoint,
    as_bool,
    as_float,
    as_int,
    as_taps,
    check_tree,
    load_into,
    plain,
    short_repr,
)
from .safe_pickle import PersistentObject

FORMAT = "nvidia-pytorch"

_G_POSITIONAL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs", "synthesis_kwargs")
_D_POSITIONAL = (
    "c_dim",
    "img_resolution",
    "img_channels",
    "architecture",
    "channel_base",
    "channel_max",
    "num_fp16_res",
    "conv_clamp",
    "cmap_dim",
    "block_kwargs",
    "mapping_kwargs",
    "epilogue_kwargs",
)
# Arguments that only steer speed or memory layout (we pick our own convolution strategy and layout).
_HARMLESS = {"fp16_channels_last", "fused_modconv_default", "channels_last"}


class _Kwargs:
    """Constructor arguments being consumed; whatever is left at the end is reported as unknown."""

    def __init__(self, kwargs: Mapping[str, Any], *, where: str, what: str) -> None:
        self.kwargs = dict(kwargs)
        self.where = where
        self.what = what

    def pop(self, name: str, default: Any = None) -> Any:
        return self.kwargs.pop(name, default)

    def get_int(self, name: str, default: Any = None) -> Any:
        """The integer argument `name` (None stays None), checked for type."""
        value = self.kwargs.pop(name, default)
        return None if value is None else as_int(value, where=self.where, what=f"{self.what}.{name}")

    def get_float(self, name: str, default: Any = None) -> Any:
        """The numeric argument `name` as a float (None stays None), checked for type."""
        value = self.kwargs.pop(name, default)
        return None if value is None else as_float(value, where=self.where, what=f"{self.what}.{name}")

    def get_bool(self, name: str, default: bool) -> bool:
        """The true/false argument `name`, checked for type."""
        return as_bool(self.kwargs.pop(name, default), where=self.where, what=f"{self.what}.{name}")

    def get_taps(self, name: str) -> tuple[Any, ...]:
        """A resample filter argument, checked for type."""
        value = self.kwargs.pop(name, (1, 3, 3, 1))
        return as_taps(value, where=self.where, what=f"{self.what}.{name}")

    def sub(self, name: str) -> _Kwargs:
        value = self.kwargs.pop(name, None) or {}
        if not isinstance(value, Mapping):
            raise CheckpointError(f"{self.where}: {self.what}.{name} is not a dict")
        return _Kwargs(value, where=self.where, what=f"{self.what}.{name}")

    def activation(self) -> None:
        act = self.kwargs.pop("activation", "lrelu")
        if not isinstance(act, str) or act != "lrelu":
            raise CheckpointError(
                f"{self.where}: {self.what} uses activation {short_repr(act)}; only 'lrelu' is supported"
            )

    def done(self) -> None:
        for name in list(self.kwargs):
            if name in _HARMLESS:
                self.kwargs.pop(name)
        if self.kwargs:
            name = sorted(map(str, self.kwargs))[0]
            raise CheckpointError(
                f"{self.where}: unknown constructor argument {self.what}.{name}={short_repr(self.kwargs[name])}; "
                "this network variant is not supported"
            )


def _init_kwargs(rec: PersistentObject, positional: tuple[str, ...], *, where: str) -> dict[str, Any]:
    kwargs = dict(zip(positional, rec.init_args))
    if len(rec.init_args) > len(positional):
        raise CheckpointError(f"{where}: unexpected positional constructor arguments")
    kwargs.update(plain_tree(rec.init_kwargs, where=where))
    return kwargs


def plain_tree(value: Any, *, where: str = "network record") -> Any:
    """Nested EasyDicts -> dicts, lists -> tuples kept as lists (constructor arguments as plain values).

    The structure is checked first (`check_tree`): one that refers to itself, nests too deeply or expands beyond
    `MAX_TREE_NODES` values through shared references is refused with a `CheckpointError` naming `where`."""
    check_tree(value, where=where, what="the constructor arguments")
    return _plain_tree(value)


def _plain_tree(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_tree(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


def _is_stylegan3(rec: PersistentObject) -> bool:
    synthesis = rec.find("synthesis")
    if synthesis is not None and ("input" in synthesis.modules or any(n.startswith("L") for n in synthesis.modules)):
        return True
    kwargs = rec.init_kwargs
    return any(k in kwargs for k in ("magnitude_ema_beta", "conv_kernel", "use_radial_filters", "num_critical"))


def _attr_or(rec: PersistentObject | None, name: str, fallback: Any) -> Any:
    """The attribute NVIDIA's module ran with, when recorded; otherwise `fallback`."""
    if rec is not None and name in rec.state:
        value = rec.state[name]
        return value.item() if hasattr(value, "item") else value
    return fallback


def generator_config(rec: PersistentObject, *, where: str) -> tuple[GeneratorConfig, str]:
    """Our `GeneratorConfig` from a pickled NVIDIA Generator, and the layout name ('ada' or 'sg3')."""
    if rec.class_name.rsplit(".", 1)[-1] != "Generator":
        raise CheckpointError(f"{where}: expected a Generator, found class {rec.class_name!r}")
    if _is_stylegan3(rec):
        raise CheckpointError(
            f"{where}: this is a StyleGAN3 network (networks_stylegan3.py); StyleGAN3 networks are not supported yet "
            "(StyleGAN2 networks from the same repository are)"
        )
    kw = _Kwargs(_init_kwargs(rec, _G_POSITIONAL, where=where), where=where, what="G")
    layout = "ada" if "synthesis_kwargs" in kw.kwargs else "sg3"
    cfg: dict[str, Any] = {name: kw.pop(name) for name in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")}
    missing = [k for k, v in cfg.items() if v is None]
    if missing:
        raise CheckpointError(f"{where}: the Generator record has no {missing[0]}; the file is damaged")

    mapping = kw.sub("mapping_kwargs")
    cfg["mapping_layers"] = mapping.pop("num_layers", 8)
    cfg["mapping_embed_features"] = mapping.pop("embed_features", None)
    cfg["mapping_layer_features"] = mapping.pop("layer_features", None)
    cfg["mapping_lr_multiplier"] = mapping.get_float("lr_multiplier", 0.01)
    cfg["w_avg_beta"] = mapping.pop("w_avg_beta", 0.995)
    mapping.activation()
    mapping.done()

    synth = kw.sub("synthesis_kwargs") if layout == "ada" else kw
    cfg["channel_base"] = synth.get_int("channel_base", 32768)
    cfg["channel_max"] = synth.get_int("channel_max", 512)
    cfg["num_fp16_res"] = synth.get_int("num_fp16_res", 0 if layout == "ada" else 4)
    clamp = synth.pop("conv_clamp", None if layout == "ada" else 256)
    cfg["architecture"] = synth.pop("architecture", "skip")
    cfg["resample_filter"] = synth.get_taps("resample_filter")
    cfg["use_noise"] = synth.get_bool("use_noise", True)
    if synth.pop("kernel_size", 3) != 3:
        raise CheckpointError(f"{where}: only 3x3 synthesis convolutions are supported")
    synth.activation()
    synth.done()
    if layout == "ada":
        kw.done()

    # What the modules actually ran with wins over defaults (the two repositories' defaults differ).
    layer = rec.find("synthesis.b4.conv1")
    clamp = _attr_or(layer, "conv_clamp", clamp)
    cfg["conv_clamp"] = as_float(clamp, where=where, what="conv_clamp") if clamp is not None else None
    cfg["architecture"] = _attr_or(rec.find("synthesis.b4"), "architecture", cfg["architecture"])
    try:
        return GeneratorConfig(**cfg), layout
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{where}: unsupported Generator settings ({err})") from None


def discriminator_config(rec: PersistentObject, *, where: str, layout: str = "ada") -> DiscriminatorConfig:
    """Our `DiscriminatorConfig` from a pickled NVIDIA Discriminator (`layout` picks the repository's defaults:
    the stylegan3 repository clamps at 256 unless told otherwise)."""
    if rec.class_name.rsplit(".", 1)[-1] != "Discriminator":
        raise CheckpointError(f"{where}: expected a Discriminator, found class {rec.class_name!r}")
    kw = _Kwargs(_init_kwargs(rec, _D_POSITIONAL, where=where), where=where, what="D")
    cfg: dict[str, Any] = {name: kw.pop(name) for name in ("c_dim", "img_resolution", "img_channels")}
    if any(v is None for v in cfg.values()):
        raise CheckpointError(f"{where}: the Discriminator record lacks c_dim/img_resolution/img_channels")
    cfg["architecture"] = kw.pop("architecture", "resnet")
    cfg["channel_base"] = kw.get_int("channel_base", 32768)
    cfg["channel_max"] = kw.get_int("channel_max", 512)
    cfg["num_fp16_res"] = kw.get_int("num_fp16_res", 0 if layout == "ada" else 4)
    clamp = kw.pop("conv_clamp", None if layout == "ada" else 256)
    cfg["cmap_dim"] = kw.pop("cmap_dim", None)

    block = kw.sub("block_kwargs")
    cfg["resample_filter"] = block.get_taps("resample_filter")
    cfg["freeze_layers"] = block.get_int("freeze_layers", 0)
    block.activation()
    block.done()

    mapping = kw.sub("mapping_kwargs")
    cfg["mapping_layers"] = mapping.pop("num_layers", 8)
    cfg["mapping_lr_multiplier"] = mapping.get_float("lr_multiplier", 0.01)
    for name in ("embed_features", "layer_features"):
        value = mapping.pop(name, None)
        if value is not None and value != (cfg["cmap_dim"] or value):
            raise CheckpointError(f"{where}: D mapping {name}={value} different from cmap_dim is not supported")
    mapping.activation()
    mapping.done()

    epilogue = kw.sub("epilogue_kwargs")
    cfg["mbstd_group_size"] = epilogue.pop("mbstd_group_size", 4)
    cfg["mbstd_num_channels"] = epilogue.get_int("mbstd_num_channels", 1)
    epilogue.activation()
    epilogue.done()
    kw.done()

    epi = rec.find("b4")
    clamp = _attr_or(rec.find("b4.conv"), "conv_clamp", clamp)
    cfg["conv_clamp"] = as_float(clamp, where=where, what="conv_clamp") if clamp is not None else None
    cfg["architecture"] = _attr_or(epi, "architecture", cfg["architecture"])
    cfg["mbstd_group_size"] = _attr_or(rec.find("b4.mbstd"), "group_size", cfg["mbstd_group_size"])
    try:
        return DiscriminatorConfig(**cfg)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{where}: unsupported Discriminator settings ({err})") from None


def _builder(rec: PersistentObject, cfg: GeneratorConfig | DiscriminatorConfig, *, where: str) -> NetEntry:
    def build() -> Generator | Discriminator:
        net = Generator(cfg) if isinstance(cfg, GeneratorConfig) else Discriminator(cfg)
        # Same names on both sides: the table is the identity, but still proves every tensor has its place.
        table = MappingTable(rec.state_dict(where=where), net.state_dict(), where=where)
        for key in list(table.source):
            table.copy(key, key)
        load_into(net, table.finish(), where=where)
        return net

    return NetEntry(cfg, build)


def read(data: Any, *, path: str) -> RawCheckpoint:
    """A `RawCheckpoint` from an unpickled NVIDIA snapshot dict (or a bare pickled Generator)."""
    if isinstance(data, PersistentObject):
        data = {"G_ema": data}
    if not isinstance(data, dict) or not any(isinstance(data.get(k), PersistentObject) for k in NET_NAMES):
        raise CheckpointError(f"{path}: a pickle, but not an NVIDIA network pickle (no G, G_ema or D networks)")
    nets: dict[str, NetEntry] = {}
    layouts = set()
    for name in NET_NAMES:  # generators first: their layout tells which repository's defaults D had
        rec = data.get(name)
        if rec is None:
            continue
        where = f"{path} [{name}]"
        if not isinstance(rec, PersistentObject):
            raise CheckpointError(f"{where}: expected a network, found a {type(rec).__name__}")
        if name.startswith("G"):
            gcfg, layout = generator_config(rec, where=where)
            layouts.add(layout)
            nets[name] = _builder(rec, gcfg, where=where)
        else:
            layout = "sg3" if "sg3" in layouts else "ada"
            nets[name] = _builder(rec, discriminator_config(rec, where=where, layout=layout), where=where)
    layout = "sg3" if "sg3" in layouts else "ada"
    metadata: dict[str, Any] = {
        "layout": "stylegan3 repository (networks_stylegan2.py)" if layout == "sg3" else "stylegan2-ada-pytorch"
    }
    if isinstance(data.get("training_set_kwargs"), dict):
        metadata["training_set_kwargs"] = plain(data["training_set_kwargs"], where=path, what="training_set_kwargs")
    if data.get("augment_pipe") is not None:
        metadata["augment_pipe"] = "present (not loaded)"
    for key, value in data.items():
        if key not in (*NET_NAMES, "training_set_kwargs", "augment_pipe") and not isinstance(value, PersistentObject):
            name = str(plain(key, where=path, what="a metadata key"))
            metadata[name] = plain(value, where=path, what=f"metadata {short_repr(name)}")
    return RawCheckpoint(f"{FORMAT}/{layout}", nets, metadata)
