"""Face swap: faces from folders and videos, the autoencoder and its file, training with exact resume, swapped videos
(frames, size, rate, audio kept; faces changed, background and face-less frames not), and the CLI.

Real data throughout: scikit-image's astronaut photo panned over frames (a real face dlib finds), images of a
generator as the other identity (no face found: used whole), real ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from stylegan.errors import StyleGANError
from stylegan.faceswap.apply import FaceTracker, colour_transfer, has_audio, swap_video
from stylegan.faceswap.faces import collect_faces, face_mask, fill_masks
from stylegan.faceswap.model import (
    FaceSwapConfig,
    FaceSwapModel,
    load_faceswap,
    masked_l1,
    random_warp,
    save_faceswap,
)
from stylegan.faceswap.train import preview_dir, state_path, train_faceswap
from stylegan.images import save_image
from stylegan.testing import astronaut_pan_video
from stylegan.video import read_video, write_video
from tests.conftest import assert_user_error, run_stylegan
from tests.test_inversion_alignment import needs_faces

pytestmark = [needs_faces, pytest.mark.usefixtures("one_thread")]
skimage_data = pytest.importorskip("skimage.data")

BACKGROUND = slice(250, 384)  # rows of her suit and the scene below the face in every panned frame


def face_change(diff: np.ndarray, offsets: np.ndarray) -> float:
    """Mean change inside the astronaut's face (x 185-255, y 90-160 in the photo) of frames panned by `offsets`."""
    return float(np.mean([d[90:160, 185 - x : 255 - x].mean() for d, x in zip(diff, offsets, strict=True)]))


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 frames panning over the astronaut, 384 x 384 at 25 fps."""
    return astronaut_pan_video(tmp_path_factory.mktemp("video") / "B.mp4", frames=8, size=384, fps=25)


@pytest.fixture(scope="module")
def folder_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Identity A: six 32 px images of smooth colour blobs (no face in them: used whole)."""
    folder = tmp_path_factory.mktemp("A")
    rng = np.random.default_rng(0)
    for i in range(6):
        small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        save_image(np.kron(small, np.ones((8, 8, 1), dtype=np.uint8)), folder / f"var{i:02d}.png")
    return folder


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, folder_a: Path, video: Path) -> Path:
    """A small model (32 px, width 8) trained 30 steps on folder_a and the video."""
    out = tmp_path_factory.mktemp("model") / "swap.safetensors"
    torch.set_num_threads(1)
    train_faceswap(folder_a, video, out, size=32, width=8, steps=30, batch=4, lr=1e-3, log=lambda s: None)
    return out


def test_random_warp_without_randomness_is_the_identity_and_flip_mirrors() -> None:
    x = torch.rand(3, 3, 16, 16)
    m = torch.ones(3, 1, 16, 16)
    gen = torch.Generator().manual_seed(0)
    warped, target, mask = random_warp(x, m, gen, rotate=0, zoom=0, shift=0, flip=0, warp=0)
    torch.testing.assert_close(target, x, atol=1e-5, rtol=0)  # float32 grid arithmetic
    torch.testing.assert_close(warped, x, atol=1e-5, rtol=0)
    _, flipped, _ = random_warp(x, m, gen, rotate=0, zoom=0, shift=0, flip=1.0, warp=0)
    torch.testing.assert_close(flipped, x.flip(-1), atol=1e-5, rtol=0)
    bent, straight, _ = random_warp(x, m, torch.Generator().manual_seed(1))
    assert (bent - straight).abs().mean() > 0.01  # the input is bent, the target is not
    assert mask.shape == (3, 1, 16, 16)


