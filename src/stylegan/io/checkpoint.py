"""Our checkpoint format, and `load()` / `inspect()` for every format we read.

Our format is one `.safetensors` file: tensors named `G_ema.<key>`, `G.<key>`, `D.<key>` (our state-dict
keys, which are NVIDIA's), and string metadata

    format      "stylegan/1"
    G_config    JSON of GeneratorConfig (shared by G_ema and G; with "version": 1 for StyleGAN v1)
    D_config    JSON of DiscriminatorConfig (when D is stored; likewise)
    source, license, source_format      plain strings, when known
    <anything else>                     JSON

Loading it runs no code and needs no source tree. Every configuration read from a file is checked for type and
range (`GeneratorConfig` / `DiscriminatorConfig`), and the memory its network needs is computed from it before
anything is built: `load` refuses a network larger than `stylegan.networks.config.weights_limit()`, and `inspect`
counts parameters arithmetically (it builds a network, to check its tensors, only below `INSPECT_CHECK_BYTES`).
Metadata is bounded in size (`MAX_HEADER_BYTES`) and nesting. Foreign files are recognised by their first bytes, never
by their name, and go through the readers in `stylegan.io.formats`.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import torch
from torch import nn

from ..errors import CheckpointError, StyleGANError
from ..fileio import atomic_write_bytes, looks_like_html
from ..networks import (
    AnyDiscriminator,
    Discriminator,
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
    NetworkConfig,
    build_network,
    config_from_dict,
    count_parameters,
    v1,
    weights_nbytes,
)
from ..networks.config import weights_limit
from .formats import MAX_DEPTH, NET_NAMES, NetEntry, RawCheckpoint, check_float_tensor, check_tree, plain, short_repr

FORMAT = "stylegan/1"
_DISCRIMINATORS = (Discriminator, v1.Discriminator)
Which = Literal["G_ema", "G", "D", "all"]

_PLAIN_METADATA = ("source", "license", "source_format")
_RESERVED_METADATA = ("format", "G_config", "D_config", "nets")
_TORCH_LEGACY_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")

#: Human-readable names of the formats `inspect()` reports.
FORMAT_DESCRIPTIONS: dict[str, str] = {
    "stylegan/1": "stylegan safetensors checkpoint",
    "nvidia-pytorch/ada": "NVIDIA StyleGAN2-ADA-PyTorch network pickle",
    "nvidia-pytorch/sg3": "NVIDIA StyleGAN3-repository network pickle (StyleGAN2 networks)",
    "nvidia-tf": "NVIDIA TensorFlow StyleGAN / StyleGAN2 network pickle (read without TensorFlow)",
    "rosinality/training": "rosinality stylegan2-pytorch training checkpoint",
    "rosinality/converted": "rosinality stylegan2-pytorch converted checkpoint (g_ema + latent_avg)",
}


@dataclass
class LoadedNetworks:
    """Everything `load(..., which="all")` found. Networks the file does not hold are None."""

    G_ema: Generator | None
    G: Generator | None
    D: AnyDiscriminator | None
    source_format: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class NetworkInfo:
    """One network of a checkpoint, as `inspect()` describes it."""

    name: str
    config: NetworkConfig
    num_params: int
    num_buffers: int

    @property
    def nbytes(self) -> int:
        """Memory the network's float32 weights and buffers take once built."""
        return 4 * (self.num_params + self.num_buffers)

    def architecture_lines(self) -> list[str]:
        """How `stylegan info` describes the network's architecture, one indented line per aspect."""
        cfg = self.config
        res = cfg.img_resolution
        if isinstance(cfg, (v1.GeneratorConfig, v1.DiscriminatorConfig)):
            growing = "progressive growing" if cfg.structure == "linear" else "fixed resolution"
            blur = f"blur {list(cfg.blur_filter)}" if cfg.blur_filter is not None else "no blur"
            arch = f"StyleGAN (version 1), {growing}, {blur}, fused_scale {cfg.fused_scale}"
        else:
            arch = cfg.architecture
        lines = [f"  architecture  {arch}", f"  resolution    {res}x{res}, img_channels {cfg.img_channels}"]
        extra = ""
        if isinstance(cfg, (GeneratorConfig, v1.GeneratorConfig)):
            lines.append(f"  z_dim {cfg.z_dim}, w_dim {cfg.w_dim}, c_dim {cfg.c_dim}, num_ws {cfg.num_ws}")
            width = cfg.mapping_layer_features or cfg.w_dim
            lines.append(
                f"  mapping       {cfg.mapping_layers} layers of {width}, lr multiplier {cfg.mapping_lr_multiplier:g}"
            )
            extra = "" if cfg.use_noise else ", no noise inputs"
            if isinstance(cfg, v1.GeneratorConfig):
                parts = [
                    "styles (AdaIN)" if cfg.use_styles else "no styles",
                    "constant input" if cfg.const_input_layer else "traditional input",
                    "pixel norm" if cfg.use_pixel_norm else "",
                    "instance norm" if cfg.use_instance_norm else "",
                    f"default truncation cutoff {cfg.truncation_cutoff}",
                ]
                lines.append("  layers        " + ", ".join(p for p in parts if p))
        elif isinstance(cfg, DiscriminatorConfig):
            cmap = f", cmap_dim {cfg.cmap_dim}" if cfg.cmap_dim is not None else ""
            cmap += f", Q head of {cfg.q_dim} outputs (info codes)" if cfg.q_dim else ""
            group, features = cfg.mbstd_group_size, cfg.mbstd_num_channels
            lines.append(f"  c_dim {cfg.c_dim}{cmap}, minibatch-stddev group {group}, {features} channel(s)")
        else:
            group, features = cfg.mbstd_group_size, cfg.mbstd_num_features
            lines.append(f"  c_dim {cfg.c_dim}, minibatch-stddev group {group}, {features} channel(s)")
        clamp = ""
        if isinstance(cfg, (GeneratorConfig, DiscriminatorConfig)):
            clamp = f"; conv_clamp {cfg.conv_clamp:g}" if cfg.conv_clamp is not None else "; conv_clamp none"
        lines.append(f"  channels      channel_base {cfg.channel_base}, channel_max {cfg.channel_max}{clamp}{extra}")
        return lines

    @property
    def kind(self) -> str:
        """ "generator" or "discriminator"."""
        return "generator" if isinstance(self.config, (GeneratorConfig, v1.GeneratorConfig)) else "discriminator"


