"""Precision: `auto` picks bfloat16 only where the hardware runs it natively, a training run logs its choice in one
line and records the result (resume keeps it), and `generate --precision bf16` makes close but not identical images.

The decision logic is tested by patching PyTorch's CPU capability probes; everything else runs for real."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image
from torch.utils._python_dispatch import TorchDispatchMode

from stylegan import precision as precision_module
from stylegan.cli.main import cli
from stylegan.data import prepare_dataset
from stylegan.errors import SettingError
from stylegan.generation import generate, synthesis_function
from stylegan.precision import bf16_speedup, native_bf16, resolve_precision
from stylegan.testing import tiny_generator
from stylegan.train import Reporter, TrainOptions, build_config, train
from stylegan.train.runs import resume_config

pytestmark = pytest.mark.usefixtures("one_thread")

CPU = torch.device("cpu")


def _cpu(monkeypatch: pytest.MonkeyPatch, *, amx: bool, avx512_bf16: bool, speedup: float = 2.0) -> None:
    """Make this CPU look as if it had (or lacked) AMX tiles and AVX512-BF16, with bfloat16 convolutions `speedup`
    times as fast as float32 ones (the probe's answer)."""
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(precision_module, "_measure_bf16_speedup", lambda threads: speedup)


@pytest.mark.parametrize(
    "amx, avx512_bf16, native", [(True, True, "AMX tiles"), (False, True, "AVX512-BF16"), (False, False, None)]
)
def test_auto_is_bf16_only_with_native_support(monkeypatch, amx, avx512_bf16, native) -> None:
    _cpu(monkeypatch, amx=amx, avx512_bf16=avx512_bf16)
    assert native_bf16(CPU) == native
    decision = resolve_precision("auto", CPU)
    assert decision.precision == ("bf16" if native else "fp32") and decision.warning is None
    assert "\n" not in decision.note and decision.note.startswith(f"precision {decision.precision} (auto: this CPU")
    if native:
        assert native in decision.note
    else:
        assert "no native bfloat16" in decision.note and "AMX" in decision.note


def test_auto_is_fp32_where_bf16_is_native_but_measured_slower(monkeypatch) -> None:
    """AVX512-BF16 without faster arithmetic (an Intel Xeon without AMX ran bfloat16 convolutions at half speed):
    auto keeps float32, and an explicit bf16 is kept with a warning; a clear gain takes bfloat16."""
    _cpu(monkeypatch, amx=False, avx512_bf16=True, speedup=0.5)
    decision = resolve_precision("auto", CPU)
    assert decision.precision == "fp32" and decision.warning is None
    assert decision.note == (
        "precision fp32 (auto: this CPU has AVX512-BF16, but its bfloat16 convolutions measured 0.50x as fast as "
        "float32)"
    )
    explicit = resolve_precision("bf16", CPU)
    assert explicit.precision == "bf16" and "slower than fp32" in (explicit.warning or "")
    _cpu(monkeypatch, amx=False, avx512_bf16=True, speedup=1.1)  # below the margin: not worth the rounding
    assert resolve_precision("auto", CPU).precision == "fp32"
    assert resolve_precision("bf16", CPU).warning is None
    _cpu(monkeypatch, amx=False, avx512_bf16=True, speedup=1.9)
    decision = resolve_precision("auto", CPU)
    assert decision.precision == "bf16" and "AVX512-BF16; bfloat16 convolutions measured 1.90x" in decision.note


def test_the_bf16_probe_measures_once_per_thread_count() -> None:
    """The real probe (no patch): a positive ratio, cached for the thread count; no probe off the CPU."""
    first = bf16_speedup(CPU)
    assert first is not None and 0 < first < 1000
    assert bf16_speedup(CPU) == first  # cached: a second measurement would differ in the last digits
    assert bf16_speedup(torch.device("meta")) is None


def test_explicit_choices_are_kept_and_emulated_bf16_warns(monkeypatch) -> None:
    _cpu(monkeypatch, amx=False, avx512_bf16=False)
    assert resolve_precision("fp32", CPU) == resolve_precision("fp32", CPU)  # no state
    fp32 = resolve_precision("fp32", CPU)
    assert (fp32.precision, fp32.note, fp32.warning) == ("fp32", "precision fp32 (as set)", None)
    bf16 = resolve_precision("bf16", CPU)
    assert bf16.precision == "bf16" and bf16.warning is not None
    assert "emulated" in bf16.warning and "many times slower" in bf16.warning and "\n" not in bf16.warning
    _cpu(monkeypatch, amx=True, avx512_bf16=True)
    assert resolve_precision("bf16", CPU).warning is None
    with pytest.raises(SettingError, match="precision must be one of auto, fp32, bf16, got 'fp8'"):
        resolve_precision("fp8", CPU)


def test_cuda_decision(monkeypatch) -> None:
    """On CUDA, auto follows torch.cuda.is_bf16_supported (patched: there is no GPU here)."""
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Test GPU")
    cuda = torch.device("cuda")
    for supported, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda supported=supported: supported)
        decision = resolve_precision("auto", cuda)
        assert decision.precision == expected and "the GPU (Test GPU)" in decision.note
    assert "emulated" in (resolve_precision("bf16", cuda).warning or "")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    rng = np.random.RandomState(0)
    (root / "src").mkdir()
    for i in range(8):
        Image.fromarray(rng.randint(0, 255, (16, 16, 3)).astype(np.uint8)).save(root / "src" / f"{i}.png")
    prepare_dataset(root / "src", root / "d.zip", resolution=16)
    return root / "d.zip"