def test_masked_l1_weights_the_face() -> None:
    target = torch.zeros(1, 3, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1  # the top half is face
    inside, outside = target.clone(), target.clone()
    inside[..., :2, :] = 1
    outside[..., 2:, :] = 1
    # weights: 8 pixels of 1, 8 of 0.1 -> error only inside: 8 / 8.8; only outside: 0.8 / 8.8
    assert masked_l1(inside, target, mask).item() == pytest.approx(8 / 8.8)
    assert masked_l1(outside, target, mask).item() == pytest.approx(0.8 / 8.8)


def test_model_file_round_trip_and_bad_files(tmp_path: Path) -> None:
    model = FaceSwapModel(FaceSwapConfig(size=32, width=8))
    model.info.losses = [[10, 0.5, 0.25]]
    path = save_faceswap(model, tmp_path / "m.safetensors")
    back = load_faceswap(path)
    x = torch.rand(2, 3, 32, 32)
    for who in ("a", "b"):
        torch.testing.assert_close(back(x, who), model(x, who), atol=0, rtol=0)
    assert back.cfg == model.cfg and back.info.losses == [[10, 0.5, 0.25]]
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model")
    with pytest.raises(StyleGANError, match="junk.safetensors: not a face-swap model file"):
        load_faceswap(junk)
    with pytest.raises(StyleGANError, match="no such face-swap model file"):
        load_faceswap(tmp_path / "missing.safetensors")
    with pytest.raises(StyleGANError, match="power of two"):
        FaceSwapConfig(size=48)


def test_collect_faces_aligns_found_faces_and_uses_the_rest_whole(tmp_path: Path, folder_a: Path) -> None:
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    save_image(skimage_data.astronaut()[:384, 64:448], mixed / "astronaut.png")
    save_image(np.full((40, 60, 3), 128, dtype=np.uint8), mixed / "grey.png")
    faces = collect_faces(mixed, 64, progress=False)
    assert (len(faces), faces.found, faces.used_whole) == (2, 1, [1])
    assert faces.images.shape == (2, 64, 64, 3) and faces.images.dtype == np.uint8
    assert faces.masks[0].mean() > 0.1 and faces.masks[1].max() == 0  # filled later
    blobs = collect_faces(folder_a, 64, progress=False)
    assert (blobs.found, len(blobs.used_whole)) == (0, 6)
    fill_masks([faces, blobs], 64)
    expected = face_mask(faces.landmarks[0], 64)  # the mean of the one detected face's landmarks
    np.testing.assert_array_equal(faces.masks[1], expected)
    np.testing.assert_array_equal(blobs.masks[3], expected)
    # the aligned face sits where FFHQ alignment puts it: mask centred horizontally, eyes in the upper half
    cols = np.nonzero(faces.masks[0].sum(0))[0]
    assert abs((cols[0] + cols[-1]) / 2 - 32) < 4


def test_collect_faces_errors(tmp_path: Path) -> None:
    with pytest.raises(StyleGANError, match="no such folder or video"):
        collect_faces(tmp_path / "nothing", 64)
    (tmp_path / "empty").mkdir()
    with pytest.raises(StyleGANError, match="empty: no images found"):
        collect_faces(tmp_path / "empty", 64)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(StyleGANError, match="bad.mp4: cannot read the video"):
        collect_faces(bad, 64)


def test_training_logs_counts_writes_previews_and_resumes_exactly(tmp_path: Path, folder_a: Path, video: Path) -> None:
    lines: list[str] = []
    kw = dict(size=32, width=4, batch=2, preview_every=2, save_every=2, log=lines.append)
    straight = train_faceswap(folder_a, video, tmp_path / "straight.safetensors", steps=4, **kw)
    assert any(line.startswith("A: 6 images") and "0 faces found" in line and "6 used whole" in line for line in lines)
    assert any(line.startswith("B: 8 images") and "8 faces found" in line for line in lines)
    assert sorted(p.name for p in preview_dir(tmp_path / "straight.safetensors").iterdir()) == [
        "step000002.png",
        "step000004.png",
    ]
    half = tmp_path / "half.safetensors"
    train_faceswap(folder_a, video, half, steps=2, **kw)
    assert state_path(half).is_file()
    resumed = train_faceswap(folder_a, video, half, steps=4, resume=True, **kw)
    for (name, p), q in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(p, q, atol=0, rtol=0, msg=name)
    assert load_faceswap(half).info.steps == 4
    assert load_faceswap(half).info.faces == {"a": [0, 6], "b": [8, 0]}
    with pytest.raises(StyleGANError, match="nothing to resume"):
        train_faceswap(folder_a, video, tmp_path / "new.safetensors", steps=2, resume=True, **kw)


def test_swap_video_changes_faces_and_nothing_else(tmp_path: Path, model: Path) -> None:
    photo = skimage_data.astronaut()
    faces = [photo[:384, x : x + 384] for x in (0, 40, 80)]
    grey = np.full((384, 384, 3), 90, dtype=np.uint8)
    src = write_video(tmp_path / "in.mp4", [*faces, grey, grey], fps=12, progress=False)
    report = swap_video(load_faceswap(model), src, tmp_path / "out.mp4", max_miss=0, progress=False)
    assert (report.frames, report.detected, report.carried, report.unchanged) == (5, 3, 0, 2)
    assert report.fps == 12 and report.frames_per_second > 0
    before, after = read_video(src).astype(int), read_video(tmp_path / "out.mp4").astype(int)
    assert after.shape == before.shape == (5, 384, 384, 3)
    diff = np.abs(after - before).mean(-1)
    assert face_change(diff[:3], np.array([0, 40, 80])) > 5 * diff[:3, BACKGROUND].mean()
    assert diff[:3, BACKGROUND].mean() < 2  # re-encoding only
    assert diff[3:].max() <= 2  # the face-less frames pass through (H.264 may move a flat grey by a level)


def test_tracker_carries_the_face_through_short_misses(model: Path) -> None:
    photo = skimage_data.astronaut()[:384, 64:448].copy()
    hidden = photo.copy()
    hidden[40:200, 80:240] = 0  # the face covered
    tracker = FaceTracker(max_miss=1)
    assert tracker(photo)[0] is not None
    lm, carried = tracker(hidden)
    assert carried and lm is not None
    assert tracker(hidden) == (None, False)  # the second miss in a row: lost
    assert tracker(photo)[1] is False


def test_audio_is_copied(tmp_path: Path, model: Path) -> None:
    import imageio_ffmpeg

    silent = astronaut_pan_video(tmp_path / "silent.mp4", frames=4, size=384, fps=10)
    src = tmp_path / "with-audio.mp4"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    cmd = [ffmpeg, "-v", "error", "-i", str(silent), "-f", "lavfi", "-i", "sine=frequency=440:duration=0.4"]
    subprocess.run([*cmd, "-c:v", "copy", "-c:a", "aac", "-shortest", str(src)], check=True)
    assert has_audio(src) and not has_audio(silent)
    swap_video(load_faceswap(model), src, tmp_path / "out.mp4", progress=False)
    assert has_audio(tmp_path / "out.mp4")
    assert read_video(tmp_path / "out.mp4").shape == read_video(src).shape


def test_colour_transfer_matches_statistics_inside_the_mask() -> None:
    rng = np.random.default_rng(0)
    face, ref = rng.uniform(0, 100, (8, 8, 3)), rng.uniform(100, 200, (8, 8, 3))
    mask = np.zeros((8, 8))
    mask[2:6, 2:6] = 1
    out = colour_transfer(face, ref, mask)
    inside = mask > 0
    np.testing.assert_allclose(out[inside].mean(0), ref[inside].mean(0), atol=1e-3)
    np.testing.assert_allclose(out[inside].std(0), ref[inside].std(0), rtol=1e-3)


def test_cli_errors_are_one_line(tmp_path: Path, video: Path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"junk")
    r = run_stylegan("faceswap", "apply", "--model", junk, "--video", video, "--out", tmp_path / "o.mp4")
    assert_user_error(r, "junk.safetensors", "not a face-swap model file")
    r = run_stylegan("faceswap", "train", "--a", tmp_path, "--b", video, "--out", tmp_path / "m.safetensors")
    assert_user_error(r, "no images found")
    r = run_stylegan("faceswap", "train", "--a", tmp_path / "none", "--b", video, "--out", tmp_path / "m.safetensors")
    assert r.returncode == 2 and "does not exist" in r.stderr


@pytest.mark.slow
def test_issue_check_end_to_end(tmp_path: Path) -> None:
    """The issue's check: 50 layer-0 variations of the bundled network's seed 6, a 40-frame 384 x 384 H.264 video
    panning over the astronaut, 300 training steps, the swapped video."""
    r = run_stylegan(
        "latent", "variations", "--latent", "seed:6", "-n", 50, "--layers", 0, "--outdir", "A", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr[-2000:]
    astronaut_pan_video(tmp_path / "B.mp4", frames=40, size=384)
    # the issue's command, with a narrower model (width 16: 1/16 of the default's convolution work) to keep CI short
    r = run_stylegan(
        "faceswap",
        "train",
        "--a",
        "A",
        "--b",
        "B.mp4",
        "--out",
        "swap.safetensors",
        "--steps",
        300,
        "--width",
        16,
        cwd=tmp_path,
        timeout=1800,
        OMP_NUM_THREADS="2",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "A: 50 images" in r.stdout and "50 used whole" in r.stdout and "B: 40 images" in r.stdout
    r = run_stylegan(
        "faceswap",
        "apply",
        "--model",
        "swap.safetensors",
        "--video",
        "B.mp4",
        "--out",
        "out.mp4",
        cwd=tmp_path,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    before, after = read_video(tmp_path / "B.mp4").astype(int), read_video(tmp_path / "out.mp4").astype(int)
    assert after.shape == before.shape == (40, 384, 384, 3)
    diff = np.abs(after - before).mean(-1)
    face = face_change(diff, np.linspace(0, 128, 40).round().astype(int))
    background = diff[:, BACKGROUND].mean()
    assert face > 8 and face > 5 * background, (face, background)
    assert background < 2
