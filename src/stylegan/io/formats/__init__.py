"""Readers for foreign checkpoint formats, and the pieces they share.

Each reader turns a file's contents into a `RawCheckpoint`: for every network the file holds, its typed
config and a function that builds our module from it. Weights are moved by an explicit mapping table
(`MappingTable`) that fails loudly, naming the key, when a source tensor is left over, a target tensor is
left empty, or a shape disagrees.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor, nn

from ...errors import CheckpointError
from ...networks import NetworkConfig, channels_at
from ...networks.config import short_value

_Net = TypeVar("_Net", bound=nn.Module)

NetConfig = NetworkConfig

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
        check_float_tensor(value, where=self.where, key=key)
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


def check_float_tensor(value: Tensor, *, where: str, key: str) -> None:
    """A one-line `CheckpointError` unless `value` holds floating-point numbers (network weights never hold
    integers, booleans or complex numbers)."""
    if not value.is_floating_point():
        raise CheckpointError(
            f"{where}: tensor {key!r} has dtype {str(value.dtype).removeprefix('torch.')}; network weights are "
            "floating point: the file is damaged"
        )


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


def as_int(value: Any, *, where: str, what: str) -> int:
    """`value` as an int when it is one (not a bool, float or string), else a one-line `CheckpointError`."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    raise CheckpointError(f"{where}: {what} is {short_repr(value)}, not an integer; the file is damaged")


def as_float(value: Any, *, where: str, what: str) -> float:
    """`value` as a float when it is a number (not a bool or string), else a one-line `CheckpointError`."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    raise CheckpointError(f"{where}: {what} is {short_repr(value)}, not a number; the file is damaged")


def as_bool(value: Any, *, where: str, what: str) -> bool:
    """`value` when it is a bool, else a one-line `CheckpointError`."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise CheckpointError(f"{where}: {what} is {short_repr(value)}, not true or false; the file is damaged")


def as_taps(value: Any, *, where: str, what: str) -> tuple[Any, ...]:
    """A resample filter (a short list of numbers) as a tuple, else a one-line `CheckpointError`."""
    if isinstance(value, (list, tuple)) and 1 <= len(value) <= 16:
        for tap in value:
            as_float(tap, where=where, what=what)
        return tuple(value)
    raise CheckpointError(f"{where}: {what} is {short_repr(value)}, not a short list of numbers; the file is damaged")


def log2_exact(value: int, *, where: str, what: str) -> int:
    """log2 of a power of two >= 4, or a CheckpointError."""
    if value < 4 or value & (value - 1):
        raise CheckpointError(f"{where}: {what} {value} is not a power of two >= 4")
    return int(math.log2(value))


#: The deepest nesting accepted in any structure read from a file (metadata, constructor arguments, JSON). Real
#: checkpoints nest a few levels; the limit keeps every recursive walk far from Python's recursion limit.
MAX_DEPTH = 100
#: The most values a metadata or constructor-argument structure may hold once shared references are counted
#: as often as they occur (what a JSON dump or a naive copy would produce). Real ones hold a few dozen.
MAX_TREE_NODES = 100_000


def _children(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        return [x for kv in value.items() for x in kv]
    if isinstance(value, (list, tuple, set, frozenset)):
        return value
    if isinstance(value, argparse.Namespace):
        return list(vars(value).values())
    return ()


def check_tree(
    value: Any,
    *,
    where: str,
    what: str,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_TREE_NODES,
) -> int:
    """The number of values in `value` counted as a tree (a shared sub-structure counts once per reference), or
    a one-line `CheckpointError` naming `where` and `what` when it nests deeper than `max_depth`, refers to
    itself, or counts more than `max_nodes`.

    Each distinct container is visited once (sizes are memoised by identity), so the check takes time linear in
    the file, however many times a structure is shared: `x = [x, x]` nested 64 times is refused at once.

    >>> x = []
    >>> for _ in range(64):
    ...     x = [x, x]
    >>> try:
    ...     check_tree(x, where="f.pkl", what="training_set_kwargs")
    ... except CheckpointError as err:
    ...     print(str(err).split(" (")[0])
    f.pkl: training_set_kwargs holds more than 100000 values
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Any, depth: int) -> int:
        children = _children(node)
        if not children:
            return 1
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in active:
            raise CheckpointError(f"{where}: {what} refers to itself; the file is damaged or hostile")
        if depth >= max_depth:
            raise CheckpointError(
                f"{where}: {what} is nested more than {max_depth} levels deep; the file is damaged or hostile"
            )
        active.add(key)
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > max_nodes:
                raise CheckpointError(
                    f"{where}: {what} holds more than {max_nodes} values (shared references expand it); "
                    "the file is damaged or hostile"
                )
        active.discard(key)
        sizes[key] = total
        return total

    return size(value, 0)


def short_repr(value: Any) -> str:
    """A repr of a value read from a file, bounded in length and time (for error messages)."""
    return short_value(value)


def _leaf(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= 1024 else f"<integer of {value.bit_length()} bits>"
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 and not isinstance(value, (bytes, bytearray)):
        try:
            return _leaf(value.item())  # numpy / torch scalars
        except (TypeError, ValueError, RuntimeError):
            return f"<{type(value).__name__}>"
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic, np.dtype, torch.dtype, complex)):
        return str(value)[:1000]
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return f"<{type(value).__name__}>"


def plain(value: Any, *, where: str = "metadata", what: str = "metadata") -> Any:
    """A JSON-friendly copy of metadata read from a file (dicts, lists, str, numbers, None; the rest described
    as a string). Structures that nest too deeply, refer to themselves or expand beyond `MAX_TREE_NODES` values
    are refused with a `CheckpointError` naming `where` and `what` (see `check_tree`)."""
    check_tree(value, where=where, what=what)
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(_plain(k)) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, argparse.Namespace):
        return _plain(vars(value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return _leaf(value)
