"""Hostile network files through the real CLI: one error line, exit status 1, no traceback, and no hang.

Every file is built here from a tiny valid network (`stylegan.testing` writes each format); each is given to
`stylegan info` and `stylegan generate` in a real subprocess. The denial-of-service files (shared references,
absurd sizes) must also be refused quickly: their wall time is checked.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save as st_save

import stylegan
import stylegan.io as sio
from stylegan.errors import CheckpointError
from stylegan.networks import GeneratorConfig
from stylegan.networks.config import count_parameters
from stylegan.testing import tiny_generator, write_nvidia_pickle, write_rosinality_checkpoint, write_tf_pickle
from tests.conftest import assert_user_error, run_stylegan

#: A refused denial-of-service file must come back this fast (interpreter and torch start-up included).
QUICK_SECONDS = 30.0


def shared_list(levels: int = 64) -> list:
    """`x = [x, x]` nested `levels` times: a few hundred bytes pickled, 2**levels elements when expanded."""
    x: list = []
    for _ in range(levels):
        x = [x, x]
    return x


def nested_list(levels: int) -> list:
    x: list = []
    for _ in range(levels):
        x = [x]
    return x


def self_referencing() -> list:
    x: list = [1]
    x.append(x)
    return x


# ---------------------------------------------------------------------------------------------------------
# Building the files.


def _tensors_and_meta(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata())


def _st_variant(
    base: Path,
    out: Path,
    *,
    config: dict | None = None,
    tensors: Callable[[dict[str, torch.Tensor]], None] | None = None,
    meta: dict[str, str] | None = None,
) -> Path:
    ts, md = _tensors_and_meta(base)
    if config is not None:
        cfg = json.loads(md["G_config"])
        cfg.update(config)
        md["G_config"] = json.dumps(cfg)
    if tensors is not None:
        tensors(ts)
    md.update(meta or {})
    out.write_bytes(st_save(ts, metadata=md))
    return out


def _deep_pickle(path: Path, levels: int) -> Path:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * levels))
    try:
        return write_nvidia_pickle(path, G_ema=tiny_generator(), training_set_kwargs={"labels": nested_list(levels)})
    finally:
        sys.setrecursionlimit(limit)


def _truncate(src: Path, out: Path, keep: float = 0.5) -> Path:
    data = src.read_bytes()
    out.write_bytes(data[: int(len(data) * keep)])
    return out


# name -> (builder(folder, base safetensors) -> path, fragments of the error line, is a denial of service)
CASES: dict[str, tuple[Callable[[Path, Path], Path], tuple[str, ...], bool]] = {
    "shared-ref-training-set-kwargs": (
        lambda d, b: write_nvidia_pickle(
            d / "shared.pkl", G_ema=tiny_generator(), training_set_kwargs={"labels": shared_list()}
        ),
        ("shared.pkl", "training_set_kwargs", "shared references"),
        True,
    ),
    "shared-ref-init-kwargs": (
        lambda d, b: write_nvidia_pickle(
            d / "shared-init.pkl", G_ema=tiny_generator(), extra_init_kwargs={"mapping_kwargs": {"x": shared_list()}}
        ),
        ("shared-init.pkl", "constructor arguments"),
        True,
    ),
    "self-referencing": (
        lambda d, b: write_nvidia_pickle(
            d / "loop.pkl", G_ema=tiny_generator(), training_set_kwargs={"x": self_referencing()}
        ),
        ("loop.pkl", "refers to itself"),
        True,
    ),
    "deep-nesting": (lambda d, b: _deep_pickle(d / "deep.pkl", 500), ("deep.pkl", "levels deep"), True),
    "resolution-2**20": (
        lambda d, b: _st_variant(b, d / "res.safetensors", config={"img_resolution": 2**20}),
        ("res.safetensors", "img_resolution", "1048576"),
        True,
    ),
    "mapping-layers-10**7": (
        lambda d, b: _st_variant(b, d / "mapping.safetensors", config={"mapping_layers": 10**7}),
        ("mapping.safetensors", "mapping_layers"),
        True,
    ),
    "channels-2**30": (
        lambda d, b: _st_variant(b, d / "chan.safetensors", config={"channel_max": 2**30, "channel_base": 2**30}),
        ("chan.safetensors", "channel"),
        True,
    ),
    "resolution-as-string": (
        lambda d, b: _st_variant(b, d / "str.safetensors", config={"img_resolution": "16"}),
        ("str.safetensors", "img_resolution", "integer"),
        False,
    ),
    "z_dim-as-float": (
        lambda d, b: _st_variant(b, d / "float.safetensors", config={"z_dim": 32.0}),
        ("float.safetensors", "z_dim", "integer"),
        False,
    ),
    "use_noise-as-string": (
        lambda d, b: _st_variant(b, d / "bool.safetensors", config={"use_noise": "no"}),
        ("bool.safetensors", "use_noise"),
        False,
    ),
    "config-not-an-object": (
        lambda d, b: _st_variant(b, d / "list.safetensors", meta={"G_config": "[1, 2]"}),
        ("list.safetensors", "G_config"),
        False,
    ),
    "missing-tensor": (
        lambda d, b: _st_variant(b, d / "missing.safetensors", tensors=lambda t: t.pop("G_ema.mapping.fc0.weight")),
        ("missing.safetensors", "mapping.fc0.weight", "missing"),
        False,
    ),
    "misshaped-tensor": (
        lambda d, b: _st_variant(
            b, d / "shape.safetensors", tensors=lambda t: t.update({"G_ema.mapping.fc0.bias": torch.zeros(3)})
        ),
        ("shape.safetensors", "mapping.fc0.bias", "shape"),
        False,
    ),
    "integer-tensor": (
        lambda d, b: _st_variant(
            b,
            d / "int.safetensors",
            tensors=lambda t: t.update({"G_ema.mapping.fc0.bias": t["G_ema.mapping.fc0.bias"].to(torch.int64)}),
        ),
        ("int.safetensors", "mapping.fc0.bias", "int64"),
        False,
    ),
    "huge-metadata": (
        lambda d, b: _st_variant(b, d / "huge.safetensors", meta={"notes": json.dumps("x" * (20 * 2**20))}),
        ("huge.safetensors", "MiB"),
        True,
    ),
    "deep-json-metadata": (
        lambda d, b: _st_variant(b, d / "deepjson.safetensors", meta={"notes": "[" * 5000 + "]" * 5000}),
        ("deepjson.safetensors", "notes", "levels deep"),
        True,
    ),
    "deep-json-config": (
        lambda d, b: _st_variant(b, d / "deepcfg.safetensors", meta={"G_config": "[" * 150 + "]" * 150}),
        ("deepcfg.safetensors", "G_config"),
        True,
    ),
    "truncated-safetensors": (lambda d, b: _truncate(b, d / "cut.safetensors"), ("cut.safetensors",), False),
    "truncated-nvidia-pickle": (
        lambda d, b: _truncate(write_nvidia_pickle(d / "full.pkl", G_ema=tiny_generator()), d / "cut.pkl"),
        ("cut.pkl",),
        False,
    ),
    "truncated-tf-pickle": (
        lambda d, b: _truncate(write_tf_pickle(d / "full-tf.pkl", Gs=tiny_generator()), d / "cut-tf.pkl", 0.7),
        ("cut-tf.pkl",),
        False,
    ),
    "truncated-rosinality": (
        lambda d, b: _truncate(write_rosinality_checkpoint(d / "full.pt", G_ema=tiny_generator()), d / "cut.pt"),
        ("cut.pt",),
        False,
    ),
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    base = sio.save(folder / "base.safetensors", G_ema=tiny_generator(seed=5))
    return {name: build(folder, base) for name, (build, _, _) in CASES.items()}


# ---------------------------------------------------------------------------------------------------------
# The matrix: every file through `info` and `generate`, in real subprocesses.


@pytest.mark.slow
@pytest.mark.parametrize("command", ["info", "generate"])
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_gives_one_line(case: str, command: str, hostile_files: dict[str, Path], tmp_path: Path) -> None:
    path = hostile_files[case]
    _, fragments, dos = CASES[case]
    args = (
        ["info", path] if command == "info" else ["generate", "--network", path, "--seeds", "0", "--outdir", tmp_path]
    )
    start = time.monotonic()
    result = run_stylegan(*args, timeout=120)
    elapsed = time.monotonic() - start
    assert_user_error(result, *fragments)
    if dos:
        assert elapsed < QUICK_SECONDS, elapsed
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.slow
def test_shared_reference_pickle_through_convert_and_resume_from(
    hostile_files: dict[str, Path], tmp_path: Path
) -> None:
    path = hostile_files["shared-ref-training-set-kwargs"]
    start = time.monotonic()
    result = run_stylegan("convert", path, "--out", tmp_path / "out.safetensors")
    assert_user_error(result, "shared.pkl", "training_set_kwargs")
    assert not (tmp_path / "out.safetensors").exists()

    from PIL import Image

    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        Image.fromarray(np.full((16, 16, 3), 60 * i, np.uint8)).save(data / f"{i}.png")
    result = run_stylegan(
        "train", "--data", data, "--outdir", tmp_path / "runs", "--kimg", "0.004", "--resume-from", path
    )
    assert_user_error(result, "shared.pkl", "training_set_kwargs")
    assert time.monotonic() - start < 2 * QUICK_SECONDS


@pytest.mark.slow
def test_nan_weights_load_with_one_warning(net_file: Path, tmp_path: Path) -> None:
    nan_file = _st_variant(
        net_file,
        tmp_path / "nan.safetensors",
        tensors=lambda t: t.update({"G_ema.mapping.fc0.bias": torch.full_like(t["G_ema.mapping.fc0.bias"], np.nan)}),
    )
    result = run_stylegan("generate", "--network", nan_file, "--seeds", "0", "--outdir", tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.count("NaN or infinite") == 1, result.stderr
    info = run_stylegan("info", nan_file)
    assert info.returncode == 0 and "Traceback" not in info.stderr


@pytest.mark.slow
def test_info_reports_a_network_too_large_to_build_without_building_it(net_file: Path, tmp_path: Path) -> None:
    """A configuration in range but beyond this machine: `info` describes it at once, `generate` refuses it."""
    big = _st_variant(
        net_file,
        tmp_path / "big.safetensors",
        config={"img_resolution": 8192, "channel_base": 2**27, "channel_max": 2**14},
    )
    start = time.monotonic()
    info = run_stylegan("info", big)
    assert info.returncode == 0, info.stderr[-2000:]
    assert "8192x8192" in info.stdout and "GiB" in info.stdout
    result = run_stylegan("generate", "--network", big, "--seeds", "0", "--outdir", tmp_path / "out")
    assert_user_error(result, "big.safetensors", "would need")
    assert time.monotonic() - start < 2 * QUICK_SECONDS


# ---------------------------------------------------------------------------------------------------------
# The same properties in process (fast).


def test_shared_reference_pickle_is_refused_in_milliseconds(tmp_path: Path) -> None:
    path = write_nvidia_pickle(tmp_path / "s.pkl", G_ema=tiny_generator(), training_set_kwargs={"x": shared_list()})
    start = time.monotonic()
    with pytest.raises(CheckpointError, match="shared references"):
        sio.inspect(path)
    assert time.monotonic() - start < 2.0


def test_shared_modules_are_refused(tmp_path: Path) -> None:
    """A network pickle whose module tree shares a sub-module (a DAG) is refused, not walked once per path."""
    G = tiny_generator()
    G.synthesis.b8.conv0 = G.synthesis.b8.conv1
    path = write_nvidia_pickle(tmp_path / "dag.pkl", G_ema=G)
    with pytest.raises(CheckpointError, match="appears twice|shape"):
        sio.load(path)


def test_metadata_below_the_limits_still_loads(tmp_path: Path) -> None:
    """Shared references are fine when the expanded structure is small; metadata keeps its values."""
    x = [1, 2]
    path = write_nvidia_pickle(tmp_path / "ok.pkl", G_ema=tiny_generator(), training_set_kwargs={"a": x, "b": x})
    assert sio.inspect(path).metadata["training_set_kwargs"] == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize(
    "overrides",
    [
        {"img_resolution": 2**20},
        {"img_resolution": 24},
        {"mapping_layers": 10**7},
        {"channel_max": 2**30},
        {"z_dim": 0},
        {"z_dim": 16.0},
        {"c_dim": -1},
        {"img_channels": "3"},
        {"use_noise": 1},
        {"architecture": ["skip"]},
        {"conv_clamp": float("nan")},
        {"mapping_lr_multiplier": float("inf")},
        {"resample_filter": []},
        {"w_avg_beta": 2.0},
    ],
)
def test_configurations_are_checked_for_type_and_range(overrides: dict) -> None:
    with pytest.raises((TypeError, ValueError), match=next(iter(overrides))):
        GeneratorConfig(**overrides)


@pytest.mark.parametrize(
    "cfg",
    [
        GeneratorConfig(),
        GeneratorConfig(img_resolution=16, channel_base=512, channel_max=32, c_dim=3, architecture="resnet"),
        GeneratorConfig(img_resolution=8, use_noise=False, mapping_layer_features=7, w_avg_beta=None),
    ],
)
def test_parameter_counts_are_computed_without_building(cfg: GeneratorConfig) -> None:
    G = stylegan.Generator(cfg)
    assert count_parameters(cfg) == (sum(p.numel() for p in G.parameters()), sum(b.numel() for b in G.buffers()))


def test_integer_tensor_in_a_foreign_file_is_named(tmp_path: Path) -> None:
    G = tiny_generator()
    path = write_rosinality_checkpoint(tmp_path / "r.pt", G_ema=G)
    data = torch.load(path, weights_only=True)
    data["g_ema"]["style.1.bias"] = data["g_ema"]["style.1.bias"].to(torch.int32)
    torch.save(data, path)
    with pytest.raises(CheckpointError, match=r"style\.1\.bias.*int32"):
        sio.load(path)


def test_forbidden_global_spliced_into_a_valid_pickle_is_refused(tmp_path: Path) -> None:
    """Opcodes that reference a class off the allowlist inside an otherwise valid file are refused, not run."""
    data = write_nvidia_pickle(tmp_path / "n.pkl", G_ema=tiny_generator()).read_bytes()
    evil = data[:2] + b"cbuiltins\neval\n(S'1'\ntR0" + data[2:]
    (tmp_path / "evil.pkl").write_bytes(evil)
    with pytest.raises(CheckpointError, match="builtins.eval"):
        sio.load(tmp_path / "evil.pkl")


def test_a_huge_memo_index_allocates_nothing(tmp_path: Path) -> None:
    """LONG_BINPUT 2**31-1: the C unpickler would grow its memo array to 16 GiB; ours keeps a dict."""
    path = tmp_path / "memo.pkl"
    path.write_bytes(b"\x80\x04Nr\xff\xff\xff\x7f.")
    start = time.monotonic()
    with pytest.raises(CheckpointError, match="not an NVIDIA network pickle"):
        sio.load(path)
    assert time.monotonic() - start < 2.0


def test_build_cannot_modify_a_function_of_the_allowlist(tmp_path: Path) -> None:
    from stylegan.io.formats import safe_pickle

    path = tmp_path / "build.pkl"
    path.write_bytes(b"\x80\x04\x8c\x08builtins\x8c\x03set\x93}\x8c\x0c__defaults__\x8c\x01xsb.")
    with pytest.raises(CheckpointError, match="BUILD applied to a function"):
        sio.load(path)
    assert safe_pickle._set.__defaults__ is None
