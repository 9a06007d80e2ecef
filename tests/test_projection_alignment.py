"""FFHQ alignment geometry (REFERENCE §5.5) on synthetic landmarks; the dlib path on scikit-image's astronaut."""

from __future__ import annotations

import numpy as np
import pytest

from stylegan.alignment import align_face, canonical_eyes, detect_landmarks, ffhq_quad
from stylegan.errors import StyleGANError


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


def test_astronaut_with_dlib() -> None:
    pytest.importorskip("dlib")
    skdata = pytest.importorskip("skimage.data")
    try:
        img = skdata.astronaut()
        lm = detect_landmarks(img)
    except StyleGANError as e:
        pytest.skip(str(e))
    out = align_face(img, lm, size=256)
    want_l, want_r = canonical_eyes(lm, 256)
    assert out.image.shape == (256, 256, 3)
    np.testing.assert_allclose(want_l, [0.389 * 256, 0.472 * 256], atol=6)
    np.testing.assert_allclose(want_r, [0.611 * 256, 0.472 * 256], atol=6)
