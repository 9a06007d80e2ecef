"""NVIDIA's StyleGAN (v1) registry entries and the registry's crop box (LSUN cars' letterbox): the entries' fields,
`crop_for`, and `generate` cropping, on a tiny network registered from a local file (nothing downloads)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import stylegan
import stylegan.io as sio
from stylegan.cli.main import cli
from stylegan.errors import SettingError
from stylegan.generation import crop_images, generate_files
from stylegan.io import pretrained

V1 = {
    "karras2019stylegan-ffhq-1024x1024": 1024,
    "karras2019stylegan-celebahq-1024x1024": 1024,
    "karras2019stylegan-bedrooms-256x256": 256,
    "karras2019stylegan-cars-512x384": 512,
    "karras2019stylegan-cats-256x256": 256,
}


@pytest.fixture
def registry() -> Iterator[None]:
    """Remove entries a test registers."""
    before = dict(pretrained._REGISTRY)
    yield
    pretrained._REGISTRY.clear()
    pretrained._REGISTRY.update(before)


def test_v1_entries() -> None:
    entries = {e.name: e for e in sio.list_pretrained()}
    for name, res in V1.items():
        e = entries[name]
        assert e.url == f"https://nvlabs-fi-cdn.nvidia.com/stylegan/networks/{name}.pkl"
        assert e.resolution == res and e.format == "nvidia-tf" and e.path is None and e.sha256 is None
        assert e.license.startswith("CC BY-NC 4.0") and "StyleGAN (v1)" in e.description
        assert e.crop == ((0, 64, 512, 448) if "cars" in name else None)
    assert pretrained.get("karras2019stylegan-cars-512x384").crop == (0, 64, 512, 448)
    assert pretrained.get("tf-car-config-f").crop == (0, 64, 512, 448)  # StyleGAN2's cars: the same letterbox
    assert all(e.crop is None for e in entries.values() if "car" not in e.name)


def test_crop_for() -> None:
    cars = (0, 64, 512, 448)
    assert pretrained.crop_for("karras2019stylegan-cars-512x384") == cars
    assert pretrained.crop_for("karras2019stylegan-cars-512x384", 512) == cars
    assert pretrained.crop_for(Path("/data/nets/karras2019stylegan-cars-512x384.pkl")) == cars
    assert pretrained.crop_for("https://example.org/mirror/karras2019stylegan-cars-512x384.pkl") == cars
    assert pretrained.crop_for("/data/karras2019stylegan-cars-512x384.pkl", 16) is None  # not that network
    for other in (None, "emoji", "karras2019stylegan-ffhq-1024x1024", "net.pkl", "https://[bad", "no such"):
        assert pretrained.crop_for(other) is None


@pytest.mark.parametrize(
    "crop, message",
    [
        ((0, 64, 512), "four integers"),
        ((0, 64.5, 512, 448), "four integers"),
        ("0,64,512,448", "four integers"),
        ((0, 448, 512, 64), "is empty"),
        ((0, 64, 520, 448), "leaves the 512x512 image"),
        ((-1, 64, 512, 448), "is empty"),
    ],
)
def test_register_refuses_bad_crops(registry: None, crop: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sio.register("x", format="nvidia-tf", license="l", url="https://e.org/x.pkl", resolution=512, crop=crop)


def test_generate_files_crop(G: stylegan.Generator, tmp_path: Path) -> None:
    full = generate_files(G, [0, 1], tmp_path / "full")
    cut = generate_files(G, [0, 1], tmp_path / "cut", crop=(2, 4, 14, 12))
    for a, b in zip(full, cut):
        big, small = np.asarray(Image.open(a)), np.asarray(Image.open(b))
        assert small.shape[:2] == (8, 12)
        np.testing.assert_array_equal(small, big[4:12, 2:14])
    (grid,) = generate_files(G, [0, 1, 2], tmp_path / "grid", grid=(1, 3), crop=(0, 4, 16, 12))
    assert Image.open(grid).size == (48, 8)
    with pytest.raises(SettingError, match="crop: crop box \\(0, 4, 32, 12\\) leaves the 16x16 image"):
        generate_files(G, [0], tmp_path / "bad", crop=(0, 4, 32, 12))
    assert crop_images(np.zeros((1, 16, 16, 3), np.uint8), None).shape == (1, 16, 16, 3)


def test_generate_cli_crops_a_registered_letterbox(registry: None, net_file: Path, tmp_path: Path) -> None:
    sio.register("tiny-letterbox", format="stylegan", license="test", path=net_file, resolution=16, crop=(0, 4, 16, 12))
    run = CliRunner().invoke
    res = run(cli, ["generate", "--network", "tiny-letterbox", "--seeds", "0-1", "--outdir", str(tmp_path / "a")])
    assert res.exit_code == 0 and "(cropped to 16x8; --no-crop keeps 16x16)" in res.output, res.output
    assert Image.open(tmp_path / "a" / "seed0001.png").size == (16, 8)
    args = ["generate", "--network", "tiny-letterbox", "--seeds", "0-1", "--no-crop", "--outdir", str(tmp_path / "b")]
    res = run(cli, args)
    assert res.exit_code == 0 and "cropped" not in res.output, res.output
    full = np.asarray(Image.open(tmp_path / "b" / "seed0001.png"))
    assert full.shape[:2] == (16, 16)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a" / "seed0001.png")), full[4:12])
    res = run(
        cli,
        ["generate", "--network", "tiny-letterbox", "--seeds", "0-3", "--grid", "2x2", "--outdir", str(tmp_path / "g")],
    )
    assert res.exit_code == 0 and Image.open(tmp_path / "g" / "grid.png").size == (32, 16), res.output
    # Saved latents render cropped too.
    np.savez(tmp_path / "projected_w.npz", w=np.zeros((1, 6, 32), np.float32))
    res = run(
        cli,
        ["generate", "--network", "tiny-letterbox", "--projected-w", str(tmp_path / "projected_w.npz")]
        + ["--outdir", str(tmp_path / "p")],
    )
    assert res.exit_code == 0 and Image.open(tmp_path / "p" / "proj00.png").size == (16, 8), res.output
    # The same file under its own path: no registry crop.
    res = run(cli, ["generate", "--network", str(net_file), "--seeds", "0", "--outdir", str(tmp_path / "c")])
    assert res.exit_code == 0 and Image.open(tmp_path / "c" / "seed0000.png").size == (16, 16), res.output


def test_pretrained_lists_v1_with_resolution() -> None:
    res = CliRunner().invoke(cli, ["pretrained"])
    assert res.exit_code == 0, res.output
    lines = {line.split()[0]: line for line in res.output.splitlines() if line.strip()}
    for name, r in V1.items():
        size = "512x384" if "cars" in name else f"{r}px"
        assert lines[name].split()[1] == size and "nvidia-tf" in lines[name], lines[name]
    starts = {line.index(line.split()[1]) + len(line.split()[1]) for line in lines.values() if "px" in line}
    assert len(starts) == 1  # one column for every resolution, however long the names
