"""NVIDIA's sampling and preprocessing protocol, the statistics cache, result records and the Python API, with
stand-in detectors (`stylegan.metrics.testing`) so every step is checked exactly and fast."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylegan.errors import StyleGANError
from stylegan.images import to_uint8
from stylegan.metrics import compute_metric, compute_metrics, dataset_sha256, quantize_fakes
from stylegan.metrics.feature_stats import LabelSampler, fake_feature_stats, open_dataset, real_feature_stats
from stylegan.metrics.testing import RandomProjectionDetector, write_image_folder
from stylegan.testing import tiny_generator

pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def G() -> torch.nn.Module:
    return tiny_generator(seed=1)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_image_folder(tmp_path / "data", n=12)


def test_fake_quantisation_is_nvidias() -> None:
    x = torch.tensor([-1.5, -1.0, (100.7 - 128) / 127.5, -0.004, 0.0, 0.99, 1.0, 2.0]).reshape(1, 1, 1, -1)
    assert quantize_fakes(x).flatten().tolist() == [0, 0, 100, 127, 128, 254, 255, 255]  # truncation, not rounding
    assert quantize_fakes(x).dtype == torch.uint8
    y = torch.randn(2, 3, 5, 5)
    np.testing.assert_array_equal(quantize_fakes(y).permute(0, 2, 3, 1).numpy(), to_uint8(y))  # = images.to_uint8


def test_fakes_follow_the_protocol_and_leave_global_rng_alone(G: torch.nn.Module) -> None:
    seen: list[torch.Tensor] = []
    det = RandomProjectionDetector()
    torch.manual_seed(123)
    before, np_before = torch.get_rng_state(), np.random.get_state()[1].copy()
    stats = fake_feature_stats(
        G, det, 10, labels=LabelSampler(0, None, 5, "cpu"), batch_size=4, seed=5, capture_all=True, hook=seen.append
    )
    assert torch.equal(before, torch.get_rng_state()) and np.array_equal(np_before, np.random.get_state()[1])
    # Re-derive: z ~ N(0, I) and noise from torch seeded with `seed`, psi = 1, noise_mode='random', batch by batch.
    torch.manual_seed(5)
    expected = []
    with torch.no_grad():
        for n in (4, 4, 2):
            z = torch.randn([n, G.z_dim])
            expected.append(quantize_fakes(G(z, None, truncation_psi=1, noise_mode="random")))
    for got, want in zip(seen, expected, strict=True):
        assert torch.equal(got, want)
    assert stats.num_items == 10 and stats.get_all().shape == (10, 64)
    # the detector got exactly those uint8 values, as float
    assert torch.equal(torch.cat(det.calls), torch.cat(expected).float())


def test_reals_are_uint8_in_file_order_grayscale_repeated(tmp_path: Path) -> None:
    gray = write_image_folder(tmp_path / "gray", n=7, channels=1, resolution=8)
    det = RandomProjectionDetector()
    stats, info = real_feature_stats(gray, det, max_items=5, batch_size=2, cache=False)
    assert stats.num_items == 5 and info["used"] == 5 and info["num_images"] == 7
    seen = torch.cat(det.calls)
    files = sorted(gray.glob("*.png"))[:5]
    want = torch.from_numpy(np.stack([np.asarray(Image.open(f)) for f in files])).float()  # [5, 8, 8]
    assert seen.shape == (5, 3, 8, 8)
    for ch in range(3):
        assert torch.equal(seen[:, ch], want)


def test_rgba_reals_drop_alpha(tmp_path: Path) -> None:
    rgba = write_image_folder(tmp_path / "rgba", n=3, channels=4, resolution=8)
    det = RandomProjectionDetector()
    real_feature_stats(rgba, det, cache=False)
    first = np.asarray(Image.open(sorted(rgba.glob("*.png"))[0]))
    assert torch.equal(det.calls[0][0], torch.from_numpy(first[:, :, :3].copy()).permute(2, 0, 1).float())


def test_statistics_cache_is_reused_and_keyed_by_content(data: Path) -> None:
    det = RandomProjectionDetector()
    s1, info1 = real_feature_stats(data, det)
    assert info1["cached"] is False and Path(info1["cache"]).is_file() and det.calls
    det2 = RandomProjectionDetector()  # same detector name and file hash -> the cached statistics
    s2, info2 = real_feature_stats(data, det2)
    assert info2["cached"] is True and not det2.calls
    np.testing.assert_array_equal(s1.mean, s2.mean)
    np.testing.assert_array_equal(s1.cov, s2.cov)
    # a request for every feature vector is a separate entry; that entry then also serves mean/cov requests
    s3, info3 = real_feature_stats(data, det2, capture_all=True)
    assert info3["cached"] is False and s3.get_all().shape == (12, 64)
    # changing one image changes the content hash -> recomputed
    sha = dataset_sha256(data)
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(data / "img00003.png")
    assert dataset_sha256(data) != sha
    det3 = RandomProjectionDetector()
    _, info4 = real_feature_stats(data, det3)
    assert info4["cached"] is False and det3.calls and info4["sha256"] != info1["sha256"]


def test_conditional_labels_are_random_dataset_labels(tmp_path: Path) -> None:
    labelled = write_image_folder(tmp_path / "lab", n=6, labels=[0, 1, 2, 2, 1, 0])
    ds = open_dataset(labelled, use_labels=True)
    sampler = LabelSampler(3, ds, seed=9, device="cpu")
    rng = np.random.RandomState(9)
    want = np.eye(3, dtype=np.float32)[[[0, 1, 2, 2, 1, 0][rng.randint(6)] for _ in range(5)]]
    np.testing.assert_array_equal(sampler(5).numpy(), want)
    Gc = tiny_generator(seed=2, c_dim=3)
    res = compute_metric(Gc, "kid6_full", data=labelled, detector=RandomProjectionDetector(), progress=False)
    assert np.isfinite(res.value)
    unlabelled = write_image_folder(tmp_path / "unlab", n=6)
    with pytest.raises(StyleGANError, match="conditional .* no dataset.json labels"):
        compute_metric(Gc, "fid6_full", data=unlabelled, detector=RandomProjectionDetector(), progress=False)
    with pytest.raises(StyleGANError, match="conditional .*--data"):
        compute_metric(Gc, "is10", detector=RandomProjectionDetector(), progress=False)
    with pytest.raises(StyleGANError, match="4 classes .* dimension 3"):
        compute_metric(tiny_generator(c_dim=4), "fid6_full", data=labelled, detector=RandomProjectionDetector())


def test_compute_metric_results_and_jsonl(G: torch.nn.Module, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "res" / "metrics.jsonl"
    det = RandomProjectionDetector()
    kw = dict(data=data, detector=det, progress=False, jsonl=out, network="tiny.safetensors", batch_size=5)
    results = compute_metrics(G, ["fid12_full", "kid12_full", "pr12_3_full", "is20"], extra={"kimg": 4}, **kw)
    fid, kid, pr, is_ = results
    assert fid.value > 0 and np.isfinite(kid.value)
    assert set(pr.results) == {"pr12_3_full_precision", "pr12_3_full_recall"}
    assert set(is_.results) == {"is20_mean", "is20_std"} and is_.num_real is None and is_.value >= 1
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["metric"] for r in lines] == ["fid12_full", "kid12_full", "pr12_3_full", "is20"]
    rec = lines[0]
    assert rec["value"] == pytest.approx(fid.value) and rec["num_gen"] == 12 and rec["num_real"] == 12
    assert rec["detector"]["name"] == "stub-random-projection" and "sha256" in rec["detector"]
    assert rec["network"] == "tiny.safetensors" and rec["dataset"]["sha256"] == dataset_sha256(data)
    assert rec["protocol"]["max_real"] is None and rec["protocol"]["seed"] == 0 and rec["extra"] == {"kimg": 4}
    assert rec["time"].endswith("+00:00") and rec["total_time"] >= 0 and rec["stylegan_version"]
    assert "stub-random-projection" in lines[2]["protocol"]["deviations"][0]  # PR not on VGG16 features
    assert "fid12_full = " in str(fid)
    # same seed -> same numbers (cached reals), another seed -> other fakes
    again = compute_metric(G, "fid12_full", data=data, detector=det, progress=False, batch_size=5)
    assert again.value == fid.value and again.dataset["cached"] is True
    assert compute_metric(G, "fid12_full", data=data, detector=det, seed=1, progress=False).value != fid.value


def test_fid_of_first_n_reals(G: torch.nn.Module, data: Path) -> None:
    res = compute_metric(G, "fid5", data=data, detector=RandomProjectionDetector(), progress=False)
    assert res.num_real == 5 and res.num_gen == 5 and res.dataset["used"] == 5


def test_user_errors_are_one_line(G: torch.nn.Module, data: Path) -> None:
    with pytest.raises(StyleGANError, match="pass --data"):
        compute_metric(G, "fid10", detector=RandomProjectionDetector())
    with pytest.raises(StyleGANError, match="no such dataset"):
        compute_metric(G, "fid10", data=data / "missing", detector=RandomProjectionDetector())
    with pytest.raises(StyleGANError, match="kid1_full: KID needs at least 2"):
        compute_metric(G, "kid1_full", data=data, detector=RandomProjectionDetector(), cache=False)
    with pytest.raises(StyleGANError, match="unknown metric"):
        compute_metric(G, "fjd50k", data=data)
    with pytest.raises(StyleGANError, match="classifier head"):
        compute_metric(G, "is10", detector="offline")
