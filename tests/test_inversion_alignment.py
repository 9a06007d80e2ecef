"""FFHQ alignment geometry on synthetic landmarks; the dlib path on scikit-image's astronaut."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from stylegan.errors import StyleGANError
from stylegan.inversion.alignment import align_face, canonical_eyes, detect_landmarks, ffhq_quad, landmark_model_path


def _faces_extra_missing() -> str | None:
    """What of the optional `faces` extra (dlib, the landmark model file) is missing here, or None."""
    if importlib.util.find_spec("dlib") is None:
        return "dlib is not installed"
    try:
        landmark_model_path()  # raises only when face-recognition-models or its model file is missing
    except StyleGANError as e:
        return str(e)
    return None


FACES_MISSING = _faces_extra_missing()
needs_faces = pytest.mark.skipif(FACES_MISSING is not None, reason=f"faces extra: {FACES_MISSING}")


def _landmarks(eye_l: tuple[float, float], eye_r: tuple[float, float], mouth_y: float) -> np.ndarray:
    lm = np.zeros((68, 2))
    lm[36:42], lm[42:48] = eye_l, eye_r
    cx = (eye_l[0] + eye_r[0]) / 2
    lm[48], lm[54] = (cx - 12, mouth_y), (cx + 12, mouth_y)
    return lm


def _blob_centre(img: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(img[:, :, 0] > 128)
    return np.array([xs.mean(), ys.mean()])


@pytest.mark.parametrize("tilt", [0.0, 0.3])
def test_eyes_land_at_canonical_positions(tilt: float) -> None:
    centre = np.array([100.0, 90.0])
    rot = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    eye_l, eye_r = centre + rot @ [-20, 0], centre + rot @ [20, 0]
    mouth = centre + rot @ [0, 45]
    lm = _landmarks(tuple(eye_l), tuple(eye_r), 0)
    lm[48], lm[54] = mouth + rot @ [-12, 0], mouth + rot @ [12, 0]
    img = np.zeros((200, 200, 3), np.uint8)
    for e in (eye_l, eye_r):
        x, y = np.rint(e).astype(int)
        img[y - 2 : y + 3, x - 2 : x + 3] = 255
    out = align_face(img, lm, size=64, transform_size=256)
    assert out.image.shape == (64, 64, 3)
    want_l, want_r = canonical_eyes(lm, 64)
    assert abs(want_l[1] - want_r[1]) < 1e-6  # level eyes after alignment
    np.testing.assert_allclose(want_l, [0.5 * 64 - 0.111 * 64, 0.472 * 64], atol=1.0)  # FFHQ: ~(386, 482)/1024
    np.testing.assert_allclose(_blob_centre(out.image[:, :32]), want_l, atol=1.5)
    got_r = _blob_centre(out.image[:, 32:]) + [32, 0]
    np.testing.assert_allclose(got_r, want_r, atol=1.5)


def test_quad_errors() -> None:
    with pytest.raises(StyleGANError, match="68"):
        ffhq_quad(np.zeros((5, 2)))


@needs_faces
def test_astronaut_with_dlib() -> None:
    skdata = pytest.importorskip("skimage.data")
    img = skdata.astronaut()
    lm = detect_landmarks(img)
    out = align_face(img, lm, size=256)
    want_l, want_r = canonical_eyes(lm, 256)
    assert out.image.shape == (256, 256, 3)
    np.testing.assert_allclose(want_l, [0.389 * 256, 0.472 * 256], atol=6)
    np.testing.assert_allclose(want_r, [0.611 * 256, 0.472 * 256], atol=6)
    lm2 = detect_landmarks(out.image)  # the eyes found again in the aligned face sit where FFHQ puts them
    np.testing.assert_allclose(lm2[36:42].mean(0), want_l, atol=3)
    np.testing.assert_allclose(lm2[42:48].mean(0), want_r, atol=3)


def test_cli_align_blank_image_is_a_clear_error(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from PIL import Image

    from stylegan.cli.main import cli

    Image.new("RGB", (64, 64), "gray").save(tmp_path / "blank.png")
    res = CliRunner().invoke(cli, ["align", "--input", str(tmp_path / "blank.png"), "--outdir", str(tmp_path / "o")])
    assert isinstance(res.exception, StyleGANError)
    if FACES_MISSING is None:
        assert str(res.exception) == f"{tmp_path / 'blank.png'}: no face found in the image"
    else:
        assert "face alignment needs" in str(res.exception) or "face-recognition-models" in str(res.exception)


def test_paste_back_restores_the_photo() -> None:
    from stylegan.inversion.alignment import paste_face

    rng = np.random.default_rng(0)
    photo = np.kron(rng.integers(0, 255, (5, 5, 3)), np.ones((40, 40, 1))).astype(np.uint8)  # 200x200, 40px blocks
    lm = _landmarks((80.0, 90.0), (120.0, 90.0), 135.0)
    out = align_face(photo, lm, size=256, transform_size=256)
    back = paste_face(np.zeros_like(photo), out.image, out.quad, feather=0.05)
    inner = (slice(70, 130), slice(70, 130))  # well inside the face square
    err = np.abs(back[inner].astype(int) - photo[inner].astype(int))
    assert err.mean() < 3 and np.median(err) == 0  # only the block edges blur
    assert back[0:5, 0:5].max() == 0  # outside the quad the photo is untouched


@needs_faces
def test_cli_align_and_paste_astronaut(tmp_path: Path) -> None:
    skdata = pytest.importorskip("skimage.data")
    from click.testing import CliRunner
    from PIL import Image

    from stylegan.cli.main import cli

    Image.fromarray(skdata.astronaut()).save(tmp_path / "astronaut.png")
    res = CliRunner().invoke(
        cli,
        ["align", "--input", str(tmp_path / "astronaut.png"), "--size", "128", "--outdir", str(tmp_path / "aligned")],
    )
    assert res.exit_code == 0, res.output
    assert np.asarray(Image.open(tmp_path / "aligned" / "astronaut.png")).shape == (128, 128, 3)
    aligned = tmp_path / "aligned"
    res = CliRunner().invoke(
        cli,
        [
            "paste",
            "--face",
            str(aligned / "astronaut.png"),
            "--info",
            str(aligned / "astronaut.json"),
            "--output",
            str(tmp_path / "p.png"),
        ],
    )
    assert res.exit_code == 0, res.output
    back = np.asarray(Image.open(tmp_path / "p.png")).astype(int)
    orig = skdata.astronaut().astype(int)
    assert back.shape == orig.shape and np.abs(back - orig).mean() < 2  # pasting the unedited face changes little


@needs_faces
def test_cli_project_align_astronaut(tmp_path: Path) -> None:
    skdata = pytest.importorskip("skimage.data")
    import json

    from click.testing import CliRunner
    from PIL import Image

    import stylegan
    from stylegan.cli.main import cli
    from stylegan.testing import tiny_generator

    net = stylegan.save(tmp_path / "g.safetensors", G_ema=tiny_generator(img_resolution=32))
    Image.fromarray(skdata.astronaut()).save(tmp_path / "astronaut.png")
    res = CliRunner().invoke(
        cli,
        [
            "project",
            "--network",
            str(net),
            "--target",
            str(tmp_path / "astronaut.png"),
            "--align",
            "--steps",
            "1",
            "--loss",
            "mse",
            "--w-avg-samples",
            "10",
            "--device",
            "cpu",
            "--outdir",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(json.loads((tmp_path / "o" / "projection.json").read_text())["align_quad"]) == 4


def test_alignment_record_round_trip(tmp_path) -> None:
    import json

    from stylegan.errors import SettingError
    from stylegan.inversion.alignment import AlignmentRecord, paste_back

    lm = _landmarks((80.0, 90.0), (120.0, 90.0), 135.0)
    quad, _ = ffhq_quad(lm)
    path = AlignmentRecord("missing.jpg", 256, quad, lm).save(tmp_path / "face.json")
    assert list(json.loads(path.read_text())) == ["source", "size", "quad", "landmarks"]  # what `align` writes
    back = AlignmentRecord.load(path)
    assert (back.source, back.size) == ("missing.jpg", 256)
    np.testing.assert_array_equal(back.quad, quad)
    np.testing.assert_array_equal(back.landmarks, lm)
    (tmp_path / "quad_only.json").write_text(json.dumps({"quad": quad.tolist()}))
    assert AlignmentRecord.load(tmp_path / "quad_only.json").landmarks is None
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(StyleGANError, match="not an alignment record"):
        AlignmentRecord.load(tmp_path / "bad.json")
    with pytest.raises(SettingError, match="missing.jpg is missing: pass photo"):
        paste_back(tmp_path / "face.png", path)
