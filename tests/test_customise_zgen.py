"""The Z-code generator of `stylegan.customise`: training towards a class of a classifier on a frozen network, its
file (tied to the network), seeds, `generate --zgen`, and the whole sequence of commands of the feature."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import stylegan
from stylegan.customise.classifier import Classifier, train_classifier
from stylegan.customise.zgen import (
    ZCodeGenerator,
    diversity_loss,
    evaluate_zgen,
    load_zgen,
    save_zgen,
    train_zgen,
    zgen_images,
    zgen_latents,
)
from stylegan.data import prepare_dataset
from stylegan.errors import StyleGANError
from stylegan.latents import seeds_to_z

from .conftest import assert_user_error, run_stylegan
from .customise_support import make_red_blue, tiny_generator_64

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def clf(tmp_path_factory: pytest.TempPathFactory) -> Classifier:
    root = tmp_path_factory.mktemp("zgen")
    prepare_dataset(make_red_blue(root / "src", per_class=24), root / "rb.zip", resolution=64, labels="from-folders")
    classifier, metrics = train_classifier(root / "rb.zip", epochs=8, batch=16, seed=0)
    assert metrics.val_accuracy is not None and metrics.val_accuracy > 0.9
    return classifier


@pytest.fixture(scope="module")
def G64() -> stylegan.Generator:
    return tiny_generator_64()


@pytest.fixture(scope="module")
def trained(G64: stylegan.Generator, clf: Classifier) -> tuple[ZCodeGenerator, dict]:
    torch.set_num_threads(1)
    # weight 1: 60 steps on this tiny network reach the hit rate asserted below (the default trades hits for variety)
    return train_zgen(G64, clf, "red", steps=60, batch=16, seed=0, diversity_weight=1, progress=False)


def test_zgen_raises_the_hit_rate_and_keeps_diversity(
    G64: stylegan.Generator, clf: Classifier, trained: tuple[ZCodeGenerator, dict]
) -> None:
    zg, stats = trained
    assert stats["hit_rate_end"] >= stats["hit_rate_start"] and stats["log_p_end"] > stats["log_p_start"]
    result = evaluate_zgen(G64, clf, zg, n=64)
    assert result["hit_rate_zgen"] >= 0.9 and result["hit_rate_zgen"] > result["hit_rate_plain"] + 0.25
    assert result["mean_prob_zgen"] > result["mean_prob_plain"]
    assert result["pixel_diversity_zgen"] > 0.5 * result["pixel_diversity_plain"]  # not collapsed
    assert result["feature_diversity_zgen"] > 0.3 * result["feature_diversity_plain"]
    assert zg.info.class_name == "red" and zg.info.class_index == 1


def test_file_is_tied_to_its_network(tmp_path: Path, G64: stylegan.Generator, trained: tuple[ZCodeGenerator, dict]):
    zg = trained[0]
    path = save_zgen(zg, tmp_path / "zg.safetensors")
    back = load_zgen(path, G64)
    assert torch.equal(zgen_latents(back, [0, 5, 9]), zgen_latents(zg, [0, 5, 9]))
    assert back.info.stats == trained[1] and back.info.network_hash == zg.info.network_hash
    with pytest.raises(StyleGANError, match="trained for another network"):
        load_zgen(path, tiny_generator_64(seed=1))
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(StyleGANError, match="not a Z-code generator file"):
        load_zgen(tmp_path / "junk.safetensors")


def test_seed_codes_follow_the_seed_convention() -> None:
    zg = ZCodeGenerator(code_dim=8, z_dim=32, hidden=16, layers=2)
    code = torch.from_numpy(np.random.RandomState(7).randn(1, 8)).float()
    assert torch.allclose(zgen_latents(zg, [7]), zg(code))
    g = torch.Generator().manual_seed(0)
    gauss = torch.randn(64, 32, generator=g)
    assert diversity_loss(gauss) < diversity_loss(gauss[:4].repeat(16, 1) + 1e-3 * gauss)  # near-copies
    assert diversity_loss(gauss) < diversity_loss(0.1 * gauss)  # shrunk


def test_generation_takes_z_from_a_function(G64: stylegan.Generator, trained: tuple[ZCodeGenerator, dict]) -> None:
    zg = trained[0]
    plain = stylegan.generate(G64, [1, 2])
    same = stylegan.generate(G64, [1, 2], z_fn=lambda s: seeds_to_z(s, G64.z_dim))
    assert np.array_equal(plain.images, same.images)
    steered = zgen_images(G64, zg, [1, 2])
    assert steered.images.shape == (2, 64, 64, 3) and not np.array_equal(steered.images, plain.images)


@pytest.mark.slow
def test_the_whole_sequence_of_commands(tmp_path: Path) -> None:
    """prepare -> classifier train -> dataset filter -> zgen train on a 64 px network -> generate --zgen."""
    make_red_blue(tmp_path / "src", per_class=24)
    net, other = tmp_path / "net.safetensors", tmp_path / "other.safetensors"
    stylegan.save(net, G_ema=tiny_generator_64())
    stylegan.save(other, G_ema=tiny_generator_64(seed=1))
    steps = [
        ("dataset", "prepare", "--source", tmp_path / "src", "--dest", tmp_path / "rb.zip", "--resolution", 64,
         "--labels", "from-folders"),
        ("classifier", "train", "--data", tmp_path / "rb.zip", "--out", tmp_path / "clf.safetensors", "--epochs", 8,
         "--batch", 16),
        ("dataset", "filter", "--source", tmp_path / "rb.zip", "--classifier", tmp_path / "clf.safetensors",
         "--class", "red", "--min-prob", 0.8, "--dest", tmp_path / "red.zip"),
        ("zgen", "train", "--network", net, "--classifier", tmp_path / "clf.safetensors", "--class", "red", "--out",
         tmp_path / "zg.safetensors", "--steps", 40),
        ("generate", "--network", net, "--zgen", tmp_path / "zg.safetensors", "--seeds", "0-63", "--outdir",
         tmp_path / "out"),
        ("zgen", "evaluate", "--network", net, "--classifier", tmp_path / "clf.safetensors", "--zgen",
         tmp_path / "zg.safetensors", "--n", 32),
    ]  # fmt: skip
    outputs = []
    for args in steps:
        r = run_stylegan(*args)
        assert r.returncode == 0, (args[:2], r.stderr[-2000:])
        outputs.append(r.stdout)
    assert float(re.search(r"^held-out accuracy ([\d.]+)", outputs[1], re.M).group(1)) > 0.9  # type: ignore[union-attr]
    assert re.search(r"kept \d+ of 48 images", outputs[2])
    assert len(list((tmp_path / "out").glob("seed*.png"))) == 64
    hit = re.search(r"hit_rate: ([\d.]+) vs ([\d.]+)", outputs[5])
    assert hit and float(hit.group(1)) > float(hit.group(2))
    r = run_stylegan("generate", "--network", other, "--zgen", tmp_path / "zg.safetensors", "--seeds", "0-3",
                     "--outdir", tmp_path / "o2")  # fmt: skip
    assert_user_error(r, "zg.safetensors", "trained for another network")
    assert not (tmp_path / "o2").exists()
