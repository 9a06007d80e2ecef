"""FFHQ face alignment (Karras et al. 2019, the FFHQ dataset's `recreate_aligned_images`).

From 68 dlib landmarks: the eye centres and mouth corners define an oriented square (`ffhq_quad`), which is cut out
of the photo (shrunk first when much larger than the output, cropped with a border, reflect-padded with a blurred,
median-blended fill where it leaves the photo) and resampled to `size` x `size`.

The geometry here is pure numpy/PIL. Landmark detection (`detect_landmarks`) needs the optional `dlib-bin` wheel and
the model files of `face-recognition-models` (found on disk without importing that package, whose `__init__` needs
the removed `pkg_resources`).

>>> lm = np.zeros((68, 2)); lm[36:42] = (40, 50); lm[42:48] = (80, 50); lm[48] = (50, 100); lm[54] = (70, 100)
>>> quad, qsize = ffhq_quad(lm)
>>> quad.round(1).tolist()[0], round(qsize, 1)
([-30.0, -35.0], 180.0)
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SettingError, StyleGANError

LANDMARK_MODEL = "shape_predictor_68_face_landmarks.dat"


def ffhq_quad(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """The FFHQ crop square [4, 2] (top-left, bottom-left, bottom-right, top-right, in x, y) and its side qsize."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2):
        raise StyleGANError(f"expected 68 (x, y) landmarks, got shape {list(lm.shape)}")
    eye_left, eye_right = lm[36:42].mean(0), lm[42:48].mean(0)
    eye_avg = (eye_left + eye_right) * 0.5
    eye_to_eye = eye_right - eye_left
    mouth_avg = (lm[48] + lm[54]) * 0.5
    eye_to_mouth = mouth_avg - eye_avg
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * 0.1
    quad = np.stack([c - x - y, c - x + y, c + x + y, c + x - y])
    return quad, float(np.hypot(*x) * 2)


@dataclass
class AlignedFace:
    """An aligned face and where it came from: `quad` [4, 2] in the original photo's pixel coordinates (corners
    of the output's top-left, bottom-left, bottom-right, top-right), for pasting an edited face back."""

    image: np.ndarray  # uint8 [size, size, C]
    quad: np.ndarray
    landmarks: np.ndarray


def align_face(
    image: np.ndarray, landmarks: np.ndarray, *, size: int = 1024, transform_size: int = 4096, padding: bool = True
) -> AlignedFace:
    """Cut the FFHQ-aligned face out of `image` (uint8 [H, W, 3]) given its 68 landmarks."""
    from PIL import Image, ImageFilter

    quad, qsize = ffhq_quad(landmarks)
    img = Image.fromarray(np.asarray(image, dtype=np.uint8))
    quad_in = quad.copy()

    shrink = int(np.floor(qsize / size * 0.5))  # shrink a much larger photo first (ANTIALIAS = LANCZOS)
    if shrink > 1:
        rsize = (int(np.rint(img.size[0] / shrink)), int(np.rint(img.size[1] / shrink)))
        img = img.resize(rsize, Image.Resampling.LANCZOS)
        quad /= shrink
        qsize /= shrink

    border = max(int(np.rint(qsize * 0.1)), 3)  # crop to the quad plus a border
    crop = (
        int(np.floor(min(quad[:, 0]))),
        int(np.floor(min(quad[:, 1]))),
        int(np.ceil(max(quad[:, 0]))),
        int(np.ceil(max(quad[:, 1]))),
    )
    crop = (
        max(crop[0] - border, 0),
        max(crop[1] - border, 0),
        min(crop[2] + border, img.size[0]),
        min(crop[3] + border, img.size[1]),
    )
    if crop[2] - crop[0] < img.size[0] or crop[3] - crop[1] < img.size[1]:
        img = img.crop(crop)
        quad -= crop[0:2]

    pad = (
        int(np.floor(min(quad[:, 0]))),
        int(np.floor(min(quad[:, 1]))),
        int(np.ceil(max(quad[:, 0]))),
        int(np.ceil(max(quad[:, 1]))),
    )
    pad = (
        max(-pad[0] + border, 0),
        max(-pad[1] + border, 0),
        max(pad[2] - img.size[0] + border, 0),
        max(pad[3] - img.size[1] + border, 0),
    )
    if padding and max(pad) > border - 4:  # reflect-pad, blend toward a blur and the median colour near the edges
        pad = tuple(np.maximum(pad, int(np.rint(qsize * 0.3))))
        arr = np.pad(np.asarray(img, dtype=np.float32), ((pad[1], pad[3]), (pad[0], pad[2]), (0, 0)), "reflect")
        h, w, _ = arr.shape
        yy, xx, _ = np.ogrid[:h, :w, :1]
        mask = np.maximum(
            1.0 - np.minimum(np.float32(xx) / pad[0], np.float32(w - 1 - xx) / pad[2]),
            1.0 - np.minimum(np.float32(yy) / pad[1], np.float32(h - 1 - yy) / pad[3]),
        )
        blur = qsize * 0.02
        blurred = np.asarray(
            Image.fromarray(np.uint8(np.clip(np.rint(arr), 0, 255))).filter(ImageFilter.GaussianBlur(blur)),
            dtype=np.float32,
        )
        arr += (blurred - arr) * np.clip(mask * 3.0 + 1.0, 0.0, 1.0)
        arr += (np.median(arr, axis=(0, 1)) - arr) * np.clip(mask, 0.0, 1.0)
        img = Image.fromarray(np.uint8(np.clip(np.rint(arr), 0, 255)), "RGB")
        quad += pad[:2]

    img = img.transform(
        (transform_size, transform_size), Image.Transform.QUAD, tuple((quad + 0.5).flatten()), Image.Resampling.BILINEAR
    )
    if size < transform_size:
        img = img.resize((size, size), Image.Resampling.LANCZOS)
    return AlignedFace(image=np.asarray(img), quad=quad_in, landmarks=np.asarray(landmarks, dtype=np.float64))


