"""`stylegan ui`: the Edit page (direction files, SeFa, GANSpace; sweep videos) and the Video page (interpolation,
direction sweeps, identity sets), through the API (against the library called directly) and in Chromium."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image
from playwright.sync_api import expect

import stylegan
from stylegan.editing.directions import Direction, apply_direction, ganspace, sample_latents, sefa
from stylegan.editing.latent_ops import variations
from stylegan.generation import seeds_to_ws, synthesize
from stylegan.io.hashing import network_hash
from stylegan.ui.session import read_png_recipe
from stylegan.video import read_video
from tests.ui_support import browser_page, client, open_tab, screenshot, ui_server, wait_idle

pytestmark = pytest.mark.slow

PSI = 0.7


@pytest.fixture(scope="module")
def G():
    return stylegan.load("emoji")


def direction_file(G, path: Path, seed: int, layers: list[int], attr: str, hash_: str | None = None) -> Path:
    v = np.random.RandomState(seed).randn(1, G.w_dim).astype(np.float32)
    mask = np.zeros(G.num_ws, dtype=bool)
    mask[layers] = True
    d = Direction(v / np.linalg.norm(v), mask, "external", network_hash=hash_ or network_hash(G), attr=attr)
    return d.save(path)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, G):
    files = tmp_path_factory.mktemp("directions")
    yaw = direction_file(G, files / "yaw.npz", 1, [0, 1, 2, 3], "yaw")
    smile = direction_file(G, files / "smile.npz", 2, [2, 3, 4, 5], "smile")
    foreign = direction_file(G, files / "foreign.npz", 3, [0, 1], "age", hash_="ab" * 32)
    workdir = tmp_path_factory.mktemp("ui-editvideo")
    with ui_server("--direction", str(yaw), workdir=workdir) as url:
        yield url, workdir, {"yaw": yaw, "smile": smile, "foreign": foreign}


def image(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def shrink(shown: np.ndarray, size: int) -> np.ndarray:
    factor = shown.shape[0] // size  # shown enlarged (nearest neighbour)
    return shown[::factor, ::factor]


def test_edit_api_matches_library(app, G):
    """Direction files (start-up and uploaded), SeFa and GANSpace sliders summed, equal to apply_direction."""
    url, workdir, files = app
    c = client(url)
    ws = seeds_to_ws(G, [3], psi=PSI)
    yaw, smile = Direction.load(files["yaw"]), Direction.load(files["smile"])

    before, after = c.predict(latent="seed:3", edits="yaw.npz:0 4", api_name="/edit")
    want = synthesize(G, apply_direction(ws, yaw.direction, [4.0], yaw.layers), progress=False)[0]
    assert np.array_equal(shrink(image(after), 32), want)
    assert np.array_equal(shrink(image(before), 32), synthesize(G, ws, progress=False)[0])

    vecs, _ = sefa(G, [0, 1, 2, 3])
    comps, std, _ = ganspace(sample_latents(G, 10_000, psi=1.0, progress=False)["w"], 32)
    edits = "yaw.npz:0 4\nsmile.npz:0 -2.5 2-5\nsefa:1 3 coarse\nganspace:0 1.5 all"
    _, after = c.predict(latent="seed:3", edits=edits, files=[handle_file(str(files["smile"]))], api_name="/edit")
    w = apply_direction(ws, yaw.direction, [4.0], yaw.layers)
    w = apply_direction(w, smile.direction, [-2.5], [2, 3, 4, 5])
    w = apply_direction(w, vecs[1], [3.0], [0, 1, 2, 3])
    w = apply_direction(w, comps[0] * std[0], [1.5], None)
    assert np.array_equal(shrink(image(after), 32), synthesize(G, w, progress=False)[0])
    kept = sorted((workdir / "history").glob("*-edit.png"))[-1]
    recipe = read_png_recipe(kept)
    assert [e["source"] for e in recipe["edits"]] == ["yaw.npz", "smile.npz", "sefa", "ganspace"]
    assert recipe["edits"][1] == {"source": "smile.npz", "component": 0, "amount": -2.5, "layers": "2-5"}


def test_foreign_direction_is_refused(app):
    url, _, files = app
    with pytest.raises(Exception) as info:
        client(url).predict(
            latent="seed:3", edits="foreign.npz:0 1", files=[handle_file(str(files["foreign"]))], api_name="/edit"
        )
    message = str(info.value)
    assert "foreign.npz was made for another network (hash abababababab)" in message
    assert "Traceback" not in message


def test_edit_sweep_video(app, G):
    url, workdir, _ = app
    video, gif = client(url).predict(
        latent="seed:3", direction="yaw.npz:0", amount=2.0, frames=12, fps=12, fmt="mp4", api_name="/edit_sweep"
    )
    path = video["video"] if isinstance(video, dict) else video
    assert gif is None
    assert read_video(path).shape == (12, 32, 32, 3)
    kept = sorted((workdir / "history").glob("*-edit.png"))[-1]
    assert read_png_recipe(kept)["sweep"]["source"] == "yaw.npz"
    _, gif = client(url).predict(
        latent="seed:3", direction="ganspace:1", amount=2.0, frames=8, fmt="gif", api_name="/edit_sweep"
    )
    frames = read_video(gif)
    assert frames.shape[1:] == (32, 32, 3) and 2 <= len(frames) <= 8  # identical GIF frames merge


def test_video_api(app, G):
    url, _, files = app
    c = client(url)
    video, gif = c.predict(keyframes="0\n1\n2", interp="cubic-w", frames_per_key=5, fps=10, api_name="/video")
    assert read_video(video["video"] if isinstance(video, dict) else video).shape == (11, 32, 32, 3)
    video, _ = c.predict(keyframes="0\n1\n2", interp="slerp-z", frames_per_key=4, loop=True, api_name="/video")
    assert read_video(video["video"] if isinstance(video, dict) else video).shape == (12, 32, 32, 3)
    with pytest.raises(Exception, match="slerp-z walks in Z and needs seeds"):
        c.predict(keyframes="seed:0\nhistory:0001", interp="slerp-z", api_name="/video")
    video, _ = c.predict(
        latent="seed:5", direction=handle_file(str(files["smile"])), amount=3.0, frames=9, api_name="/video_sweep"
    )
    assert read_video(video["video"] if isinstance(video, dict) else video).shape == (9, 32, 32, 3)


def test_variations_api(app, G):
    url, _, _ = app
    sheet, archive = client(url).predict(latent="seed:3", n=50, strength=1.0, seed=7, api_name="/variations")
    with zipfile.ZipFile(archive) as zf:
        pngs = sorted(n for n in zf.namelist() if n.endswith(".png"))
        assert len(pngs) == 50
        got = np.stack([np.asarray(Image.open(zf.open(n)).convert("RGB")) for n in pngs])
    ws = variations(G, seeds_to_ws(G, [3], psi=PSI), 50, layers=[0], strength=1.0, seed=7, psi=PSI)
    assert np.array_equal(got, synthesize(G, ws, progress=False))
    assert image(sheet).shape[:2] == (2 * 7 * 32, 2 * 8 * 32)


def test_edit_page_in_chromium(app, tmp_path: Path):
    """Upload a direction file, move its slider, apply, make a sweep video, download the result."""
    url, _, files = app
    with browser_page(url) as page:
        open_tab(page, "Edit")
        page.locator("#edit-directions input[type=file]").set_input_files(str(files["smile"]))
        slider = page.locator(".block", has=page.get_by_text("smile.npz (smile) [external]", exact=True))
        slider.first.wait_for()
        wait_idle(page)
        number = slider.locator("input[type=number]").first
        number.fill("3")
        number.press("Enter")
        page.get_by_role("button", name="Apply edits").click()
        page.locator("img[alt]").first.wait_for()
        wait_idle(page)
        edits = page.get_by_label("Edits (one per line: source:component amount layers)")
        assert "smile.npz:0 3 2-5" in edits.input_value()
        assert "tab=edit" in page.url
        link = page.url
        with page.expect_download() as download:
            page.locator("#edit-downloads a").first.click()
        assert download.value.suggested_filename.endswith("-edit.png")
        page.get_by_role("button", name="Make sweep video").click()
        page.locator("video[src$='-edit-sweep.mp4']").wait_for(state="attached")
        wait_idle(page)
        screenshot(page, "edit", tmp_path)
    with browser_page(link) as page:  # the link reopens the edit: its lines and the start-up file's slider
        open_tab(page, "Edit")
        expect(page.get_by_label("Edits (one per line: source:component amount layers)")).to_have_value(
            "smile.npz:0 3 2-5"
        )


def test_video_page_in_chromium(app, tmp_path: Path):
    """Make an interpolation video, a sweep of an uploaded direction file, an identity set, download its zip."""
    url, _, files = app
    with browser_page(url) as page:
        open_tab(page, "Video")
        page.get_by_label("Frames per keyframe").fill("4")
        page.get_by_role("button", name="Make video").click()
        page.locator("video[src$='-video.mp4']").wait_for(state="attached")
        wait_idle(page)
        open_tab(page, "Direction sweep")
        page.locator("#video-direction input[type=file]").set_input_files(str(files["smile"]))
        wait_idle(page)
        page.get_by_role("button", name="Make sweep").click()
        page.locator("video[src$='-sweep.mp4']").wait_for(state="attached")
        wait_idle(page)
        open_tab(page, "Identity set")
        page.get_by_label("Number of variations").fill("16")
        page.get_by_role("button", name="Make identity set").click()
        page.locator("#video-zip a").first.wait_for()
        wait_idle(page)
        with page.expect_download() as download:
            page.locator("#video-zip a").first.click()
        saved = tmp_path / "set.zip"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as zf:
            assert len([n for n in zf.namelist() if n.endswith(".png")]) == 16
        screenshot(page, "video", tmp_path)