@dataclass
class CheckpointInfo:
    """What a checkpoint holds, without building its networks' weights."""

    path: Path
    source_format: str
    nets: dict[str, NetworkInfo]
    metadata: dict[str, Any]

    @property
    def format_description(self) -> str:
        """A readable name for `source_format`."""
        return FORMAT_DESCRIPTIONS.get(self.source_format, self.source_format)


# ---------------------------------------------------------------------------------------------------------
# Saving.


def save(
    path: str | os.PathLike[str],
    *,
    G_ema: Generator,
    G: Generator | None = None,
    D: AnyDiscriminator | None = None,
    metadata: Mapping[str, Any] | None = None,
    dtype: torch.dtype | None = None,
) -> Path:
    """Write networks to one `.safetensors` file in our format (atomically: temp file, fsync, rename).

    Args:
        path: destination, conventionally `*.safetensors`.
        G_ema: the generator to use for inference (required); G, D: the training networks, optional.
        metadata: extra information; `source` and `license` are stored as plain strings, other values as JSON.
        dtype: store floating-point tensors in this dtype (e.g. `torch.float16` halves the file); loading always
            returns float32 networks.

    Returns:
        The path written.

    >>> import tempfile, stylegan.io
    >>> from stylegan.testing import tiny_generator
    >>> p = stylegan.io.save(tempfile.mkdtemp() + "/g.safetensors", G_ema=tiny_generator())
    >>> stylegan.io.load(p).img_resolution
    16
    """
    from safetensors.torch import save as st_save

    for name, net, classes in (("G_ema", G_ema, (Generator,)), ("G", G, (Generator,)), ("D", D, _DISCRIMINATORS)):
        if net is not None and not isinstance(net, classes):
            raise TypeError(f"{name} must be a stylegan {classes[0].__name__}, got {type(net).__name__}")
    if G is not None and G.cfg != G_ema.cfg:
        raise ValueError("G and G_ema must have the same GeneratorConfig")
    if dtype is not None and not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating-point dtype, got {dtype}")

    tensors: dict[str, torch.Tensor] = {}
    nets = {"G_ema": G_ema, "G": G, "D": D}
    for name, net in nets.items():
        if net is None:
            continue
        for key, value in net.state_dict().items():
            t = value.detach().to("cpu")
            if dtype is not None and t.is_floating_point():
                t = t.to(dtype)
            tensors[f"{name}.{key}"] = t.contiguous().clone()

    meta: dict[str, str] = {}
    for key, value in (metadata or {}).items():
        if key in _RESERVED_METADATA:
            raise ValueError(f"metadata key {key!r} is reserved")
        if key in _PLAIN_METADATA and isinstance(value, str):
            meta[key] = value
        else:
            meta[key] = json.dumps(plain(value), sort_keys=True)
    meta.update(
        format=FORMAT,
        nets=",".join(n for n, net in nets.items() if net is not None),
        G_config=json.dumps(G_ema.cfg.to_dict(), sort_keys=True),
    )
    if D is not None:
        meta["D_config"] = json.dumps(D.cfg.to_dict(), sort_keys=True)
    path = Path(path)
    atomic_write_bytes(path, st_save(tensors, metadata=meta))
    return path


