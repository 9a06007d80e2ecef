"""`stylegan info`, `stylegan convert`, `stylegan pretrained`: through click's CliRunner and a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner
from safetensors import safe_open

import stylegan.io as sio
from stylegan.cli.main import cli
from stylegan.errors import CheckpointError, StyleGANError
from stylegan.networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig
from stylegan.testing import randomize_, tiny_discriminator, tiny_generator, write_nvidia_pickle, write_tf_pickle


@pytest.fixture
def snapshot(tmp_path):
    G = tiny_generator(1, c_dim=2, conv_clamp=256.0)
    D = tiny_discriminator(2, c_dim=2, conv_clamp=256.0)
    return write_nvidia_pickle(tmp_path / "snap.pkl", G_ema=G, G=tiny_generator(3, c_dim=2, conv_clamp=256.0), D=D)


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def test_info_text(snapshot):
    result = _run("info", str(snapshot))
    assert result.exit_code == 0, result.output
    out = result.output
    for text in (
        "nvidia-pytorch/ada (NVIDIA StyleGAN2-ADA-PyTorch network pickle)",
        "networks        G_ema, G, D",
        "resolution    16x16, img_channels 3",
        "z_dim 32, w_dim 32, c_dim 2, num_ws 6",
        "mapping       2 layers of 32",
        "channel_base 512, channel_max 32; conv_clamp 256",
        "discriminator, ",
        "training_set_kwargs",
    ):
        assert text in out, text
    n = sum(p.numel() for p in tiny_generator(c_dim=2).parameters())
    assert f"generator, {n:,} parameters" in out


def test_info_json(snapshot):
    result = _run("info", str(snapshot), "--json")
    info = json.loads(result.output)
    assert info["source_format"] == "nvidia-pytorch/ada"
    assert info["nets"]["G_ema"]["config"]["c_dim"] == 2 and info["nets"]["D"]["kind"] == "discriminator"


def test_convert_all(snapshot, tmp_path):
    out = tmp_path / "net.safetensors"
    result = _run("convert", str(snapshot), "--out", str(out), "--license", "CC0")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "G_ema, G, D" in result.output
    nets = sio.load(out, which="all")
    assert nets.metadata["source_format"] == "nvidia-pytorch/ada" and nets.metadata["license"] == "CC0"
    assert nets.metadata["source"] == str(snapshot) and nets.metadata["training_set_kwargs"]["resolution"] == 16
    original = sio.load(snapshot, which="all")
    for a, b in ((nets.G_ema, original.G_ema), (nets.G, original.G), (nets.D, original.D)):
        assert a.cfg == b.cfg
        for key, value in b.state_dict().items():
            assert torch.equal(a.state_dict()[key], value), key


def test_convert_g_ema_fp16(tmp_path):
    src = write_tf_pickle(tmp_path / "tf.pkl", Gs=tiny_generator())
    out = tmp_path / "g16.safetensors"
    result = _run("convert", str(src), "--out", str(out), "--which", "G_ema", "--fp16")
    assert result.exit_code == 0, result.output
    with safe_open(str(out), "pt") as f:
        assert all(k.startswith("G_ema.") for k in f.keys())
        assert f.get_tensor("G_ema.synthesis.b4.const").dtype == torch.float16
    assert sio.inspect(out).metadata["source_format"] == "nvidia-tf"


def test_convert_to_rosinality(tmp_path):
    cfg = GeneratorConfig(z_dim=32, w_dim=32, img_resolution=8, mapping_layers=2, channel_base=16384)
    G = randomize_(Generator(cfg), 1).eval()
    D = randomize_(Discriminator(DiscriminatorConfig(img_resolution=8, channel_base=16384)), 2).eval()
    src = sio.save(tmp_path / "net.safetensors", G_ema=G, D=D)
    out = tmp_path / "net.pt"
    result = _run("convert", str(src), "--out", str(out), "--to", "rosinality")
    assert result.exit_code == 0, result.output
    raw = torch.load(out, weights_only=True)
    assert set(raw) == {"g_ema", "latent_avg", "d"}
    back = sio.load(out, which="all")
    assert back.source_format == "rosinality/converted"
    z = torch.randn(2, 32)
    with torch.no_grad():
        torch.testing.assert_close(
            back.G_ema(z, None, truncation_psi=0.5, noise_mode="const"),
            G(z, None, truncation_psi=0.5, noise_mode="const"),
            atol=1e-5,
            rtol=0,
        )
        x = torch.randn(4, 3, 8, 8)
        torch.testing.assert_close(back.D(x), D(x), atol=1e-5, rtol=0)


def test_convert_errors(snapshot, tmp_path):
    result = _run("convert", str(snapshot), "--out", str(tmp_path / "x.pt"), "--to", "rosinality")
    assert isinstance(result.exception, CheckpointError) and "snap.pkl: G_ema: cannot be written" in str(
        result.exception
    )
    result = _run("convert", str(snapshot), "--out", str(snapshot))
    assert isinstance(result.exception, StyleGANError) and "is the source file" in str(result.exception)


def test_pretrained_lists_registry():
    result = _run("pretrained")
    assert result.exit_code == 0 and "ada-ffhq-1024" in result.output and "tf-ffhq-config-f" in result.output


def test_subprocess_info_and_one_line_error(snapshot, tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "stylegan", "info", str(snapshot)], capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    assert "nvidia-pytorch/ada" in ok.stdout
    bad = tmp_path / "page.pkl"
    bad.write_text("<!DOCTYPE html><html><body>Sign in to download</body></html>")
    err = subprocess.run(
        [sys.executable, "-m", "stylegan", "info", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert err.returncode == 1
    assert err.stderr.count("\n") == 1 and err.stderr.startswith(f"error: {bad}: this is an HTML web page")


def test_rosinality_export_warns_about_dropped_clamp(tmp_path):
    cfg = GeneratorConfig(z_dim=32, w_dim=32, img_resolution=8, mapping_layers=2, channel_base=16384, conv_clamp=256)
    src = sio.save(tmp_path / "clamped.safetensors", G_ema=Generator(cfg).eval())
    result = CliRunner().invoke(cli, ["convert", str(src), "--out", str(tmp_path / "c.pt"), "--to", "rosinality"])
    assert result.exit_code == 0, result.output
    assert "warning: G_ema: conv_clamp=256 is dropped" in result.stderr


def test_library_convert_keeps_metadata_and_licence(snapshot, tmp_path):
    result = sio.convert(snapshot, tmp_path / "g.safetensors", which="G_ema", license="CC0")
    assert result.nets == ["G_ema"] and result.source_format == "nvidia-pytorch/ada" and not result.warnings
    assert result.size_bytes == (tmp_path / "g.safetensors").stat().st_size
    meta = sio.inspect(result.out).metadata
    assert meta["license"] == "CC0" and meta["source"] == str(snapshot)
    # Converting the converted file keeps the original source and format.
    again = sio.convert(result.out, tmp_path / "again.safetensors")
    meta = sio.inspect(again.out).metadata
    assert meta["source"] == str(snapshot) and meta["source_format"] == "nvidia-pytorch/ada"
    assert meta["license"] == "CC0" and again.source_format == "stylegan/1"


def test_library_convert_errors_and_warnings(tmp_path):
    cfg = GeneratorConfig(z_dim=32, w_dim=32, img_resolution=8, mapping_layers=2, channel_base=16384, conv_clamp=256)
    src = sio.save(tmp_path / "clamped.safetensors", G_ema=Generator(cfg).eval())
    with pytest.raises(StyleGANError, match="is the source file"):
        sio.convert(src, src)
    with pytest.raises(StyleGANError, match="fp16"):
        sio.convert(src, tmp_path / "x.pt", to="rosinality", fp16=True)
    assert not (tmp_path / "x.pt").exists()
    result = sio.convert(src, tmp_path / "c.pt", to="rosinality")
    assert result.to == "rosinality" and any("conv_clamp=256 is dropped" in w for w in result.warnings)


def test_default_network_rule():
    assert sio.resolve_network(None) == sio.BUNDLED_NETWORK and sio.resolve_network("x.pkl") == "x.pkl"


def test_cli_convert_errors_name_the_options(tmp_path, capsys):
    from stylegan.cli.common import run_cli

    src = sio.save(tmp_path / "g.safetensors", G_ema=tiny_generator())
    for args, message in (
        (["--out", str(src)], f"error: {src}: is the source file; choose another --out\n"),
        (
            ["--out", str(tmp_path / "g.pt"), "--to", "rosinality", "--fp16"],
            "error: --fp16 applies to our format only; rosinality files store float32\n",
        ),
    ):
        with pytest.raises(SystemExit):
            run_cli(cli, ["convert", str(src), *args])
        assert capsys.readouterr().err == message
