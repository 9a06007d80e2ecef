"""The device choice: the library's rule and errors, and the CLI's wording of them."""

from __future__ import annotations

import pytest
import torch

from stylegan.device import DeviceUnavailableError, pick_device
from stylegan.errors import StyleGANError


@pytest.fixture
def cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("stylegan.device._mps_available", lambda: False)


def test_auto_picks_the_best_available(cpu_only: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert pick_device(None) == pick_device("auto") == torch.device("cpu")
    monkeypatch.setattr("stylegan.device._mps_available", lambda: True)
    assert pick_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device(None) == torch.device("cuda")


def test_explicit_devices(cpu_only: None) -> None:
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize(("name", "reason"), [("cuda", "no CUDA device"), ("cuda:1", "no CUDA device"), ("mps", "MPS")])
def test_missing_device_is_a_user_error_naming_the_setting(cpu_only: None, name: str, reason: str) -> None:
    with pytest.raises(DeviceUnavailableError) as err:
        pick_device(name)
    assert isinstance(err.value, StyleGANError)
    assert str(err.value).startswith(f"device {name!r} was requested but ") and reason in str(err.value)


def test_cli_names_the_option(cpu_only: None) -> None:
    from stylegan.cli.common import pick_device as cli_pick_device

    message = "^--device cuda was requested but no CUDA device is available; use --device cpu$"
    with pytest.raises(StyleGANError, match=message):
        cli_pick_device("cuda")
    with pytest.raises(StyleGANError, match="^--device mps was requested but MPS is not available; use --device cpu$"):
        cli_pick_device("mps")