# ---------------------------------------------------------------------------------------------------------
# Recognising files.


def detect_format(path: Path) -> Literal["stylegan", "pickle", "torch-zip", "torch-legacy"]:
    """What kind of file `path` is, from its first bytes; anything we cannot read is a one-line CheckpointError."""
    try:
        st = path.stat()
        size = st.st_size
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):  # opening a FIFO would wait forever
            raise CheckpointError(f"{path}: not a regular file (a device, FIFO or socket); give a network file")
        with open(path, "rb") as f:
            head = f.read(64)
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file") from None
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except OSError as err:
        raise CheckpointError(f"{path}: cannot read ({err.strerror or err})") from None
    if size == 0:
        raise CheckpointError(f"{path}: the file is empty (an interrupted download?); download it again")
    if looks_like_html(head):
        raise CheckpointError(
            f"{path}: this is an HTML web page (or XML error page), not a network file (a download link saved a "
            "page instead of the file); download the file itself"
        )
    if head.startswith(b"version https://git-lfs"):
        raise CheckpointError(f"{path}: a Git LFS pointer, not the file itself; run `git lfs pull` to fetch it")
    if len(head) >= 9 and head[8:9] == b"{":
        header_len = int.from_bytes(head[:8], "little")
        if 0 < header_len <= size - 8:
            return "stylegan"
        if header_len > size - 8:
            raise CheckpointError(f"{path}: a safetensors file that ends too early (truncated); download it again")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except Exception:  # zipfile fails in many ways on damaged archives (BadZipFile, UnicodeDecodeError, ...)
            raise CheckpointError(f"{path}: a zip archive that is truncated or damaged; download it again") from None
        if not any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            raise CheckpointError(
                f"{path}: a zip archive, but not a PyTorch checkpoint (no data.pkl inside; a dataset?)"
            )
        return "torch-zip"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        if head[2:4] == b"\x8a\x0a" and head[4:14] == _TORCH_LEGACY_MAGIC:
            return "torch-legacy"
        return "pickle"
    raise CheckpointError(
        f"{path}: unknown file format (starts with {head[:8]!r}); expected a .safetensors, .pkl or .pt network file"
    )


# ---------------------------------------------------------------------------------------------------------
# Reading.


#: The largest safetensors header (tensor table + metadata) read: real checkpoints hold well under 1 MiB.
MAX_HEADER_BYTES = 16 * 2**20


