"""Starting the web app safely: loopback by default, authentication for anything else, fully offline."""

from __future__ import annotations

import ipaddress
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StyleGANError

#: Environment that keeps gradio and huggingface_hub offline: no analytics, no version check, no telemetry.
OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_SSR_MODE": "False",
}


@dataclass
class UIOptions:
    """How `stylegan ui` serves the app.

    network: the default network (registry name or file; the bundled network when None).
    host, port: where to listen; anything but a loopback address needs `auth`.
    auth: (user, password) pairs.
    workdir: the session folder (history, uploads, gradio's temp files); a new temporary folder when None.
    device: where networks run; concurrency: requests served at once (1 per device); queue_size: requests that
    may wait, beyond which a caller is told the app is busy; max_upload: the largest upload gradio accepts;
    max_models: networks kept in memory.
    """

    network: str | None = None
    host: str = "127.0.0.1"
    port: int = 7860
    auth: list[tuple[str, str]] = field(default_factory=list)
    workdir: str | None = None
    device: str | None = None
    concurrency: int | None = None
    queue_size: int = 64
    max_upload: str = "512mb"
    max_models: int = 2
    encoder: str | None = None
    zgen: str | None = None
    directions: list[str] = field(default_factory=list)
    pages: list[str] | None = None


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, auth: list[tuple[str, str]]) -> None:
    """Refuse to listen beyond this machine without authentication."""
    if not is_loopback(host) and not auth:
        raise StyleGANError(
            f"--host {host} would let anyone on the network use this app: add --auth user:password (or "
            "--auth-file), or keep the default --host 127.0.0.1 and reach it through an SSH tunnel"
        )


def parse_auth(pairs: list[str], auth_file: str | None = None) -> list[tuple[str, str]]:
    """`user:password` strings, plus one per non-empty line of `auth_file` (lines starting with # are skipped)."""
    texts = list(pairs)
    if auth_file:
        path = Path(auth_file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise StyleGANError(f"{path}: cannot read the auth file ({e})") from None
        texts += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        where = f" in {path}"
    else:
        where = ""
    out = []
    for text in texts:
        user, sep, password = text.partition(":")
        if not sep or not user or not password:
            raise StyleGANError(f"auth entry {text[:40]!r}{where} is not user:password (both non-empty)")
        out.append((user, password))
    return out


def go_offline() -> None:
    """Set the environment that keeps gradio offline (before gradio is imported)."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value


def default_concurrency(device: Any) -> int:
    """Requests served at once: one per accelerator; one on a CPU, whose cores one request already uses."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        return max(1, torch.cuda.device_count())
    return 1


def make_context(options: UIOptions) -> Any:
    """The app's shared state for `options` (the session folder is created)."""
    from ..device import pick_device
    from ..io.pretrained import resolve_network
    from .context import UIContext
    from .session import History, ModelStore, ResultCache

    device = pick_device(options.device)
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="stylegan-ui-"))
    workdir.mkdir(parents=True, exist_ok=True)
    models = ModelStore(resolve_network(options.network), device=device, max_models=options.max_models)
    models.get()  # a bad default network fails here, in one line, before the server starts
    return UIContext(
        models=models,
        history=History(workdir / "history"),
        cache=ResultCache(),
        workdir=workdir,
        concurrency_limit=options.concurrency or default_concurrency(device),
        encoder=options.encoder,
        zgen=options.zgen,
        directions=list(options.directions),
    )


def create_app(options: UIOptions) -> tuple[Any, Any]:
    """(gradio Blocks with its queue set, context) for `options`, not yet launched."""
    check_bind(options.host, options.auth)
    go_offline()
    ctx = make_context(options)
    os.environ["GRADIO_TEMP_DIR"] = str(ctx.workdir / "gradio")
    from .app import build_app

    demo = build_app(ctx, options.pages)
    demo.queue(max_size=options.queue_size, default_concurrency_limit=ctx.concurrency_limit)
    return demo, ctx


def launch(options: UIOptions, *, block: bool = True) -> tuple[Any, Any]:
    """Start the app (blocking unless `block=False`); returns (demo, context)."""
    demo, ctx = create_app(options)
    demo.launch(
        server_name=options.host,
        server_port=options.port,
        share=False,
        auth=options.auth or None,
        max_file_size=options.max_upload,
        allowed_paths=[str(ctx.workdir)],
        i18n=ctx.i18n,
        quiet=True,
        prevent_thread_lock=not block,
        footer_links=["api", "settings"],
        ssr_mode=False,
        mcp_server=False,
    )
    return demo, ctx
