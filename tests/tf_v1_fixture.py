"""StyleGAN (version 1) networks as NVIDIA's TensorFlow code stores them, built from random numbers.

Everything here follows the variable creation of the original TF build functions `G_style` (own variables `lod`,
`dlatent_avg`), `G_mapping`, `G_synthesis` and `D_basic`: the same local variable names, shapes (HWIO convolutions,
[in, out] dense weights, unscaled equalised-learning-rate weights) and creation order. The values are random but
with magnitudes like a trained network's, so every term of the forward pass changes the output: noise strengths,
biases and style biases are non-zero, `dlatent_avg` is non-zero and each `noise{i}` is N(0, 1).

`write_tf_v1_pickle` writes the networks the way NVIDIA's training does: a pickled `(G, D, Gs)` tuple of
`dnnlib.tflib.network.Network` objects (named, never imported), each holding the state its `__getstate__` returns.

Kwargs are the TF static kwargs. One dict may mix generator and discriminator keys (`mbstd_group_size` goes to D
only, `mapping_layers` to G only); `split_static_kwargs` sorts them the way the training scripts record them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from stylegan.testing import _make_foreign_pickler, _TFNetwork

Shape = tuple[int, ...]
ShapeList = list[tuple[str, Shape, bool]]  # (local name, shape, trainable) in creation order
VarList = list[tuple[str, Any]]  # (local name, float32 array, or numpy.float32 for lod) in creation order

# The defaults of NVIDIA's build functions (keyword arguments of G_style, G_mapping, G_synthesis and D_basic).
G_STYLE_DEFAULTS: dict[str, Any] = dict(
    truncation_psi=0.7,
    truncation_cutoff=8,
    truncation_psi_val=None,
    truncation_cutoff_val=None,
    dlatent_avg_beta=0.995,
    style_mixing_prob=0.9,
)
G_MAPPING_DEFAULTS: dict[str, Any] = dict(
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
    dtype="float32",
)
G_SYNTHESIS_DEFAULTS: dict[str, Any] = dict(
    dlatent_size=512,
    num_channels=3,
    resolution=1024,
    fmap_base=8192,
    fmap_decay=1.0,
    fmap_max=512,
    use_styles=True,
    const_input_layer=True,
    use_noise=True,
    randomize_noise=True,
    nonlinearity="lrelu",
    use_wscale=True,
    use_pixel_norm=False,
    use_instance_norm=True,
    dtype="float32",
    fused_scale="auto",
    blur_filter=[1, 2, 1],
    structure="auto",
)
D_BASIC_DEFAULTS: dict[str, Any] = dict(
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
    dtype="float32",
    fused_scale="auto",
    blur_filter=[1, 2, 1],
    structure="auto",
)
G_KEYS = set(G_STYLE_DEFAULTS) | set(G_MAPPING_DEFAULTS) | set(G_SYNTHESIS_DEFAULTS)
D_KEYS = set(D_BASIC_DEFAULTS)

# Stands in for the full source of training/networks_stylegan.py that every network's state embeds.
FAKE_V1_MODULE_SRC = (
    "# Stand-in for NVIDIA's networks_stylegan.py. A safe loader never executes it.\n"
    "raise RuntimeError('this embedded source must never be executed')\n"
    "def G_style(latents_in, labels_in, **kwargs): pass\n"
    "def G_mapping(latents_in, labels_in, **kwargs): pass\n"
    "def G_synthesis(dlatents_in, **kwargs): pass\n"
    "def D_basic(images_in, labels_in, **kwargs): pass\n"
)


# ---------------------------------------------------------------------------------------------------------------
# Kwargs


def split_static_kwargs(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The static kwargs NVIDIA's training records for G/Gs and for D, from one mixed dict.

    Both always get `num_channels`, `resolution` and `label_size` (from the dataset); every other key goes to the
    network(s) whose build functions know it. A key neither knows is an error (it would be a typo here)."""
    unknown = set(kwargs) - G_KEYS - D_KEYS
    if unknown:
        raise KeyError(f"not a StyleGAN v1 kwarg: {sorted(unknown)}")
    if "resolution" not in kwargs:
        raise KeyError("resolution is required")
    base = dict(num_channels=kwargs.get("num_channels", 3), resolution=kwargs["resolution"])
    base["label_size"] = kwargs.get("label_size", 0)
    g = dict(base, **{k: v for k, v in kwargs.items() if k in G_KEYS and k not in base})
    d = dict(base, **{k: v for k, v in kwargs.items() if k in D_KEYS and k not in base})
    return g, d


