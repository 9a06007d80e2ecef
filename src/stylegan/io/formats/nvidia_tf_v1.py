"""NVIDIA's TensorFlow StyleGAN (version 1) networks, read without TensorFlow and without running the file's code.

The pickle is `(G, D, Gs)` of `dnnlib.tflib.network.Network`, as for StyleGAN2 (see `nvidia_tf`); what makes a
network version 1 is its build function, `G_style` (with components `G_mapping` and `G_synthesis`) or `D_basic`,
whatever the pickle's version number (the StyleGAN2 repository writes version 4 for its config-a, which is
`G_style` too). Conversion rules:

- dense weights [in, out] -> [out, in]; convolutions [kh, kw, in, out] -> [out, in, kh, kw], never flipped: the
  fused up-sampling layers are computed as TF computes them (a transposed convolution of the 4-shift kernel);
- the style (`StyleMod`) bias is copied as stored: AdaIN adds the 1 at run time;
- `noise{i}` [1, 1, r, r] -> the `noise_const` [r, r] of layer i, `Noise/weight` [C] -> `noise_weight`;
- `ToRGB_lod{k}` / `FromRGB_lod{k}` belong to resolution R / 2^k;
- `dlatent_avg` -> `mapping.w_avg`; G's own `lod` -> `synthesis.lod` (what G_style feeds its synthesis network),
  D's `lod` -> `lod`; `fmap_base` is half our `channel_base`.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ...errors import CheckpointError
from ...networks import Generator, v1
from . import MappingTable, NetEntry, as_bool, as_float, as_taps, load_into, log2_exact
from .nvidia_tf import _conv, _dense, _TFKwargs, collect_variables
from .safe_pickle import TFNetworkStub

GENERATOR_BUILDERS = ("G_style",)
DISCRIMINATOR_BUILDERS = ("D_basic",)

_IGNORED = {
    # G_style: truncation and training switches (the default cutoff is read separately)
    "truncation_psi",
    "truncation_psi_val",
    "truncation_cutoff_val",
    "style_mixing_prob",
    "is_training",
    "is_validation",
    "is_template_graph",
    "force_clean_graph",
    "randomize_noise",
    "dlatent_broadcast",
    "dtype",
    "structure",  # read from the variables: ToRGB_lod1 exists only in progressive networks
}


def is_v1(net: TFNetworkStub) -> bool:
    """Whether a TF network was built by StyleGAN (v1)'s `G_style` or `D_basic`."""
    return net.build_func_name in GENERATOR_BUILDERS + DISCRIMINATOR_BUILDERS


def _kwargs(net: TFNetworkStub, *, where: str) -> _TFKwargs:
    merged: dict[str, Any] = dict(net.static_kwargs)
    for comp in net.components.values():  # the components' own arguments win (G_style forwards them)
        merged.update(comp.static_kwargs)
    kw = _TFKwargs(merged, where=where, ignored=_IGNORED)
    if not as_bool(kw.get("use_wscale", True), where=where, what="use_wscale"):
        raise CheckpointError(f"{where}: networks trained without the equalised learning rate are not supported")
    return kw


def _fused(value: Any, *, where: str) -> v1.config.FusedScale:
    if value == "auto" or isinstance(value, bool):
        return value
    return as_bool(value, where=where, what="fused_scale")


def _blur(value: Any, *, where: str) -> tuple[float, ...] | None:
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        return None  # no blur
    return tuple(as_taps(value, where=where, what="blur_filter"))


def _structure(variables: dict[str, Tensor], prefix: str, rgb: str) -> v1.config.Structure:
    return "linear" if f"{prefix}{rgb}_lod1/weight" in variables else "fixed"