def _json_value(path: Path, key: str, text: str) -> Any:
    """A metadata value parsed as JSON, refused in one line when it nests too deeply or expands too far."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise CheckpointError(
            f"{path}: metadata {key!r} is nested more than {MAX_DEPTH} levels deep; the file is damaged or hostile"
        ) from None
    check_tree(value, where=str(path), what=f"metadata {key!r}")
    return value


def _read_native(path: Path) -> RawCheckpoint:
    from safetensors import SafetensorError, safe_open

    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
    if header_len > MAX_HEADER_BYTES:
        raise CheckpointError(
            f"{path}: the safetensors header (tensor table and metadata) is {header_len / 2**20:.0f} MiB, more than "
            f"the {MAX_HEADER_BYTES // 2**20} MiB a network file needs; the file is damaged or hostile"
        )
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            raw_meta = f.metadata() or {}
            keys = list(f.keys())
    except (SafetensorError, OSError, ValueError) as err:
        msg = " ".join(str(err).split())[:200]
        raise CheckpointError(f"{path}: damaged or truncated safetensors file ({msg})") from None
    if raw_meta.get("format") != FORMAT:
        found = raw_meta.get("format")
        hint = f"format {found!r}" if found else "no stylegan format tag"
        raise CheckpointError(
            f"{path}: a safetensors file with {hint}, not a stylegan checkpoint; only files written by "
            "stylegan.io.save (or `stylegan convert`) hold the architecture needed to rebuild the networks"
        )
    metadata: dict[str, Any] = {}
    for key, value in raw_meta.items():
        if key in _RESERVED_METADATA:
            continue
        if key in _PLAIN_METADATA:
            metadata[key] = value
            continue
        try:
            metadata[key] = _json_value(path, key, value)
        except ValueError:  # not JSON: kept as the string it is
            metadata[key] = value

    def config(name: str) -> Any:
        if name not in raw_meta:
            raise CheckpointError(f"{path}: metadata has no {name}; the file is damaged")
        try:
            value = _json_value(path, name, raw_meta[name])
        except ValueError:
            raise CheckpointError(f"{path}: metadata {name} is not valid JSON; the file is damaged") from None
        try:
            return config_from_dict(value, name[0])
        except (ValueError, TypeError) as err:
            if str(err).startswith("unknown"):
                raise CheckpointError(
                    f"{path}: {name} cannot be used ({err}); was it written by a newer stylegan? upgrade stylegan"
                ) from None
            raise CheckpointError(f"{path}: {name}: {err}; the file is damaged") from None

    nets: dict[str, NetEntry] = {}
    present = [n for n in NET_NAMES if any(k.startswith(f"{n}.") for k in keys)]
    for name in present:
        cfg = config("D_config" if name == "D" else "G_config")
        nets[name] = NetEntry(cfg, _native_builder(path, name, cfg))
    return RawCheckpoint(FORMAT, nets, metadata)


def _native_builder(path: Path, name: str, cfg: NetworkConfig) -> Any:
    def build() -> nn.Module:
        from safetensors import SafetensorError, safe_open

        net: nn.Module = build_network(cfg)
        prefix = f"{name}."
        try:
            with safe_open(str(path), framework="pt", device="cpu") as f:
                state = {k[len(prefix) :]: f.get_tensor(k) for k in f.keys() if k.startswith(prefix)}
        except (SafetensorError, OSError) as err:
            raise CheckpointError(f"{path}: cannot read {name} tensors ({err})") from None
        own = net.state_dict()
        missing = sorted(set(own) - set(state))
        extra = sorted(set(state) - set(own))
        if missing or extra:
            key = (missing or extra)[0]
            what = "missing" if missing else "unexpected"
            raise CheckpointError(f"{path}: {name} tensor {key!r} is {what} for the stored {name} config")
        for key, value in state.items():
            if tuple(value.shape) != tuple(own[key].shape):
                shapes = f"{list(value.shape)}, expected {list(own[key].shape)}"
                raise CheckpointError(f"{path}: {name}.{key} has shape {shapes}")
            check_float_tensor(value, where=str(path), key=f"{name}.{key}")
        state = {k: v.float() for k, v in state.items()}
        net.load_state_dict(state, strict=True)
        return net.eval()

    return build


def read_checkpoint(path: str | os.PathLike[str]) -> RawCheckpoint:
    """Recognise and read any supported checkpoint file, without building networks yet."""
    from .formats import nvidia_pytorch, nvidia_tf, rosinality
    from .formats.safe_pickle import safe_pickle_load, safe_torch_load

    path = Path(path)
    kind = detect_format(path)
    with _damaged(path):
        if kind == "stylegan":
            return _read_native(path)
        label = str(path)
        if kind == "pickle":
            data = safe_pickle_load(path)
            if nvidia_tf.is_tf_pickle(data):
                return nvidia_tf.read(data, path=label)
            if isinstance(data, dict) and rosinality.looks_like(data):
                return rosinality.read(data, path=label)
            return nvidia_pytorch.read(data, path=label)
        data = safe_torch_load(path)
        if rosinality.looks_like(data):
            return rosinality.read(data, path=label)
        keys = (
            ", ".join(sorted(k[:40] if isinstance(k, str) else short_repr(k) for k in data)[:8])
            if isinstance(data, dict)
            else type(data).__name__
        )
        raise CheckpointError(f"{path}: a PyTorch file, but not a StyleGAN2 checkpoint we know (contents: {keys})")


@contextlib.contextmanager
def _damaged(path: Path) -> Iterator[None]:
    """Turn whatever a malformed file makes the readers trip over into one `CheckpointError` line naming it.

    The readers check what they read and say what is wrong; this is the backstop for the combinations they do
    not name, so that no file can end in a traceback.
    """
    try:
        yield
    except StyleGANError:
        raise
    except (
        TypeError,
        ValueError,
        AttributeError,
        KeyError,
        IndexError,
        LookupError,
        OverflowError,
        ZeroDivisionError,
        RuntimeError,  # includes RecursionError
        MemoryError,
        EOFError,
        AssertionError,
    ) as err:
        msg = " ".join(str(err).split())[:160] or type(err).__name__
        raise CheckpointError(
            f"{path}: the file's contents are malformed ({type(err).__name__}: {msg}); it is damaged or not a "
            "StyleGAN2 network file"
        ) from None


def check_affordable(config: NetworkConfig, *, where: str) -> None:
    """A one-line `CheckpointError` when the network `config` describes would not fit in memory (its float32
    weights exceed `stylegan.networks.config.weights_limit()`), before anything is allocated."""
    need, limit = weights_nbytes(config), weights_limit()
    if need > limit:
        raise CheckpointError(
            f"{where}: the network would need {format_size(need)} for its weights, more than the "
            f"{format_size(limit)} allowed on this machine (img_resolution {config.img_resolution}, channel_max "
            f"{config.channel_max}); the file's settings are damaged or absurd"
        )


#: `inspect` builds each network up to this size once, so that missing, misshaped or non-float tensors are reported
#: as `load` would report them; larger networks are described from their configuration alone.
INSPECT_CHECK_BYTES = 2**30


def format_size(nbytes: int) -> str:
    """A byte count in KiB, MiB, GiB or TiB, one decimal."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes / 2**10:.1f} KiB"


