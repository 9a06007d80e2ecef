"""The numeric precision of forward passes: float32, or bfloat16 autocast (convolutions and matrix products in
bfloat16, weights and optimiser state float32), and `auto`, which picks bfloat16 only where the hardware runs it
natively.

bfloat16 is fast where the hardware has it: CPUs with AMX tiles (Intel Sapphire Rapids and later) or AVX512-BF16,
and CUDA GPUs that support it (Ampere and later). Elsewhere PyTorch emulates it, many times slower than float32 (an
AVX2-only CPU took minutes for four training steps of a 32 px network).

>>> resolve_precision("fp32", torch.device("cpu")).precision
'fp32'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from .errors import SettingError

Precision = Literal["fp32", "bf16"]
PrecisionChoice = Literal["auto", "fp32", "bf16"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16")
PRECISION_CHOICES: tuple[str, ...] = ("auto", "fp32", "bf16")


def _probe(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except (AttributeError, RuntimeError):  # a PyTorch build without the probe
        return False


def native_bf16(device: torch.device) -> str | None:
    """What runs bfloat16 natively on `device` ("AMX tiles", "AVX512-BF16", "CUDA <name>"), or None when it would be
    emulated (CPUs without AMX or AVX512-BF16, GPUs before Ampere) or the device is another kind (MPS: float32)."""
    if device.type == "cuda":
        return f"CUDA {torch.cuda.get_device_name(device)}" if torch.cuda.is_bf16_supported() else None
    if device.type != "cpu":
        return None
    if _probe(lambda: torch.cpu._is_amx_tile_supported()):
        return "AMX tiles"
    if _probe(lambda: torch.cpu._is_avx512_bf16_supported()):
        return "AVX512-BF16"
    return None


def _hardware(device: torch.device) -> str:
    """`device` in words for a log line: "this CPU", "the GPU (NVIDIA A100)"."""
    if device.type == "cuda":
        return f"the GPU ({torch.cuda.get_device_name(device)})"
    return "this CPU" if device.type == "cpu" else f"the {device.type} device"


def _missing(device: torch.device) -> str:
    """What `device` lacks for native bfloat16, in words."""
    if device.type == "cpu":
        return f"no AMX or AVX512-BF16; its vector unit is {torch.backends.cpu.get_cpu_capability()}"
    return "it needs compute capability 8.0 or later" if device.type == "cuda" else "bfloat16 is used on CPUs and GPUs"


@dataclass(frozen=True)
class PrecisionDecision:
    """The precision a run computes in and why, in one line (`note`), plus a warning when it will be slow."""

    precision: Precision
    note: str
    warning: str | None = None


def resolve_precision(choice: str, device: torch.device) -> PrecisionDecision:
    """`choice` ("auto", "fp32" or "bf16") on `device`: auto is bf16 where `native_bf16` finds support and fp32
    elsewhere; an explicit bf16 without native support is kept, with a warning (emulated, many times slower)."""
    if choice not in PRECISION_CHOICES:
        raise SettingError(f"{{precision}} must be one of {', '.join(PRECISION_CHOICES)}, got {choice!r}", "precision")
    native = native_bf16(device)
    if choice == "auto":
        if native is not None:
            return PrecisionDecision(
                "bf16", f"precision bf16 (auto: {_hardware(device)} runs bfloat16 natively, {native})"
            )
        return PrecisionDecision(
            "fp32", f"precision fp32 (auto: {_hardware(device)} has no native bfloat16, {_missing(device)})"
        )
    precision: Precision = "bf16" if choice == "bf16" else "fp32"
    warning = None
    if precision == "bf16" and native is None and device.type in ("cpu", "cuda"):
        warning = (
            f"warning: {_hardware(device)} has no native bfloat16 ({_missing(device)}): precision bf16 is emulated, "
            "many times slower than fp32 (precision auto chooses fp32 here)"
        )
    return PrecisionDecision(precision, f"precision {precision} (as set)", warning)


def autocast(device: torch.device, precision: Precision) -> torch.autocast:
    """bfloat16 autocast on `device` for precision "bf16"; a no-op context for "fp32"."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


__all__ = [
    "PRECISIONS",
    "PRECISION_CHOICES",
    "Precision",
    "PrecisionChoice",
    "PrecisionDecision",
    "autocast",
    "native_bf16",
    "resolve_precision",
]
