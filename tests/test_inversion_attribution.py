"""Generated-image attribution (`stylegan.inversion.attribution`, `stylegan attribute[-calibrate]`) on tiny networks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import stylegan
from stylegan.cli.main import cli, main
from stylegan.errors import StyleGANError
from stylegan.inversion.attribution import (
    Calibration,
    attribution_settings,
    calibrate,
    choose_threshold,
    find_calibration,
    generated_samples,
    plot_histogram,
)

FAST = {"steps": 30, "loss": "mse", "w_avg_samples": 200, "progress": False}


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def quiet_G() -> stylegan.Generator:
    """A tiny generator without per-pixel noise. Random weights give the tiny networks noise strengths that dominate
    their 16x16 images (a trained network's are small), and no projection recovers per-pixel noise in 30 steps."""
    from stylegan.testing import tiny_generator, without_noise

    return without_noise(tiny_generator(seed=3))


@pytest.fixture(scope="module")
def quiet_net(tmp_path_factory: pytest.TempPathFactory, quiet_G: stylegan.Generator) -> Path:
    path = tmp_path_factory.mktemp("net") / "quiet.safetensors"
    stylegan.save(path, G_ema=quiet_G)
    return path


@pytest.fixture(scope="module")
def unrelated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of "real" images no tiny network makes: white noise and colour gradients, of odd sizes."""
    folder = tmp_path_factory.mktemp("real")
    rng = np.random.RandomState(0)
    for i in range(3):
        Image.fromarray(rng.randint(0, 256, (20 + i, 24, 3), np.uint8)).save(folder / f"noise{i}.png")
        ramp = np.linspace(0, 255, 24)[None, :, None] * np.array([1.0, 0.3 * i, 1 - 0.3 * i])
        Image.fromarray(np.broadcast_to(ramp, (24, 24, 3)).astype(np.uint8)).save(folder / f"ramp{i}.jpg")
    return folder


def test_choose_threshold_cases() -> None:
    t, acc = choose_threshold([0.1, 0.2, 0.3], [0.6, 0.9])
    assert acc == 1.0 and t == pytest.approx(0.45)  # separable: midpoint between the classes
    t, acc = choose_threshold([1, 2, 6], [3, 5, 7])
    assert (t, acc) == (2.5, pytest.approx(5 / 6))
    # two equally good gaps (one error each side): the wider gap, 4 -> 8, wins
    t, acc = choose_threshold([1, 4, 9], [2, 8, 10])
    assert acc == pytest.approx((2 / 3 + 2 / 3) / 2) and t == 6.0
    # balanced: 1 generated vs 3 real, each class weighs half
    t, acc = choose_threshold([5.0], [1.0, 6.0, 7.0])
    assert acc == pytest.approx((1 + 2 / 3) / 2) and t == 5.5
    t, acc = choose_threshold([3.0, 4.0], [1.0, 2.0])  # inverted: nothing beats chance
    assert acc == 0.5
    with pytest.raises(StyleGANError, match="at least one"):
        choose_threshold([], [1.0])


def test_calibration_round_trip(tmp_path: Path) -> None:
    cal = Calibration(0.5, 0.75, [0.1, 0.2], [0.8, 0.9], {"loss": "mse", "space": "w", "steps": 3}, "ab" * 32)
    back = Calibration.load(cal.save(tmp_path / "c.json"))
    assert back == cal and back.key == f"{'ab' * 8}-mse-w-3"
    record = json.loads((tmp_path / "c.json").read_text())
    assert record["summary"]["generated_mean"] == pytest.approx(0.15)
    with pytest.raises(StyleGANError, match="not an attribution calibration"):
        (tmp_path / "bad.json").write_text("{}")
        Calibration.load(tmp_path / "bad.json")


def test_attribution_settings_come_from_the_calibration(tmp_path: Path) -> None:
    digest = "cd" * 32
    settings = {"loss": "lpips", "space": "w+", "steps": 40, "seed": 9, "w_avg_samples": 500}
    perceptual = {"name": "lpips-vgg16-st"}
    path = Calibration(0.3, 1.0, [0.1], [0.6], settings, digest, perceptual).save(tmp_path / "c.json")

    s = attribution_settings(digest, calibration=path)
    assert (s.threshold, s.loss, s.space, s.steps, s.seed, s.w_avg_samples) == (0.3, "lpips", "w+", 40, 9, 500)
    assert attribution_settings(digest, calibration=path, w_avg_samples=7).w_avg_samples == 7
    s.check_perceptual("lpips-vgg16-st")
    with pytest.raises(StyleGANError, match="perceptual network lpips-vgg16-st, this run would use lpips-nvidia"):
        s.check_perceptual("lpips-nvidia")
    with pytest.raises(StyleGANError, match="made with space w\\+, not w"):  # the CLI says --space
        attribution_settings(digest, calibration=path, space="w")
    with pytest.raises(StyleGANError, match="calibrated on another network"):
        attribution_settings("ef" * 32, calibration=path)

    # an explicit threshold needs no calibration and keeps the defaults for what is not given
    s = attribution_settings(digest, threshold=0.5, steps=12)
    assert (s.threshold, s.loss, s.space, s.steps, s.calibration) == (0.5, "lpips", "w", 12, None)
    s.check_perceptual("anything")  # nothing to match


def test_generated_images_project_closer_than_unrelated(quiet_G: stylegan.Generator, unrelated: Path) -> None:
    cal = calibrate(quiet_G, unrelated, n=4, **FAST)
    assert len(cal.generated) == len(cal.real) == 4
    assert max(cal.generated) < min(cal.real)
    assert cal.accuracy == 1.0 and max(cal.generated) < cal.threshold < min(cal.real)
    assert cal.settings["loss"] == "mse" and cal.settings["steps"] == 30 and len(cal.network_hash) == 64


def test_generated_samples_are_fresh_and_conditional() -> None:
    from stylegan.testing import tiny_generator

    G = tiny_generator(c_dim=4)
    imgs, classes = generated_samples(G, 6)
    again, classes_again = generated_samples(G, 6)
    np.testing.assert_array_equal(imgs, again)  # seeded
    assert classes == classes_again and all(0 <= c < 4 for c in classes)
    assert not any(np.array_equal(imgs[0], im) for im in stylegan.generate(G, seeds=range(8)).images)


def test_histogram_png(tmp_path: Path) -> None:
    rng = np.random.RandomState(1)
    cal = Calibration(0.5, 0.9, list(rng.rand(20) * 0.5), list(0.4 + rng.rand(20)), {"loss": "mse", "steps": 9})
    img = np.asarray(Image.open(plot_histogram(cal, tmp_path / "h.png")).convert("RGB"))
    assert img.shape == (440, 720, 3)
    colours = {tuple(c) for c in img.reshape(-1, 3)}
    assert (230, 126, 34) in colours and (52, 120, 200) in colours and (200, 30, 30) in colours  # bars + threshold


def test_cli_attribute_end_to_end(
    tmp_path: Path, quiet_net: Path, quiet_G: stylegan.Generator, unrelated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suspect = tmp_path / "suspect.png"
    Image.fromarray(generated_samples(quiet_G, 1, seed=7)[0][0]).save(suspect)
    real = sorted(unrelated.iterdir())[0]
    base = ["--network", str(quiet_net), "--device", "cpu"]

    # no calibration yet: one clear error line
    with pytest.raises(SystemExit) as exc:
        main(["attribute", *base, "--image", str(suspect), "--steps", "30", "--loss", "mse"])
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no attribution calibration") and "--threshold" in err[0]

    out, plot = str(tmp_path / "calib.json"), str(tmp_path / "hist.png")
    args = [
        "attribute-calibrate",
        *base,
        "--real",
        str(unrelated),
        "-n",
        "4",
        "--steps",
        "30",
        "--loss",
        "mse",
        "--w-avg-samples",
        "200",
        "--out",
        out,
        "--plot",
        plot,
    ]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "calib.json").read_text())
    assert record["accuracy"] == 1.0 and len(record["generated"]) == len(record["real"]) == 4
    assert record["settings"]["steps"] == 30 and record["network_hash"]
    with Image.open(plot) as im:
        assert im.format == "PNG" and im.size == (720, 440)
    assert find_calibration(record["network_hash"]) is not None  # kept in the (test's) cache

    # the cached calibration is found by itself and sets steps/loss/space
    res = CliRunner().invoke(
        cli,
        ["attribute", *base, "--image", str(suspect), "--image", str(real), "--out", str(tmp_path / "verdicts.json")],
    )
    assert res.exit_code == 0, res.output
    assert "suspect.png: distance" in res.output and "-> generated by this network" in res.output
    assert f"{real.name}: distance" in res.output and "-> not generated by this network" in res.output
    verdicts = json.loads((tmp_path / "verdicts.json").read_text())
    assert [r["generated"] for r in verdicts["results"]] == [True, False] and verdicts["steps"] == 30

    # an explicit calibration file, and an explicit threshold
    res = CliRunner().invoke(
        cli, ["attribute", *base, "--image", str(suspect), "--calibration", str(tmp_path / "calib.json")]
    )
    assert res.exit_code == 0 and "-> generated by this network" in res.output, res.output
    res = CliRunner().invoke(
        cli,
        [
            "attribute",
            *base,
            "--image",
            str(suspect),
            "--threshold",
            "0",
            "--steps",
            "2",
            "--loss",
            "mse",
            "--w-avg-samples",
            "50",
        ],
    )
    assert res.exit_code == 0 and "-> not generated by this network" in res.output, res.output

    # settings that do not match the calibration
    res = CliRunner().invoke(
        cli,
        ["attribute", *base, "--image", str(suspect), "--calibration", str(tmp_path / "calib.json"), "--steps", "7"],
    )
    assert isinstance(res.exception, StyleGANError) and "--steps 30" in str(res.exception)
