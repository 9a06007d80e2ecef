"""The full training state, kept apart from network snapshots (EDM's split): G, D, G_ema, both optimisers,
ADA p, the path-length mean, progress counters and every RNG state, so that `--resume` continues exactly.

The file is `torch.save` of plain dicts, lists, numbers, strings and tensors, loaded back with
`torch.load(weights_only=True)`: no code runs when a state is read. Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from ..errors import StyleGANError
from ..fileio import atomic_write_bytes

STATE_FORMAT = "stylegan-train-state/1"
STATE_FILENAME = "training-state.pt"


def rng_state(generators: dict[str, torch.Generator]) -> dict[str, Any]:
    """Global torch (and CUDA) RNG states plus the states of the run's own generators."""
    out: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    out["generators"] = {name: g.get_state() for name, g in generators.items()}
    return out


def set_rng_state(state: dict[str, Any], generators: dict[str, torch.Generator]) -> None:
    """Restore what `rng_state` captured (generators missing from the state keep their current state)."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    for name, g in generators.items():
        if name in state.get("generators", {}):
            g.set_state(state["generators"][name])


def save_training_state(path: str | os.PathLike[str], state: dict[str, Any], file_format: str = STATE_FORMAT) -> Path:
    """Atomically write a state dict (see `TrainingRun.state_dict`) with a format tag."""
    buf = io.BytesIO()
    torch.save({"format": file_format, **state}, buf)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def load_training_state(path: str | os.PathLike[str], file_format: str = STATE_FORMAT) -> dict[str, Any]:
    """Read a state written by `save_training_state` (tensors on the CPU), safely (weights_only)."""
    p = Path(path)
    if not p.is_file():
        raise StyleGANError(f"{p}: no training state found")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated file, foreign pickle, ...
        detail = " ".join(str(e).split())
        if "WeightsUnpickler error:" in detail:  # torch's advice to load unsafely is not ours to give
            detail = detail.split("WeightsUnpickler error:", 1)[1].split(" Check the documentation")[0].strip()
        raise StyleGANError(
            f"{p}: not a readable training state ({type(e).__name__}: {detail[:200]}); resume from an intact run "
            "folder or start a new run"
        ) from None
    if not isinstance(state, dict) or state.get("format") != file_format:
        raise StyleGANError(f"{p}: not a stylegan training state (format {file_format!r} expected)")
    return state
