"""A registry of published StyleGAN and StyleGAN2 networks, a download cache, and source resolution for `load()`.

`resolve(source)` turns what a user typed into a local file: an existing path is used as is, an http(s)
URL is downloaded into the cache, and a registry name is looked up (and downloaded, or found inside an
installed package). Nothing downloads at import time.

Cache folder: `$STYLEGAN_CACHE`, else `$XDG_CACHE_HOME/stylegan`, else `~/.cache/stylegan`. Downloads go to
a `.part` file that is resumed with an HTTP Range request after an interruption, are refused when the
server sends an HTML page, are checked against the registry's sha256 when it is known, and are renamed into
place only when complete.
"""

from __future__ import annotations

import difflib
import hashlib
import http.client
import importlib.resources
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import CheckpointError
from ..fileio import looks_like_html
from .hashing import file_sha256

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover - Python 3.10
    from importlib.abc import Traversable

_NVIDIA_LICENSE = "NVIDIA Source Code License (non-commercial use only)"
_NVIDIA_TF_LICENSE = "Nvidia Source Code License-NC (non-commercial use only)"
_CC_BY_NC = "CC BY-NC 4.0 (Creative Commons Attribution-NonCommercial 4.0 International)"

#: A crop box (left, top, right, bottom) in pixels of a network's output, PIL's convention.
Crop = tuple[int, int, int, int]


@dataclass(frozen=True)
class PretrainedNetwork:
    """A published (or bundled) network: where it lives, how to check it, and under which terms."""

    name: str
    format: str  # "nvidia-pytorch", "nvidia-tf", "rosinality" or "stylegan"
    license: str
    url: str | None = None
    path: Path | Traversable | None = None  # a file shipped inside an installed package
    sha256: str | None = None
    resolution: int | None = None
    description: str = ""
    #: The useful part of the network's square output (left, top, right, bottom), e.g. the 512x384 middle of
    #: LSUN cars' letterboxed 512x512 images; `stylegan generate` writes only this part unless told otherwise.
    crop: Crop | None = None


_REGISTRY: dict[str, PretrainedNetwork] = {}


def register(
    name: str,
    *,
    format: str,
    license: str,
    url: str | None = None,
    path: str | os.PathLike[str] | Traversable | None = None,
    sha256: str | None = None,
    resolution: int | None = None,
    description: str = "",
    crop: Crop | None = None,
    overwrite: bool = False,
) -> PretrainedNetwork:
    """Add a network to the registry, by URL (downloaded on first use) or by local `path` (e.g. a file
    shipped in a package: `register("tiny", path=importlib.resources.files("mypkg") / "tiny.safetensors", ...)`).
    `crop` (left, top, right, bottom) is the useful part of its images, inside the `resolution` square.

    Returns the new entry. Raises ValueError for a duplicate name (unless `overwrite`), when neither or both
    of `url` and `path` are given, or for a crop box that is empty or leaves the image.
    """
    if (url is None) == (path is None):
        raise ValueError("give exactly one of url= or path=")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"a pretrained network named {name!r} is already registered")
    if sha256 is not None and (len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256.lower())):
        raise ValueError(f"sha256 must be 64 hex digits, got {sha256!r}")
    if crop is not None:
        crop = check_crop(crop, resolution, resolution)
    local = Path(path) if isinstance(path, (str, os.PathLike)) else path
    entry = PretrainedNetwork(
        name=name,
        format=format,
        license=license,
        url=url,
        path=local,
        sha256=sha256.lower() if sha256 else None,
        resolution=resolution,
        description=description,
        crop=crop,
    )
    _REGISTRY[name] = entry
    return entry


def check_crop(crop: Any, height: int | None, width: int | None) -> Crop:
    """`crop` as a (left, top, right, bottom) tuple of ints inside a height x width image (sizes None: not checked);
    ValueError when it is not four integers, is empty, or leaves the image.

    >>> check_crop([0, 64, 512, 448], 512, 512)
    (0, 64, 512, 448)
    """
    try:
        box = tuple(int(v) for v in crop)
        if len(box) != 4 or any(int(v) != v for v in crop):
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"a crop box is four integers (left, top, right, bottom), got {crop!r}") from None
    left, top, right, bottom = box
    if not (0 <= left < right and 0 <= top < bottom):
        raise ValueError(f"crop box {box} is empty: it needs 0 <= left < right and 0 <= top < bottom")
    if (width is not None and right > width) or (height is not None and bottom > height):
        raise ValueError(f"crop box {box} leaves the {width}x{height} image")
    return left, top, right, bottom


