"""Our safetensors checkpoint format: save -> load round trips, metadata, fp16 storage, errors."""

from __future__ import annotations

import importlib.resources
import json
import struct

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import stylegan
import stylegan.io as sio
from stylegan.errors import CheckpointError
from stylegan.networks import Discriminator, Generator
from stylegan.testing import tiny_discriminator, tiny_generator

TOL = 1e-5  # same weights, same code: outputs must agree to float32 round-off


def _same_outputs(a: Generator, b: Generator, c_dim: int = 0) -> None:
    z = torch.randn(3, a.z_dim, generator=torch.Generator().manual_seed(1))
    c = torch.eye(c_dim)[[0, 1, 2 % c_dim]] if c_dim else None
    with torch.no_grad():
        for psi in (1.0, 0.6):
            torch.testing.assert_close(
                a(z, c, truncation_psi=psi, noise_mode="const"),
                b(z, c, truncation_psi=psi, noise_mode="const"),
                atol=TOL,
                rtol=0,
            )


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"architecture": "resnet", "c_dim": 3, "conv_clamp": 256.0},
        {"architecture": "orig", "img_channels": 1, "use_noise": False},
    ],
)
def test_round_trip_all_nets(tmp_path, overrides):
    G_ema = tiny_generator(1, **overrides)
    G = tiny_generator(2, **overrides)
    dkw = {k: v for k, v in overrides.items() if k in ("c_dim", "conv_clamp", "img_channels")}
    D = tiny_discriminator(3, **dkw)
    path = sio.save(tmp_path / "net.safetensors", G_ema=G_ema, G=G, D=D, metadata={"source": "unit test"})

    nets = sio.load(path, which="all")
    assert nets.source_format == "stylegan/1"
    assert nets.metadata["source"] == "unit test"
    assert nets.G_ema.cfg == G_ema.cfg and nets.D.cfg == D.cfg
    _same_outputs(G_ema, nets.G_ema, G_ema.c_dim)
    _same_outputs(G, nets.G, G.c_dim)
    img = torch.randn(4, D.img_channels, 16, 16)
    c = torch.eye(3)[[0, 1, 2, 0]] if D.c_dim else None
    torch.testing.assert_close(D(img, c), nets.D(img, c), atol=TOL, rtol=0)
    for key, value in G_ema.state_dict().items():
        assert torch.equal(value, nets.G_ema.state_dict()[key]), key


def test_load_defaults_to_frozen_g_ema(tmp_path):
    path = sio.save(tmp_path / "g.safetensors", G_ema=tiny_generator())
    G = stylegan.load(path)
    assert isinstance(G, Generator) and not G.training
    assert not any(p.requires_grad for p in G.parameters())
    assert isinstance(stylegan.load(str(path), device="cpu"), Generator)


def test_missing_network_names_what_is_there(tmp_path):
    path = sio.save(tmp_path / "g.safetensors", G_ema=tiny_generator())
    with pytest.raises(CheckpointError, match=r"has no D network \(it holds G_ema\)"):
        sio.load(path, which="D")
    nets = sio.load(path, which="all")
    assert nets.G is None and nets.D is None


def test_metadata_layout(tmp_path):
    path = sio.save(
        tmp_path / "g.safetensors",
        G_ema=tiny_generator(),
        D=tiny_discriminator(),
        metadata={"license": "CC0", "training": {"kimg": 12, "dataset": "x.zip"}},
    )
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        keys = list(f.keys())
    assert meta["format"] == "stylegan/1" and meta["license"] == "CC0"
    assert json.loads(meta["G_config"])["img_resolution"] == 16
    assert json.loads(meta["D_config"])["architecture"] == "resnet"
    assert json.loads(meta["training"]) == {"kimg": 12, "dataset": "x.zip"}
    assert all(k.startswith(("G_ema.", "D.")) for k in keys)
    assert sio.load(path, which="all").metadata["training"]["kimg"] == 12


def test_fp16_storage_loads_as_float32(tmp_path):
    G = tiny_generator()
    path = sio.save(tmp_path / "g16.safetensors", G_ema=G, dtype=torch.float16)
    with safe_open(str(path), "pt") as f:
        assert f.get_tensor("G_ema.mapping.fc0.weight").dtype == torch.float16
    G16 = sio.load(path)
    assert all(p.dtype == torch.float32 for p in G16.parameters())
    z = torch.randn(2, G.z_dim)
    with torch.no_grad():
        diff = (G(z, None, noise_mode="const") - G16(z, None, noise_mode="const")).abs().max()
    assert diff < 0.05  # fp16 rounding of the weights only


