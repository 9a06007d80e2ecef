"""Readers for foreign checkpoint formats, and the pieces they share.

Each reader turns a file's contents into a `RawCheckpoint`: for every network the file holds, its typed
config and a function that builds our module from it. Weights are moved by an explicit mapping table
(`MappingTable`) that fails loudly, naming the key, when a source tensor is left over, a target tensor is
left empty, or a shape disagrees.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

from ...errors import CheckpointError
from ...networks import DiscriminatorConfig, GeneratorConfig, channels_at

_Net = TypeVar("_Net", bound=nn.Module)

NetConfig = GeneratorConfig | DiscriminatorConfig

#: The networks a checkpoint can hold, in the order we report them.
NET_NAMES: tuple[str, ...] = ("G_ema", "G", "D")


@dataclass
class NetEntry:
    """One network inside a checkpoint: its architecture, and a function that builds it with its weights."""

    config: NetConfig
    build: Callable[[], nn.Module]


@dataclass
class RawCheckpoint:
    """What a reader found in a file, before any network is built."""

    source_format: str
    nets: dict[str, NetEntry]
    metadata: dict[str, Any] = field(default_factory=dict)


class MappingTable:
    """Moves tensors from a source state dict into a target one, with every step checked.

    `take(src)` consumes a source tensor, `put(dst, value)` fills a target one (shape checked), and
    `finish()` asserts that every source tensor was used and every target filled, apart from the keys
    matched by `ignore_source` / `ignore_target` (patterns for tensors that have no counterpart, e.g. fixed
    blur kernels). Every failure is a one-line `CheckpointError` naming the file, the network and the key.
    """

    def __init__(
        self,
        source: Mapping[str, Tensor],
        target: Mapping[str, Tensor],
        *,
        where: str,
        ignore_source: Iterable[str] = (),
        ignore_target: Iterable[str] = (),
    ) -> None:
        self.source = dict(source)
        self.target_shapes = {k: tuple(v.shape) for k, v in target.items()}
        self.where = where
        self.ignore_source = [re.compile(p) for p in ignore_source]
        self.ignore_target = [re.compile(p) for p in ignore_target]
        self.used: set[str] = set()
        self.filled: dict[str, Tensor] = {}

    def has(self, key: str) -> bool:
        """Whether the source holds `key` (for optional tensors)."""
        return key in self.source

    def take(self, key: str) -> Tensor:
        """The source tensor `key`, marked as used."""
        if key not in self.source:
            raise CheckpointError(f"{self.where}: tensor {key!r} is missing; the file is incomplete or not this format")
        self.used.add(key)
        value = self.source[key]
        if not isinstance(value, Tensor):
            raise CheckpointError(f"{self.where}: {key!r} is a {type(value).__name__}, not a tensor")
        return value

    def skip(self, key: str) -> None:
        """Mark a source tensor as deliberately unused."""
        self.used.add(key)

    def put(self, key: str, value: Tensor) -> None:
        """Fill target `key` with `value`, whose shape must match the target's."""
        if key not in self.target_shapes:
            raise CheckpointError(f"{self.where}: mapping produced {key!r}, which this architecture does not have")
        if key in self.filled:
            raise CheckpointError(f"{self.where}: {key!r} filled twice (a mapping table bug)")
        value = torch.as_tensor(value)
        expected = self.target_shapes[key]
        if tuple(value.shape) != expected:
            raise CheckpointError(
                f"{self.where}: {key!r} has shape {list(value.shape)} but the architecture read from the file needs "
                f"{list(expected)}; the file's settings and its weights disagree"
            )
        self.filled[key] = value.detach().to(torch.float32).contiguous()

    def copy(self, src: str, dst: str, fn: Callable[[Tensor], Tensor] | None = None) -> None:
        """`put(dst, fn(take(src)))`."""
        value = self.take(src)
        self.put(dst, fn(value) if fn is not None else value)

    def finish(self) -> dict[str, Tensor]:
        """Check that every source tensor was used and every target filled; return the filled state dict."""
        unused = [k for k in self.source if k not in self.used and not any(p.fullmatch(k) for p in self.ignore_source)]
        if unused:
            more = f" (and {len(unused) - 3} more)" if len(unused) > 3 else ""
            raise CheckpointError(
                f"{self.where}: tensors {', '.join(repr(k) for k in unused[:3])}{more} have no place in the "
                "architecture read from the file; refusing to drop weights silently"
            )
        ignored = self.ignore_target
        empty = [k for k in self.target_shapes if k not in self.filled and not any(p.fullmatch(k) for p in ignored)]
        if empty:
            more = f" (and {len(empty) - 3} more)" if len(empty) > 3 else ""
            raise CheckpointError(
                f"{self.where}: no weights in the file for {', '.join(repr(k) for k in empty[:3])}{more}; "
                "the file is incomplete or uses an unsupported variant"
            )
        return dict(self.filled)


def load_into(module: _Net, state: Mapping[str, Tensor], *, where: str) -> _Net:
    """Copy `state` into `module` (every key must match, as `finish()` guarantees) and return it in eval mode.

    Target keys that the table deliberately left empty (derived buffers such as `resample_filter`) keep the
    values the constructor computed.
    """
    own = module.state_dict()
    unknown = sorted(set(state) - set(own))
    if unknown:
        raise CheckpointError(f"{where}: unexpected tensor {unknown[0]!r} for this architecture")
    with torch.no_grad():
        for key, value in state.items():
            if tuple(own[key].shape) != tuple(value.shape):
                raise CheckpointError(
                    f"{where}: {key!r} has shape {list(value.shape)}, the architecture needs {list(own[key].shape)}"
                )
            own[key].copy_(value)
    return module.eval()


def fit_channel_rule(
    channels: Mapping[int, int], *, preferred_bases: Iterable[int] = (32768, 16384)
) -> tuple[int, int] | None:
    """Find (channel_base, channel_max) with `min(channel_base // res, channel_max) == channels[res]` for every
    resolution given, or None when no such pair exists. Preferred bases are tried first, so that a network
    gets its canonical settings when several pairs describe it."""
    if not channels:
        return None
    cmax = max(channels.values())

    def fits(base: int) -> bool:
        return all(channels_at(res, base, cmax) == ch for res, ch in channels.items())

    for base in preferred_bases:
        if fits(base):
            return base, cmax
    below = {res: ch for res, ch in channels.items() if ch < cmax}
    if not below:
        base = cmax * max(channels)
        return (base, cmax) if fits(base) else None
    base = max(ch * res for res, ch in below.items())
    return (base, cmax) if fits(base) else None


def log2_exact(value: int, *, where: str, what: str) -> int:
    """log2 of a power of two >= 4, or a CheckpointError."""
    if value < 4 or value & (value - 1):
        raise CheckpointError(f"{where}: {what} {value} is not a power of two >= 4")
    return int(math.log2(value))


def plain(value: Any, depth: int = 0) -> Any:
    """A JSON-friendly copy of metadata read from a file (dicts, lists, str, numbers, None; the rest as str)."""
    if depth > 20:
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # numpy / torch scalars
        return plain(value.item(), depth + 1)
    return str(value)
