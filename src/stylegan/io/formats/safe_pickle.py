"""Reading pickles and PyTorch files without running anything they reference.

A pickle is a small program: every `GLOBAL` it names is imported and may be called. NVIDIA's network
pickles name `torch_utils.persistence._reconstruct_persistent_obj`, which `exec`s the source code stored in
the file, and TF pickles name `dnnlib.tflib.network.Network`, whose `__setstate__` does the same. We read
them with `RestrictedUnpickler`, which resolves only an explicit list of names, each to a function of ours
that builds plain data:

- the persistence reconstructor returns a `PersistentObject` record (class name + pickled state), never
  importing or executing `module_src`;
- `dnnlib.tflib.network.Network` becomes a `TFNetworkStub` that only keeps its pickled state;
- tensor storages are re-read with `torch.load(..., weights_only=True)` (the real
  `torch.storage._load_from_bytes` would use the unrestricted unpickler);
- numpy arrays and scalars, `OrderedDict`, `set` and `dnnlib.util.EasyDict` become plain values.

Any other name stops the load with a `CheckpointError` that names it. The unpickler is Python's pure-Python one
(its memo is a dict: a file cannot make it allocate by naming a huge memo index), and BUILD may only update data
objects. What the readers walk afterwards is walked with limits (`stylegan.io.formats.check_tree`): shared
references are never expanded, and nesting depth and size are bounded. PyTorch files (`torch.save`) go through
`torch.load(weights_only=True)` with `argparse.Namespace` as the only extra allowed class (rosinality
training checkpoints keep their command-line arguments in one).
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

import numpy as np
import torch
from torch import Tensor

from ...errors import CheckpointError


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle references a name outside the allowlist."""

    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.module = module
        self.name = name


class BadPickleContent(pickle.UnpicklingError):
    """An allowed name was called with arguments a checkpoint never contains."""


# ---------------------------------------------------------------------------------------------------------
# What the allowed names turn into.


@dataclass
class PersistentObject:
    """A module pickled by NVIDIA's `torch_utils.persistence`, kept as data.

    `state` is the module's `__dict__` as pickled (`_parameters`, `_buffers`, `_modules`, plain attributes,
    `_init_args`, `_init_kwargs`); `module_src` is the embedded source code, which is never executed.
    """

    class_name: str
    module_src: str
    state: dict[str, Any]
    version: int = 6

    @property
    def init_kwargs(self) -> dict[str, Any]:
        """Keyword arguments the module's constructor was called with (`_init_kwargs`)."""
        kwargs = self.state.get("_init_kwargs") or {}
        return dict(kwargs) if isinstance(kwargs, dict) else {}

    @property
    def init_args(self) -> tuple[Any, ...]:
        """Positional constructor arguments (`_init_args`; NVIDIA's code passes none)."""
        args = self.state.get("_init_args") or ()
        return tuple(args) if isinstance(args, (tuple, list)) else ()

    @property
    def modules(self) -> dict[str, Any]:
        """Sub-modules by attribute name."""
        mods = self.state.get("_modules") or {}
        return dict(mods) if isinstance(mods, dict) else {}

    def attr(self, name: str, default: Any = None) -> Any:
        """A plain attribute of the pickled module (e.g. `conv_clamp`), or `default`."""
        return self.state.get(name, default)

    def find(self, dotted: str) -> PersistentObject | None:
        """The sub-module at a dotted path (`synthesis.b4.conv1`), or None."""
        obj: Any = self
        for part in dotted.split("."):
            if not isinstance(obj, PersistentObject):
                return None
            obj = obj.modules.get(part)
        return obj if isinstance(obj, PersistentObject) else None

    def state_dict(self, *, where: str) -> dict[str, Tensor]:
        """The tensors a `state_dict()` of the original module would hold, by walking parameters, persistent
        buffers and sub-modules."""
        out: dict[str, Tensor] = {}
        self._collect("", out, where, depth=0, seen=set())
        return out

    def _collect(self, prefix: str, out: dict[str, Tensor], where: str, depth: int, seen: set[int]) -> None:
        if depth > 64:
            raise CheckpointError(f"{where}: module nesting too deep; the file is not a StyleGAN2 network")
        if id(self) in seen:  # a module tree never shares a module: walking shared ones could take forever
            raise CheckpointError(f"{where}: sub-module {prefix.rstrip('.')} appears twice; the file is damaged")
        seen.add(id(self))
        skip = self.state.get("_non_persistent_buffers_set") or set()
        for group in ("_parameters", "_buffers"):
            tensors = self.state.get(group) or {}
            if not isinstance(tensors, dict):
                raise CheckpointError(f"{where}: {prefix}{group} is not a dict; the file is damaged")
            for name, value in tensors.items():
                if value is None or (group == "_buffers" and name in skip):
                    continue
                if not isinstance(value, Tensor):
                    raise CheckpointError(f"{where}: {prefix}{name} is a {type(value).__name__}, not a tensor")
                out[f"{prefix}{name}"] = value
        for name, child in self.modules.items():
            if child is None:
                continue
            if not isinstance(child, PersistentObject):
                raise CheckpointError(f"{where}: sub-module {prefix}{name} is not a network module")
            child._collect(f"{prefix}{name}.", out, where, depth + 1, seen)