def mapping_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: kwargs.get(k, v) for k, v in G_MAPPING_DEFAULTS.items()}


def synthesis_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: kwargs.get(k, v) for k, v in G_SYNTHESIS_DEFAULTS.items()}


def discriminator_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """D_basic's kwargs, except that `num_channels` defaults to 3 as the training scripts always record it."""
    return {k: kwargs.get(k, 3 if k == "num_channels" else v) for k, v in D_BASIC_DEFAULTS.items()}


def _nf(kw: Mapping[str, Any], stage: int) -> int:
    return min(int(kw["fmap_base"] / (2.0 ** (stage * kw["fmap_decay"]))), kw["fmap_max"])


def _log2(resolution: int) -> int:
    r = int(np.log2(resolution))
    if resolution != 2**r or resolution < 4:
        raise ValueError(f"resolution must be a power of two >= 4, got {resolution}")
    return r


def _structure(kw: Mapping[str, Any]) -> str:
    """The template graph (which creates the variables) turns 'auto' into 'linear'."""
    s = kw["structure"]
    if s not in ("auto", "linear", "recursive", "fixed"):
        raise ValueError(f"unknown structure {s!r}")
    return "fixed" if s == "fixed" else "linear"


def num_layers(kwargs: Mapping[str, Any]) -> int:
    return 2 * _log2(synthesis_kwargs(kwargs)["resolution"]) - 2


def num_styles(kwargs: Mapping[str, Any]) -> int:
    """Rows of the synthesis input (G_style broadcasts the mapping output to this many): 1 without styles."""
    kw = synthesis_kwargs(kwargs)
    return num_layers(kw) if kw["use_styles"] else 1


# ---------------------------------------------------------------------------------------------------------------
# Variable names, shapes and creation order


def mapping_shapes(kwargs: Mapping[str, Any]) -> ShapeList:
    kw = mapping_kwargs(kwargs)
    out: ShapeList = []
    fan_in = kw["latent_size"]
    if kw["label_size"]:
        out.append(("LabelConcat/weight", (kw["label_size"], kw["latent_size"]), True))
        fan_in += kw["latent_size"]
    for i in range(kw["mapping_layers"]):
        fmaps = kw["dlatent_size"] if i == kw["mapping_layers"] - 1 else kw["mapping_fmaps"]
        out.append((f"Dense{i}/weight", (fan_in, fmaps), True))
        out.append((f"Dense{i}/bias", (fmaps,), True))
        fan_in = fmaps
    return out