def _prepare(entry: NetEntry, device: torch.device | str, *, path: Path, name: str) -> Generator | AnyDiscriminator:
    check_affordable(entry.config, where=f"{path} [{name}]")
    with _damaged(path):
        net = entry.build()
    if not isinstance(net, (Generator, *_DISCRIMINATORS)):  # pragma: no cover - every reader builds one of the two
        raise TypeError(f"a checkpoint reader built a {type(net).__name__}")
    return net.eval().requires_grad_(False).to(device)


def _warn_non_finite(path: Path, nets: Mapping[str, nn.Module]) -> None:
    """One warning when any loaded weight is NaN or infinite (the network loads, but its outputs will be too)."""
    bad = [
        f"{name}.{key}"
        for name, net in nets.items()
        for key, value in net.state_dict().items()
        if value.is_floating_point() and not bool(torch.isfinite(value).all())
    ]
    if bad:
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        warnings.warn(
            f"{path}: tensor {bad[0]}{more} hold NaN or infinite values; the network loads, but its outputs will "
            "be NaN (the file is damaged or the training diverged)",
            stacklevel=3,
        )


@overload
def load(
    source: str | os.PathLike[str], *, which: Literal["G_ema", "G"] = "G_ema", device: torch.device | str = "cpu"
) -> Generator: ...


