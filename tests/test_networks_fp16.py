"""NVIDIA's mixed precision (`num_fp16_res`): the float16 blocks' numerics, forced onto the CPU with
`stylegan.nn.mixed.fp16_on_cpu` (PyTorch runs float16 convolutions on a CPU, slowly), against the same network in
float32; and that on a CPU, by default, nothing changes: the same numbers, bit for bit, as without float16 blocks.

Tolerances: float16 keeps 11 bits of mantissa (relative rounding 5e-4); through a few layers the images and logits
stay within 1e-2 of their float32 values relative to their scale, the gradients within 5e-2 (their norm over all
parameters).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylegan.data import prepare_dataset
from stylegan.errors import SettingError
from stylegan.networks import Discriminator, Generator
from stylegan.nn.mixed import first_fp16_resolution, fp16_on_cpu
from stylegan.presets import PRESETS
from stylegan.testing import tiny_discriminator, tiny_generator
from stylegan.train import Reporter, TrainOptions, build_config, train
from stylegan.train import loop as loop_module

pytestmark = pytest.mark.usefixtures("one_thread")

ARCHS = ["skip", "resnet", "orig"]


def _pair(arch: str, **kw: object) -> tuple[Generator, Generator, Discriminator, Discriminator]:
    """The same weights as float32 networks and with the 2 highest resolutions (8, 16) in float16, clamp 256."""
    G32 = tiny_generator(1, architecture=arch, conv_clamp=256.0, **kw)
    G16 = tiny_generator(1, architecture=arch, conv_clamp=256.0, num_fp16_res=2, **kw)
    D32 = tiny_discriminator(2, architecture=arch, conv_clamp=256.0, **kw)
    D16 = tiny_discriminator(2, architecture=arch, conv_clamp=256.0, num_fp16_res=2, **kw)
    G16.load_state_dict(G32.state_dict())
    D16.load_state_dict(D32.state_dict())
    return G32, G16, D32, D16


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def test_which_blocks_run_in_float16() -> None:
    assert first_fp16_resolution(1024, 4) == 128 and first_fp16_resolution(256, 4) == 32
    assert first_fp16_resolution(32, 4) == 8  # never the 4x4 block
    G = tiny_generator(num_fp16_res=2)
    assert [G.synthesis.get_submodule(f"b{r}").use_fp16 for r in (4, 8, 16)] == [False, True, True]
    D = tiny_discriminator(num_fp16_res=1)
    assert [D.get_submodule(f"b{r}").use_fp16 for r in (16, 8)] == [True, False]


@pytest.mark.parametrize("arch", ARCHS)
def test_cpu_default_is_bit_identical(arch: str) -> None:
    """Off CUDA (and without the test switch) the float16 blocks run in float32: exactly the float32 network."""
    G32, G16, D32, D16 = _pair(arch)
    z = torch.randn(4, G32.z_dim)
    with torch.no_grad():
        img = G32(z, None, noise_mode="const")
        assert torch.equal(G16(z, None, noise_mode="const"), img)
        assert torch.equal(D16(img, None), D32(img, None))


@pytest.mark.parametrize("arch", ARCHS)
def test_float16_blocks_match_float32(arch: str) -> None:
    G32, G16, D32, D16 = _pair(arch)
    z = torch.randn(4, G32.z_dim)
    dtypes: dict[str, torch.dtype] = {}
    blocks = [(f"G.{n}", m) for n, m in G16.synthesis.named_children()]
    blocks += [(f"D.{n}", m) for n, m in D16.named_children() if n in ("b16", "b8")]
    hooks = [
        m.register_forward_hook(lambda mod, args, out, name=name: dtypes.__setitem__(name, out[0].dtype))
        for name, m in blocks
    ]
    with torch.no_grad(), fp16_on_cpu():
        img = G16(z, None, noise_mode="const")
        logits = D16(img, None)
        for h in hooks:
            h.remove()
        unforced = G16(z, None, noise_mode="const", force_fp32=True)
    assert dtypes.pop("G.b4") == torch.float32 and set(dtypes.values()) == {torch.float16}, dtypes
    assert img.dtype == logits.dtype == torch.float32  # ToRGB sums and D's epilogue in float32
    with torch.no_grad():
        ref = G32(z, None, noise_mode="const")
        assert torch.equal(unforced, ref)  # force_fp32
        assert _rel(img, ref) < 1e-2 and not torch.equal(img, ref)
        assert _rel(logits, D32(ref, None)) < 1e-2


def test_float16_gradients_match_float32() -> None:
    G32, G16, D32, D16 = _pair("skip")
    z = torch.randn(4, G32.z_dim)

    def grads(G: Generator, D: Discriminator) -> torch.Tensor:
        torch.manual_seed(0)  # the same random noise
        D(G(z, None), None).sum().backward()
        return torch.cat([p.grad.flatten() for p in [*G.parameters(), *D.parameters()] if p.grad is not None])

    ref = grads(G32, D32)
    with fp16_on_cpu():
        got = grads(G16, D16)
    assert torch.isfinite(got).all() and float((got - ref).norm() / ref.norm()) < 5e-2
    assert all(p.dtype == torch.float32 for p in G16.parameters())


def test_progressive_networks_and_conditional_d_in_float16() -> None:
    for kw in (dict(progressive=True), dict(c_dim=3)):
        G32, G16, D32, D16 = _pair("skip", **kw)
        if kw.get("progressive"):
            for net in (G32, G16, D32, D16):
                net.get_buffer("synthesis.lod" if isinstance(net, Generator) else "lod").fill_(0.5)
        c = torch.eye(3)[[0, 1, 2, 0]] if kw.get("c_dim") else None
        z = torch.randn(4, G32.z_dim)
        with torch.no_grad():
            ref = G32(z, c, noise_mode="const")
            ref_logits = D32(ref, c)
            with fp16_on_cpu():
                img, logits = G16(z, c, noise_mode="const"), D16(ref, c)
        assert _rel(img, ref) < 1e-2 and _rel(logits, ref_logits) < 1e-2


def test_prenormalised_modulation_does_not_overflow() -> None:
    """Styles of 3000 make x * s overflow float16 (65504) before demodulation; the pre-normalised weights and styles
    keep the float16 block finite and equal to float32."""
    G32, G16, _, _ = _pair("skip")
    for G in (G32, G16):
        with torch.no_grad():
            G.synthesis.b16.conv1.affine.bias.fill_(3000.0)
            G.synthesis.b16.conv1.weight.mul_(100.0)
    z = torch.randn(4, G32.z_dim)
    with torch.no_grad(), fp16_on_cpu():
        img = G16(z, None, noise_mode="const")
    assert torch.isfinite(img).all() and _rel(img, G32(z, None, noise_mode="const").detach()) < 1e-2


def test_bfloat16_autocast_leaves_the_blocks_to_autocast() -> None:
    G32, G16, _, _ = _pair("skip")
    z = torch.randn(2, G32.z_dim)
    with torch.no_grad(), fp16_on_cpu(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(G16(z, None, noise_mode="const"), G32(z, None, noise_mode="const"))


def test_presets_and_the_fp16_res_setting() -> None:
    for name in ("auto", "stylegan2", "paper256", "paper512", "paper1024", "cifar", "config-f"):
        G, D = PRESETS[name].generator(256), PRESETS[name].discriminator(256)
        assert (G.num_fp16_res, G.conv_clamp, D.num_fp16_res, D.conv_clamp) == (4, 256, 4, 256), name
    for name in ("cpu-tiny", "cpu-small", "config-e"):
        assert PRESETS[name].generator(64).num_fp16_res == 0, name
    cfg = build_config("cpu-tiny", resolution=16, options=TrainOptions(num_fp16_res=2))
    assert (cfg.G.num_fp16_res, cfg.D.num_fp16_res, cfg.G.conv_clamp, cfg.D.conv_clamp) == (2, 2, 256, 256)
    assert build_config("paper256", resolution=256, options=TrainOptions(num_fp16_res=0)).G.num_fp16_res == 0
    assert build_config("stylegan1", resolution=16, options=TrainOptions(num_fp16_res=0)).G.img_resolution == 16
    with pytest.raises(SettingError, match="num_fp16_res.*StyleGAN2 networks"):
        build_config("stylegan1", resolution=16, options=TrainOptions(num_fp16_res=2))
    with pytest.raises(SettingError, match="num_fp16_res must be <= 16"):
        TrainOptions(num_fp16_res=17)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    rng = np.random.RandomState(0)
    (root / "src").mkdir()
    for i in range(8):
        Image.fromarray(rng.randint(0, 255, (16, 16, 3)).astype(np.uint8)).save(root / "src" / f"{i}.png")
    prepare_dataset(root / "src", root / "d.zip", resolution=16)
    return root / "d.zip"


def test_mixed_precision_training_zeroes_non_finite_gradients(tiny_data: Path, tmp_path: Path, monkeypatch) -> None:
    """With float16 blocks a NaN or infinite gradient is zeroed (StyleGAN2-ADA's nan_to_num) and the step taken;
    without them the step is skipped and reported."""
    options = TrainOptions(
        data_path=str(tiny_data),
        channel_base=256,
        channel_max=16,
        batch=4,
        kimg=0.008,
        kimg_per_tick=0.008,
        num_fp16_res=2,
        precision="fp32",
    )
    cfg = build_config("cpu-tiny", resolution=16, options=options)
    average = loop_module.average_gradients

    def poisoned(params):  # type: ignore[no-untyped-def]
        params = list(params)
        average(params)
        for p in params:
            if p.grad is not None:
                p.grad.view(-1)[0] = float("nan")
                break

    monkeypatch.setattr(loop_module, "average_gradients", poisoned)
    logs = {}
    for mixed in (True, False):
        run_dir = tmp_path / str(mixed)
        reporter = Reporter(run_dir, stream=io.StringIO(), tensorboard=False)
        if mixed:
            with fp16_on_cpu():
                train(cfg, run_dir, reporter=reporter)
        else:
            train(cfg, run_dir, reporter=reporter)
        logs[mixed] = (run_dir / "log.txt").read_text()
    assert "mixed precision: the blocks of the 2 highest resolutions of G and D run in float16" in logs[True]
    assert "step skipped" not in logs[True] and "step skipped" in logs[False]
    assert "mixed precision" not in logs[False]
