"""The Your photo page: the projection callback (library), `/project` on a tiny network, a real face in Chromium
(live progress, Stop, the latent's download)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import stylegan
from stylegan.inversion.projection import ProjectionStep, project
from stylegan.testing import tiny_generator, without_noise
from stylegan.ui.session import read_png_recipe
from tests.ui_support import browser_page, client, open_tab, screenshot, ui_server, wait_idle

pytestmark = pytest.mark.slow


def test_projection_callback_stops_early():
    """A callback returning True at step 3 of 10 ends the run there: the first 3 steps of the full run, exactly."""
    G = without_noise(tiny_generator(seed=1))
    target = stylegan.generate(G, seeds=[4, 5]).images
    plain = project(G, target, steps=10, loss="mse", w_avg_samples=64, progress=False)
    seen: list[ProjectionStep] = []

    def stop_at_3(s: ProjectionStep) -> bool:
        seen.append(s)
        return s.step == 3

    res = project(G, target, steps=10, loss="mse", w_avg_samples=64, progress=False, callback=stop_at_3)
    assert [(s.step, s.steps) for s in seen] == [(1, 10), (2, 10), (3, 10)]
    assert res.stopped and not plain.stopped
    assert res.history.shape == (2, 3, G.num_ws, G.w_dim) and res.distances.shape == (2, 3)
    assert torch.equal(res.history, plain.history[:, :3])
    assert torch.equal(res.distances, plain.distances[:, :3])
    assert torch.equal(res.ws, plain.history[:, 2])
    assert torch.equal(seen[-1].ws, plain.history[:, 2]) and torch.equal(seen[1].distances, plain.distances[:, 1])
    again = project(G, target, steps=10, loss="mse", w_avg_samples=64, progress=False, callback=lambda s: None)
    assert torch.equal(again.ws, plain.ws) and np.array_equal(again.images, plain.images) and not again.stopped


def test_page_helpers_alignment_loss_and_encoder(tmp_path: Path):
    """The astronaut's face is aligned (a quad in the photo), noise is not (centre square); a 16px network falls
    back to mse; the encoder (`stylegan ui --encoder F`) gives the start, or w_avg when it does not fit."""
    from types import SimpleNamespace

    import skimage.data

    from stylegan.errors import StyleGANError
    from stylegan.inversion.encoder import Encoder, EncoderConfig, encode, save_encoder
    from stylegan.ui.pages.photo import choose_loss, encoder_start, prepare_photo

    face = prepare_photo(skimage.data.astronaut(), 32, 3, align=True)
    assert face.alignment == "face" and face.target.shape == (32, 32, 3) and face.quad is not None
    assert face.quad.shape == (4, 2) and 100 < face.quad[:, 0].mean() < 300  # her face, left of the shuttle
    noise = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    crop = prepare_photo(noise, 16, 3, align=True)
    assert crop.alignment == "centre" and crop.quad is None and "centre square" in crop.note
    G = without_noise(tiny_generator())
    assert choose_loss("auto", G)[0] == "mse" and "used mse" in choose_loss("auto", G)[2]
    with pytest.raises(StyleGANError, match="mse"):
        choose_loss("lpips", G)
    E = Encoder(EncoderConfig.for_generator(G)).eval()
    path = save_encoder(E, tmp_path / "encoder.safetensors")
    ws, init, note = encoder_start(SimpleNamespace(encoder=str(path)), G, crop.target)  # type: ignore[arg-type]
    assert init == "encoder:encoder.safetensors" and note == "started from the encoder"
    assert ws is not None and torch.allclose(ws, encode(E, torch.tensor(crop.target[None]).permute(0, 3, 1, 2)))
    other = tiny_generator(img_resolution=32)
    ws, init, note = encoder_start(SimpleNamespace(encoder=str(path)), other, face.target)  # type: ignore[arg-type]
    assert ws is None and init == "w_avg" and "encoder not used" in note


@pytest.fixture(scope="module")
def tiny_app(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("ui-photo-tiny")
    G = without_noise(tiny_generator())
    path = tmp_path_factory.mktemp("net") / "tiny.safetensors"  # outside the session folder, which starts empty
    stylegan.save(path, G_ema=G)
    with ui_server("--network", str(path), workdir=workdir) as url:
        yield url, workdir, G


def test_project_api_moves_toward_the_target(tiny_app, tmp_path: Path):
    """/project with mse: the same projection as the library's, closer to the target than the start (w_avg)."""
    from gradio_client import handle_file

    url, workdir, G = tiny_app
    target = stylegan.generate(G, seeds=[5], psi=0.5).images[0]
    png = tmp_path / "target.png"
    Image.fromarray(target).save(png)
    shown_target, shown, status, pasted, *_ = client(url).predict(
        handle_file(str(png)), 40, "w", "mse", True, 0, api_name="/project"
    )
    assert "done: step 40/40" in status and "centre square" in status, status  # a 16px image has no face
    assert pasted is None
    got = np.asarray(Image.open(shown).convert("RGB"))
    factor = got.shape[0] // G.img_resolution  # shown enlarged (nearest neighbour)
    got = got[::factor, ::factor]
    assert np.array_equal(np.asarray(Image.open(shown_target).convert("RGB"))[::factor, ::factor], target)
    want = project(G, target, steps=40, loss="mse", progress=False)
    start = project(G, target, steps=0, loss="mse", progress=False).images[0]
    assert np.abs(got.astype(int) - want.images[0].astype(int)).max() <= 1

    def mse(a: np.ndarray) -> float:
        return float(np.mean((a.astype(np.float64) - target.astype(np.float64)) ** 2))

    assert mse(got) < 0.5 * mse(start), (mse(got), mse(start))
    kept = sorted((workdir / "history").glob("*-photo.png"))
    recipe = read_png_recipe(kept[-1])
    assert recipe["steps_done"] == 40 and recipe["loss"] == "mse" and recipe["alignment"] == "centre"
    with np.load(kept[-1].with_suffix(".npz")) as data:
        assert torch.allclose(torch.from_numpy(data["w"]), want.ws, atol=1e-5)


