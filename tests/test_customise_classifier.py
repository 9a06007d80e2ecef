"""The classifier of `stylegan.customise`: training on a labelled dataset (through the CLI), its file, prediction,
and filtering a dataset by class."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from stylegan.customise.classifier import (
    Classifier,
    ClassifierConfig,
    augment,
    load_classifier,
    save_classifier,
    stratified_split,
)
from stylegan.customise.filter import filter_dataset
from stylegan.data import ImageDataset, prepare_dataset
from stylegan.errors import StyleGANError
from stylegan.io.hashing import network_hash

from .conftest import assert_user_error, run_stylegan
from .customise_support import make_red_blue

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_red_blue(tmp_path_factory.mktemp("src") / "src")


@pytest.fixture(scope="module")
def rb_zip(source: Path) -> Path:
    dest = source.parent / "rb.zip"
    r = run_stylegan(
        "dataset", "prepare", "--source", source, "--dest", dest, "--resolution", 64, "--labels", "from-folders"
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return dest


@pytest.fixture(scope="module")
def trained(rb_zip: Path) -> tuple[Path, str]:
    out = rb_zip.parent / "clf.safetensors"
    r = run_stylegan("classifier", "train", "--data", rb_zip, "--out", out, "--epochs", 8, "--batch", 16, "--seed", 0)
    assert r.returncode == 0, r.stderr[-2000:]
    return out, r.stdout


def test_train_prints_accuracy_per_epoch_and_stores_it(trained: tuple[Path, str], rb_zip: Path) -> None:
    out, stdout = trained
    assert len(re.findall(r"^epoch \d+/8: .*held-out accuracy", stdout, re.M)) == 8
    held = float(re.search(r"^held-out accuracy ([\d.]+)", stdout, re.M).group(1))  # type: ignore[union-attr]
    assert held > 0.9
    clf = load_classifier(out)
    assert clf.class_names == ("blue", "red")
    assert clf.info.val_accuracy == pytest.approx(held, abs=1e-3)
    assert clf.info.dataset == "rb.zip" and clf.info.num_val == 16 and clf.cfg.resolution == 32
    assert clf.info.weights_sha256 == network_hash(clf)


def test_predict_files(trained: tuple[Path, str], source: Path) -> None:
    files = [source / "red" / "red000.png", source / "blue" / "blue001.png"]
    r = run_stylegan("classifier", "predict", "--classifier", trained[0], *files)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [line.rsplit(" ", 2) for line in r.stdout.splitlines()]
    assert [(Path(f).name, c) for f, c, _ in rows] == [("red000.png", "red"), ("blue001.png", "blue")]
    assert all(0.5 < float(p) <= 1 for _, _, p in rows)


def test_filter_keeps_the_red_images_with_their_labels(trained: tuple[Path, str], rb_zip: Path) -> None:
    dest = rb_zip.parent / "red.zip"
    r = run_stylegan(
        "dataset", "filter", "--source", rb_zip, "--classifier", trained[0], "--class", "red", "--min-prob", 0.8,
        "--dest", dest,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    kept = int(re.search(r"kept (\d+) of 80", r.stdout).group(1))  # type: ignore[union-attr]
    assert kept >= 30
    ds = ImageDataset(dest, use_labels=True)
    assert ds.num_images == kept and ds.class_names == ("blue", "red")
    assert ds.label_counts() == {1: kept}
    images = np.stack([ds[i][0] for i in range(ds.num_images)]).astype(float)
    assert (images[:, 0].mean(axis=(1, 2)) > images[:, 2].mean(axis=(1, 2))).all()  # all reddish
    meta = json.loads(zipfile.ZipFile(dest).read("dataset.json"))
    assert meta["filtered"]["class"] == "red" and meta["filtered"]["total"] == 80


def test_filter_carries_metadata_of_a_folder_dataset(trained: tuple[Path, str], source: Path, tmp_path: Path) -> None:
    folder = tmp_path / "lic"
    prepare_dataset(source, folder, resolution=64, labels="from-folders", metadata={"license": "CC0-1.0"})
    clf = load_classifier(trained[0])
    report = filter_dataset(folder, clf, 0, 0.8, tmp_path / "blue")
    assert report.total == 80 and 30 <= report.kept <= 40
    meta = json.loads((tmp_path / "blue" / "dataset.json").read_text())
    assert meta["license"] == "CC0-1.0" and meta["class_names"] == ["blue", "red"]
    assert {label for _, label in meta["labels"]} == {0}


@pytest.mark.slow
def test_user_errors(trained: tuple[Path, str], source: Path, rb_zip: Path, tmp_path: Path) -> None:
    unlabelled = tmp_path / "plain.zip"
    prepare_dataset(source, unlabelled, resolution=64)
    r = run_stylegan("classifier", "train", "--data", unlabelled, "--out", tmp_path / "c.safetensors")
    assert_user_error(r, "plain.zip", "no class labels", "--labels from-folders")
    r = run_stylegan(
        "dataset", "filter", "--source", rb_zip, "--classifier", trained[0], "--class", "green", "--dest",
        tmp_path / "g.zip",
    )  # fmt: skip
    assert_user_error(r, "--class 'green'", "0=blue, 1=red")
    assert not (tmp_path / "g.zip").exists()
    (tmp_path / "junk.safetensors").write_bytes(b"not a classifier")
    r = run_stylegan(
        "classifier", "predict", "--classifier", tmp_path / "junk.safetensors", source / "red" / "red000.png"
    )
    assert_user_error(r, "junk.safetensors", "not a classifier file")
    r = run_stylegan("classifier", "predict", "--classifier", trained[0], tmp_path / "missing.png")
    assert_user_error(r, "missing.png", "cannot read the image")


def test_load_refuses_altered_weights(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    clf = Classifier(ClassifierConfig(num_classes=2))
    path = save_classifier(clf, tmp_path / "c.safetensors")
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    state = load_file(path)
    state["head.bias"] += 1
    save_file(state, tmp_path / "altered.safetensors", metadata=meta)
    with pytest.raises(StyleGANError, match="do not match their recorded sha256"):
        load_classifier(tmp_path / "altered.safetensors")
    assert load_classifier(path).class_names == ("0", "1")


def test_split_augment_and_differentiable_predict() -> None:
    labels = np.array([0] * 10 + [1] * 5 + [2])
    train, val = stratified_split(labels, 0.2, seed=1)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(16))
    assert np.bincount(labels[val], minlength=3).tolist() == [2, 1, 0]
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    y = augment(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.abs().max() <= 1 and not torch.equal(x, y)
    clf = Classifier(ClassifierConfig(num_classes=3), ("a", "b", "c"))
    img = torch.zeros(2, 3, 64, 64, requires_grad=True)
    clf.predict(img)[:, 1].sum().backward()
    assert img.grad is not None and img.grad.abs().sum() > 0
    with pytest.raises(StyleGANError, match="no such class; the classes are 0=a, 1=b, 2=c"):
        clf.class_index("d")


def test_filtered_subset_keeps_the_label_size(tmp_path):
    """A subset whose images lack the last named classes keeps label_dim = the number of class names, so a
    conditional network trained on the whole dataset can be fine-tuned on it."""
    import json
    import zipfile

    from stylegan.data import ImageDataset

    src = tmp_path / "d.zip"
    with zipfile.ZipFile(src, "w") as zf:
        import io

        from PIL import Image

        for i in range(4):
            buf = io.BytesIO()
            Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(buf, format="PNG")
            zf.writestr(f"{i}.png", buf.getvalue())
        labels = [[f"{i}.png", i % 2] for i in range(4)]
        zf.writestr("dataset.json", json.dumps({"labels": labels, "class_names": ["a", "b", "c"]}))
    ds = ImageDataset(src, use_labels=True)
    assert ds.label_dim == 3 and ds.class_names == ("a", "b", "c")
