"""Faces for the face-swap model: read a folder of images or a video, find and FFHQ-align each face, and build the
face mask from its landmarks.

Faces are found by dlib's HOG detector and aligned with the 68-point landmarks exactly as `stylegan align` does
(`stylegan.inversion.alignment`). An image in which no face is found is taken whole as an already-aligned crop:
a face network's outputs are aligned crops, and the detector misses small or stylised ones. Such a crop has no
landmarks of its own; its mask is the hull of the average aligned landmarks of the faces that were found (or a
centred ellipse when none were).

>>> lm = np.zeros((68, 2))
>>> t = np.linspace(0, np.pi, 17)
>>> lm[:17] = np.stack([32 + 24 * np.cos(t), 30 + 24 * np.sin(t)], 1)  # the jaw line, a U under the eyes
>>> lm[17:27] = [(12 + 4 * i, 20) for i in range(10)]  # the eyebrows
>>> m = face_mask(lm, 64)
>>> m.shape, float(m[32, 32]), float(m[2, 2])
((64, 64), 1.0, 0.0)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import StyleGANError
from ..inversion.alignment import align_face, find_faces, load_rgb, to_aligned

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".gif")


@dataclass
class VideoInfo:
    """What `read_frames` learned about a video: frame size (width, height), frame rate and frame count (0 if
    the container does not say)."""

    width: int
    height: int
    fps: float
    frames: int


def is_video(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is read as a video (by its suffix)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def read_frames(path: str | os.PathLike[str]) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """Stream a video's frames (uint8 RGB [H, W, 3]) through ffmpeg; an unreadable file is one StyleGANError."""
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise StyleGANError(f"{path}: no such video file")
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as e:
        raise StyleGANError(f"{path}: cannot read the video ({str(e).strip().splitlines()[-1][:120]})") from None
    w, h = meta["size"]
    fps = float(meta.get("fps") or 30.0)
    info = VideoInfo(int(w), int(h), fps, int(round(float(meta.get("duration") or 0) * fps)))

    def frames() -> Iterator[np.ndarray]:
        try:
            for buf in reader:
                yield np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
        finally:
            reader.close()

    return info, frames()


def read_images(folder: str | os.PathLike[str]) -> Iterator[tuple[str, np.ndarray]]:
    """(file name, uint8 RGB image) for every image in `folder`, in name order."""
    folder = Path(folder)
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise StyleGANError(f"{folder}: no images found (.png, .jpg, .jpeg, .webp, .bmp)")
    for f in files:
        yield f.name, load_rgb(f)


def detect(image: np.ndarray) -> np.ndarray | None:
    """The largest face's 68 landmarks, or None. Tries the detector at the image's own scale first, then at twice
    the scale (finds faces down to about 40 pixels, at four times the cost)."""
    for upsample in (0, 1):
        faces = find_faces(image, upsample=upsample)
        if faces:
            return faces[0]
    return None


def face_mask(landmarks: np.ndarray, size: int) -> np.ndarray:
    """The face region as float32 [size, size] in [0, 1]: the convex hull of the jaw line and of the eyebrows
    raised by a third of the eyebrow-to-chin height (the forehead), drawn anti-aliased."""
    from PIL import Image, ImageDraw

    lm = np.asarray(landmarks, dtype=np.float64)
    brows = lm[17:27].copy()
    brows[:, 1] -= (lm[8, 1] - brows[:, 1].mean()) / 3
    hull = convex_hull(np.concatenate([lm[:17], brows]))
    scale = 4  # draw at 4x and shrink: smooth edges
    img = Image.new("L", (size * scale, size * scale), 0)
    ImageDraw.Draw(img).polygon([tuple(p) for p in (hull * scale).tolist()], fill=255)
    return np.asarray(img.resize((size, size), Image.Resampling.BOX), dtype=np.float32) / 255


def convex_hull(points: np.ndarray) -> np.ndarray:
    """The convex hull [K, 2] of 2-d points, counter-clockwise (Andrew's monotone chain).

    >>> convex_hull(np.array([[0, 0], [2, 0], [1, 1], [2, 2], [0, 2]])).tolist()
    [[0, 0], [2, 0], [2, 2], [0, 2]]
    """
    pts = sorted(map(tuple, np.asarray(points).tolist()))

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        chain: list[tuple[float, float]] = []
        for p in seq:
            while len(chain) >= 2:
                (ax, ay), (bx, by) = chain[-2], chain[-1]
                if (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax) > 0:
                    break
                chain.pop()
            chain.append(p)
        return chain[:-1]

    return np.array(half(pts) + half(pts[::-1]), dtype=np.asarray(points).dtype)