class TFNetworkStub:
    """Stands in for `dnnlib.tflib.network.Network` (TF StyleGAN pickles): keeps the pickled state only.

    The state has `version`, `name`, `static_kwargs`, `components` (sub-networks), `build_module_src`
    (never executed), `build_func_name` and `variables` ([(name, numpy array), ...])."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise BadPickleContent("a TF network's state is not a dict")
        self.state = state

    def _get(self, key: str, kind: type, default: Any) -> Any:
        value = self.state.get(key, default)
        return value if isinstance(value, kind) and not isinstance(value, bool) else default

    @property
    def version(self) -> int:
        """Pickle state version (4 for StyleGAN2-era networks)."""
        return int(self._get("version", int, 0))

    @property
    def name(self) -> str:
        """Network name: 'G', 'D', 'Gs', 'G_mapping', ..."""
        return str(self._get("name", str, "?"))

    @property
    def build_func_name(self) -> str:
        """Name of the TF build function (G_main, D_stylegan2, G_style, ...)."""
        return str(self._get("build_func_name", str, ""))

    @property
    def static_kwargs(self) -> dict[str, Any]:
        """The network's constructor arguments."""
        return dict(self.state.get("static_kwargs") or {})

    @property
    def components(self) -> dict[str, TFNetworkStub]:
        """Sub-networks (mapping, synthesis) by name."""
        comps = self.state.get("components") or {}
        return {k: v for k, v in dict(comps).items() if isinstance(v, TFNetworkStub)}

    @property
    def variables(self) -> list[tuple[str, Any]]:
        """The network's own variables as (name, numpy array) pairs."""
        return [(str(k), v) for k, v in (self.state.get("variables") or [])]


class _AttrDict(dict):
    """What `dnnlib.util.EasyDict` becomes: a dict (its attribute access is not needed)."""

    def __setstate__(self, state: Any) -> None:  # EasyDicts pickle their items, and at most an empty __dict__
        if state:
            raise BadPickleContent("unexpected EasyDict state")


def _reconstruct_persistent_obj(meta: Any) -> PersistentObject:
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise BadPickleContent("torch_utils.persistence record without type 'class'")
    state = meta.get("state")
    if not isinstance(state, dict):
        raise BadPickleContent("torch_utils.persistence record without a state dict")
    class_name, module_src, version = meta.get("class_name", ""), meta.get("module_src", ""), meta.get("version", 0)
    if not isinstance(class_name, str) or not isinstance(module_src, str) or not isinstance(version, int):
        raise BadPickleContent("torch_utils.persistence record with a malformed class name, source or version")
    return PersistentObject(class_name=class_name, module_src=module_src, state=state, version=version)


def refused_global(message: str) -> str | None:
    """The name torch's weights-only unpickler refused, from its error message (None if it refused nothing)."""
    m = re.search(r"(?:Unsupported global: GLOBAL|Unsupported class|unsupported GLOBAL) ([\w.]+)", message)
    return m.group(1) if m else None


def _load_storage_from_bytes(data: Any) -> Any:
    """`torch.storage._load_from_bytes`, but through the weights-only unpickler."""
    if not isinstance(data, (bytes, bytearray)):
        raise BadPickleContent("tensor storage is not bytes")
    try:
        storage = torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        name = refused_global(str(err))
        if name is not None:
            module, _, attr = name.rpartition(".")
            raise RefusedGlobal(module, attr) from None
        raise BadPickleContent("a tensor storage cannot be read") from None
    if not isinstance(storage, (torch.TypedStorage, torch.UntypedStorage)):
        raise BadPickleContent(f"tensor storage holds a {type(storage).__name__}")
    return storage