def _config(data: Path, **options: object):  # type: ignore[no-untyped-def]
    base = dict(data_path=str(data), channel_base=256, channel_max=16, batch=4, kimg=0.004, kimg_per_tick=0.004)
    return build_config("cpu-tiny", resolution=16, options=TrainOptions(**{**base, **options}))  # type: ignore[arg-type]


def _train(cfg, run_dir: Path, resume: bool = False) -> str:  # type: ignore[no-untyped-def]
    train(cfg, run_dir, reporter=Reporter(run_dir, stream=io.StringIO(), tensorboard=False), resume=resume)
    return (run_dir / "log.txt").read_text()


def test_training_logs_the_choice_and_records_it(tiny_data: Path, tmp_path: Path, monkeypatch) -> None:
    cfg = _config(tiny_data)
    assert cfg.precision == "auto"
    _cpu(monkeypatch, amx=False, avx512_bf16=False)
    log = _train(cfg, tmp_path / "a")
    (line,) = [line for line in log.splitlines() if line.startswith("training ")]
    assert line.endswith(
        "precision fp32 (auto: this CPU has no native bfloat16, no AMX or AVX512-BF16; its vector "
        f"unit is {torch.backends.cpu.get_cpu_capability()})"
    )
    assert json.loads((tmp_path / "a" / "config.json").read_text())["config"]["precision"] == "fp32"

    # Resumed on a CPU with bfloat16, the run keeps the precision it recorded.
    _cpu(monkeypatch, amx=True, avx512_bf16=False)
    log = _train(resume_config(tmp_path / "a", TrainOptions(kimg=0.008)), tmp_path / "a", resume=True)
    assert "precision fp32 (as set)" in log.split("resuming")[1]

    log = _train(cfg, tmp_path / "b")
    assert (
        "precision bf16 (auto: this CPU runs bfloat16 natively, AMX tiles; bfloat16 convolutions measured 2.00x" in log
    )
    assert json.loads((tmp_path / "b" / "config.json").read_text())["config"]["precision"] == "bf16"


def test_cli_resume_keeps_the_recorded_precision_and_bf16_warns_once(
    tiny_data: Path, tmp_path: Path, monkeypatch
) -> None:
    _cpu(monkeypatch, amx=False, avx512_bf16=False)
    base = ["train", "--outdir", str(tmp_path), "--device", "cpu"]
    args = [*base, "--data", str(tiny_data), "--cfg", "cpu-tiny", "--cbase", "256", "--cmax", "16", "--kimg", "0.004"]
    res = CliRunner().invoke(cli, [*args, "--batch", "4", "--tick", "0.004", "--precision", "bf16"])
    assert res.exit_code == 0, res.output
    (run,) = tmp_path.glob("00000-*")
    log = (run / "log.txt").read_text()
    assert log.count("emulated, many times slower") == 1 and "precision bf16 (as set)" in log
    _cpu(monkeypatch, amx=True, avx512_bf16=True)
    res = CliRunner().invoke(cli, [*base, "--resume", "latest", "--kimg", "0.008"])
    assert res.exit_code == 0, res.output
    log = (run / "log.txt").read_text()
    assert log.count("precision bf16 (as set)") == 2 and log.count("emulated") == 1


