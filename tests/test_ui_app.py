"""`stylegan ui`: the server, the Generate page in a real browser, `/generate` from concurrent clients, refusals."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

import stylegan
import stylegan.testing
from stylegan.ui.session import read_png_recipe
from tests.conftest import assert_user_error, run_stylegan
from tests.ui_support import browser_page, client, open_tab, screenshot, ui_server, wait_idle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundled_app(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("ui-bundled")
    with ui_server(workdir=workdir) as url:
        yield url, workdir


def expected_images(seeds: list[int], psi: float) -> np.ndarray:
    G = stylegan.load("emoji")
    return stylegan.generate(G, seeds, psi=psi, noise_mode="const").images


def gallery_arrays(result: list[dict]) -> list[np.ndarray]:
    return [np.asarray(Image.open(item["image"]).convert("RGB")) for item in result]


def test_generate_api_from_concurrent_clients(bundled_app):
    """16 calls of /generate from 8 clients at once: each call gets the images of its own seeds and psi."""
    url, _ = bundled_app
    calls = [(f"{i}-{i + 1}", round(0.3 + 0.05 * i, 2)) for i in range(16)]

    def call(args: tuple[str, float]) -> list[dict]:
        seeds, psi = args
        return client(url).predict(seeds=seeds, psi=psi, api_name="/generate")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, calls))
    for (seeds, psi), result in zip(calls, results):
        lo = int(seeds.split("-")[0])
        want = expected_images([lo, lo + 1], psi)
        got = gallery_arrays(result)
        assert [item["caption"] for item in result] == [f"seed {lo}", f"seed {lo + 1}"]
        factor = got[0].shape[0] // want.shape[1]  # shown enlarged (nearest neighbour)
        for g, w in zip(got, want):
            assert np.array_equal(g[::factor, ::factor], w), (seeds, psi)


def test_generate_page_in_chromium(bundled_app, tmp_path: Path):
    """Click "Generate": images appear, the result is in the history with its recipe, the link reproduces it."""
    url, workdir = bundled_app
    seen: list[str] = []
    with browser_page(url, requests=seen) as page:
        page.get_by_label("Seeds (e.g. 0-7 or 3,14,15)").fill("5-7")
        page.get_by_role("button", name="Generate").click()
        page.locator("[data-testid='gallery'] img, .gallery img, button.thumbnail-item img").first.wait_for()
        wait_idle(page)
        assert "seeds=5-7" in page.url
        screenshot(page, "generate", tmp_path)
        open_tab(page, "History")
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(500)
        screenshot(page, "history", tmp_path)
        link = page.url
    outside = [u for u in seen if not u.startswith((url, "data:", "blob:"))]
    assert seen and not outside, outside  # offline: no fonts, scripts or analytics from elsewhere
    kept = sorted((workdir / "history").glob("*-generate.png"))
    recipes = [read_png_recipe(p) for p in kept]
    assert any(r["seeds"] == "5-7" and r["network"] == "emoji" for r in recipes), recipes
    with browser_page(link) as page:  # the shared link opens the same view
        expect(page.get_by_label("Seeds (e.g. 0-7 or 3,14,15)")).to_have_value("5-7")


def test_non_loopback_host_needs_auth(tmp_path: Path):
    result = run_stylegan("ui", "--host", "0.0.0.0", "--port", "7999", "--workdir", tmp_path)
    assert_user_error(result, "--host 0.0.0.0", "--auth")


def test_bad_auth_entry_is_refused(tmp_path: Path):
    logins = tmp_path / "logins.txt"
    logins.write_text("# team\nalice\n")
    result = run_stylegan("ui", "--host", "0.0.0.0", "--auth-file", logins)
    assert_user_error(result, str(logins), "user:password")


def test_recipe_travels_in_exported_zip(bundled_app, tmp_path: Path):
    url, _ = bundled_app
    c = client(url)
    c.predict(seeds="3", psi=0.5, api_name="/generate")
    archive = c.predict(api_name="/history_export")
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        recipes = json.loads(zf.read("recipes.json"))
        assert any(n.endswith(".npz") for n in names)
    assert any(r.get("seeds") == "3" and r.get("psi") == 0.5 for r in recipes)


def test_load_benchmark_small_scale(bundled_app):
    """benchmarks/ui_load.py at small scale: every answer holds its own images, no errors."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from ui_load import run_load

    stats = run_load(bundled_app[0], clients=4, requests=2, seeds_per_call=3)
    assert stats["errors"] == 0 and stats["requests"] == 8 and stats["requests_per_s"] > 0


