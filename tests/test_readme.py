"""The README's examples run as written, so they never rot.

Every ```python block is executed, and the lines of ```bash blocks that start with `stylegan ` are run in order as
real commands (later ones use what earlier ones wrote), in a temporary folder holding the files the examples
name: `ffhq.pkl` is a tiny network written in NVIDIA's pickle layout (32 px, 8 style layers), `v1.pkl` a tiny
StyleGAN (v1) network in NVIDIA's TensorFlow layout, `photos/` a few random JPEGs, `colours/red|blue` two labelled
classes and `video.mp4` a short video panning over scikit-image's astronaut. Lines marked `# no-test` (installs,
long runs, URLs) are skipped.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import stylegan
import stylegan.io
from stylegan.testing import astronaut_pan_video, tiny_discriminator, tiny_generator, write_nvidia_pickle

from . import tf_v1_fixture

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def _blocks(lang: str) -> list[str]:
    return [body for kind, body in BLOCK.findall(README.read_text()) if kind == lang]


def _commands() -> list[str]:
    lines = [line.strip() for body in _blocks("bash") for line in body.splitlines()]
    return [line for line in lines if line.startswith("stylegan ") and "# no-test" not in line]


def _glob_one(pattern: str, cwd: Path) -> str:
    matches = sorted(glob.glob(pattern, root_dir=cwd))
    assert len(matches) == 1, f"{pattern} matched {matches}"
    return matches[0]


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_cache: Path) -> Path:
    """The files the examples name; commands that cache (attribution) use `private_cache`, in here too."""
    res = 32  # 8 style layers, so the README's `--styles 0-6` is valid
    write_nvidia_pickle(
        tmp_path / "ffhq.pkl",
        G_ema=tiny_generator(seed=1, img_resolution=res),
        G=tiny_generator(seed=2, img_resolution=res),
        D=tiny_discriminator(seed=3, img_resolution=res),
    )
    v1_kwargs = dict(resolution=32, fmap_base=128, fmap_max=32, latent_size=32, dlatent_size=32, mapping_fmaps=32)
    tf_v1_fixture.write_tf_v1_pickle(tmp_path / "v1.pkl", kwargs=v1_kwargs, seed=4)  # NVIDIA's v1 TF layout
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(8):  # a few "photos" of odd sizes for the dataset example
        rgb = (np.random.RandomState(i).rand(40 + i, 48, 3) * 255).astype(np.uint8)
        Image.fromarray(rgb).save(photos / f"photo{i}.jpg")
    for name, channel in (("red", 0), ("blue", 2)):  # two labelled classes for the customisation examples
        folder = tmp_path / "colours" / name
        folder.mkdir(parents=True)
        for i in range(12):
            rgb = (np.random.RandomState(i).rand(32, 32, 3) * 90).astype(np.uint8)
            rgb[..., channel] += 150
            Image.fromarray(rgb).save(folder / f"{i}.png")
    if importlib.util.find_spec("skimage") is not None:  # a real face on video for the face-swap examples
        astronaut_pan_video(tmp_path / "video.mp4", frames=8, size=384)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_links_point_at_files() -> None:
    """Images (the gallery) and relative links in the README exist in the repository."""
    targets = re.findall(r"\]\(([^)#\s]+)\)", README.read_text())
    local = [t for t in targets if "://" not in t]
    assert any(t.startswith("docs/gallery/") for t in local)
    for target in local:
        assert (README.parent / target).is_file(), f"README links to {target}, which is not in the repository"


def test_readme_has_examples() -> None:
    assert len(_commands()) >= 4 and len(_blocks("python")) >= 1


@pytest.mark.slow
def test_readme_commands(workdir: Path) -> None:
    for command in _commands():
        args = shlex.split(command.split("#")[0])[1:]
        args = [_glob_one(a, workdir) if "*" in a else a for a in args]  # as the shell would
        p = subprocess.run(
            [sys.executable, "-m", "stylegan", *args],
            capture_output=True,
            text=True,
            cwd=workdir,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert p.returncode == 0, f"{command}\n{p.stdout}\n{p.stderr}"


def test_readme_python(workdir: Path) -> None:
    """The Python blocks run in order in one namespace, and do what their comments say."""
    ns: dict[str, object] = {"__name__": "__readme__"}
    for index, code in enumerate(_blocks("python")):
        exec(compile(code, f"README.md python block {index}", "exec"), ns)

    G_file = tiny_generator(seed=1, img_resolution=32)  # what workdir wrote as ffhq.pkl's G_ema
    G = ns["G"]
    assert isinstance(G, stylegan.Generator) and not G.training and G.cfg == G_file.cfg
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), G_file.state_dict().values(), strict=True))

    images = ns["images"]
    assert isinstance(images, stylegan.GeneratedImages) and images.seeds == [0, 1, 2]
    assert np.array_equal(images.images, stylegan.generate(G_file, seeds=[0, 1, 2], psi=0.7).images)
    for seed in (0, 1, 2):
        assert np.array_equal(np.asarray(Image.open(workdir / f"out/seed{seed:04d}.png")), images.images[seed])
    assert Image.open(workdir / "out/grid.png").size == (3 * 32, 32)

    ws, img = ns["ws"], ns["img"]
    assert isinstance(ws, torch.Tensor) and ws.shape == (4, G.num_ws, G.w_dim)
    assert isinstance(img, torch.Tensor) and img.shape == (4, 3, 32, 32)

    mix = ns["mix"]
    assert isinstance(mix, stylegan.StyleMix) and mix.layers == list(range(7))
    pairs = {(r, c) for r in (85, 100) for c in (55, 821)} | {(s, s) for s in (85, 100, 55, 821)}  # + unmixed
    assert set(mix.images) == pairs
    assert {p.name for p in (workdir / "out/mix").iterdir()} == {f"{r}-{c}.png" for r, c in pairs} | {"grid.png"}
    assert Image.open(workdir / "out/mix/grid.png").size == (3 * 32, 3 * 32)

    mine = stylegan.load(workdir / "mine.safetensors")
    assert torch.equal(mine(ns["z"], None, noise_mode="const"), G(ns["z"], None, noise_mode="const"))
    assert stylegan.io.inspect(workdir / "mine.safetensors").metadata["license"] == "CC-BY-4.0"
    assert isinstance(ns["D"], stylegan.Discriminator)
