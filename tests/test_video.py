"""Video writer and interpolation videos: files decode back (real ffmpeg) to the requested frames and size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import stylegan
from stylegan.cli.main import cli
from stylegan.errors import StyleGANError
from stylegan.testing import tiny_generator
from stylegan.video import VideoWriter, interpolate_keys, interpolation_ws, read_video, write_video

pytest.importorskip("imageio_ffmpeg")


@pytest.fixture(scope="module")
def net_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("net") / "tiny.safetensors"
    stylegan.save(path, G_ema=tiny_generator(seed=3))
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_writer_roundtrip_odd_size(tmp_path: Path, suffix: str) -> None:
    frames = [np.full((9, 12, 3), 20 * i, dtype=np.uint8) for i in range(5)]
    write_video(tmp_path / f"x{suffix}", iter(frames), fps=10)
    out = read_video(tmp_path / f"x{suffix}")
    assert out.shape[0] == 5
    assert out.shape[1:3] == ((10, 12) if suffix == ".mp4" else (9, 12))  # H.264 pads to even sides
    assert abs(float(out[4].mean()) - 80) < 4


def test_writer_errors(tmp_path: Path) -> None:
    with pytest.raises(StyleGANError, match="mp4 or .gif"):
        VideoWriter(tmp_path / "x.avi")
    with pytest.raises(StyleGANError, match="same size"), VideoWriter(tmp_path / "y.gif") as w:
        w.append(np.zeros((4, 4, 3), np.uint8))
        w.append(np.zeros((6, 4, 3), np.uint8))
    assert not (tmp_path / "y.gif").exists()


@pytest.mark.parametrize("kind", ["lerp", "slerp", "cubic"])
@pytest.mark.parametrize("loop", [False, True])
def test_interpolate_keys_hits_keyframes(kind: str, loop: bool) -> None:
    keys = torch.randn(4, 3, 5)
    path = interpolate_keys(keys, 6, kind=kind, loop=loop)
    assert len(path) == (4 * 6 if loop else 3 * 6 + 1)
    assert torch.allclose(path[::6], keys, atol=1e-5)
    if loop:  # the frame after the last is key 0 again: the steps across the wrap are as small as the others
        wrap = (path[0] - path[-1]).norm()
        assert wrap < 2 * (path[1:] - path[:-1]).norm(dim=(1, 2)).max()


def test_slerp_z_needs_seeds() -> None:
    G = tiny_generator()
    with pytest.raises(StyleGANError, match="slerp-z"):
        interpolation_ws(G, latents=torch.zeros(2, G.num_ws, G.w_dim), interp="slerp-z", frames_per_key=2)


@pytest.mark.parametrize(
    ("args", "name", "frames", "size"),
    [
        (["--seeds", "0-2", "--frames-per-key", "4"], "walk.mp4", 9, (16, 16)),
        (["--seeds", "5,6", "--interp", "slerp-z", "--frames-per-key", "3", "--fps", "10"], "walk.mp4", 4, (16, 16)),
        (
            ["--latents", "KEYS", "--grid", "2x2", "--interp", "cubic-w", "--loop", "--frames-per-key", "3"],
            "walk.gif",
            6,
            (32, 32),
        ),
        (["--latents", "KEYS", "--grid", "1x2", "--frames-per-key", "2"], "walk.mp4", 7, (16, 32)),
    ],
)
def test_video_cli_decodes(
    net_file: Path, tmp_path: Path, args: list[str], name: str, frames: int, size: tuple[int, int]
) -> None:
    # Far-apart W keyframes, so that no two consecutive GIF frames are identical (Pillow merges identical ones).
    keys = tmp_path / "keys.npz"
    G = tiny_generator(seed=3)
    np.savez(keys, w=np.random.RandomState(0).randn(8, G.num_ws, G.w_dim).astype(np.float32))
    args = [str(keys) if a == "KEYS" else a for a in args]
    out = tmp_path / name
    res = CliRunner().invoke(cli, ["video", "--network", str(net_file), *args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    video = read_video(out)
    assert video.shape == (frames, *size, 3)


def test_video_cli_latents(net_file: Path, tmp_path: Path) -> None:
    G = tiny_generator(seed=3)
    ws = stylegan.generation.seeds_to_ws(G, [1, 2]).numpy()
    np.savez(tmp_path / "a.npz", w=ws)
    res = CliRunner().invoke(
        cli,
        [
            "video",
            "--network",
            str(net_file),
            "--latents",
            f"{tmp_path / 'a.npz'},seed:9",
            "--frames-per-key",
            "2",
            "--out",
            str(tmp_path / "l.mp4"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert read_video(tmp_path / "l.mp4").shape == (5, 16, 16, 3)


def test_video_cli_user_errors(net_file: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["video", "--network", str(net_file), "--seeds", "0-2", "--grid", "2x2", "--out", str(tmp_path / "x.mp4")]
    )
    assert isinstance(res.exception, StyleGANError) and "keyframes" in str(res.exception)


def test_video_cli_duration(net_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.mp4"  # 3 keys = 2 segments; 1 s at 10 fps -> 5 frames per key -> 11 frames
    res = CliRunner().invoke(
        cli,
        ["video", "--network", str(net_file), "--seeds", "0-2", "--fps", "10", "--duration", "1", "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert len(read_video(out)) == 11