def canonical_eyes(landmarks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the left and right eye centres of `landmarks` land in the aligned size x size image."""
    lm = np.asarray(landmarks, dtype=np.float64)
    left, right = to_aligned(np.stack([lm[36:42].mean(0), lm[42:48].mean(0)]), ffhq_quad(lm)[0], size)
    return left, right


def paste_face(
    photo: np.ndarray, face: np.ndarray, quad: np.ndarray, *, feather: float = 0.1, mask: np.ndarray | None = None
) -> np.ndarray:
    """Put an (edited) aligned face [S, S, 3] back into the photo [H, W, 3] it was cut from (`AlignedFace.quad`),
    blended with `mask` (float [S, S] in [0, 1], in the face's pixels) or, without one, a mask that is 1 inside and
    fades linearly to 0 over the outer `feather` fraction of the square."""
    from PIL import Image

    photo = np.asarray(photo, dtype=np.uint8)
    face = np.asarray(face, dtype=np.uint8)
    s = face.shape[0]
    quad = np.asarray(quad, dtype=np.float64)
    origin, ex, ey = quad[0], quad[3] - quad[0], quad[1] - quad[0]
    inv = np.linalg.inv(np.stack([ex, ey], axis=1)) * s  # photo (x, y) - origin -> face pixels (u*S, v*S)
    # PIL maps continuous coordinates (pixel centres at +0.5); `align_face` sampled the quad + 0.5 the same way.
    shift = -inv @ (origin + 0.5)
    data = (inv[0, 0], inv[0, 1], shift[0], inv[1, 0], inv[1, 1], shift[1])
    size = (photo.shape[1], photo.shape[0])

    def to_photo(img: Image.Image) -> np.ndarray:
        return np.asarray(img.transform(size, Image.Transform.AFFINE, data, Image.Resampling.BILINEAR), np.float32)

    if mask is None:
        ramp = np.clip(np.minimum(np.arange(s) + 0.5, s - np.arange(s) - 0.5) / max(feather * s, 1e-6), 0, 1)
        mask = np.minimum(ramp[:, None], ramp[None, :])
    mask_img = Image.fromarray(np.uint8(np.rint(np.clip(mask, 0, 1) * 255)), "L")
    warped, alpha = to_photo(Image.fromarray(face)), to_photo(mask_img)[:, :, None] / 255
    return np.uint8(np.clip(np.rint(photo * (1 - alpha) + warped * alpha), 0, 255))


def to_aligned(points: np.ndarray, quad: np.ndarray, size: int) -> np.ndarray:
    """Photo pixel coordinates [N, 2] -> the aligned size x size image's pixel coordinates (see `AlignedFace`).

    >>> quad = np.array([[10.0, 20.0], [10.0, 120.0], [110.0, 120.0], [110.0, 20.0]])
    >>> to_aligned(np.array([[60.0, 70.0]]), quad, 64).tolist()
    [[32.0, 32.0]]
    """
    quad = np.asarray(quad, dtype=np.float64)
    origin, ex, ey = quad[0], quad[3] - quad[0], quad[1] - quad[0]
    uv = np.linalg.solve(np.stack([ex, ey], axis=1), (np.asarray(points, np.float64) - origin).T).T
    return uv * size


def landmark_model_path() -> Path:
    """`shape_predictor_68_face_landmarks.dat` inside an installed face-recognition-models (not imported)."""
    import importlib.util

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise StyleGANError("face alignment needs the landmark model: pip install dlib-bin face-recognition-models")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / LANDMARK_MODEL
    if not path.is_file():
        raise StyleGANError(f"{path}: missing from face-recognition-models; reinstall it")
    return path


@functools.lru_cache(maxsize=1)
def _dlib_models() -> tuple[Any, Any]:
    """dlib's HOG face detector and 68-point shape predictor, loaded once per process."""
    try:
        import dlib
    except ImportError:
        raise StyleGANError("face alignment needs dlib: pip install dlib-bin face-recognition-models") from None
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(landmark_model_path()))


def find_faces(image: np.ndarray, *, upsample: int = 1) -> list[np.ndarray]:
    """68 landmarks [68, 2] of every face dlib's HOG detector finds in a uint8 RGB image, largest face first.

    `upsample` > 0 also finds faces smaller than the detector's 80-pixel window (slower)."""
    detector, predictor = _dlib_models()
    image = np.ascontiguousarray(image)
    rects = sorted(detector(image, upsample), key=lambda r: -r.width() * r.height())
    return [
        np.array([(p.x, p.y) for p in (shape.part(i) for i in range(68))], dtype=np.float64)
        for shape in (predictor(image, r) for r in rects)
    ]


def detect_landmarks(image: np.ndarray, *, face_index: int | None = None, min_size: int = 32) -> np.ndarray:
    """68 landmarks [68, 2] of one face in a uint8 RGB photo (dlib HOG detector + 68-point shape predictor).

    With several faces, `face_index` picks one (faces sorted by size, largest first); without it the largest is
    used. No face, or a face smaller than `min_size` pixels, is a StyleGANError."""
    faces = find_faces(image)
    if not faces:
        raise StyleGANError("no face found in the image")
    index = 0 if face_index is None else face_index
    if not 0 <= index < len(faces):
        raise SettingError(
            f"{{face_index}} {index}: only {len(faces)} face(s) found (0 = the largest)", face_index="face_index"
        )
    lm = faces[index]
    width, height = np.ptp(lm[:17, 0]), np.ptp(lm[:, 1])  # the jaw line spans the face's width
    if min(width, height) < min_size:
        raise StyleGANError(f"the face is only {width:.0f}x{height:.0f} pixels; need at least {min_size}")
    return lm


def load_rgb(path: str | os.PathLike[str]) -> np.ndarray:
    """A photo as uint8 RGB [H, W, 3]."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, Image.DecompressionBombError) as e:  # the bomb: a header declaring billions of pixels
        raise StyleGANError(f"{path}: cannot read the image ({e})") from None


def _about(path: str | os.PathLike[str], e: StyleGANError) -> StyleGANError:
    """The same error, its message starting with `path: `."""
    if isinstance(e, SettingError):
        return SettingError(f"{path}: {e.template}", **e.names)
    return StyleGANError(f"{path}: {e}")


@dataclass
class AlignmentRecord:
    """What `stylegan align` writes beside an aligned face (NAME.json), for pasting an edited face back: the photo
    it came from, the output side, the crop quad [4, 2] in the photo's pixels (see `AlignedFace`) and the 68
    landmarks. Only the quad is required when reading.

    >>> import tempfile
    >>> rec = AlignmentRecord("me.jpg", 64, np.arange(8.0).reshape(4, 2), np.zeros((68, 2)))
    >>> back = AlignmentRecord.load(rec.save(tempfile.mkdtemp() + "/me.json"))
    >>> back.source, back.size, back.quad.tolist()[1]
    ('me.jpg', 64, [2.0, 3.0])
    """

    source: str
    size: int
    quad: np.ndarray
    landmarks: np.ndarray | None = None

    def to_dict(self) -> dict[str, object]:
        landmarks = None if self.landmarks is None else np.asarray(self.landmarks).tolist()
        return {
            "source": self.source,
            "size": self.size,
            "quad": np.asarray(self.quad).tolist(),
            "landmarks": landmarks,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the record as one line of JSON, atomically."""
        from ..images import atomic_write_bytes

        atomic_write_bytes(path, (json.dumps(self.to_dict()) + "\n").encode())
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AlignmentRecord:
        """Read a record written by `save` (or by `stylegan align`)."""
        try:
            record = json.loads(Path(path).read_text())
            quad = np.asarray(record["quad"], dtype=np.float64)
        except (ValueError, KeyError) as e:
            raise StyleGANError(f"{path}: not an alignment record from `stylegan align` ({e})") from None
        landmarks = record.get("landmarks")
        return cls(
            source=str(record.get("source", "")),
            size=int(record.get("size", 0)),
            quad=quad,
            landmarks=None if landmarks is None else np.asarray(landmarks, dtype=np.float64),
        )


def align_photo(
    path: str | os.PathLike[str], *, size: int = 1024, face_index: int | None = None, transform_size: int = 4096
) -> AlignedFace:
    """Detect the face (see `detect_landmarks`) in the photo at `path` and align it (`align_face`); errors name the
    photo."""
    img = load_rgb(path)
    try:
        return align_face(img, detect_landmarks(img, face_index=face_index), size=size, transform_size=transform_size)
    except StyleGANError as e:
        raise _about(path, e) from None


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def align_photos(
    inputs: Sequence[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    *,
    size: int = 1024,
    face_index: int | None = None,
) -> Iterator[tuple[Path, Path]]:
    """FFHQ-align the face of every photo in `inputs` (photos, or folders of them): write NAME.png and its
    `AlignmentRecord` NAME.json to outdir, yielding (photo, aligned image) as each is done."""
    from ..images import save_image

    files: list[Path] = []
    for p in map(Path, inputs):
        files += sorted(f for f in p.iterdir() if f.suffix.lower() in _IMAGE_SUFFIXES) if p.is_dir() else [p]
    if not files:
        raise SettingError("{inputs}: no images found", inputs="inputs")
    outdir = Path(outdir)
    for f in files:
        img = load_rgb(f)
        try:
            lm = detect_landmarks(img, face_index=face_index)
        except StyleGANError as e:
            raise _about(f, e) from None
        out = align_face(img, lm, size=size)
        save_image(out.image, outdir / f"{f.stem}.png")
        AlignmentRecord(str(f), size, out.quad, lm).save(outdir / f"{f.stem}.json")
        yield f, outdir / f"{f.stem}.png"


def paste_back(
    face: str | os.PathLike[str],
    record: str | os.PathLike[str],
    *,
    photo: str | os.PathLike[str] | None = None,
    feather: float = 0.1,
) -> np.ndarray:
    """Put an (edited) aligned face file back into its photo (`photo`, default: the record's source) using the
    `AlignmentRecord` at `record`; returns the photo, uint8 [H, W, 3]."""
    rec = AlignmentRecord.load(record)
    photo = Path(photo or rec.source)
    if not photo.is_file():
        raise SettingError(f"the original photo {photo} is missing: pass {{photo}}", photo="photo")
    return paste_face(load_rgb(photo), load_rgb(face), rec.quad, feather=feather)


__all__ = [
    "AlignedFace",
    "AlignmentRecord",
    "align_face",
    "align_photo",
    "align_photos",
    "canonical_eyes",
    "detect_landmarks",
    "ffhq_quad",
    "find_faces",
    "landmark_model_path",
    "paste_back",
    "paste_face",
    "to_aligned",
]