def synthesis_shapes(kwargs: Mapping[str, Any]) -> ShapeList:
    kw = synthesis_kwargs(kwargs)
    rlog2 = _log2(kw["resolution"])
    w_dim = kw["dlatent_size"]
    out: ShapeList = [("lod", (), False)]
    if kw["use_noise"]:
        for i in range(num_layers(kw)):
            r = 2 ** (i // 2 + 2)
            out.append((f"noise{i}", (1, int(kw["use_noise"]), r, r), False))

    def epilogue(scope: str, c: int) -> None:
        if kw["use_noise"]:
            out.append((f"{scope}/Noise/weight", (c,), True))
        out.append((f"{scope}/bias", (c,), True))
        if kw["use_styles"]:
            out.append((f"{scope}/StyleMod/weight", (w_dim, 2 * c), True))
            out.append((f"{scope}/StyleMod/bias", (2 * c,), True))

    def torgb(res: int, c: int) -> None:
        scope = f"ToRGB_lod{rlog2 - res}"
        out.append((f"{scope}/weight", (1, 1, c, kw["num_channels"]), True))
        out.append((f"{scope}/bias", (kw["num_channels"],), True))

    c = _nf(kw, 1)
    if kw["const_input_layer"]:
        out.append(("4x4/Const/const", (1, c, 4, 4), True))
        epilogue("4x4/Const", c)
    else:
        out.append(("4x4/Dense/weight", (w_dim, c * 16), True))
        epilogue("4x4/Dense", c)
    out.append(("4x4/Conv/weight", (3, 3, c, c), True))
    epilogue("4x4/Conv", c)
    linear = _structure(kw) == "linear"
    if linear:
        torgb(2, c)
    for res in range(3, rlog2 + 1):
        scope = f"{2**res}x{2**res}"
        c_in, c = c, _nf(kw, res - 1)
        out.append((f"{scope}/Conv0_up/weight", (3, 3, c_in, c), True))
        epilogue(f"{scope}/Conv0_up", c)
        out.append((f"{scope}/Conv1/weight", (3, 3, c, c), True))
        epilogue(f"{scope}/Conv1", c)
        if linear:
            torgb(res, c)
    if not linear:
        torgb(rlog2, c)
    return out


def generator_shapes(kwargs: Mapping[str, Any]) -> dict[str, ShapeList]:
    """{'G': G_style's own variables, 'mapping': ..., 'synthesis': ...}."""
    w_dim = synthesis_kwargs(kwargs)["dlatent_size"]
    return {
        "G": [("lod", (), False), ("dlatent_avg", (w_dim,), False)],
        "mapping": mapping_shapes(kwargs),
        "synthesis": synthesis_shapes(kwargs),
    }


def discriminator_shapes(kwargs: Mapping[str, Any]) -> ShapeList:
    kw = discriminator_kwargs(kwargs)
    rlog2 = _log2(kw["resolution"])
    ch = kw["num_channels"]
    out: ShapeList = [("lod", (), False)]

    def layer(scope: str, k: int, c_in: int, c_out: int) -> None:
        out.append((f"{scope}/weight", (k, k, c_in, c_out), True))
        out.append((f"{scope}/bias", (c_out,), True))

    def fromrgb(res: int) -> None:
        layer(f"FromRGB_lod{rlog2 - res}", 1, ch, _nf(kw, res - 1))

    fromrgb(rlog2)
    for res in range(rlog2, 2, -1):
        scope = f"{2**res}x{2**res}"
        layer(f"{scope}/Conv0", 3, _nf(kw, res - 1), _nf(kw, res - 1))
        layer(f"{scope}/Conv1_down", 3, _nf(kw, res - 1), _nf(kw, res - 2))
        if _structure(kw) == "linear":
            fromrgb(res - 1)
    c = _nf(kw, 1)
    extra = kw["mbstd_num_features"] if kw["mbstd_group_size"] > 1 else 0
    layer("4x4/Conv", 3, c + extra, c)
    out.append(("4x4/Dense0/weight", (c * 16, _nf(kw, 0)), True))
    out.append(("4x4/Dense0/bias", (_nf(kw, 0),), True))
    out.append(("4x4/Dense1/weight", (_nf(kw, 0), max(kw["label_size"], 1)), True))
    out.append(("4x4/Dense1/bias", (max(kw["label_size"], 1),), True))
    return out


def count(shapes: ShapeList, trainable: bool | None = True) -> int:
    """Number of values in `shapes` (only trainable ones, only non-trainable ones, or all with None)."""
    return sum(math.prod(s) for _, s, t in shapes if trainable is None or t == trainable)


# ---------------------------------------------------------------------------------------------------------------
# Random values


def _value(name: str, shape: Shape, rng: np.random.RandomState, lrmul: float, use_wscale: bool) -> np.ndarray:
    """A trained-looking value for one variable (stored, i.e. before the run-time equalised-lr scaling)."""
    leaf = name.rsplit("/", 1)[-1]
    if name.startswith("noise"):
        v = rng.randn(*shape)
    elif name.endswith("Noise/weight"):
        v = 0.3 * rng.randn(*shape)  # trained strengths are small but clearly non-zero
    elif name.endswith("StyleMod/bias"):
        v = 0.3 * rng.randn(*shape)  # scale part around 0 (the +1 is added at run time), shift part around 0
    elif name == "4x4/Const/const":
        v = 1.0 + 0.5 * rng.randn(*shape)  # initialised to ones
    elif name == "LabelConcat/weight":
        v = rng.randn(*shape)  # plain N(0, 1) init, used without run-time scaling
    elif leaf == "weight" and use_wscale:
        v = rng.randn(*shape) / lrmul  # equalised lr: N(0, 1/lrmul^2) init, run-time multiplier he_std * lrmul
    elif leaf == "weight":
        v = rng.randn(*shape) / math.sqrt(math.prod(shape[:-1])) / lrmul  # He init, run-time multiplier lrmul
    elif leaf == "bias":
        v = 0.2 * rng.randn(*shape) / lrmul  # run-time multiplier lrmul
    else:
        raise AssertionError(f"no value rule for {name}")
    return np.asarray(v, dtype=np.float32)


def _values(shapes: ShapeList, rng: np.random.RandomState, kw: Mapping[str, Any], lrmul: float = 1.0) -> VarList:
    out: VarList = []
    for name, shape, _ in shapes:
        value = np.float32(0.0) if name == "lod" else _value(name, shape, rng, lrmul, kw["use_wscale"])
        out.append((name, value))
    return out


def generator_variables(kwargs: Mapping[str, Any], *, seed: int = 0) -> dict[str, VarList]:
    """Random G_style variables: {'G': [lod, dlatent_avg], 'mapping': [...], 'synthesis': [...]}.

    Each list holds (local name, value) in TF's creation order; `lod` is a numpy.float32 scalar (0.0)."""
    rng = np.random.RandomState(seed)
    shapes = generator_shapes(kwargs)
    w_dim = synthesis_kwargs(kwargs)["dlatent_size"]
    return {
        "G": [("lod", np.float32(0.0)), ("dlatent_avg", (0.5 * rng.randn(w_dim)).astype(np.float32))],
        "mapping": _values(shapes["mapping"], rng, mapping_kwargs(kwargs), mapping_kwargs(kwargs)["mapping_lrmul"]),
        "synthesis": _values(shapes["synthesis"], rng, synthesis_kwargs(kwargs)),
    }


def discriminator_variables(kwargs: Mapping[str, Any], *, seed: int = 1) -> VarList:
    """Random D_basic variables, (local name, value) in TF's creation order; `lod` is a numpy.float32 scalar."""
    return _values(discriminator_shapes(kwargs), np.random.RandomState(seed), discriminator_kwargs(kwargs))


def as_dict(variables: VarList | Mapping[str, Any]) -> dict[str, np.ndarray]:
    return dict(variables.items() if isinstance(variables, Mapping) else variables)


# ---------------------------------------------------------------------------------------------------------------
# Pickles


def _with_lod(variables: VarList, lod: float | None) -> VarList:
    if lod is None:
        return list(variables)
    return [(n, np.float32(lod) if n == "lod" else v) for n, v in variables]


def tf_v1_state(
    name: str,
    build_func_name: str,
    static_kwargs: Mapping[str, Any],
    variables: VarList,
    components: Mapping[str, Any] | None = None,
    *,
    version: int = 3,
    build_module_src: str = FAKE_V1_MODULE_SRC,
) -> dict[str, Any]:
    """The dict TF's `Network.__getstate__` returns (key order as NVIDIA's code builds it)."""
    return dict(
        version=version,
        name=name,
        static_kwargs=dict(static_kwargs),
        components=dict(components or {}),
        build_module_src=build_module_src,
        build_func_name=build_func_name,
        variables=list(variables),
    )


def tf_v1_generator(
    G_vars: Mapping[str, VarList],
    static_kwargs: Mapping[str, Any],
    *,
    name: str = "Gs",
    version: int = 3,
    lod: float | None = None,
    synthesis_lod: float | None = None,
    build_module_src: str = FAKE_V1_MODULE_SRC,
) -> _TFNetwork:
    """A G_style network object: synthesis component first, then mapping (with `dlatent_broadcast`).

    `lod` replaces G's own `lod` and, unless `synthesis_lod` is given, the synthesis network's `lod` too."""
    kw = dict(version=version, build_module_src=build_module_src)
    synthesis_lod = lod if synthesis_lod is None else synthesis_lod
    synthesis = _TFNetwork(
        tf_v1_state("G_synthesis", "G_synthesis", static_kwargs, _with_lod(G_vars["synthesis"], synthesis_lod), **kw)
    )
    mapping_static = dict(static_kwargs, dlatent_broadcast=num_styles(static_kwargs))
    mapping = _TFNetwork(tf_v1_state("G_mapping", "G_mapping", mapping_static, G_vars["mapping"], **kw))
    own = _with_lod(G_vars["G"], lod)
    return _TFNetwork(
        tf_v1_state(name, "G_style", static_kwargs, own, {"synthesis": synthesis, "mapping": mapping}, **kw)
    )


def tf_v1_discriminator(
    D_vars: VarList,
    static_kwargs: Mapping[str, Any],
    *,
    version: int = 3,
    lod: float | None = None,
    build_module_src: str = FAKE_V1_MODULE_SRC,
) -> _TFNetwork:
    return _TFNetwork(
        tf_v1_state(
            "D",
            "D_basic",
            static_kwargs,
            _with_lod(D_vars, lod),
            version=version,
            build_module_src=build_module_src,
        )
    )


def dump_foreign_pickle(path: str | Path, obj: Any) -> Path:
    """Pickle `obj` (which may hold `_TFNetwork`s) with the highest protocol NVIDIA's `save_pkl` used (4)."""
    path = Path(path)
    with open(path, "wb") as f:
        _make_foreign_pickler()(f, 4).dump(obj)
    return path


def write_tf_v1_pickle(
    path: str | Path,
    *,
    kwargs: Mapping[str, Any],
    Gs_vars: Mapping[str, VarList] | None = None,
    G_vars: Mapping[str, VarList] | None = None,
    D_vars: VarList | None = None,
    version: int = 3,
    lod: float = 0.0,
    synthesis_lod: float | None = None,
    single: str | None = None,
    build_module_src: str = FAKE_V1_MODULE_SRC,
    seed: int = 0,
) -> Path:
    """Write a StyleGAN v1 TF pickle: `(G, D, Gs)` of `dnnlib.tflib.network.Network`, as NVIDIA's training does.

    kwargs: the networks' static kwargs (one dict, split with `split_static_kwargs`; `resolution` required).
    Gs_vars: `generator_variables(...)` output (random from `seed` if None); G_vars defaults to Gs_vars; D_vars
    to `discriminator_variables(kwargs, seed=seed + 1)`.
    version: 3 as NVlabs/stylegan writes; 4 is what the StyleGAN2 repository writes for its config-a (`G_style`).
    lod: written into every network's own `lod` (G, Gs, D) and, unless `synthesis_lod` says otherwise, into the
    synthesis sub-networks' `lod` (NVIDIA's G_style copies its own value there on every call).
    single: 'Gs', 'G' or 'D' to pickle that one network alone instead of the tuple.
    """
    g_static, d_static = split_static_kwargs(kwargs)
    Gs_vars = Gs_vars if Gs_vars is not None else generator_variables(kwargs, seed=seed)
    G_vars = G_vars if G_vars is not None else Gs_vars
    D_vars = D_vars if D_vars is not None else discriminator_variables(kwargs, seed=seed + 1)
    common = dict(version=version, lod=lod, build_module_src=build_module_src)
    nets = {
        "G": lambda: tf_v1_generator(G_vars, g_static, name="G", synthesis_lod=synthesis_lod, **common),
        "D": lambda: tf_v1_discriminator(D_vars, d_static, **common),
        "Gs": lambda: tf_v1_generator(Gs_vars, g_static, name="Gs", synthesis_lod=synthesis_lod, **common),
    }
    if single is not None:
        return dump_foreign_pickle(path, nets[single]())
    return dump_foreign_pickle(path, (nets["G"](), nets["D"](), nets["Gs"]()))
