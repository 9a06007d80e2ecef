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
    assert str(err.value).startswith(f"device {name} was requested but ") and reason in str(err.value)
    assert str(err.value).endswith("; use device cpu") and err.value.settings == ("device",)


def test_cli_names_the_option(cpu_only: None, capsys: pytest.CaptureFixture[str]) -> None:
    from stylegan.cli.common import run_cli
    from stylegan.cli.main import cli

    for name, reason in (("cuda", "no CUDA device is available"), ("mps", "MPS is not available")):
        with pytest.raises(SystemExit) as exit_info:
            run_cli(cli, ["generate", "--seeds", "0", "--device", name, "--outdir", "unused"])
        assert exit_info.value.code == 1
        assert capsys.readouterr().err == f"error: --device {name} was requested but {reason}; use --device cpu\n"
