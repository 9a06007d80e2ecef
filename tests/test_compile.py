"""`--compile`: torch.compile gives the same images (within 1e-4) on a CPU, a compiler failure is one warning and an
uncompiled run, and training with it works. Inductor compiles C++ with the machine's compiler (gcc here)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from stylegan.cli.main import cli
from stylegan.compiling import Compiler
from stylegan.data import prepare_dataset
from stylegan.generation import synthesis_function
from stylegan.testing import tiny_discriminator, tiny_generator
from stylegan.train import Reporter, TrainOptions, build_config, train

pytestmark = pytest.mark.usefixtures("one_thread")


def test_compiled_synthesis_gives_the_same_images() -> None:
    G = tiny_generator(5)
    ws = G.mapping(torch.randn(4, G.z_dim, generator=torch.Generator().manual_seed(1)), None)
    warnings: list[str] = []
    with torch.no_grad():
        ref = synthesis_function(G)(ws, "const")
        got = synthesis_function(G, compile=True, warn=warnings.append)(ws, "const")
    assert warnings == [] and float((got - ref).abs().max()) < 1e-4


def test_networks_compile_to_one_graph_each() -> None:
    """No graph breaks: a break splits the network into pieces compiled one by one (slower to compile and to run).
    Also for a user's own torch.compile, without `stylegan.compiling`."""
    import torch._dynamo

    G = tiny_generator(5)
    D = tiny_discriminator(3, img_resolution=G.img_resolution)
    ws = G.mapping(torch.randn(2, G.z_dim), None)
    with torch.no_grad():
        inference = torch._dynamo.explain(lambda w: G.synthesis(w, noise_mode="const"))(ws)
    training = torch._dynamo.explain(lambda w: G.train().synthesis(w))(ws)
    img = torch.randn(2, 3, G.img_resolution, G.img_resolution, requires_grad=True)
    critic = torch._dynamo.explain(lambda x: D(x, None))(img)
    for explained in (inference, training, critic):
        assert (explained.graph_count, explained.graph_break_count) == (1, 0), explained.break_reasons


def test_importing_stylegan_does_not_import_the_compiler() -> None:
    """torch._dynamo takes 1.6 s to import: every command would pay it (the CLI started in 4.4 s instead of 2.4)."""
    code = "import sys, stylegan, stylegan.cli.main, stylegan.train; print('torch._dynamo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_compiler_failure_warns_once_and_runs_uncompiled(monkeypatch) -> None:
    def broken(function):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found")

        return run

    monkeypatch.setattr(torch, "compile", broken)
    G = tiny_generator(5)
    ws = G.mapping(torch.randn(2, G.z_dim), None)
    warnings: list[str] = []
    render = synthesis_function(G, compile=True, warn=warnings.append)
    with torch.no_grad():
        for _ in range(2):
            assert torch.equal(render(ws, "const"), G.synthesis(ws, noise_mode="const"))
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith("warning: torch.compile failed for the synthesis network (RuntimeError: Invalid")
    assert warnings[0].endswith("running uncompiled")

    def refused(function):  # type: ignore[no-untyped-def]
        raise RuntimeError("torch.compile is not supported on this Python")

    monkeypatch.setattr(torch, "compile", refused)
    compiler = Compiler(warn=warnings.append)
    square, cube = compiler.compile(lambda x: x * x, "square"), compiler.compile(lambda x: x**3, "cube")
    assert square(3) == 9 and cube(2) == 8 and len(warnings) == 2 and "not supported" in warnings[1]

    monkeypatch.setattr(torch, "compile", broken)  # several functions, one compiler: one warning
    compiler = Compiler(warn=warnings.append)
    square, cube = compiler.compile(lambda x: x * x, "square"), compiler.compile(lambda x: x**3, "cube")
    assert (square(3), cube(2), square(4), cube(3)) == (9, 8, 16, 27) and len(warnings) == 3


def test_errors_of_the_function_itself_are_not_a_compiler_failure(monkeypatch) -> None:
    monkeypatch.setattr(torch, "compile", lambda function: function)
    warnings: list[str] = []
    G = tiny_generator(5)
    render = synthesis_function(G, compile=True, warn=warnings.append)
    with pytest.raises(ValueError, match="ws must have shape"):
        render(torch.zeros(1, 2, 3), "const")
    assert warnings == []


@pytest.mark.slow
def test_cli_generate_and_train_compiled(net_file: Path, tmp_path: Path) -> None:
    """`generate --compile` writes the same images as without it; a tiny training run compiles G and D."""
    runner = CliRunner()
    for flag in ([], ["--compile"]):
        out = tmp_path / ("compiled" if flag else "plain")
        args = ["generate", "--network", str(net_file), "--seeds", "0-3", "--outdir", str(out), "--device", "cpu"]
        res = runner.invoke(cli, [*args, *flag])
        assert res.exit_code == 0, res.output
        assert "torch.compile failed" not in res.output
    for seed in range(4):
        a, b = (np.asarray(Image.open(tmp_path / d / f"seed{seed:04d}.png"), int) for d in ("plain", "compiled"))
        assert np.abs(a - b).max() <= 1  # 1e-4 in [-1, 1] can flip a rounding

    rng = np.random.RandomState(0)
    (tmp_path / "src").mkdir()
    for i in range(8):
        Image.fromarray(rng.randint(0, 255, (16, 16, 3)).astype(np.uint8)).save(tmp_path / "src" / f"{i}.png")
    prepare_dataset(tmp_path / "src", tmp_path / "d.zip", resolution=16)
    options = TrainOptions(
        data_path=str(tmp_path / "d.zip"),
        channel_base=256,
        channel_max=16,
        batch=4,
        kimg=0.008,
        kimg_per_tick=0.008,
        compile=True,
        precision="fp32",
    )
    cfg = build_config("cpu-tiny", resolution=16, options=options)
    run_dir = tmp_path / "run"
    result = train(cfg, run_dir, reporter=Reporter(run_dir, stream=io.StringIO(), tensorboard=False))
    log = (run_dir / "log.txt").read_text()
    assert result.cur_nimg == 8 and "torch.compile failed" not in log and "step skipped" not in log