def _url_file_name(url: str) -> str:
    try:
        return Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).name
    except ValueError:
        return ""


def crop_for(source: str | os.PathLike[str] | None, resolution: int | None = None) -> Crop | None:
    """The registry's crop box for what a user passed as the network: a registered name, or a URL or file whose
    name is that of a registered network's download (e.g. a downloaded `karras2019stylegan-cars-512x384.pkl`).
    None for anything else (the bundled network when `source` is None), and when the network's `resolution` is
    given and is not the registered one (a file that only has the name).

    >>> crop_for("karras2019stylegan-cars-512x384"), crop_for("/data/karras2019stylegan-cars-512x384.pkl")
    ((0, 64, 512, 448), (0, 64, 512, 448))
    >>> crop_for("karras2019stylegan-ffhq-1024x1024") is None
    True
    """
    if source is None:
        return None
    text = os.fspath(source)
    found = _REGISTRY.get(text) if isinstance(source, str) else None
    if found is None:
        name = _url_file_name(text) if _is_url(text) else Path(text).name
        named = [e for e in _REGISTRY.values() if e.crop is not None and e.url and _url_file_name(e.url) == name]
        found = named[0] if named else None
    if found is None or (resolution is not None and found.resolution not in (None, resolution)):
        return None
    return found.crop


def get(name: str) -> PretrainedNetwork:
    """The registry entry for `name`; an unknown name is a CheckpointError suggesting close matches."""
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise CheckpointError(
            f"{name}: no such file, URL or registered network name; {hint}`stylegan pretrained` lists the names"
        ) from None


def list_pretrained() -> list[PretrainedNetwork]:
    """All registered networks, in registration order."""
    return list(_REGISTRY.values())