@overload
def load(
    source: str | os.PathLike[str], *, which: Literal["D"], device: torch.device | str = "cpu"
) -> AnyDiscriminator: ...


@overload
def load(
    source: str | os.PathLike[str], *, which: Literal["all"], device: torch.device | str = "cpu"
) -> LoadedNetworks: ...


@overload
def load(
    source: str | os.PathLike[str], *, which: Which, device: torch.device | str = "cpu"
) -> Generator | AnyDiscriminator | LoadedNetworks: ...


def load(
    source: str | os.PathLike[str],
    *,
    which: Which = "G_ema",
    device: torch.device | str = "cpu",
) -> Generator | AnyDiscriminator | LoadedNetworks:
    """Load a network from any supported checkpoint, running no code from the file.

    Args:
        source: a file path (.safetensors, NVIDIA .pkl, TF .pkl, rosinality .pt), an http(s) URL (downloaded
            into the cache first) or a registry name (see `stylegan.io.pretrained`).
        which: "G_ema" (default: the generator for inference), "G", "D", or "all" for a `LoadedNetworks`.
        device: where to put the networks.

    Returns:
        A `Generator` or `Discriminator` in eval mode with `requires_grad=False` (call `.requires_grad_(True)`
        to train it), or `LoadedNetworks` for `which="all"`.

    Raises:
        CheckpointError: one line naming the file and the problem (unknown format, truncated, hostile, network
            not in the file, ...).
    """
    from .pretrained import read_resolved

    path, raw = read_resolved(source, read_checkpoint)
    if which == "all":
        for name, net_entry in raw.nets.items():
            check_affordable(net_entry.config, where=f"{path} [{name}]")
        built = {name: _prepare(e, device, path=path, name=name) for name, e in raw.nets.items()}
        _warn_non_finite(path, built)
        G_ema, G, D = built.get("G_ema"), built.get("G"), built.get("D")
        return LoadedNetworks(
            G_ema=G_ema if isinstance(G_ema, Generator) else None,
            G=G if isinstance(G, Generator) else None,
            D=D if isinstance(D, _DISCRIMINATORS) else None,
            source_format=raw.source_format,
            metadata=dict(raw.metadata),
        )
    if which not in NET_NAMES:
        raise ValueError(f"which must be one of {(*NET_NAMES, 'all')}, got {which!r}")
    entry = raw.nets.get(which)
    if entry is None:
        have = ", ".join(raw.nets) or "no networks"
        raise CheckpointError(f"{path}: has no {which} network (it holds {have}); pass which= one of those")
    net = _prepare(entry, device, path=path, name=which)
    _warn_non_finite(path, {which: net})
    return net


def inspect(source: str | os.PathLike[str]) -> CheckpointInfo:
    """Describe a checkpoint (format, networks, architectures, parameter counts, metadata) without loading
    its weights into networks: the counts are computed from the configurations, and only networks small enough to
    afford (`INSPECT_CHECK_BYTES`) are built once, to prove that the file's tensors fit them. Accepts the same
    sources as `load`."""
    from .pretrained import read_resolved

    path, raw = read_resolved(source, read_checkpoint)
    nets = {}
    for name, entry in raw.nets.items():
        params, buffers = count_parameters(entry.config)
        nets[name] = NetworkInfo(name, entry.config, params, buffers)
        if nets[name].nbytes <= INSPECT_CHECK_BYTES:  # prove that the tensors fit the configuration
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _prepare(entry, "cpu", path=path, name=name)
    return CheckpointInfo(path, raw.source_format, nets, dict(raw.metadata))
