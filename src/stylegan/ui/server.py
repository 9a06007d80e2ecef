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
    max_models: networks kept in memory; allow_downloads: let the model picker download registry networks
    that are not on this machine yet (off by default: the app then makes no connection beyond this machine).
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
    allow_downloads: bool = False
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
    """Requests served at once: one. The networks live on one device, whose cores (or GPU) one request already
    keeps busy; more at once would only interleave them (and their random numbers)."""
    return 1


#: Marks a folder as a session folder of the app (the app serves files from it, so it must not be any folder).
WORKDIR_MARK = ".stylegan-ui"


def check_workdir(path: Path) -> None:
    """Make `path` a session folder: new, empty, or one the app made before (it serves the files inside)."""
    try:
        if path.exists() and not (path / WORKDIR_MARK).is_file() and any(path.iterdir()):
            raise StyleGANError(
                f"{path}: not empty and not a session folder of the app; give a new or empty folder (the app "
                "serves the files of its session folder to the browser)"
            )
        path.mkdir(parents=True, exist_ok=True)
        (path / WORKDIR_MARK).touch()
    except OSError as e:
        raise StyleGANError(f"{path}: cannot use it as the session folder ({e})") from None


def parse_size(text: str) -> int:
    """`512mb`, `1gb`, `100kb`, `2048` (bytes) -> bytes."""
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?\s*", str(text).lower())
    if not m:
        raise StyleGANError(f"upload limit {text!r}: give a size such as 200mb, 1gb or 500kb")
    units = {"b": 1, "kb": 2**10, "mb": 2**20, "gb": 2**30, "tb": 2**40}
    return int(float(m.group(1)) * units[m.group(2) or "b"])


def make_context(options: UIOptions) -> Any:
    """The app's shared state for `options` (the session folder is created)."""
    from ..device import pick_device
    from ..io.pretrained import resolve_network
    from .context import UIContext
    from .session import History, ModelStore, ResultCache

    device = pick_device(options.device)
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="stylegan-ui-"))
    check_workdir(workdir)
    models = ModelStore(resolve_network(options.network), device=device, max_models=options.max_models)
    models.get()  # a bad default network fails here, in one line, before the server starts
    ctx = UIContext(
        models=models,
        history=History(workdir / "history"),
        cache=ResultCache(),
        workdir=workdir,
        concurrency_limit=options.concurrency or default_concurrency(device),
        encoder=options.encoder,
        zgen=options.zgen,
        directions=list(options.directions),
    )
    models.policy = lambda source: check_network_source(ctx, source, options.allow_downloads)
    return ctx


def check_network_source(ctx: Any, source: str, allow_downloads: bool) -> None:
    """Refuse a network a request names unless it is safe to load: a registry network already on this machine (or
    any registry network with `allow_downloads`), or a file uploaded to (or made in) this session. URLs and other
    files of this machine are refused: a caller must not make the server connect anywhere or read its files."""
    from ..io import pretrained

    entry = pretrained._REGISTRY.get(source)
    if entry is not None:
        if entry.path is not None or allow_downloads:
            return
        assert entry.url is not None
        if not pretrained.url_cache_path(entry.url).is_file():
            raise StyleGANError(
                f"{source} is not on this machine yet and the app downloads nothing: start it with --network "
                f"{source} or --allow-downloads"
            )
        return
    if source.startswith(("http://", "https://")):
        raise StyleGANError("the app loads no URL: start it with --network URL, or upload the file")
    if not ctx.may_read(source):
        raise StyleGANError(
            f"{source[:80]}: the app loads networks that are uploaded (the file box) or named at start "
            "(--network); not other files of this machine"
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
        max_file_size=parse_size(options.max_upload),
        allowed_paths=[str(ctx.workdir)],
        i18n=ctx.i18n,
        quiet=True,
        prevent_thread_lock=not block,
        footer_links=["api", "settings"],
        ssr_mode=False,
        mcp_server=False,
    )
    return demo, ctx
