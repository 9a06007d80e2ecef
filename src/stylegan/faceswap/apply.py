"""Swapping the faces of a video with a trained face-swap model.

Per frame: find the face (`FaceTracker`: the last position is carried through up to `max_miss` frames in which the
detector misses it), FFHQ-align it at the model's size, encode it and decode it with the other identity's decoder,
match its colours to the original face (`colour_transfer`), and blend it back into the frame through a feathered
mask made from the landmark hull (`blend_mask`). Frames without a face pass through unchanged. Frame count, size
and rate are kept (H.264 needs even sides: an odd side gets one more row or column), and the source's audio is
copied when it has any.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import StyleGANError
from ..inversion.alignment import paste_face
from .faces import align_crop, detect, face_mask, read_frames
from .model import FaceSwapModel
from .train import to_tensor, to_uint8

#: Frames through which a lost face keeps its last position.
MAX_MISS = 5


def colour_transfer(face: np.ndarray, reference: np.ndarray, mask: np.ndarray, max_gain: float = 1.5) -> np.ndarray:
    """`face` (float or uint8 [S, S, 3]) with each channel's mean and standard deviation inside `mask` matched to
    `reference`'s (Reinhard et al. 2001's statistics transfer, in RGB); float32 in [0, 255].

    The contrast gain per channel is held within [1 / max_gain, max_gain]: a decoder's nearly flat face would
    otherwise have its faint grain stretched into coloured noise to reach a photo's contrast.

    >>> ref = np.full((4, 4, 3), 100.0); ref[:2] = 140.0
    >>> face = np.full((4, 4, 3), 100.0) + 10 * np.arange(4)[:, None, None]
    >>> colour_transfer(face, ref, np.ones((4, 4)))[:, 0, 0].round(1).tolist()  # mean 115 -> 120, gain 1.79 -> 1.5
    [97.5, 112.5, 127.5, 142.5]
    """
    face, reference = np.asarray(face, np.float32), np.asarray(reference, np.float32)
    w = np.asarray(mask, np.float32)[..., None]
    total = max(float(w.sum()), 1e-6)

    def stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = (x * w).sum((0, 1)) / total
        return mean, np.sqrt(((x - mean) ** 2 * w).sum((0, 1)) / total) + 1e-3

    (m_f, s_f), (m_r, s_r) = stats(face), stats(reference)
    gain = np.clip(s_r / s_f, 1 / max_gain, max_gain)
    return np.clip((face - m_f) * gain + m_r, 0, 255)


def blend_mask(landmarks: np.ndarray, size: int) -> np.ndarray:
    """The face hull (`face_mask`) shrunk by 1/16 of the size and feathered over 1/32: float32 [size, size].

    The blended face fades out inside the hull, so the hull's edge (jaw line, hairline) is the original's."""
    from PIL import Image, ImageFilter

    hull = Image.fromarray(np.uint8(np.rint(face_mask(landmarks, size) * 255)), "L")
    erode = max(3, size // 16) | 1  # MinFilter needs an odd size
    soft = hull.filter(ImageFilter.MinFilter(erode)).filter(ImageFilter.GaussianBlur(max(1.0, size / 32)))
    return np.asarray(soft, dtype=np.float32) / 255


class FaceTracker:
    """The face's landmarks frame after frame: a detection where there is one, else the last one for up to
    `max_miss` frames, else None."""

    def __init__(self, max_miss: int = MAX_MISS) -> None:
        self.max_miss = max_miss
        self.last: np.ndarray | None = None
        self.misses = 0

    def __call__(self, frame: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """(landmarks or None, whether they were carried over from an earlier frame)."""
        lm = detect(frame)
        if lm is not None:
            self.last, self.misses = lm, 0
            return lm, False
        self.misses += 1
        if self.last is not None and self.misses <= self.max_miss:
            return self.last, True
        return None, False


@torch.no_grad()
def swap_face(
    model: FaceSwapModel, frame: np.ndarray, landmarks: np.ndarray, to: str = "a", *, colours: bool = True
) -> np.ndarray:
    """`frame` (uint8 [H, W, 3]) with the face at `landmarks` redrawn as identity `to` ("a" or "b")."""
    size = model.cfg.size
    crop, quad, lm = align_crop(frame, landmarks, size)
    device = next(model.parameters()).device
    face = to_uint8(model(to_tensor(crop[None], device), to))[0]
    mask = blend_mask(lm, size)
    if colours:
        face = np.uint8(np.rint(colour_transfer(face, crop, face_mask(lm, size))))
    return paste_face(frame, face, quad, mask=mask)


@dataclass
class SwapReport:
    """What `swap_video` did: frames in total, frames with a detected face, frames with a carried-over position,
    frames passed through unchanged, the frame rate, and the processing speed in frames per second."""

    frames: int
    detected: int
    carried: int
    unchanged: int
    fps: float
    frames_per_second: float


def has_audio(path: str | os.PathLike[str]) -> bool:
    """Whether ffmpeg sees an audio stream in the file."""
    import imageio_ffmpeg

    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    return any(" Audio:" in line for line in probe.stderr.splitlines() if "Stream #" in line)


def mux_audio(video: Path, audio_from: Path, dest: Path) -> None:
    """Copy `video`'s picture and `audio_from`'s audio (both streams unchanged) into `dest`, atomically."""
    import imageio_ffmpeg

    from ..fileio import temp_path_beside

    tmp = temp_path_beside(dest).with_suffix(dest.suffix)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(video), "-i", str(audio_from)]
    cmd += ["-map", "0:v:0", "-map", "1:a", "-c", "copy", "-shortest", str(tmp)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise StyleGANError(f"{dest}: could not copy the audio of {audio_from} ({done.stderr.strip()[-200:]})")
    os.replace(tmp, dest)


def swap_video(
    model: FaceSwapModel,
    video: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    to: str = "a",
    max_miss: int = MAX_MISS,
    colours: bool = True,
    progress: bool | None = None,
) -> SwapReport:
    """Write `out` (.mp4 or .gif): `video` with every face redrawn as identity `to` (see the module docstring)."""
    from ..fileio import writing
    from ..progress import progress_bar
    from ..video import VideoWriter

    model.decoder(to)  # an unknown identity is an error before any work
    video, out = Path(video), Path(out)
    with writing(out.parent):  # a read-only or full disk, or a file in the way: one line naming the folder
        out.parent.mkdir(parents=True, exist_ok=True)
    info, frames = read_frames(video)
    audio = out.suffix.lower() == ".mp4" and has_audio(video)
    tracker = FaceTracker(max_miss)
    counts = {"detected": 0, "carried": 0, "unchanged": 0}
    start, n = time.perf_counter(), 0
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        target = Path(tmp) / f"video{out.suffix}" if audio else out
        bar = progress_bar(info.frames or None, "face swap", unit="frame", enabled=progress)
        with VideoWriter(target, fps=info.fps, progress=bar) as writer:  # the writer closes the bar
            for frame in frames:
                lm, carried = tracker(frame)
                if lm is None:
                    counts["unchanged"] += 1
                    writer.append(frame)
                else:
                    counts["carried" if carried else "detected"] += 1
                    writer.append(swap_face(model, frame, lm, to, colours=colours))
                n += 1
        if n == 0:
            raise StyleGANError(f"{video}: no frames in the video")
        if audio:
            mux_audio(target, video, out)
    seconds = time.perf_counter() - start
    return SwapReport(n, counts["detected"], counts["carried"], counts["unchanged"], info.fps, n / max(seconds, 1e-9))


__all__ = [
    "FaceTracker",
    "SwapReport",
    "blend_mask",
    "colour_transfer",
    "has_audio",
    "mux_audio",
    "swap_face",
    "swap_video",
]
