"""The web app (`stylegan ui`): every page a thin layer over the library, served by gradio on this machine.

    >>> from stylegan.ui import UIOptions
    >>> UIOptions().host   # loopback unless told otherwise; any other host needs auth
    '127.0.0.1'

`launch(UIOptions(...), block=False)` starts it from Python; `create_app` builds it without serving. Needs the
`ui` extra (gradio). Its API endpoints (`/generate`, `/mix`, `/edit`, `/project`, `/fuse`, `/video`, ...) work
from `gradio_client`.
"""

from __future__ import annotations

from .server import UIOptions, check_bind, create_app, launch, parse_auth

__all__ = ["UIOptions", "check_bind", "create_app", "launch", "parse_auth"]
