"""`stylegan ui`: the Customise, Mix and Fuse pages, through the API (against the library called directly) and in
a real browser; the class control is not offered on an unconditional network."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from playwright.sync_api import expect

import stylegan
from stylegan.editing.latent_ops import fuse, save_latents, swap_styles
from stylegan.generation import seeds_to_ws, style_mix, synthesize
from stylegan.latents import layer_preset
from stylegan.ui.context import layer_choices
from stylegan.ui.session import read_png_recipe
from tests.ui_support import browser_page, client, open_tab, screenshot, ui_server, wait_idle

pytestmark = pytest.mark.slow

GALLERY_IMG = "[data-testid='gallery'] img, .gallery img, button.thumbnail-item img"


@pytest.fixture(scope="module")
def bundled_app(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("ui-cmf")
    with ui_server(workdir=workdir) as url:
        yield url, workdir


@pytest.fixture(scope="module")
def emoji():
    return stylegan.load("emoji")


@pytest.fixture(scope="module")
def tiny_app(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("ui-cmf-tiny")
    path = tmp_path_factory.mktemp("net") / "tiny.safetensors"  # outside the session folder, which starts empty
    stylegan.save(path, G_ema=stylegan.testing.tiny_generator(seed=3))
    with ui_server("--network", path, workdir=workdir) as url:
        yield url, workdir, path


def read(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def shrink(img: np.ndarray, size: int) -> np.ndarray:
    """An image shown enlarged (nearest neighbour, whole factor) back at `size` pixels per cell."""
    factor = img.shape[0] // size if img.shape[0] % size == 0 else 1
    return img[::factor, ::factor]


def gallery_arrays(result: list[dict], size: int) -> list[np.ndarray]:
    return [shrink(read(item["image"]), size) for item in result]


# ------------------------------------------------------------------------------------------------------------
# API: the same numbers as the library


def test_customise_by_class_matches_library(bundled_app, emoji):
    url, _ = bundled_app
    result = client(url).predict(method="class", seeds="0-2", class_idx=6, psi=0.6, api_name="/customise")
    want = stylegan.generate(emoji, [0, 1, 2], psi=0.6, class_idx=6, noise_mode="const").images
    assert [item["caption"] for item in result] == ["seed 0", "seed 1", "seed 2"]
    for got, w in zip(gallery_arrays(result, 32), want):
        assert np.array_equal(got, w)


def test_customise_by_template_matches_library(bundled_app, emoji, tmp_path: Path):
    """Layers 5-7 of the base seeds come from the template: a seed, then an uploaded latent file."""
    from gradio_client import handle_file

    url, _ = bundled_app
    c = client(url)
    base = seeds_to_ws(emoji, [3, 4], psi=0.7)
    tpl = seeds_to_ws(emoji, [9], psi=0.7)
    want = synthesize(emoji, swap_styles(base, tpl, [5, 6, 7]), noise_mode="const")
    result = c.predict(method="template", seeds="3,4", template="seed:9", layers="5,6,7", api_name="/customise")
    for got, w in zip(gallery_arrays(result, 32), want):
        assert np.array_equal(got, w)
    # an uploaded template (a projection's file, say) wins over the typed one
    other = torch.randn(1, emoji.num_ws, emoji.w_dim) * 0.5 + emoji.mapping.w_avg
    save_latents(tmp_path / "template.npz", other)
    want = synthesize(emoji, swap_styles(base, other, [2, 3]), noise_mode="const")
    result = c.predict(
        method="template",
        seeds="3,4",
        template="seed:9",
        template_file=handle_file(str(tmp_path / "template.npz")),
        layers="2-3",
        api_name="/customise",
    )
    for got, w in zip(gallery_arrays(result, 32), want):
        assert np.array_equal(got, w)


def test_mix_matches_library(bundled_app, emoji):
    url, workdir = bundled_app
    figure, gallery = client(url).predict(rows="1,2", cols="3,4,5", preset="middle", psi=0.8, api_name="/mix")
    mix = style_mix(emoji, [1, 2], [3, 4, 5], layer_preset("middle", emoji.num_ws), psi=0.8, noise_mode="const")
    assert np.array_equal(shrink(read(figure), 32 * 3), mix.grid)  # 3 rows of 32 px cells, shown enlarged
    pairs = [(r, c) for r in (1, 2) for c in (3, 4, 5)]
    assert [item["caption"] for item in gallery] == [f"row {r} x col {c}" for r, c in pairs]
    for got, pair in zip(gallery_arrays(gallery, 32), pairs):
        assert np.array_equal(got, mix.images[pair])
    kept = [read_png_recipe(p) for p in (workdir / "history").glob("*-mix.png")]
    assert any(r["rows"] == "1,2" and r["cols"] == "3,4,5" and r["layers"] == "middle" for r in kept), kept


def test_fuse_matches_library(bundled_app, emoji, tmp_path: Path):
    """Weighted fusion of two seeds and an uploaded latent; then per layer group weights."""
    from gradio_client import handle_file

    url, _ = bundled_app
    c = client(url)
    a, b = seeds_to_ws(emoji, [1], psi=0.7), seeds_to_ws(emoji, [2], psi=0.7)
    extra = seeds_to_ws(emoji, [8], psi=0.5)
    save_latents(tmp_path / "extra.npz", extra)
    image, latent, parents = c.predict(
        specs="seed:1\nseed:2",
        files=[handle_file(str(tmp_path / "extra.npz"))],
        weights="1,2,1",
        api_name="/fuse",
    )
    want_ws = fuse([a, b, extra], [1, 2, 1])
    with np.load(latent) as data:
        assert np.allclose(data["w"], want_ws.numpy(), atol=1e-6)
    assert np.array_equal(shrink(read(image), 32), synthesize(emoji, want_ws, noise_mode="const")[0])
    assert len(parents) == 3
    # per layer group: coarse layers mostly from seed 1, middle layers mostly from seed 2
    image, latent, _ = c.predict(
        specs="seed:1-2", weights="1,1", by_group=True, coarse="3,1", middle="1,3", api_name="/fuse"
    )
    want_ws = fuse([a, b], [1, 1])
    coarse, middle = layer_preset("coarse", emoji.num_ws), layer_preset("middle", emoji.num_ws)
    want_ws[:, coarse] = fuse([a[:, coarse], b[:, coarse]], [3, 1])
    want_ws[:, middle] = fuse([a[:, middle], b[:, middle]], [1, 3])
    with np.load(latent) as data:
        assert np.allclose(data["w"], want_ws.numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "api, kwargs, fragment",
    [
        ("/customise", dict(method="class", seeds="0", class_idx=12), "class 12 is out of range"),
        ("/customise", dict(method="template", seeds="0", template="/etc/passwd"), "type seed:N or history:ID"),
        ("/customise", dict(method="template", seeds="0", layers="5-30"), "out of range"),
        ("/customise", dict(method="template", seeds="0", template="history:9999"), "no history entry"),
        ("/mix", dict(rows="0-9", cols="10-19"), "at most 64"),
        ("/mix", dict(rows="1", cols="2", preset="fine"), "the fine group is empty"),
        ("/fuse", dict(specs="seed:1"), "two or more"),
        ("/fuse", dict(specs="seed:1\nseed:2", weights="1,1,1"), "3 weights for 2 parents"),
        ("/fuse", dict(specs="seed:0-99999"), "at most 64"),
    ],
)
def test_user_errors_are_one_line(bundled_app, api, kwargs, fragment):
    from gradio_client.exceptions import AppError

    url, _ = bundled_app
    with pytest.raises(AppError) as info:
        client(url).predict(**kwargs, api_name=api)
    message = str(info.value)
    assert fragment in message and "\n" not in message.strip() and "Traceback" not in message, message


# ------------------------------------------------------------------------------------------------------------
# In the browser


def test_customise_page_in_chromium(bundled_app, emoji, tmp_path: Path):
    """By class, then by template with an uploaded latent file; the result goes over to Fuse."""
    url, workdir = bundled_app
    save_latents(tmp_path / "smiley.npz", seeds_to_ws(emoji, [6], psi=0.7))
    with browser_page(url) as page:
        open_tab(page, "Customise")
        tab = page.get_by_role("tabpanel")
        tab.get_by_label("Base seeds (e.g. 0-3)").fill("0-3")
        tab.get_by_label("Class to make").click()
        page.get_by_role("option", name="6 Smileys & Emotion").click()
        tab.get_by_role("button", name="Render").click()
        tab.locator(GALLERY_IMG).first.wait_for()
        wait_idle(page)
        assert "tab=customise" in page.url and "class=6" in page.url
        spec_box = tab.get_by_label("This result as a latent")
        expect(spec_box).to_have_value(re.compile(r"history:\d+"))
        first_spec = spec_box.input_value()
        tab.get_by_label("By template (style swap)").check()
        expect(tab.get_by_text("Layer indices are 0-based")).to_be_visible()
        for label, _ in layer_choices(emoji)[:5]:  # 0-based; 5-7 (32 px) are ticked by default
            expect(tab.get_by_label(label, exact=True)).not_to_be_checked()
        expect(tab.get_by_label("5 (32px)", exact=True)).to_be_checked()
        tab.get_by_label("4 (16px)", exact=True).check()
        tab.locator("input[type=file]").set_input_files(str(tmp_path / "smiley.npz"))
        expect(tab.get_by_text("smiley.npz")).to_be_visible()
        wait_idle(page)
        tab.get_by_role("button", name="Render").click()
        expect(spec_box).not_to_have_value(first_spec)
        wait_idle(page)
        screenshot(page, "customise", tmp_path)
        spec = spec_box.input_value()
        assert re.fullmatch(r"history:\d+", spec), spec
        tab.get_by_role("button", name="Send to Fuse").click()
        fuse_specs = page.get_by_role("tabpanel").get_by_label("Parents, one per line", exact=False)
        expect(fuse_specs).to_have_value(f"seed:1\nseed:2\n{spec}")
    entry = read_png_recipe(next((workdir / "history").glob(f"{spec.split(':')[1]}-customise.png")))
    assert entry["method"] == "template" and entry["layers"] == "4,5,6,7" and entry["template"] == "upload:smiley.npz"


def test_mix_page_in_chromium(bundled_app, tmp_path: Path):
    """Mix with a custom layer range; a link opens the page with its settings."""
    url, _ = bundled_app
    with browser_page(url) as page:
        open_tab(page, "Mix")
        tab = page.get_by_role("tabpanel")
        tab.get_by_label("Row seeds", exact=False).fill("10,11,12")
        tab.get_by_label("Column seeds", exact=False).fill("20,21,22,23")
        tab.get_by_label("custom", exact=True).check()
        tab.get_by_label("Custom layers", exact=False).fill("0-1")
        tab.get_by_role("button", name="Mix", exact=True).click()
        tab.locator(GALLERY_IMG).first.wait_for()
        wait_idle(page)
        assert "tab=mix" in page.url and "layers=0-1" in page.url
        assert tab.locator("img").count() >= 13  # the figure and 12 mixes
        screenshot(page, "mix", tmp_path)
    with browser_page(f"{url}?tab=mix&psi=0.5&layers=middle") as page:
        expect(page.get_by_role("tabpanel").get_by_label("middle", exact=True)).to_be_checked()


def test_fuse_page_in_chromium(bundled_app, emoji, tmp_path: Path):
    """Fuse two seeds with group weights; the fused latent downloads; Reopen from the history restores the page."""
    url, _ = bundled_app
    with browser_page(url) as page:
        open_tab(page, "Fuse")
        tab = page.get_by_role("tabpanel")
        tab.get_by_label("Parents, one per line", exact=False).fill("seed:6\nseed:15")
        tab.get_by_label("Weights, one per parent", exact=False).fill("1,1")
        tab.get_by_label("Separate weights per layer group").check()
        tab.get_by_label("Coarse layers' weights", exact=False).fill("1,3")
        tab.get_by_role("button", name="Fuse", exact=True).click()
        link = tab.locator("a[href$='-fuse.npz']").first
        link.wait_for()
        wait_idle(page)
        screenshot(page, "fuse", tmp_path)
        entry_id = tab.get_by_label("This result as a latent").input_value().split(":")[1]
        with page.expect_download() as info:
            link.click()
        path = tmp_path / "fused.npz"
        info.value.save_as(path)
        with np.load(path) as data:
            assert data["w"].shape == (1, emoji.num_ws, emoji.w_dim)
        open_tab(page, "History")
        tab = page.get_by_role("tabpanel")
        tab.get_by_role("button", name="Refresh").click()
        tab.locator(GALLERY_IMG).first.click()  # the newest entry: this fusion
        expect(tab.get_by_label("Entry")).to_have_value(entry_id)
        tab.get_by_role("button", name="Reopen").click()
        tab = page.get_by_role("tabpanel")
        expect(tab.get_by_label("Coarse layers' weights", exact=False)).to_have_value("1,3")
        expect(tab.get_by_label("Parents, one per line", exact=False)).to_have_value("seed:6\nseed:15")


# ------------------------------------------------------------------------------------------------------------
# An unconditional network


def test_unconditional_network_offers_no_class_and_swaps(tiny_app, tmp_path: Path):
    url, _, path = tiny_app
    G = stylegan.load(str(path))
    assert G.c_dim == 0 and G.num_ws == 6
    result = client(url).predict(method="template", seeds="0,1", template="seed:7", layers="5", api_name="/customise")
    want = synthesize(G, swap_styles(seeds_to_ws(G, [0, 1], psi=0.7), seeds_to_ws(G, [7], psi=0.7), [5]))
    for got, w in zip(gallery_arrays(result, 16), want):
        assert np.array_equal(got, w)
    with browser_page(url) as page:
        open_tab(page, "Customise")
        tab = page.get_by_role("tabpanel")
        expect(tab.get_by_label("By template (style swap)")).to_be_checked()
        expect(tab.get_by_label("By class")).to_have_count(0)
        expect(tab.get_by_label("Class to make")).to_have_count(0)
        expect(tab.get_by_label("5 (16px)", exact=True)).to_be_checked()
        expect(tab.get_by_label("6 (", exact=False)).to_have_count(0)  # the network has layers 0-5 only
        expect(tab.get_by_text("5: 16px, 6: -, 7: -, 8: -")).to_be_visible()
        tab.get_by_role("button", name="Render").click()
        tab.locator(GALLERY_IMG).first.wait_for()
        wait_idle(page)
        assert "tab=customise" in page.url
    with browser_page(f"{url}?tab=customise&seeds=2&layers=2,3") as page:  # a link restores the layers
        tab = page.get_by_role("tabpanel")
        expect(tab.get_by_label("2 (8px)", exact=True)).to_be_checked()
        expect(tab.get_by_label("5 (16px)", exact=True)).not_to_be_checked()
        tab.get_by_role("button", name="Render").click()
        tab.locator(GALLERY_IMG).first.wait_for()
        wait_idle(page)
        assert "layers=2%2C3" in page.url and "seeds=2" in page.url
    with browser_page(f"{url}?tab=customise&net=emoji&layers=4") as page:  # a conditional network: class offered
        tab = page.get_by_role("tabpanel")
        expect(tab.get_by_label("7 (32px)", exact=True)).not_to_be_checked()
        expect(tab.get_by_label("4 (16px)", exact=True)).to_be_checked()
        tab.get_by_label("By class").check()
        tab.get_by_label("Class to make").click()
        expect(page.get_by_role("option", name="8 Travel & Places")).to_be_visible()


def test_zgen_method_renders_the_z_code_generators_images(tmp_path: Path):
    """With --zgen the Customise page offers method 1: the images equal `stylegan generate --zgen` (the library
    with the generator's z); a generator made for another network is refused in one line."""
    import torch

    from stylegan.customise.zgen import ZCodeGenerator, ZGenInfo, save_zgen, zgen_images
    from stylegan.errors import StyleGANError
    from stylegan.io.hashing import network_hash
    from stylegan.ui.app import build_app
    from stylegan.ui.pages.customise import customise_images
    from stylegan.ui.server import UIOptions, make_context

    G = stylegan.load("emoji")
    torch.manual_seed(0)
    zg = ZCodeGenerator(code_dim=8, z_dim=G.z_dim, hidden=16, layers=2)
    zg.info = ZGenInfo(network_hash=network_hash(G), class_name="x", class_index=0, network_class=6)
    path = tmp_path / "zgen.safetensors"
    save_zgen(zg, path)
    ctx = make_context(UIOptions(workdir=str(tmp_path / "s"), zgen=str(path)))
    demo = build_app(ctx, ["customise"])
    radios = [b for b in demo.blocks.values() if type(b).__name__ == "Radio" and "zgen" in str(b.choices)]
    assert radios and [v for _, v in radios[0].choices] == ["class", "template", "zgen"]
    gallery, record = customise_images(ctx, "zgen", "0-2", psi=1.0)
    want = zgen_images(G, zg, [0, 1, 2]).images
    factor = gallery[0][0].shape[0] // want.shape[1]
    for (img, _), w in zip(gallery, want):
        np.testing.assert_array_equal(img[::factor, ::factor], w)
    assert ctx.history.get(record["id"]).recipe["method"] == "zgen"
    other = make_context(UIOptions(workdir=str(tmp_path / "o"), zgen=str(path), network=str(tiny_net(tmp_path))))
    with pytest.raises(StyleGANError, match="another network|made for"):
        customise_images(other, "zgen", "0")
    plain = make_context(UIOptions(workdir=str(tmp_path / "plain")))
    assert not [
        b
        for b in build_app(plain, ["customise"]).blocks.values()
        if type(b).__name__ == "Radio" and "zgen" in str(b.choices)
    ]


def tiny_net(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-zgen.safetensors"
    stylegan.save(path, G_ema=stylegan.testing.tiny_generator(seed=3, z_dim=256))  # the emoji network's z_dim
    return path


# ------------------------------------------------------------------------------------------------------------
# Labels and helpers (no server)


@pytest.mark.parametrize("name", ["customise", "mix", "fuse"])
def test_labels_in_both_languages(name):
    import importlib

    labels = importlib.import_module(f"stylegan.ui.pages.{name}").LABELS
    assert set(labels["en"]) == set(labels["zh"])
    assert all(k == f"tab.{name}" or k.startswith(f"{name}.") for k in labels["en"])
    assert not any("Generate" in v for v in labels["en"].values())


def test_bundled_class_names_and_groups(emoji):
    from stylegan.ui.pages import _cmf_helpers as h

    names = h.bundled_class_names()
    assert len(names) == emoji.c_dim == 9 and names[6] == "Smileys & Emotion"
    assert h.default_swap_layers(emoji.num_ws) == [5, 6, 7]
    assert h.resolution_note(emoji, range(5, 9)) == "5: 32px, 6: 32px, 7: 32px, 8: -"
    a, b = torch.zeros(1, 8, 4), torch.ones(1, 8, 4)
    out = h.fuse_by_groups([a, b], [1, 1], {"coarse": [3, 1], "middle": None, "fine": [0, 1]})
    assert out[0, :4, 0].tolist() == [0.25] * 4 and out[0, 4:, 0].tolist() == [0.5] * 4