def generator_config(net: TFNetworkStub, variables: dict[str, Tensor], *, where: str) -> v1.GeneratorConfig:
    """Our v1 GeneratorConfig from a TF `G_style` network's arguments (cross-checked with its variables)."""
    kw = _kwargs(net, where=where)
    layers = kw.get_int("mapping_layers", 8)
    width = kw.get_int("mapping_fmaps", 512)
    if layers > 1 and "mapping/Dense0/weight" in variables:  # the width the weights have
        width = int(variables["mapping/Dense0/weight"].shape[1])
    w_dim = kw.get_int("dlatent_size", 512)
    cutoff = kw.get("truncation_cutoff", 8)
    cfg: dict[str, Any] = dict(
        z_dim=kw.get_int("latent_size", 512),
        c_dim=kw.get_int("label_size", 0),
        w_dim=w_dim,
        img_resolution=kw.get_int("resolution", 1024),
        img_channels=kw.get_int("num_channels", 3),
        mapping_layers=layers,
        mapping_layer_features=None if width == w_dim or layers <= 1 else width,
        mapping_lr_multiplier=kw.get_float("mapping_lrmul", 0.01),
        normalize_latents=as_bool(kw.get("normalize_latents", True), where=where, what="normalize_latents"),
        w_avg_beta=kw.get_float("dlatent_avg_beta", 0.995),
        truncation_cutoff=int(as_float(cutoff, where=where, what="truncation_cutoff")),
        channel_base=kw.get_int("fmap_base", 8192) * 2,
        channel_max=kw.get_int("fmap_max", 512),
        use_styles=as_bool(kw.get("use_styles", True), where=where, what="use_styles"),
        const_input_layer=as_bool(kw.get("const_input_layer", True), where=where, what="const_input_layer"),
        use_noise=as_bool(kw.get("use_noise", True), where=where, what="use_noise"),
        use_pixel_norm=as_bool(kw.get("use_pixel_norm", False), where=where, what="use_pixel_norm"),
        use_instance_norm=as_bool(kw.get("use_instance_norm", True), where=where, what="use_instance_norm"),
        fused_scale=_fused(kw.get("fused_scale", "auto"), where=where),
        blur_filter=_blur(kw.get_raw("blur_filter", [1, 2, 1]), where=where),
        structure=_structure(variables, "synthesis/", "ToRGB"),
    )
    kw.done()
    try:
        return v1.GeneratorConfig(**cfg)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{where}: unsupported StyleGAN (v1) generator settings ({err})") from None


def _layer(t: MappingTable, cfg: v1.GeneratorConfig, src: str, dst: str, noise: str, *, conv: bool = True) -> None:
    """One synthesis layer: [conv weight], then the epilogue's noise strength, bias and style."""
    if conv:
        t.copy(f"{src}/weight", f"{dst}.weight", _conv)
    if cfg.use_noise:
        t.copy(f"{src}/Noise/weight", f"{dst}.noise_weight")
        t.copy(noise, f"{dst}.noise_const", lambda x: x.reshape(x.shape[-2:]))
    t.copy(f"{src}/bias", f"{dst}.bias")
    if cfg.use_styles:
        t.copy(f"{src}/StyleMod/weight", f"{dst}.affine.weight", _dense)
        t.copy(f"{src}/StyleMod/bias", f"{dst}.affine.bias")


def generator_table(variables: dict[str, Tensor], G: Generator, *, where: str) -> dict[str, Tensor]:
    """Move a TF `G_style` network's variables into our v1 Generator's state dict (every tensor accounted for)."""
    cfg = G.cfg
    assert isinstance(cfg, v1.GeneratorConfig)
    t = MappingTable(
        variables, G.state_dict(), where=where, ignore_source=[r"synthesis/lod", r"mapping/lod"], ignore_target=[]
    )
    t.copy("lod", "synthesis.lod", lambda x: x.reshape(()))
    if cfg.w_avg_beta is not None:
        t.copy("dlatent_avg", "mapping.w_avg")
    elif t.has("dlatent_avg"):
        t.skip("dlatent_avg")
    if cfg.c_dim > 0:
        t.copy("mapping/LabelConcat/weight", "mapping.embed.weight", _dense)
    for i in range(cfg.mapping_layers):
        t.copy(f"mapping/Dense{i}/weight", f"mapping.fc{i}.weight", _dense)
        t.copy(f"mapping/Dense{i}/bias", f"mapping.fc{i}.bias")
    s = "synthesis"
    if cfg.const_input_layer:
        t.copy(f"{s}/4x4/Const/const", "synthesis.b4.const", lambda x: x[0])
        _layer(t, cfg, f"{s}/4x4/Const", "synthesis.b4.conv0", f"{s}/noise0", conv=False)
    else:
        t.copy(f"{s}/4x4/Dense/weight", "synthesis.b4.dense.weight", _dense)
        _layer(t, cfg, f"{s}/4x4/Dense", "synthesis.b4.conv0", f"{s}/noise0", conv=False)
    _layer(t, cfg, f"{s}/4x4/Conv", "synthesis.b4.conv1", f"{s}/noise1")
    log2_res = log2_exact(cfg.img_resolution, where=where, what="resolution")
    for log2 in range(3, log2_res + 1):
        res = 2**log2
        _layer(t, cfg, f"{s}/{res}x{res}/Conv0_up", f"synthesis.b{res}.conv0", f"{s}/noise{2 * log2 - 4}")
        _layer(t, cfg, f"{s}/{res}x{res}/Conv1", f"synthesis.b{res}.conv1", f"{s}/noise{2 * log2 - 3}")
    for log2 in range(2, log2_res + 1):
        if cfg.structure == "linear" or log2 == log2_res:
            k = log2_res - log2
            t.copy(f"{s}/ToRGB_lod{k}/weight", f"synthesis.b{2**log2}.torgb.weight", _conv)
            t.copy(f"{s}/ToRGB_lod{k}/bias", f"synthesis.b{2**log2}.torgb.bias")
    return t.finish()