def _check_storage(storage: Any) -> None:
    if not isinstance(storage, (torch.TypedStorage, torch.UntypedStorage)):
        raise BadPickleContent(f"tensor built from a {type(storage).__name__} instead of a storage")


def _no_hooks(hooks: Any) -> None:
    if hooks:
        raise BadPickleContent("tensor with backward hooks")


def _rebuild_tensor_v2(
    storage: Any, offset: int, size: Any, stride: Any, requires_grad: Any = False, hooks: Any = None, *_: Any
) -> Tensor:
    _check_storage(storage)
    _no_hooks(hooks)
    return torch._utils._rebuild_tensor(storage, int(offset), tuple(size), tuple(stride))


def _rebuild_tensor(storage: Any, offset: int, size: Any, stride: Any) -> Tensor:
    _check_storage(storage)
    return torch._utils._rebuild_tensor(storage, int(offset), tuple(size), tuple(stride))


def _rebuild_parameter(data: Any, requires_grad: Any = False, hooks: Any = None, *_: Any) -> Tensor:
    if not isinstance(data, Tensor):
        raise BadPickleContent("parameter without tensor data")
    _no_hooks(hooks)
    return data.detach()


def _np_scalar(dtype: Any, data: Any = None) -> Any:
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise BadPickleContent("numpy object scalar")
    if not isinstance(data, (bytes, bytearray)):
        raise BadPickleContent("numpy scalar without bytes")
    return np.frombuffer(bytes(data), dtype=dtype, count=1)[0]


def _np_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    if subtype is not np.ndarray:
        raise BadPickleContent("numpy array of an unexpected subclass")
    if shape not in ((0,), [0]):  # numpy pickles an empty array and fills it with __setstate__
        raise BadPickleContent("numpy array placeholder of an unexpected shape")
    return np.ndarray.__new__(np.ndarray, (0,), dtype)


def _np_frombuffer(buf: Any, dtype: Any, shape: Any, order: str = "C") -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise BadPickleContent("numpy object array")
    if not isinstance(buf, (bytes, bytearray, memoryview)) or order not in ("C", "F", "A"):
        raise BadPickleContent("numpy array without a data buffer")
    return np.frombuffer(bytes(buf), dtype=dtype).reshape(shape, order=cast(Literal["C", "F", "A"], order)).copy()


def _set(*args: Any) -> set[Any]:
    return set(*args)


def _frozenset(*args: Any) -> frozenset[Any]:
    return frozenset(*args)


#: Every name a StyleGAN2 checkpoint pickle references, and what each one becomes here.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("dnnlib.util", "EasyDict"): _AttrDict,
    ("dnnlib", "EasyDict"): _AttrDict,
    ("dnnlib.tflib.network", "Network"): TFNetworkStub,
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): _set,
    ("builtins", "frozenset"): _frozenset,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage_from_bytes,
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy.core.multiarray", "scalar"): _np_scalar,
    ("numpy._core.multiarray", "scalar"): _np_scalar,
    ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _np_frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _np_frombuffer,
}


#: Python's own pure-Python unpickler (its internals are not in the type stubs). It keeps the memo in a dict, where
#: the C unpickler grows an array to the largest memo index a file names: one opcode could make it allocate and
#: clear gigabytes. Reading is as fast (tensor storages dominate).
_PurePythonUnpickler: Any = pickle._Unpickler

#: Objects a pickle may update with BUILD (`__setstate__` or attribute updates): instances of these types only,
#: never a class or a function (which BUILD would modify for the rest of the process).
_BUILDABLE = (TFNetworkStub, _AttrDict, OrderedDict, np.ndarray, np.dtype, np.generic, Tensor)


