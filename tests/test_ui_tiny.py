"""Every page of `stylegan ui` clicked through in Chromium on a tiny unconditional network (16 px, 6 w layers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import stylegan
from stylegan.testing import tiny_generator
from stylegan.ui.session import read_png_recipe
from tests.ui_support import browser_page, open_tab, ui_server, wait_idle

pytestmark = pytest.mark.slow


def no_error_toast(page) -> None:
    errors = [t for t in page.locator(".toast-body, [data-testid='toast-body']").all_inner_texts() if "rror" in t]
    assert not errors, errors


def test_every_page_on_a_tiny_network(tmp_path: Path):
    net = tmp_path / "tiny.safetensors"
    stylegan.save(net, G_ema=tiny_generator(seed=3))
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(photo)
    workdir = tmp_path / "session"
    with ui_server("--network", net, workdir=workdir) as url, browser_page(url) as page:
        page.get_by_role("button", name="Generate").click()
        wait_idle(page)
        no_error_toast(page)

        open_tab(page, "Customise")
        page.get_by_role("button", name="Render").click()
        wait_idle(page)
        no_error_toast(page)

        open_tab(page, "Mix")
        page.get_by_role("button", name="Mix", exact=True).click()
        wait_idle(page)
        no_error_toast(page)

        open_tab(page, "Edit")
        page.get_by_role("button", name="Apply edits").click()
        wait_idle(page)
        no_error_toast(page)

        open_tab(page, "Your photo")
        page.locator("#photo-upload input[type=file]").set_input_files(str(photo))
        page.wait_for_timeout(500)
        page.locator("#photo-steps input[type=number]").fill("10")
        page.get_by_role("button", name="Project").click()
        wait_idle(page)
        no_error_toast(page)

        open_tab(page, "Fuse")
        page.get_by_role("button", name="Fuse", exact=True).click()
        wait_idle(page)
        no_error_toast(page)
        page.get_by_role("button", name="Send to Edit").click()  # hand the fused latent over
        page.wait_for_function(
            "() => [...document.querySelectorAll('[role=tab]')].some(t => t.textContent.trim() === 'Edit' && "
            "t.getAttribute('aria-selected') === 'true')"
        )
        page.get_by_role("button", name="Apply edits").click()
        wait_idle(page)
        no_error_toast(page)

        open_tab(page, "Video")
        page.get_by_role("button", name="Make video").click()
        wait_idle(page)
        no_error_toast(page)

        open_tab(page, "History")
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(500)
        no_error_toast(page)
    recipes = [read_png_recipe(p) for p in sorted((workdir / "history").glob("*.png"))]
    kinds = [r.get("kind") for r in recipes]
    for kind in ("generate", "customise", "mix", "edit", "photo", "fuse", "video"):
        assert kind in kinds, kinds
    assert all(r.get("network") == str(net) for r in recipes)
    handed = [r for r in recipes if r.get("kind") == "edit"][-1]
    assert "history:" in str(handed), handed  # the second edit started from the fused latent