def cache_dir() -> Path:
    """`$STYLEGAN_CACHE`, else `$XDG_CACHE_HOME/stylegan`, else `~/.cache/stylegan`."""
    if os.environ.get("STYLEGAN_CACHE"):
        return Path(os.environ["STYLEGAN_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "stylegan"
    return Path.home() / ".cache" / "stylegan"


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def url_cache_path(url: str, root: Path | None = None) -> Path:
    """Where `download(url)` keeps the file: `<cache>/downloads/<hash of url>/<file name>`."""
    try:
        parsed = urllib.parse.urlparse(url)
    except ValueError as e:  # e.g. an unclosed [ of an IPv6 address
        raise CheckpointError(f"{url}: not a valid URL ({e}); check it") from None
    filename = Path(urllib.parse.unquote(parsed.path)).name or "download"
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return (root or cache_dir()) / "downloads" / digest / filename


#: The slowest average rate (bytes per second) a download may keep once its first `timeout` seconds have passed;
#: slower is a stalled server (a 360 MB network would take ten hours).
MIN_DOWNLOAD_RATE = 10_000


class _Restart(Exception):
    """The server answered a resumed request with another range: start the download over."""


def download(
    url: str,
    *,
    sha256: str | None = None,
    dest: str | os.PathLike[str] | None = None,
    progress: bool = True,
    timeout: float = 60.0,
    deadline: float | None = None,
) -> Path:
    """Download `url` into the cache (or to `dest`) and return the local path.

    An existing complete file is reused. A file enters the cache (is renamed from its `.part` file) only when it
    is known to be complete: its length matches the server's Content-Length (or the total of a Content-Range), or
    its chunked transfer ended properly, and its sha256 matches where one is given. A server that gives no length
    at all is trusted only when `sha256` can check the result; otherwise the download is refused.

    A `.part` file left by an interrupted download is resumed with an HTTP Range request; when the server answers
    with the whole file it restarts, and when it answers with another range than the one asked for it restarts
    from scratch once. An HTML page (by Content-Type or by its first bytes) is refused.

    `timeout` bounds each network operation (seconds), and a server that trickles bytes fails too: after the first
    `timeout` seconds the download must average MIN_DOWNLOAD_RATE bytes per second, and it must end within
    `deadline` seconds when one is given. Every failure is a one-line CheckpointError; a download that stalls or is
    cut off keeps its `.part` file, and the next call resumes it.
    """
    target = Path(dest) if dest is not None else url_cache_path(url)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    start = time.monotonic()
    try:
        _fetch(url, part, sha256=sha256, progress=progress, timeout=timeout, deadline=deadline, start=start)
    except _Restart:
        part.unlink(missing_ok=True)
        try:
            _fetch(url, part, sha256=sha256, progress=progress, timeout=timeout, deadline=deadline, start=start)
        except _Restart:
            part.unlink(missing_ok=True)
            raise CheckpointError(
                f"{url}: download failed: the server answers with another byte range than the one asked for"
            ) from None
    os.replace(part, target)
    return target


def _content_range(header: str) -> tuple[int, int, int | None] | None:
    """(first, last, total or None) of a `bytes FIRST-LAST/TOTAL` Content-Range; None when it is not one."""
    m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", header)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)), None if m.group(3) == "*" else int(m.group(3))


def _fetch(
    url: str,
    part: Path,
    *,
    sha256: str | None,
    progress: bool,
    timeout: float,
    deadline: float | None,
    start: float,
) -> None:
    """One download into `part`, resumed from its current size; complete and checked when this returns."""
    from .. import __version__
    from ..progress import progress_bar

    for attempt in range(2):
        offset = part.stat().st_size if part.exists() else 0
        headers = {"User-Agent": f"stylegan/{__version__}"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        request = urllib.request.Request(url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=timeout)  # http(s) only, checked by caller
        except urllib.error.HTTPError as err:
            if err.code == 416 and offset and attempt == 0:  # our .part is stale: start over
                part.unlink()
                continue
            raise CheckpointError(f"{url}: download failed: HTTP {err.code} {err.reason}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", err)
            raise CheckpointError(
                f"{url}: download failed ({reason}); check the network, or download the file yourself and pass its path"
            ) from None
        break

    with response:
        content_type = response.headers.get("Content-Type", "")
        if "html" in content_type.lower() or "xml" in content_type.lower():
            raise CheckpointError(
                f"{url}: the server sent an HTML page ({content_type}), not a network file; the link may need a "
                "login or have moved: open it in a browser"
            )
        length_header = response.headers.get("Content-Length", "")
        length = int(length_header) if length_header.strip().isdigit() else None
        total: int | None  # the size of the whole file, when the server says it
        if response.status == 206:
            rng = _content_range(response.headers.get("Content-Range", ""))
            if rng is None or rng[0] != offset or (length is not None and length != rng[1] - rng[0] + 1):
                raise _Restart
            if rng[2] is not None and rng[1] != rng[2] - 1:
                raise _Restart  # not the rest of the file
            total = rng[2]
        else:
            offset = 0  # the whole file: a server that ignores Range, or a fresh download
            total = length
        chunked = bool(getattr(response, "chunked", False))
        written = offset
        try:
            with (
                open(part, "ab" if offset else "wb") as f,
                progress_bar(total, part.name[:-5], unit="B", unit_scale=True, initial=offset, enabled=progress) as bar,
            ):
                first = True
                while chunk := response.read1(1 << 20):
                    if first and offset == 0 and looks_like_html(chunk[:512]):
                        f.close()
                        part.unlink(missing_ok=True)
                        raise CheckpointError(
                            f"{url}: the server sent an HTML page, not a network file; the link may need a login or "
                            "have moved: open it in a browser"
                        )
                    first = False
                    f.write(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
                    elapsed = time.monotonic() - start
                    slow = elapsed > timeout and written - offset < MIN_DOWNLOAD_RATE * elapsed
                    if slow or (deadline is not None and elapsed > deadline):
                        limit = f"its deadline of {deadline:g} s" if not slow else f"{MIN_DOWNLOAD_RATE} bytes/s"
                        raise CheckpointError(
                            f"{url}: download stalled: {written - offset} bytes in {elapsed:.1f} s, slower than "
                            f"{limit}; run again to resume"
                        )
                    if deadline is not None:
                        _shorten_timeout(response, min(timeout, max(deadline - elapsed, 0.01)))
                f.flush()
                os.fsync(f.fileno())
        except (OSError, urllib.error.URLError, http.client.HTTPException) as err:
            reason = type(err).__name__ if not str(err) else " ".join(str(err).split())[:120]
            if deadline is not None and time.monotonic() - start >= deadline:
                reason = f"{reason}; over its deadline of {deadline:g} s"
            raise CheckpointError(
                f"{url}: download interrupted after {written} bytes ({reason}); run again to resume"
            ) from None
    if total is not None and written != total:
        if written > total:
            part.unlink(missing_ok=True)
            raise CheckpointError(f"{url}: the server sent {written} bytes, more than the {total} it announced")
        raise CheckpointError(f"{url}: download incomplete ({written} of {total} bytes); run again to resume")
    if total is None and not chunked and sha256 is None:
        part.unlink(missing_ok=True)
        raise CheckpointError(
            f"{url}: the server did not say how long the file is, so a download cut short cannot be told from a "
            "complete one, and no sha256 is known to check it; download the file yourself and pass its path"
        )
    if sha256 is not None:
        digest = file_sha256(part)
        if digest != sha256.lower():
            part.unlink()
            raise CheckpointError(
                f"{url}: sha256 mismatch (got {digest[:12]}..., expected {sha256[:12]}...); the download was deleted"
            )


def _shorten_timeout(response: http.client.HTTPResponse, seconds: float) -> None:
    """Bound the next socket read by `seconds` (what is left of the deadline), where the socket is reachable."""
    sock = getattr(getattr(response.fp, "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _entry_path(entry: PretrainedNetwork) -> Path:
    if entry.path is not None:
        if isinstance(entry.path, Path):
            return entry.path
        local = Path(str(entry.path))
        if local.is_file():
            return local
        # A resource inside a zipped package: copy it into the cache once.
        copy = cache_dir() / "bundled" / entry.name / entry.path.name
        if not copy.exists():
            from ..fileio import atomic_write_bytes

            atomic_write_bytes(copy, entry.path.read_bytes())
        return copy
    assert entry.url is not None
    return download(entry.url, sha256=entry.sha256)


def _download_origin(source: str | os.PathLike[str]) -> tuple[str, str | None] | None:
    """(url, sha256) when `source` is a URL or a registry name that `resolve` downloads into the cache."""
    if isinstance(source, os.PathLike):
        return None
    text = str(source)
    if _is_url(text):
        return text, None
    entry = _REGISTRY.get(text)
    if entry is None or entry.url is None or Path(text).expanduser().is_file():
        return None
    return entry.url, entry.sha256


_T = TypeVar("_T")


def read_resolved(source: str | os.PathLike[str], read: Callable[[Path], _T]) -> tuple[Path, _T]:
    """`resolve(source)` and `read` the file. A download that `read` refuses (a CheckpointError) is moved aside to
    `NAME.bad`, so that the cache never keeps it; one that was in the cache before is downloaded again, once."""
    origin = _download_origin(source)
    cached = origin is not None and url_cache_path(origin[0]).is_file()
    path = resolve(source)
    try:
        return path, read(path)
    except CheckpointError as first:
        if origin is None:
            raise
        bad = path.with_name(path.name + ".bad")
        os.replace(path, bad)
        if not cached:
            raise CheckpointError(f"{first} (the download is kept aside as {bad})") from None
        print(f"warning: {path} does not load ({first}); moved aside to {bad.name}, downloading again", file=sys.stderr)
    url, sha256 = origin
    path = download(url, sha256=sha256)
    try:
        return path, read(path)
    except CheckpointError as second:
        os.replace(path, bad)
        raise CheckpointError(f"{second} (downloaded twice from {url}; kept aside as {bad})") from None


def resolve(source: str | os.PathLike[str], **download_kwargs: Any) -> Path:
    """A local file for `source`: a path (used as is), an http(s) URL (downloaded) or a registry name."""
    if isinstance(source, os.PathLike):
        return Path(source)
    text = str(source)
    if _is_url(text):
        return download(text, **download_kwargs)
    path = Path(text).expanduser()
    looks_like_path = os.sep in text or "/" in text or "." in Path(text).name
    # A registry name wins over a folder of the same name (e.g. the output folder of an earlier command).
    try:
        is_file, exists = path.is_file(), path.exists()
    except OSError:  # e.g. a name too long for the file system: reading it later says so in one line
        is_file = exists = False
    if is_file or (text not in _REGISTRY and (exists or looks_like_path)):
        return path
    return _entry_path(get(text))


# ---------------------------------------------------------------------------------------------------------
# Bundled with this package: works offline, the default network of every command.

#: The registry name of the network shipped inside the package.
BUNDLED_NETWORK = "emoji"


def resolve_network(name: str | None) -> str:
    """The network to use when one may be left out: `name`, or the bundled network (works offline) when None.

    >>> resolve_network(None), resolve_network("ffhq-256")
    ('emoji', 'ffhq-256')
    """
    return BUNDLED_NETWORK if name is None else name


register(
    BUNDLED_NETWORK,
    format="stylegan",
    license="Apache-2.0",
    path=importlib.resources.files("stylegan") / "assets" / "emoji32.safetensors",
    resolution=32,
    description="bundled: 32x32 Noto emoji, 9 classes, trained on a CPU by this project (offline)",
)


# ---------------------------------------------------------------------------------------------------------
# NVIDIA's published StyleGAN2 networks. sha256 values are not published by NVIDIA; None = not checked.

_ADA = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/"
_NGC = "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan2/versions/1/files/"
_TF = "https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks/"

for _name, _res, _desc in [
    ("ffhq", 1024, "FFHQ faces (StyleGAN2-ADA paper)"),
    ("metfaces", 1024, "MetFaces portraits, transfer from FFHQ"),
    ("afhqcat", 512, "AFHQ cats"),
    ("afhqdog", 512, "AFHQ dogs"),
    ("afhqwild", 512, "AFHQ wild animals"),
    ("brecahad", 512, "BreCaHAD histology"),
    ("cifar10", 32, "CIFAR-10, conditional (10 classes)"),
]:
    register(
        f"ada-{_name}-{_res}",
        format="nvidia-pytorch",
        license=_NVIDIA_LICENSE,
        url=f"{_ADA}{_name}.pkl",
        resolution=_res,
        description=f"stylegan2-ada-pytorch: {_desc}",
    )

for _name, _res, _desc in [
    ("ffhq", 1024, "FFHQ faces"),
    ("ffhq", 512, "FFHQ faces"),
    ("ffhq", 256, "FFHQ faces"),
    ("ffhqu", 1024, "FFHQ-U (unaligned) faces"),
    ("ffhqu", 256, "FFHQ-U (unaligned) faces"),
    ("metfaces", 1024, "MetFaces portraits"),
    ("metfacesu", 1024, "MetFaces-U (unaligned) portraits"),
    ("afhqv2", 512, "AFHQv2 animals (cats, dogs, wild)"),
    ("afhqcat", 512, "AFHQ cats"),
    ("afhqdog", 512, "AFHQ dogs"),
    ("afhqwild", 512, "AFHQ wild animals"),
    ("brecahad", 512, "BreCaHAD histology"),
    ("cifar10", 32, "CIFAR-10, conditional (10 classes)"),
    ("celebahq", 256, "CelebA-HQ faces"),
    ("lsundog", 256, "LSUN dogs"),
]:
    register(
        f"{_name}-{_res}",
        format="nvidia-pytorch",
        license=_NVIDIA_LICENSE,
        url=f"{_NGC}stylegan2-{_name}-{_res}x{_res}.pkl",
        resolution=_res,
        description=f"NVIDIA NGC (stylegan3 repository): {_desc}",
    )

for _name, _res, _desc in [
    ("ffhq", 1024, "FFHQ faces"),
    ("car", 512, "LSUN cars (512x384 content, letterboxed)"),
    ("cat", 256, "LSUN cats"),
    ("church", 256, "LSUN churches"),
    ("horse", 256, "LSUN horses"),
]:
    register(
        f"tf-{_name}-config-f",
        format="nvidia-tf",
        license=_NVIDIA_TF_LICENSE,
        url=f"{_TF}stylegan2-{_name}-config-f.pkl",
        resolution=_res,
        crop=(0, 64, 512, 448) if _name == "car" else None,  # dataset_tool's create_lsun_wide: rows 64:448
        description=f"original TensorFlow StyleGAN2 (config F): {_desc}",
    )


# ---------------------------------------------------------------------------------------------------------
# NVIDIA's published StyleGAN (v1) networks: TensorFlow pickles, CC BY-NC 4.0. NVIDIA first shared them on Google
# Drive, then on its CDN (the metrics networks of the same release are under .../stylegan/networks/metrics/).

_V1 = "https://nvlabs-fi-cdn.nvidia.com/stylegan/networks/"

for _name, _res, _crop, _desc in [
    ("ffhq-1024x1024", 1024, None, "FFHQ faces"),
    ("celebahq-1024x1024", 1024, None, "CelebA-HQ faces"),
    ("bedrooms-256x256", 256, None, "LSUN bedrooms"),
    ("cars-512x384", 512, (0, 64, 512, 448), "LSUN cars (512x384 content, letterboxed)"),
    ("cats-256x256", 256, None, "LSUN cats"),
]:
    register(
        f"karras2019stylegan-{_name}",
        format="nvidia-tf",
        license=_CC_BY_NC,
        url=f"{_V1}karras2019stylegan-{_name}.pkl",
        resolution=_res,
        crop=_crop,
        description=f"original TensorFlow StyleGAN (v1): {_desc}",
    )