class RestrictedUnpickler(_PurePythonUnpickler):
    """An unpickler that resolves only `ALLOWED_GLOBALS` (anything else raises `RefusedGlobal`) and applies BUILD
    to data objects only."""

    dispatch = dict(_PurePythonUnpickler.dispatch)

    def load_build(self) -> None:
        """BUILD, refused unless its target is an instance of a data type (`_BUILDABLE`)."""
        inst = self.stack[-2] if len(self.stack) >= 2 else None
        if isinstance(inst, type) or not isinstance(inst, _BUILDABLE):
            raise BadPickleContent(f"BUILD applied to a {type(inst).__name__}")
        super().load_build()

    dispatch[pickle.BUILD[0]] = load_build

    def find_class(self, module: str, name: str) -> Any:
        """Resolve a pickled global through `ALLOWED_GLOBALS` only."""
        target = ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise RefusedGlobal(module, name)
        return target

    def persistent_load(self, pid: Any) -> Any:
        """Network pickles use no persistent IDs; refuse them."""
        raise pickle.UnpicklingError("persistent IDs are not used by network pickles")


def _describe_failure(path: str, err: BaseException) -> CheckpointError:
    if isinstance(err, RefusedGlobal):
        return CheckpointError(
            f"{path}: refusing to load: the pickle references {err.module}.{err.name}, which no StyleGAN checkpoint "
            "needs (loading it could run code); nothing from the file was executed"
        )
    if isinstance(err, BadPickleContent):
        return CheckpointError(f"{path}: refusing to load: {err}; the file is damaged or not a network pickle")
    if isinstance(err, EOFError) or "truncated" in str(err):
        return CheckpointError(f"{path}: the file ends too early (truncated download?); download it again")
    msg = " ".join(str(err).split()) or type(err).__name__
    if len(msg) > 200:
        msg = msg[:200] + "..."
    return CheckpointError(f"{path}: cannot read the pickle ({msg}); the file is damaged or truncated")


def safe_pickle_load(file: str | os.PathLike[str] | BinaryIO, *, name: str | None = None) -> Any:
    """Unpickle a network pickle with `RestrictedUnpickler`; every failure is a one-line `CheckpointError`."""
    label = name or (str(file) if isinstance(file, (str, os.PathLike)) else str(getattr(file, "name", "<stream>")))
    try:
        if isinstance(file, (str, os.PathLike)):
            with open(file, "rb") as f:
                return RestrictedUnpickler(f).load()
        return RestrictedUnpickler(file).load()
    except CheckpointError:
        raise
    except Exception as err:  # hostile data makes the allowed constructors (numpy, torch) fail in every way
        raise _describe_failure(label, err) from None


#: Classes a rosinality `.pt` file may hold beyond tensors and containers.
EXTRA_SAFE_CLASSES: list[Callable[..., Any]] = [argparse.Namespace]


def safe_torch_load(path: str | os.PathLike[str]) -> Any:
    """`torch.load(path, weights_only=True)` with `argparse.Namespace` allowed; failures become one line."""
    label = str(path)
    safe_globals = getattr(torch.serialization, "safe_globals", None)
    if safe_globals is None:  # pragma: no cover - torch < 2.5
        raise CheckpointError(f"{label}: reading this file safely needs torch >= 2.5; upgrade torch")
    try:
        with safe_globals(EXTRA_SAFE_CLASSES):
            return torch.load(Path(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        text = str(err)
        name = refused_global(text)
        if name is not None:
            raise CheckpointError(
                f"{label}: refusing to load: the file references {name}, which no StyleGAN checkpoint needs "
                "(loading it could run code); nothing from the file was executed"
            ) from None
        first = " ".join(text.split())[:200]
        raise CheckpointError(f"{label}: cannot read the PyTorch file ({first}); it is damaged or truncated") from None
    except EOFError:
        raise CheckpointError(f"{label}: the file ends too early (truncated download?); download it again") from None
    except Exception as err:  # torch.load of a damaged file fails in many ways (RuntimeError, AssertionError, ...)
        first = " ".join(str(err).split())[:200] or type(err).__name__
        if any(s in first.lower() for s in ("central directory", "zip archive", "truncated", "eof", "corrupt")):
            raise CheckpointError(f"{label}: the file is truncated or damaged ({first}); download it again") from None
        raise CheckpointError(f"{label}: cannot read the PyTorch file ({first})") from None


__all__ = [
    "ALLOWED_GLOBALS",
    "PersistentObject",
    "RefusedGlobal",
    "RestrictedUnpickler",
    "TFNetworkStub",
    "safe_pickle_load",
    "safe_torch_load",
]