def test_bf16_generation_is_close_but_not_identical() -> None:
    """bfloat16 previews: mean |bf16 - fp32| < 0.05 on images in [-1, 1] (bfloat16 keeps 8 bits of mantissa), and
    not bitwise equal."""
    G = tiny_generator(4)
    ws = G.mapping(torch.randn(8, G.z_dim, generator=torch.Generator().manual_seed(0)), None)
    with torch.no_grad():
        ref = synthesis_function(G)(ws, "const")
        fast = synthesis_function(G, precision="bf16")(ws, "const")
        assert torch.equal(ref, G.synthesis(ws, noise_mode="const"))  # fp32 is the network's own forward pass
    assert fast.dtype == torch.float32 and ref.shape == fast.shape
    assert (fast - ref).abs().mean() < 0.05 and not torch.equal(fast, ref)
    a, b = generate(G, range(4)).images, generate(G, range(4), precision="bf16").images
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 0.05 * 127.5 and not np.array_equal(a, b)
    with pytest.raises(SettingError, match="precision"):
        synthesis_function(G, precision="fp16")  # type: ignore[arg-type]


def test_cli_generate_precision(net_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    help_text = runner.invoke(cli, ["generate", "--help"]).output
    assert "--precision [fp32|bf16]" in help_text and "NOT bit-identical" in help_text
    for precision in ("fp32", "bf16"):
        out = tmp_path / precision
        args = ["generate", "--network", str(net_file), "--seeds", "0-1", "--outdir", str(out), "--device", "cpu"]
        res = runner.invoke(cli, [*args, "--precision", precision])
        assert res.exit_code == 0, res.output
    a, b = (np.asarray(Image.open(tmp_path / p / "seed0001.png"), dtype=int) for p in ("fp32", "bf16"))
    assert np.abs(a - b).mean() < 0.05 * 127.5


def test_bf16_fir_filtering_with_gradients_runs_in_float32_and_differentiates_twice() -> None:
    """Under bfloat16 autocast a FIR down-sampling that needs gradients filters in float32 (oneDNN's bfloat16
    depthwise backward is slow), returns bfloat16 like the convolution it replaces, and its first and second
    derivatives (R1 differentiates D's input gradient) equal float32's up to bfloat16 rounding of the input."""
    from stylegan.nn.resample import downsample2d, setup_filter

    f = setup_filter([1, 3, 3, 1])
    x = torch.randn(2, 8, 16, 16).contiguous(memory_format=torch.channels_last)
    w = torch.randn(8, 1, 1, 1, requires_grad=True)  # a weight before the filter, as D's convolutions are

    def second_order(dtype_ctx: torch.autocast) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        xi = x.clone().requires_grad_(True)
        with dtype_ctx:
            y = downsample2d(F.conv2d(xi, w, groups=8), f)
        (gx,) = torch.autograd.grad(y.float().square().sum(), xi, create_graph=True)
        (gw,) = torch.autograd.grad(gx.square().sum(), w)
        return y, gx, gw

    class DepthwiseDtypes(TorchDispatchMode):  # the dtypes the FIR's depthwise convolutions ran in
        seen: set[torch.dtype] = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            if func.overloadpacket in (torch.ops.aten.convolution, torch.ops.aten.convolution_backward):
                weight = args[1] if func.overloadpacket is torch.ops.aten.convolution else args[2]
                if weight.shape[1] == 1 and weight.shape[-1] == 4:
                    self.seen.add(weight.dtype)
            return func(*args, **(kwargs or {}))

    with DepthwiseDtypes() as dtypes:
        y16, gx16, gw16 = second_order(torch.autocast("cpu", dtype=torch.bfloat16))
    assert dtypes.seen == {torch.float32}
    y32, gx32, gw32 = second_order(torch.autocast("cpu", enabled=False))
    assert y16.dtype == torch.bfloat16 and y32.dtype == torch.float32
    for low, ref in ((y16, y32), (gx16, gx32), (gw16, gw32)):
        assert torch.allclose(low.float(), ref, rtol=0.05, atol=0.05 * ref.abs().max().item()), (low, ref)