@pytest.fixture(scope="module")
def bundled_app(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("ui-photo-bundled")
    with ui_server(workdir=workdir) as url:
        yield url, workdir


def test_photo_page_in_chromium(bundled_app, tmp_path: Path):
    """The astronaut's face: aligned, projected live, stopped by Stop (the result is kept), latent downloaded."""
    import skimage.data

    url, workdir = bundled_app
    photo = tmp_path / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).save(photo)
    with browser_page(url) as page:
        open_tab(page, "Your photo")
        page.locator("#photo-upload input[type=file]").set_input_files(str(photo))
        page.locator("#photo-upload img").first.wait_for()
        steps = page.locator("#photo-steps input[type=number]")
        steps.fill("1000")
        steps.press("Enter")
        status = page.locator("#photo-status textarea")
        page.locator("#photo-project").click()
        page.wait_for_function(
            "() => { const m = /^step (\\d+)\\/1000/.exec(document.querySelector('#photo-status textarea').value);"
            " return m && +m[1] >= 10; }",
            timeout=60_000,
        )
        assert "face aligned" in status.input_value()
        page.locator("#photo-result img").first.wait_for()
        page.locator("#photo-stop").click()
        page.wait_for_function(
            "() => document.querySelector('#photo-status textarea').value.startsWith('stopped at step')",
            timeout=60_000,
        )
        done = int(status.input_value().split("step ")[1].split("/")[0])
        assert 1 <= done < 1000
        link = page.locator("#photo-files a[download$='-photo.npz']").first
        link.wait_for()
        wait_idle(page)
        with page.expect_download() as info:
            link.click()
        saved = tmp_path / "latent.npz"
        info.value.save_as(saved)
        screenshot(page, "photo", tmp_path)
    with np.load(saved) as data:
        assert data["w"].shape == (1, 8, 256)
    recipe = next(read_png_recipe(p) for p in sorted((workdir / "history").glob("*-photo.png")))
    assert recipe["stopped"] and recipe["steps_done"] == done and recipe["alignment"] == "face"
    assert recipe["loss"] == "lpips" and recipe["steps"] == 1000
    assert (workdir / "history" / f"{recipe['id']}-photo-pasted.png").is_file()