def test_load_benchmark_script_starts_its_own_app():
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "ui_load.py"
    out = subprocess.run(
        [sys.executable, str(script), "--clients", "2", "--requests", "1", "--seeds-per-call", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    assert stats["errors"] == 0 and stats["requests"] == 2


def test_full_queue_says_busy(tmp_path: Path):
    """Beyond --queue-size waiting requests, callers are told to try again; the others are served correctly."""
    import threading

    with ui_server("--queue-size", "1", workdir=tmp_path) as url:
        clients = [client(url) for _ in range(8)]
        barrier = threading.Barrier(len(clients))
        outcomes: list[object] = [None] * len(clients)

        def call(k: int) -> None:
            barrier.wait()
            try:
                outcomes[k] = clients[k].predict(seeds=f"{k * 64}-{k * 64 + 63}", psi=0.5, api_name="/generate")
            except Exception as e:
                outcomes[k] = e

        threads = [threading.Thread(target=call, args=(k,)) for k in range(len(clients))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    busy = [o for o in outcomes if isinstance(o, Exception)]
    served = [(k, o) for k, o in enumerate(outcomes) if isinstance(o, list)]
    assert busy and served, outcomes
    assert all("try again" in str(e).lower() for e in busy), busy
    for k, result in served:
        assert [item["caption"] for item in result][:2] == [f"seed {k * 64}", f"seed {k * 64 + 1}"]


def test_auth_is_required_when_given(tmp_path: Path):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    with ui_server("--auth", "ann:secret", workdir=tmp_path) as url:
        with pytest.raises(AuthenticationError):
            Client(url, verbose=False).predict(seeds="1", psi=0.5, api_name="/generate")
        result = Client(url, auth=("ann", "secret"), verbose=False).predict(seeds="1", psi=0.5, api_name="/generate")
        assert [item["caption"] for item in result] == ["seed 1"]


def test_uploaded_network_goes_through_the_safe_loader(bundled_app, tmp_path: Path):
    """A pickle that would run a command is refused with one line naming it; nothing runs. A real file loads."""
    url, _ = bundled_app
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(b"\x80\x04cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")
    tiny = tmp_path / "tiny.safetensors"
    stylegan.save(tiny, G_ema=stylegan.testing.tiny_generator(seed=3))
    with browser_page(url) as page:
        page.locator("input[type=file]").first.set_input_files(str(evil))
        toast = page.locator(".toast-body, [data-testid='toast-body']").first
        toast.wait_for()
        assert "evil.pkl" in toast.inner_text()
        page.locator("input[type=file]").first.set_input_files(str(tiny))
        expect(page.get_by_label("Network").first).to_have_value(re.compile("tiny.safetensors"), timeout=60_000)
        page.get_by_role("button", name="Generate").click()
        wait_idle(page)
    assert not marker.exists()


def test_chinese_browser_gets_chinese_labels(bundled_app):
    from stylegan.ui.app import page_modules
    from stylegan.ui.labels import translations

    zh = translations(m.LABELS for m in page_modules().values())["zh"]
    with browser_page(bundled_app[0], locale="zh-CN") as page:
        tabs = [t.inner_text().strip() for t in page.get_by_role("tab").all()]
        assert zh["tab.generate"] in tabs and zh["tab.history"] in tabs, tabs
        page.get_by_role("button", name=zh["generate.button"]).click()
        page.locator("[data-testid='gallery'] img, .gallery img, button.thumbnail-item img").first.wait_for()


def test_typed_paths_outside_the_session_are_refused(bundled_app, tmp_path: Path):
    """A latent spec naming a file of the server (not an upload) is refused; the app reads no other file."""
    from gradio_client.exceptions import AppError

    secret = tmp_path / "secret.npz"
    G = stylegan.load("emoji")
    np.savez(secret, w=np.zeros((1, G.num_ws, G.w_dim), np.float32))
    with pytest.raises(AppError, match="upload button"):
        client(bundled_app[0]).predict(latent=str(secret), edits="", api_name="/edit")


def test_uploads_are_size_limited(tmp_path: Path):
    big = tmp_path / "big.safetensors"
    big.write_bytes(b"\0" * 200_000)
    with ui_server("--max-upload", "100kb", workdir=tmp_path / "session") as url, browser_page(url) as page:
        page.locator("input[type=file]").first.set_input_files(str(big))
        toast = page.locator(".toast-body, [data-testid='toast-body']").first
        toast.wait_for()
        assert "size" in toast.inner_text().lower(), toast.inner_text()
    assert not list((tmp_path / "session").rglob("big.safetensors"))


def test_a_long_video_streams_progress_and_stops_when_cancelled(tmp_path: Path):
    """/video reports progress while it renders; cancelling it ends the render (no video is finished or kept)
    and frees the queue for the next request."""
    import time

    workdir = tmp_path / "session"
    with ui_server(workdir=workdir) as url:
        c = client(url)
        job = c.submit(keyframes="0\n1\n2\n3", frames_per_key=450, fps=30, api_name="/video")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(s.progress_data for s in [job.status()] if s.progress_data):
            time.sleep(0.2)
        progress = job.status().progress_data
        assert progress and progress[0].length == 3 * 450 + 1, progress  # frames done of (keys - 1) * 450 + 1
        job.cancel()
        t0 = time.monotonic()
        result = c.predict(seeds="1", psi=0.5, api_name="/generate")  # served once the render has stopped
        assert [item["caption"] for item in result] == ["seed 1"] and time.monotonic() - t0 < 60
        time.sleep(8)  # longer than the rest of the render would take: had it gone on, its video would be kept
    assert not list(workdir.rglob("*-video.mp4")), list(workdir.rglob("*.mp4"))
    assert not [p for p in (workdir / "history").glob("*.png") if "video" in p.name]
