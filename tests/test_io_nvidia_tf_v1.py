"""NVIDIA's TensorFlow StyleGAN (v1) pickles: read safely (no TensorFlow, no code from the file), G, D and Gs with
their stored noise, `dlatent_avg` and `lod`; converted to our format unchanged; generated from by the CLI with the
same pixels as the independent reference (at most 1 uint8 level, as NVIDIA's own rounding could differ)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import stylegan.io as sio
from stylegan.errors import CheckpointError
from stylegan.networks import v1

from . import reference_v1 as ref
from . import tf_v1_fixture as fx
from .conftest import assert_user_error, run_stylegan

KW = dict(resolution=64, num_channels=3, fmap_base=128, fmap_max=32, latent_size=24, dlatent_size=24, mapping_fmaps=24)


@pytest.fixture(scope="module")
def v1_pickle(tmp_path_factory):
    gv = fx.generator_variables(KW, seed=11)
    path = fx.write_tf_v1_pickle(tmp_path_factory.mktemp("v1") / "v1.pkl", kwargs=KW, Gs_vars=gv, seed=11)
    return path, gv


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """NVIDIA's conversion: x * 127.5 + 128, saturated, truncated; NCHW -> NHWC."""
    return (images * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def test_all_three_networks_load_with_their_state(v1_pickle):
    path, gv = v1_pickle
    nets = sio.load(path, which="all")
    assert nets.source_format == "nvidia-tf" and nets.metadata["tf_network_names"] == {
        "G": "G",
        "D": "D",
        "G_ema": "Gs",
    }
    G, D = nets.G_ema, nets.D
    assert G.version == 1 and isinstance(D, v1.Discriminator) and nets.G is not None
    synthesis = fx.as_dict(gv["synthesis"])
    assert np.array_equal(G.mapping.w_avg.numpy(), fx.as_dict(gv["G"])["dlatent_avg"])
    assert np.array_equal(G.synthesis.b8.conv1.noise_const.numpy(), synthesis["noise3"][0, 0])
    assert np.array_equal(G.synthesis.b64.conv0.noise_weight.numpy(), synthesis["64x64/Conv0_up/Noise/weight"])
    info = sio.inspect(path)
    assert info.nets["G_ema"].config == G.cfg and info.nets["D"].kind == "discriminator"
    assert info.nets["G_ema"].num_params == sum(p.numel() for p in G.parameters())


def test_the_lod_of_G_itself_is_the_one_used(tmp_path):
    """G_style feeds its own `lod` to the synthesis network on every call: a stale synthesis lod is ignored."""
    path = fx.write_tf_v1_pickle(tmp_path / "lod.pkl", kwargs=KW, lod=1.25, synthesis_lod=0.0, seed=2)
    G = sio.load(path)
    assert float(G.synthesis.lod) == 1.25
    assert float(sio.load(path, which="D").lod) == 1.25


def test_stylegan2_repository_config_a_and_single_networks_load(tmp_path):
    """Dispatch is on the build function: the StyleGAN2 repository writes config-a (G_style) as version 4."""
    gv = fx.generator_variables(KW, seed=4)
    path = fx.write_tf_v1_pickle(tmp_path / "config-a.pkl", kwargs=KW, Gs_vars=gv, version=4)
    z = np.random.RandomState(1).randn(2, 24)
    with torch.no_grad():
        ours = sio.load(path)(torch.from_numpy(z).float(), truncation_psi=0.6, noise_mode="const")
    expected = ref.generator(gv, KW, z, psi=0.6, cutoff=8)
    assert float((ours.double() - expected).abs().max()) < 1e-4 * max(1, float(expected.abs().max()))
    single = fx.write_tf_v1_pickle(tmp_path / "gs.pkl", kwargs=KW, Gs_vars=gv, single="Gs")
    assert list(sio.load(single, which="all").metadata["tf_network_names"]) == ["G_ema"]
    only_d = fx.write_tf_v1_pickle(tmp_path / "d.pkl", kwargs=KW, single="D")
    with pytest.raises(CheckpointError, match="expected G_style"):
        sio.load(only_d)


def test_convert_keeps_every_pixel(v1_pickle, tmp_path):
    path, _ = v1_pickle
    out = tmp_path / "v1.safetensors"
    result = run_stylegan("convert", str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    a, b = sio.load(path, which="all"), sio.load(out, which="all")
    z = torch.randn(3, 24)
    with torch.no_grad():
        assert torch.equal(a.G_ema(z, noise_mode="const"), b.G_ema(z, noise_mode="const"))
        img = a.G_ema(z, noise_mode="const")
        assert torch.equal(a.D(img), b.D(img))
    assert b.G_ema.cfg == a.G_ema.cfg and b.D.cfg == a.D.cfg


@pytest.mark.parametrize("trunc", [["--trunc", "0.7"], ["--trunc", "1.0", "--trunc-cutoff", "4"]])
def test_cli_generate_matches_reference_pixels(v1_pickle, tmp_path, trunc):
    """`stylegan generate --seeds 0-2 --noise-mode const`: seed s draws z = RandomState(s).randn(1, 512) as NVIDIA's
    scripts do; without --trunc-cutoff a v1 network truncates its first 8 layers."""
    path, gv = v1_pickle
    result = run_stylegan(
        "generate", "--network", str(path), "--seeds", "0-2", *trunc, "--noise-mode", "const", "--outdir", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    psi = float(trunc[1])
    cutoff = int(trunc[3]) if len(trunc) > 2 else 8
    for seed in range(3):
        z = np.random.RandomState(seed).randn(1, 24)
        expected = to_uint8(ref.generator(gv, KW, z, psi=psi, cutoff=cutoff).float())[0]
        ours = np.asarray(Image.open(tmp_path / f"seed{seed:04d}.png"))
        assert np.abs(ours.astype(int) - expected.astype(int)).max() <= 1


def test_unknown_arguments_and_unsupported_variants_are_refused(tmp_path):
    kwargs = dict(KW, resolution=32)
    gv = fx.generator_variables(kwargs, seed=1)
    g_static, _ = fx.split_static_kwargs(kwargs)
    odd = fx.dump_foreign_pickle(tmp_path / "odd.pkl", fx.tf_v1_generator(gv, dict(g_static, wobble=3), name="Gs"))
    with pytest.raises(CheckpointError, match="unknown TF network argument wobble=3"):
        sio.load(odd)
    no_wscale = fx.write_tf_v1_pickle(tmp_path / "w.pkl", kwargs=dict(kwargs, use_wscale=False), seed=1)
    with pytest.raises(CheckpointError, match="equalised learning rate"):
        sio.load(no_wscale)


def test_damaged_v1_files_give_one_line(tmp_path):
    gv = fx.generator_variables(dict(KW, resolution=32), seed=1)
    gv["synthesis"] = [(n, v) for n, v in gv["synthesis"] if n != "16x16/Conv1/StyleMod/bias"]
    path = fx.write_tf_v1_pickle(tmp_path / "m.pkl", kwargs=dict(KW, resolution=32), Gs_vars=gv, single="Gs")
    result = run_stylegan("generate", "--network", str(path), "--seeds", "0", "--outdir", str(tmp_path / "o"))
    assert_user_error(result, "m.pkl", "16x16/Conv1/StyleMod/bias", "missing")
