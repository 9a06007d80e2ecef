"""Where to run: the device choice shared by the library and every command (`auto`, `cpu`, `cuda`, `mps`).

>>> pick_device("cpu")
device(type='cpu')
"""

from __future__ import annotations

from typing import Literal

import torch

from .errors import SettingError

#: The device names a user can choose; "auto" = CUDA, then MPS, then the CPU.
DeviceName = Literal["auto", "cpu", "cuda", "mps"]
DEVICE_NAMES: tuple[DeviceName, ...] = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailableError(SettingError):
    """A device was asked for by name but this machine does not have it."""

    def __init__(self, requested: str, reason: str) -> None:
        self.requested, self.reason = requested, reason
        super().__init__(f"{{device}} {requested} was requested but {reason}; use {{device}} cpu", "device")


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def pick_device(name: DeviceName | str | torch.device | None = None) -> torch.device:
    """The torch device for `name`: "cpu", "cuda" (or "cuda:N"), "mps", or "auto" / None for the best available one
    (CUDA, then MPS, then the CPU). A torch.device is returned as is.

    Raises:
        DeviceUnavailableError: a CUDA or MPS device was asked for but is not available.
    """
    if isinstance(name, torch.device):
        return name
    if name is None or name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceUnavailableError(name, "no CUDA device is available")
    if name == "mps" and not _mps_available():
        raise DeviceUnavailableError(name, "MPS is not available")
    return torch.device(name)


__all__ = ["DEVICE_NAMES", "DeviceName", "DeviceUnavailableError", "pick_device"]