def ellipse_mask(size: int) -> np.ndarray:
    """A centred ellipse (where an FFHQ-aligned face sits) as float32 [size, size]: the mask of last resort."""
    yy, xx = (np.mgrid[:size, :size] + 0.5) / size
    return (((xx - 0.5) / 0.3) ** 2 + ((yy - 0.55) / 0.36) ** 2 <= 1).astype(np.float32)


def square_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The centred square of an image, resized to size x size (how a face-less image is used whole)."""
    from PIL import Image

    h, w = image.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    crop = Image.fromarray(np.ascontiguousarray(image[top : top + s, left : left + s]))
    return np.asarray(crop.resize((size, size), Image.Resampling.LANCZOS))


@dataclass
class FaceSet:
    """Aligned face crops of one identity: images uint8 [N, S, S, 3], their masks float32 [N, S, S], the aligned
    landmarks of the faces the detector found, and the indices of the images used whole."""

    source: str
    images: np.ndarray
    masks: np.ndarray
    landmarks: list[np.ndarray] = field(default_factory=list)
    used_whole: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def found(self) -> int:
        """How many faces the detector found."""
        return len(self) - len(self.used_whole)


def align_crop(image: np.ndarray, landmarks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(aligned crop, crop quad in the image, landmarks in the crop) of one face, FFHQ-aligned at size x size."""
    face = align_face(image, landmarks, size=size, transform_size=min(4096, 4 * size))
    return face.image, face.quad, to_aligned(landmarks, face.quad, size)


def collect_faces(source: str | os.PathLike[str], size: int, *, progress: bool | None = None) -> FaceSet:
    """Every face of `source` (a folder of images or a video file), aligned at size x size.

    Faces without landmarks (images used whole) get their masks later from `fill_masks`."""
    from ..progress import progress_bar

    source = Path(source)
    if not source.exists():
        raise StyleGANError(f"{source}: no such folder or video")
    if source.is_dir():
        items: Iterator[tuple[str, np.ndarray]] = read_images(source)
        total: int | None = sum(1 for f in source.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    elif is_video(source):
        info, frames = read_frames(source)
        items, total = ((f"frame {i}", f) for i, f in enumerate(frames)), info.frames or None
    else:
        raise StyleGANError(f"{source}: neither a folder of images nor a video ({', '.join(VIDEO_SUFFIXES)})")
    images: list[np.ndarray] = []
    masks: list[np.ndarray | None] = []
    found: list[np.ndarray] = []
    with progress_bar(total, f"faces in {source.name}", unit="image", enabled=progress) as bar:
        for _, image in items:
            if image.ndim != 3 or image.shape[2] != 3:
                image = np.repeat(image[..., :1], 3, axis=2) if image.ndim == 3 else np.stack([image] * 3, -1)
            lm = detect(image)
            if lm is None:
                images.append(square_crop(image, size))
                masks.append(None)
            else:
                crop, _, lm_aligned = align_crop(image, lm, size)
                images.append(crop)
                masks.append(face_mask(lm_aligned, size))
                found.append(lm_aligned)
            bar.update(1)
    if not images:
        raise StyleGANError(f"{source}: no frames in the video")
    stacked = np.stack([np.zeros((size, size), np.float32) if m is None else m for m in masks])
    return FaceSet(str(source), np.stack(images), stacked, found, [i for i, m in enumerate(masks) if m is None])


def fill_masks(sets: list[FaceSet], size: int) -> None:
    """Give the crops used whole the hull of the mean aligned landmarks over all detected faces of `sets`."""
    found = [lm for s in sets for lm in s.landmarks]
    mask = face_mask(np.mean(found, axis=0), size) if found else ellipse_mask(size)
    for s in sets:
        for i in s.used_whole:
            s.masks[i] = mask


__all__ = [
    "FaceSet",
    "VideoInfo",
    "align_crop",
    "collect_faces",
    "convex_hull",
    "detect",
    "ellipse_mask",
    "face_mask",
    "fill_masks",
    "is_video",
    "read_frames",
    "read_images",
    "square_crop",
]