def discriminator_config(net: TFNetworkStub, variables: dict[str, Tensor], *, where: str) -> v1.DiscriminatorConfig:
    """Our v1 DiscriminatorConfig from a TF `D_basic` network's arguments."""
    kw = _kwargs(net, where=where)
    cfg: dict[str, Any] = dict(
        c_dim=kw.get_int("label_size", 0),
        img_resolution=kw.get_int("resolution", 32),
        img_channels=kw.get_int("num_channels", 1),
        channel_base=kw.get_int("fmap_base", 8192) * 2,
        channel_max=kw.get_int("fmap_max", 512),
        mbstd_group_size=kw.get_int("mbstd_group_size", 4),
        mbstd_num_features=kw.get_int("mbstd_num_features", 1),
        fused_scale=_fused(kw.get("fused_scale", "auto"), where=where),
        blur_filter=_blur(kw.get_raw("blur_filter", [1, 2, 1]), where=where),
        structure=_structure(variables, "", "FromRGB"),
    )
    kw.done()
    try:
        return v1.DiscriminatorConfig(**cfg)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{where}: unsupported StyleGAN (v1) discriminator settings ({err})") from None


def discriminator_table(variables: dict[str, Tensor], D: v1.Discriminator, *, where: str) -> dict[str, Tensor]:
    """Move a TF `D_basic` network's variables into our v1 Discriminator's state dict."""
    cfg = D.cfg
    t = MappingTable(variables, D.state_dict(), where=where, ignore_source=[], ignore_target=[])

    def conv(src: str, dst: str) -> None:
        t.copy(f"{src}/weight", f"{dst}.weight", _conv)
        t.copy(f"{src}/bias", f"{dst}.bias")

    t.copy("lod", "lod", lambda x: x.reshape(()))
    log2_res = log2_exact(cfg.img_resolution, where=where, what="resolution")
    for log2 in range(log2_res, 1, -1):
        res = 2**log2
        block = "b4" if res == 4 else f"b{res}"
        if cfg.structure == "linear" or res == cfg.img_resolution:
            conv(f"FromRGB_lod{log2_res - log2}", f"{block}.fromrgb")
        if res > 4:
            conv(f"{res}x{res}/Conv0", f"{block}.conv0")
            conv(f"{res}x{res}/Conv1_down", f"{block}.conv1")
    conv("4x4/Conv", "b4.conv")
    t.copy("4x4/Dense0/weight", "b4.fc.weight", _dense)
    t.copy("4x4/Dense0/bias", "b4.fc.bias")
    t.copy("4x4/Dense1/weight", "b4.out.weight", _dense)
    t.copy("4x4/Dense1/bias", "b4.out.bias")
    return t.finish()


def entry(net: TFNetworkStub, *, where: str, kind: str) -> NetEntry:
    """The `NetEntry` of one TF StyleGAN (v1) network (`kind` "G" or "D")."""
    expected = GENERATOR_BUILDERS if kind == "G" else DISCRIMINATOR_BUILDERS
    if net.build_func_name not in expected:
        raise CheckpointError(
            f"{where}: a StyleGAN (v1) pickle whose {'generator' if kind == 'G' else 'discriminator'} was built by "
            f"{net.build_func_name or 'an unknown function'}; expected {' or '.join(expected)}"
        )
    variables = collect_variables(net, where=where)
    if kind == "G":
        missing = {"mapping", "synthesis"} - set(net.components)
        if missing:
            raise CheckpointError(f"{where}: the G_style network has no {sorted(missing)[0]} component")
        gcfg = generator_config(net, variables, where=where)

        def build_generator() -> Generator:
            G = Generator(gcfg)
            return load_into(G, generator_table(variables, G, where=where), where=where)

        return NetEntry(gcfg, build_generator)
    dcfg = discriminator_config(net, variables, where=where)

    def build_discriminator() -> v1.Discriminator:
        D = v1.Discriminator(dcfg)
        return load_into(D, discriminator_table(variables, D, where=where), where=where)

    return NetEntry(dcfg, build_discriminator)
