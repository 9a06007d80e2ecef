"""Running `stylegan ui` for tests: a real server subprocess, Debian's Chromium through Playwright, gradio's client.

Browser tests need /usr/bin/chromium (`.ci/run` installs Debian's package; never a browser download). Where it is
missing outside CI the browser tests are skipped; in CI they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

try:  # a loaded 2-core machine can take more than Playwright's default 5 s to show a result
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
except ImportError:  # the browser tests then fail or skip in browser_page with a clear message
    pass

CHROMIUM = os.environ.get("STYLEGAN_CHROMIUM", "/usr/bin/chromium")
#: Chromium flags for this machine's closed network (no background connections, no first-run work).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Set to a folder (e.g. docs/ui) to keep the screenshots the browser tests take (the README shows them).
SCREENSHOT_DIR = os.environ.get("STYLEGAN_SCREENSHOTS")
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = log.read_text(errors="replace")
            raise AssertionError(f"stylegan ui exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"stylegan ui did not listen on port {port} within {timeout} s")


@contextmanager
def ui_server(*args: str, workdir: Path, timeout: float = 180) -> Iterator[str]:
    """`python -m stylegan ui --port P --workdir W ARGS` in a subprocess; yields its URL, stops it afterwards.

    Its output goes to `<workdir>.log` beside it (a pipe nobody reads would fill up and stall the server)."""
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    log = workdir.parent / f"{workdir.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stylegan", "ui", "--port", str(port), "--workdir", str(workdir), *map(str, args)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    try:
        wait_for_port(port, proc, log, timeout)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def have_chromium() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is not None


@contextmanager
def browser_page(
    url: str, *, width: int = 1280, height: int = 1000, requests: list[str] | None = None, locale: str = "en-US"
) -> Iterator[Any]:
    """A Playwright page in Debian's Chromium, opened at `url` once the app's first tab is shown; every URL the
    page asks for is appended to `requests` when given."""
    if not have_chromium():
        if os.environ.get("CI"):
            raise AssertionError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, accept_downloads=True, locale=locale
            )
            page = context.new_page()
            page.set_default_timeout(60_000)
            if requests is not None:
                page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="load")
            page.get_by_role("tab").first.wait_for()
            yield page
        finally:
            browser.close()


def open_tab(page: Any, name: str) -> None:
    """Click the tab named `name` (exactly) and wait until it is selected."""
    tab = page.get_by_role("tab", name=name, exact=True)
    tab.click()
    page.wait_for_function(
        "(name) => [...document.querySelectorAll('[role=tab]')].some(t => t.textContent.trim() === name && "
        "t.getAttribute('aria-selected') === 'true')",
        arg=name,
    )


def wait_idle(page: Any, timeout: float = 120_000) -> None:
    """Wait until no gradio progress indicator is shown (every queued event of the page has finished)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('.progress-text, .eta-bar, .wrap.pending, .generating')", timeout=timeout
    )


def screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    """Take a full-page screenshot into tmp_path (and into $STYLEGAN_SCREENSHOTS when set)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if SCREENSHOT_DIR:  # for the README: 960 px wide JPEGs keep the repository small
        from PIL import Image

        dest = Path(SCREENSHOT_DIR) / f"{name}.jpg"
        dest.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as im:
            im = im.convert("RGB")
            im = im.resize((960, round(im.height * 960 / im.width)), Image.Resampling.LANCZOS)
            im.save(dest, quality=80, optimize=True)
    return path


def client(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False)
