"""The network shipped inside the package, the default network of every command, and `make demo`."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import stylegan
from stylegan.cli.main import cli
from stylegan.generation import generate, seeds_to_ws
from stylegan.io import inspect
from stylegan.io.pretrained import BUNDLED_NETWORK, get, resolve
from stylegan.testing import tiny_generator
from stylegan.video import read_video

ROOT = Path(__file__).resolve().parents[1]


def test_bundled_file_ships_in_the_package_with_a_model_card() -> None:
    path = resolve(BUNDLED_NETWORK)
    assert path.is_file() and Path(stylegan.__file__).parent in path.resolve().parents
    assert path.stat().st_size < 8_000_000  # a few MB: float16 storage of the inference generator only
    assert get(BUNDLED_NETWORK).license == "Apache-2.0"
    info = inspect(BUNDLED_NETWORK)
    assert list(info.nets) == ["G_ema"]
    card = info.metadata["model_card"]
    for key in ("data", "data_license", "license", "training", "kimg", "wall_time_hours", "fid", "classes"):
        assert card[key], key
    stages = card["training"]
    assert stages[0]["command"].startswith("stylegan train --data emoji32.zip")
    assert all(st["command"].startswith("stylegan train ") and st["kimg"] > 0 for st in stages)
    assert all("--resume-from" in st["command"] for st in stages[1:])  # each stage fine-tunes the one before
    assert card["kimg"] == round(sum(st["kimg"] for st in stages), 1) and card["wall_time_hours"] > 0
    assert card["fid"]["value"] > 0 and card["fid"]["detector"] == "inception-fidhelper"
    G = stylegan.load(BUNDLED_NETWORK)
    assert (G.img_resolution, G.img_channels, G.c_dim) == (32, 3, len(card["classes"]))
    # The Markdown card beside it says the same.
    md = path.with_suffix(".md").read_text()
    assert f"{card['kimg']} kimg" in md and str(card["fid"]["value"]) in md


def test_bundled_network_makes_varied_images_of_every_class() -> None:
    G = stylegan.load(BUNDLED_NETWORK)
    imgs = generate(G, seeds=range(18), psi=0.7, progress=False).images.astype(np.float64)
    assert imgs.shape == (18, 32, 32, 3)
    assert imgs.std(axis=0).mean() > 10  # different seeds give different pictures, not one mode
    assert imgs.mean() > 100  # emoji sit on a white background
    # Without --class, seed s takes class s % 9; the class changes the picture.
    ws_default = seeds_to_ws(G, [4])
    assert torch.equal(ws_default, seeds_to_ws(G, [4], class_idx=4))
    assert not torch.allclose(ws_default, seeds_to_ws(G, [4], class_idx=5))


def test_commands_default_to_the_bundled_network(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["generate", "--seeds", "0-63", "--grid", "8x8", "--outdir", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert Image.open(tmp_path / "out" / "grid.png").size == (8 * 32, 8 * 32)
    r = CliRunner().invoke(cli, ["mix", "--rows", "1,2", "--cols", "3,4", "--outdir", str(tmp_path / "mix")])
    assert r.exit_code == 0, r.output
    assert Image.open(tmp_path / "mix" / "grid.png").size == (3 * 32, 3 * 32)


def test_conditional_network_without_class_uses_seed_modulo_classes() -> None:
    G = tiny_generator(c_dim=3)
    ws = seeds_to_ws(G, [0, 1, 2, 3])
    for i, s in enumerate([0, 1, 2, 3]):
        torch.testing.assert_close(ws[i : i + 1], seeds_to_ws(G, [s], class_idx=s % 3), rtol=0, atol=1e-6)


def _make_demo_command() -> list[str]:
    """The `stylegan demo ...` line of the Makefile's demo recipe, as arguments."""
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^demo:.*?\n((?:\t.*\n)+)", text, flags=re.M)
    assert recipe, "the Makefile has no demo target"
    line = next(ln for ln in recipe.group(1).splitlines() if "stylegan demo" in ln)
    args = shlex.split(line.strip())
    return args[args.index("demo") :]


@pytest.mark.slow
def test_make_demo_steps_run_on_the_bundled_network(tmp_path: Path, private_cache: Path) -> None:
    args = _make_demo_command()
    args = [a.replace("$(DEMO)", str(tmp_path / "demo")) for a in args]
    if "--outdir" not in args:
        args += ["--outdir", str(tmp_path / "demo")]
    proc = subprocess.run(
        [sys.executable, "-m", "stylegan", *args, "--fast"],
        cwd=tmp_path,  # private_cache: the demo must work with an empty cache (offline)
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "demo"
    grid = Image.open(out / "grid.png")
    assert grid.size == (4 * 96, 4 * 96)  # --fast: 16 seeds, 32 px upscaled 3x
    assert Image.open(out / "mix.png").size == (4 * 96, 3 * 96)  # 2 rows + header, 3 columns + header
    gif = read_video(out / "walk.gif")
    assert gif.shape == (4, 2 * 96, 2 * 96, 3)  # 2x2 walks of 2 keys x 2 frames, looped
    mp4 = read_video(out / "walk.mp4")
    assert mp4.shape == (4, 2 * 96, 2 * 96, 3)
    assert "wrote grid.png, mix.png, walk.gif, walk.mp4" in proc.stdout
