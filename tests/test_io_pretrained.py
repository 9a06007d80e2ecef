"""Registry, cache folder and downloads, tested against a real HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import hashlib
import importlib.resources
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch

import stylegan
import stylegan.io as sio
from stylegan.errors import CheckpointError
from stylegan.io import pretrained
from stylegan.testing import tiny_generator, write_nvidia_pickle

PAYLOAD = bytes(range(256)) * 4000  # ~1 MB: several read chunks


pytestmark = pytest.mark.usefixtures("private_cache")


class _Handler(BaseHTTPRequestHandler):
    """Serves `server.routes[path] = (body, content_type, mode)`; mode: "range" (honours Range), "plain" (ignores
    it), "short" (announces the full length but sends half, then closes)."""

    def do_GET(self) -> None:  # http.server's naming
        server = self.server
        server.requests.append((self.path, self.headers.get("Range")))  # type: ignore[attr-defined]
        route = server.routes.get(self.path)  # type: ignore[attr-defined]
        if route is None:
            self.send_error(404, "Not Found")
            return
        body, content_type, mode = route
        rng = self.headers.get("Range")
        if rng and mode == "range":
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            part = body[start:]
        else:
            self.send_response(200)
            part = body
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        if mode == "short":
            self.wfile.write(part[: len(part) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(part)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes = {}  # type: ignore[attr-defined]
    httpd.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def registry():
    """Remove entries a test registers."""
    before = dict(pretrained._REGISTRY)
    yield
    pretrained._REGISTRY.clear()
    pretrained._REGISTRY.update(before)


def test_download_and_reuse(server, private_cache):
    server.routes["/net.pkl"] = (PAYLOAD, "application/octet-stream", "range")
    path = sio.download(server.url + "/net.pkl", sha256=hashlib.sha256(PAYLOAD).hexdigest(), progress=False)
    assert path.read_bytes() == PAYLOAD and path.name == "net.pkl" and private_cache in path.parents
    assert not list(path.parent.glob("*.part"))
    sio.download(server.url + "/net.pkl", progress=False)
    assert len(server.requests) == 1  # the cached file is reused


def test_resume_with_range(server):
    url = server.url + "/big.pkl"
    server.routes["/big.pkl"] = (PAYLOAD, "application/octet-stream", "range")
    part = pretrained.url_cache_path(url)
    part = part.with_name(part.name + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:300_000])
    path = sio.download(url, sha256=hashlib.sha256(PAYLOAD).hexdigest(), progress=False)
    assert server.requests == [("/big.pkl", "bytes=300000-")]
    assert path.read_bytes() == PAYLOAD and not part.exists()


def test_server_ignoring_range_restarts(server):
    url = server.url + "/plain.pkl"
    server.routes["/plain.pkl"] = (PAYLOAD, "application/octet-stream", "plain")
    part = pretrained.url_cache_path(url).with_name("plain.pkl.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"stale bytes from somewhere else")
    assert sio.download(url, progress=False).read_bytes() == PAYLOAD


def test_stale_part_larger_than_file(server):
    url = server.url + "/small.pkl"
    server.routes["/small.pkl"] = (PAYLOAD[:1000], "application/octet-stream", "range")
    part = pretrained.url_cache_path(url).with_name("small.pkl.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 5000)
    assert sio.download(url, progress=False).read_bytes() == PAYLOAD[:1000]


def test_interrupted_download_resumes(server):
    url = server.url + "/flaky.pkl"
    server.routes["/flaky.pkl"] = (PAYLOAD, "application/octet-stream", "short")
    with pytest.raises(CheckpointError, match="run again to resume"):
        sio.download(url, progress=False)
    part = pretrained.url_cache_path(url).with_name("flaky.pkl.part")
    assert 0 < part.stat().st_size < len(PAYLOAD)
    server.routes["/flaky.pkl"] = (PAYLOAD, "application/octet-stream", "range")
    assert sio.download(url, progress=False).read_bytes() == PAYLOAD
    assert server.requests[-1][1] == f"bytes={len(PAYLOAD) // 2}-"


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/html; charset=utf-8", b"<html><body>Please sign in</body></html>"),
        ("application/octet-stream", b"  <!DOCTYPE html>\n<html><body>Quota exceeded</body></html>"),
    ],
)
def test_html_pages_are_refused(server, content_type, body):
    url = server.url + "/page.pkl"
    server.routes["/page.pkl"] = (body, content_type, "range")
    with pytest.raises(CheckpointError, match=r"page.pkl: the server sent an HTML page") as err:
        sio.download(url, progress=False)
    assert "\n" not in str(err.value)
    assert not pretrained.url_cache_path(url).exists()
    assert not pretrained.url_cache_path(url).with_name("page.pkl.part").exists()


def test_sha256_mismatch_deletes_the_download(server):
    url = server.url + "/net.pkl"
    server.routes["/net.pkl"] = (PAYLOAD, "application/octet-stream", "range")
    with pytest.raises(CheckpointError, match="sha256 mismatch"):
        sio.download(url, sha256="0" * 64, progress=False)
    assert not list(pretrained.url_cache_path(url).parent.iterdir())


def test_http_errors(server):
    with pytest.raises(CheckpointError, match="HTTP 404"):
        sio.download(server.url + "/missing.pkl", progress=False)
    with pytest.raises(CheckpointError, match="download failed"):
        sio.download("http://127.0.0.1:9/nothing-listens-here.pkl", progress=False, timeout=5)


def test_load_from_url(server, tmp_path):
    G = tiny_generator()
    data = write_nvidia_pickle(tmp_path / "snap.pkl", G_ema=G).read_bytes()
    server.routes["/snap.pkl"] = (data, "application/octet-stream", "range")
    loaded = stylegan.load(server.url + "/snap.pkl")
    z = torch.randn(2, G.z_dim)
    torch.testing.assert_close(loaded(z, None, noise_mode="const"), G(z, None, noise_mode="const"), atol=1e-5, rtol=0)


def test_registered_url_with_checksum(server, tmp_path, registry):
    data = write_nvidia_pickle(tmp_path / "snap.pkl", G_ema=tiny_generator()).read_bytes()
    server.routes["/r.pkl"] = (data, "application/octet-stream", "range")
    sio.register(
        "local-tiny",
        url=server.url + "/r.pkl",
        sha256=hashlib.sha256(data).hexdigest(),
        format="nvidia-pytorch",
        license="CC0",
    )
    assert stylegan.load("local-tiny").img_resolution == 16
    assert sio.inspect("local-tiny").source_format == "nvidia-pytorch/ada"


def test_register_bundled_file(tmp_path, registry, monkeypatch):
    path = sio.save(tmp_path / "bundled.safetensors", G_ema=tiny_generator())
    entry = sio.register("bundled-tiny", path=path, format="stylegan", license="CC0", resolution=16)
    assert entry.url is None and sio.resolve("bundled-tiny") == path
    assert stylegan.load("bundled-tiny").img_resolution == 16
    # A folder named like the network (the output folder of `--outdir bundled-tiny`) does not shadow it.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bundled-tiny").mkdir()
    assert sio.resolve("bundled-tiny") == path
    with pytest.raises(ValueError, match="already registered"):
        sio.register("bundled-tiny", path=path, format="stylegan", license="CC0")
    sio.register("bundled-tiny", path=path, format="stylegan", license="MIT", overwrite=True)
    # A package resource (importlib.resources Traversable) is accepted as the path.
    resource = importlib.resources.files("stylegan") / "py.typed"
    sio.register("resource-entry", path=resource, format="stylegan", license="CC0")
    assert sio.resolve("resource-entry").name == "py.typed"
    with pytest.raises(ValueError, match="exactly one"):
        sio.register("neither", format="stylegan", license="CC0")


def test_unknown_name_suggests_close_ones():
    with pytest.raises(CheckpointError, match=r"ffhq-102: no such file, URL or registered network name; did you mean"):
        stylegan.load("ffhq-102")


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("STYLEGAN_CACHE", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    assert sio.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("STYLEGAN_CACHE")
    assert sio.cache_dir() == tmp_path / "b" / "stylegan"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sio.cache_dir() == tmp_path / "home" / ".cache" / "stylegan"


def test_nvidia_networks_are_registered():
    entries = {e.name: e for e in sio.list_pretrained()}
    assert entries["ada-ffhq-1024"].url == "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/ffhq.pkl"
    assert entries["ffhq-1024"].url.endswith("/stylegan2/versions/1/files/stylegan2-ffhq-1024x1024.pkl")
    assert (
        entries["tf-ffhq-config-f"].url
        == "https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks/stylegan2-ffhq-config-f.pkl"
    )
    assert entries["ada-cifar10-32"].resolution == 32 and entries["lsundog-256"].format == "nvidia-pytorch"
    bundled = entries.pop(sio.BUNDLED_NETWORK)
    assert bundled.url is None and bundled.format == "stylegan" and bundled.license == "Apache-2.0"
    for entry in entries.values():
        assert entry.url.startswith("https://") and entry.license and entry.format in ("nvidia-pytorch", "nvidia-tf")
