"""`stylegan ui`: the web app (gradio), on this machine only unless told otherwise."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from .common import device_option, network_option
from .params import Int


@click.command()
@network_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (non-loopback needs --auth)."
)
@click.option("--port", type=Int(1, 65535, what="port"), default=7860, show_default=True, help="Port to listen on.")
@click.option("--auth", "auth", multiple=True, metavar="USER:PASSWORD", help="A login (repeatable).")
@click.option(
    "--auth-file", type=click.Path(dir_okay=False, path_type=Path), help="Logins, one user:password per line."
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Session folder: history, exports, uploads (default: a new temporary folder).",
)
@click.option("--encoder", help="Encoder file (`stylegan encoder train`) to start projections from.")
@click.option("--zgen", help="Z-code generator file to offer on the Customise page.")
@click.option("--direction", "directions", multiple=True, help="Direction file for the Edit page (repeatable).")
@click.option(
    "--queue-size",
    type=Int(1, 10_000, what="queue size"),
    default=64,
    show_default=True,
    help="Requests that may wait; beyond this a caller is told the app is busy.",
)
@click.option(
    "--concurrency",
    type=Int(1, 64, what="concurrency"),
    help="Requests served at once (default: 1 per device).",
)
@click.option(
    "--allow-downloads",
    is_flag=True,
    help="Let the model picker download registry networks not on this machine yet (off: the app stays offline).",
)
@click.option("--max-upload", default="512mb", show_default=True, help="Largest upload accepted, e.g. 200mb.")
@device_option
def ui(
    network: str | None,
    host: str,
    port: int,
    auth: tuple[str, ...],
    auth_file: Path | None,
    workdir: Path | None,
    encoder: str | None,
    zgen: str | None,
    directions: tuple[str, ...],
    queue_size: int,
    concurrency: int | None,
    allow_downloads: bool,
    max_upload: str,
    device: str | None,
) -> None:
    """Open the web app: generate, customise, mix, edit, your photo, fuse, video and history.

    It listens on 127.0.0.1 (this machine only) by default; use an SSH tunnel to reach it from elsewhere. Any
    other --host needs --auth or --auth-file. It runs offline: no analytics, no fonts or scripts from the web.
    Needs the ui extra: pip install 'stylegan[ui]'.

    \b
    Examples:
      stylegan ui
      stylegan ui --network ffhq-256 --port 8080
      stylegan ui --host 0.0.0.0 --auth-file logins.txt
    """
    from ..errors import StyleGANError
    from ..ui.server import UIOptions, check_bind, is_loopback, launch, parse_auth, parse_size

    logins = parse_auth(list(auth), str(auth_file) if auth_file else None)
    check_bind(host, logins)
    parse_size(max_upload)  # a bad limit fails here, before anything loads
    if importlib.util.find_spec("gradio") is None:  # not imported here: gradio reads its settings on import
        raise StyleGANError("the web app needs gradio: pip install 'stylegan[ui]'")
    options = UIOptions(
        network=network,
        host=host,
        port=port,
        auth=logins,
        workdir=str(workdir) if workdir else None,
        device=device,
        concurrency=concurrency,
        queue_size=queue_size,
        max_upload=max_upload,
        allow_downloads=allow_downloads,
        encoder=encoder,
        zgen=zgen,
        directions=list(directions),
    )
    demo, ctx = launch(options, block=False)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"stylegan ui: http://{shown}:{port}/ on {ctx.models.default}, session folder {ctx.workdir}")
    if is_loopback(host):
        click.echo(f"  this machine only; from another one: ssh -L {port}:127.0.0.1:{port} <this host>")
    click.echo("  Ctrl+C stops it")
    demo.block_thread()


commands = [ui]