def test_save_is_atomic_and_overwrites(tmp_path):
    path = tmp_path / "sub" / "g.safetensors"
    sio.save(path, G_ema=tiny_generator(1))
    sio.save(path, G_ema=tiny_generator(2))
    assert sorted(p.name for p in path.parent.iterdir()) == ["g.safetensors"]  # no temp files left behind
    assert torch.equal(sio.load(path).mapping.fc0.weight, tiny_generator(2).mapping.fc0.weight)


def test_save_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="same GeneratorConfig"):
        sio.save(tmp_path / "x.safetensors", G_ema=tiny_generator(), G=tiny_generator(architecture="orig"))
    with pytest.raises(ValueError, match="reserved"):
        sio.save(tmp_path / "x.safetensors", G_ema=tiny_generator(), metadata={"G_config": "{}"})
    with pytest.raises(TypeError):
        sio.save(tmp_path / "x.safetensors", G_ema=torch.nn.Linear(2, 2))  # type: ignore[arg-type]


def test_foreign_safetensors_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(2)}, str(path), metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="not a stylegan checkpoint"):
        sio.load(path)


def test_truncated_safetensors(tmp_path):
    path = sio.save(tmp_path / "g.safetensors", G_ema=tiny_generator())
    data = path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.safetensors: .*(truncated|damaged)"):
        sio.load(tmp_path / "cut.safetensors")
    header_only = struct.pack("<Q", 10**6) + b'{"a": 1}'
    (tmp_path / "hdr.safetensors").write_bytes(header_only)
    with pytest.raises(CheckpointError, match="truncated"):
        sio.load(tmp_path / "hdr.safetensors")


def test_tensor_set_must_match_config(tmp_path):
    path = sio.save(tmp_path / "g.safetensors", G_ema=tiny_generator())
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys() if k != "G_ema.mapping.fc1.bias"}
    save_file(tensors, str(tmp_path / "bad.safetensors"), metadata=meta)
    with pytest.raises(CheckpointError, match=r"'mapping.fc1.bias' is missing"):
        sio.load(tmp_path / "bad.safetensors")


def test_num_fp16_res_round_trips(tmp_path):
    """`num_fp16_res` is stored in G_config / D_config when not 0 and read back; files of float32 networks do not
    name it, and files that name it as 0 (earlier versions, the bundled network) load the same networks."""
    G, D = tiny_generator(num_fp16_res=2, conv_clamp=256.0), tiny_discriminator(num_fp16_res=3, conv_clamp=256.0)
    path = sio.save(tmp_path / "mixed.safetensors", G_ema=G, D=D)
    with safe_open(str(path), "pt") as f:
        assert json.loads(f.metadata()["G_config"])["num_fp16_res"] == 2
    nets = sio.load(path, which="all")
    assert nets.G_ema.cfg == G.cfg and nets.D.cfg == D.cfg and nets.D.cfg.num_fp16_res == 3
    _same_outputs(G, nets.G_ema)

    G, D = tiny_generator(), tiny_discriminator()
    path = sio.save(tmp_path / "new.safetensors", G_ema=G, D=D)
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    assert "num_fp16_res" not in json.loads(meta["G_config"])
    for name in ("G_config", "D_config"):
        meta[name] = json.dumps({**json.loads(meta[name]), "num_fp16_res": 0}, sort_keys=True)
    save_file(tensors, str(tmp_path / "old.safetensors"), metadata=meta)
    nets = sio.load(tmp_path / "old.safetensors", which="all")
    assert nets.G_ema.cfg == G.cfg and nets.D.cfg == D.cfg
    _same_outputs(G, nets.G_ema)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(nets.D(x, None), D(x, None), atol=TOL, rtol=0)

    bundled = importlib.resources.files("stylegan") / "assets" / "emoji32.safetensors"
    with safe_open(str(bundled), "pt") as f:
        assert json.loads(f.metadata()["G_config"])["num_fp16_res"] == 0
    assert sio.load(bundled).cfg.num_fp16_res == 0


def test_inspect_counts_parameters(tmp_path):
    G, D = tiny_generator(), tiny_discriminator()
    path = sio.save(tmp_path / "g.safetensors", G_ema=G, D=D)
    info = sio.inspect(path)
    assert info.source_format == "stylegan/1" and list(info.nets) == ["G_ema", "D"]
    assert info.nets["G_ema"].num_params == sum(p.numel() for p in G.parameters())
    assert info.nets["D"].num_params == sum(p.numel() for p in D.parameters())
    assert info.nets["D"].kind == "discriminator" and isinstance(sio.load(path, which="D"), Discriminator)
