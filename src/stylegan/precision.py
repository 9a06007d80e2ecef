"""The numeric precision of forward passes: float32, or bfloat16 autocast (convolutions and matrix products in
bfloat16, weights and optimiser state float32), and `auto`, which picks bfloat16 only where the hardware runs it
natively.

bfloat16 is fast where the hardware has it: CPUs with AMX tiles (Intel Sapphire Rapids and later) or AVX512-BF16,
and CUDA GPUs that support it (Ampere and later). Elsewhere PyTorch emulates it, many times slower than float32 (an
AVX2-only CPU took minutes for four training steps of a 32 px network). Having the instructions is not enough on
every CPU: an Intel Xeon with AVX512-BF16 but no AMX (as some virtual machines show it) ran bfloat16 convolutions at
half its float32 speed, while AMD's Zen 4 ran them about 2x faster. So on a CPU `auto` also times one convolution
in both precisions (`bf16_speedup`, a fraction of a second once per process) and takes bfloat16 only where it
is clearly faster.

>>> resolve_precision("fp32", torch.device("cpu")).precision
'fp32'
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from .errors import SettingError

Precision = Literal["fp32", "bf16"]
PrecisionChoice = Literal["auto", "fp32", "bf16"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16")
PRECISION_CHOICES: tuple[str, ...] = ("auto", "fp32", "bf16")
MIN_CPU_SPEEDUP = 1.2  # auto takes bfloat16 on a CPU when its convolutions run at least this much faster


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


def bf16_speedup(device: torch.device) -> float | None:
    """How many times faster a bfloat16 convolution runs than a float32 one on this CPU with PyTorch's current thread
    count, measured once per process and thread count (a channels-last 3x3 convolution, 128 channels at 32x32, batch
    4: best of three timings each, about 0.1 s in all); None for other devices."""
    if device.type != "cpu":
        return None
    return _measure_bf16_speedup(torch.get_num_threads())


@functools.lru_cache(maxsize=8)
def _measure_bf16_speedup(threads: int) -> float:
    """time(float32) / time(bfloat16) of one convolution (see `bf16_speedup`); `threads` keys the cache."""
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 128, 32, 32, generator=gen).contiguous(memory_format=torch.channels_last)
    w = torch.randn(128, 128, 3, 3, generator=gen).contiguous(memory_format=torch.channels_last)
    pairs = [(x, w), (x.bfloat16(), w.bfloat16())]
    best = [float("inf"), float("inf")]
    with torch.no_grad():
        for xi, wi in pairs:
            F.conv2d(xi, wi, padding=1)  # warm-up: oneDNN builds its kernel
        for _ in range(3):
            for k, (xi, wi) in enumerate(pairs):  # alternate, so a busy moment hits both
                t0 = time.perf_counter()
                F.conv2d(xi, wi, padding=1)
                best[k] = min(best[k], time.perf_counter() - t0)
    return best[0] / max(best[1], 1e-9)


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
    """`choice` ("auto", "fp32" or "bf16") on `device`. auto is bf16 where `native_bf16` finds support and, on a
    CPU, `bf16_speedup` measures bfloat16 at least `MIN_CPU_SPEEDUP` times as fast as float32; fp32 elsewhere. An
    explicit choice is kept; bf16 warns where it is emulated (many times slower) or measured slower than float32."""
    if choice not in PRECISION_CHOICES:
        raise SettingError(f"{{precision}} must be one of {', '.join(PRECISION_CHOICES)}, got {choice!r}", "precision")
    native = native_bf16(device)
    where = _hardware(device)
    speedup = bf16_speedup(device) if native is not None and choice != "fp32" else None
    measured = f"bfloat16 convolutions measured {speedup:.2f}x as fast as float32" if speedup is not None else ""
    if choice == "auto":
        if native is None:
            return PrecisionDecision(
                "fp32", f"precision fp32 (auto: {where} has no native bfloat16, {_missing(device)})"
            )
        if speedup is None:
            return PrecisionDecision("bf16", f"precision bf16 (auto: {where} runs bfloat16 natively, {native})")
        if speedup >= MIN_CPU_SPEEDUP:
            return PrecisionDecision(
                "bf16", f"precision bf16 (auto: {where} runs bfloat16 natively, {native}; {measured})"
            )
        return PrecisionDecision("fp32", f"precision fp32 (auto: {where} has {native}, but its {measured})")
    precision: Precision = "bf16" if choice == "bf16" else "fp32"
    warning = None
    if precision == "bf16" and native is None and device.type in ("cpu", "cuda"):
        warning = (
            f"warning: {where} has no native bfloat16 ({_missing(device)}): precision bf16 is emulated, "
            "many times slower than fp32 (precision auto chooses fp32 here)"
        )
    elif precision == "bf16" and speedup is not None and speedup < 1:
        warning = f"warning: precision bf16 is slower than fp32 on {where} ({native}, but its {measured})"
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
    "bf16_speedup",
    "native_bf16",
    "resolve_precision",
]
