"""NVIDIA's StyleGAN (v1) registry entries and the registry's crop box (LSUN cars' letterbox): the entries' fields,
`crop_for`, and `generate` cropping, on a tiny network registered from a local file (nothing downloads)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import stylegan.io as sio
from stylegan.cli.main import cli
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


def test_pretrained_lists_v1_with_resolution() -> None:
    res = CliRunner().invoke(cli, ["pretrained"])
    assert res.exit_code == 0, res.output
    lines = {line.split()[0]: line for line in res.output.splitlines() if line.strip()}
    for name, r in V1.items():
        size = "512x384" if "cars" in name else f"{r}px"
        assert lines[name].split()[1] == size and "nvidia-tf" in lines[name], lines[name]
    starts = {line.index(line.split()[1]) + len(line.split()[1]) for line in lines.values() if "px" in line}
    assert len(starts) == 1  # one column for every resolution, however long the names
