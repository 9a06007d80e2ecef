"""Video writing and latent interpolation: one streaming writer (MP4 H.264 or GIF) used by every video we make.

MP4 goes through the ffmpeg binary that ships inside the `imageio-ffmpeg` wheel (libx264, yuv420p); GIF goes
through Pillow with per-frame FASTOCTREE quantisation (Pillow's default median cut is ~50x slower). Frames are
streamed: a writer holds at most one frame (MP4) or the quantised palette images (GIF, 1 byte per pixel).
"""

from __future__ import annotations

import errno
import math
import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from torch import Tensor

from .errors import OutputError, SettingError, StyleGANError
from .images import make_grid
from .networks import Generator
from .networks.synthesis import NoiseMode
from .nn.memory import reuse_freed_memory
from .progress import ProgressBar, progress_bar

INTERPOLATIONS: tuple[str, ...] = ("lerp-w", "slerp-z", "cubic-w")
VIDEO_SUFFIXES = (".mp4", ".gif")
#: The most frames one video may have (9 hours at 30 fps): more is refused before any work.
MAX_FRAMES = 1_000_000
#: The most bytes a GIF's frames may take while it is made (1 byte per pixel; an MP4 streams and holds one frame).
MAX_GIF_BYTES = 4 * 2**30


class VideoWriter:
    """Stream uint8 frames [H, W, C] to an .mp4 (H.264) or a .gif file.

    Use as a context manager; `append(frame)` per frame. GIF frames are quantised as they arrive, MP4 frames are
    piped to ffmpeg as they arrive (into a temp file beside `path`, renamed over it when complete). When the block
    ends with an error the file is not written; when it is interrupted (Ctrl-C, SIGTERM) the frames made so far
    are kept as a shorter video. Frame sides are padded to even sizes for H.264 (yuv420p needs them). Pillow
    merges identical consecutive GIF frames into one longer frame, so a still stretch plays for the same time but
    decodes to fewer frames.

    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/x.gif"
    >>> with VideoWriter(path, fps=10) as w:
    ...     for i in range(3):
    ...         w.append(np.full((8, 8, 3), 80 * i, dtype=np.uint8))
    >>> w.frames
    3
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fps: float = 30.0,
        loop: int = 0,
        crf: int = 18,
        progress: ProgressBar | None = None,
    ) -> None:
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in VIDEO_SUFFIXES:
            raise StyleGANError(f"{self.path}: unsupported video format {self.suffix!r}; use .mp4 or .gif")
        if fps <= 0:
            raise StyleGANError(f"fps must be positive, got {fps}")
        self.fps = float(fps)
        from .fileio import check_writable

        check_writable(self.path)  # a GIF is written at the end: fail before its frames are made
        self.loop = int(loop)
        self.crf = int(crf)
        self.frames = 0
        self._bar = progress
        self._gif: list[Any] = []
        self._ffmpeg: subprocess.Popen[bytes] | None = None  # ffmpeg, reading frames from a pipe
        self._log: IO[bytes] | None = None  # ffmpeg's messages
        self._tmp: Path | None = None  # where ffmpeg writes the MP4 until it is complete
        self._size: tuple[int, int] | None = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        interrupted = exc_type is not None and not issubclass(exc_type, Exception)  # Ctrl-C, SIGTERM, exit
        try:
            self.close(discard=exc_type is not None and (not interrupted or self.frames == 0))
        except Exception:
            if exc_type is None:
                raise
            self.close(discard=True)  # the first error is the one to report

    def _ffmpeg_failed(self, detail: str) -> OutputError:
        """The one-line error of a failed ffmpeg write (a full disk is said as such); the temp file is removed."""
        from .fileio import output_error

        log = self._ffmpeg_log()
        self._discard_mp4()
        try:
            full = os.statvfs(self.path.parent).f_bavail == 0
        except (OSError, AttributeError):
            full = False
        if full or "No space left" in log:
            return output_error(self.path, OSError(errno.ENOSPC, "No space left on device"))
        if "Read-only file system" in log:
            return output_error(self.path, OSError(errno.EROFS, "Read-only file system"))
        last = log.strip().splitlines()[-1] if log.strip() else detail
        return OutputError(f"{self.path}: ffmpeg could not write the video ({last[:200]})")

    def _ffmpeg_log(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def _discard_mp4(self) -> None:
        if self._ffmpeg is not None:
            if self._ffmpeg.stdin is not None:
                try:
                    self._ffmpeg.stdin.close()
                except OSError:  # ffmpeg already gone
                    pass
            self._ffmpeg.kill()
            self._ffmpeg.wait()
            self._ffmpeg = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            try:
                self._tmp.unlink(missing_ok=True)
            except OSError:  # a read-only file system, where the temp file could not be made in the first place
                pass
            self._tmp = None

    def _open_mp4(self, h: int, w: int) -> None:
        """Start ffmpeg (libx264, yuv420p) reading raw RGB frames from a pipe into a temp file beside the target.

        ffmpeg runs in its own session, so a signal to this process group does not kill it: an interrupted video
        is finished with the frames made so far. Its messages are kept for the error line, not shown.
        """
        try:
            import imageio_ffmpeg
        except ImportError:
            raise StyleGANError("MP4 output needs imageio-ffmpeg: pip install 'stylegan[video]'") from None
        import subprocess
        import tempfile
        from fractions import Fraction

        from .fileio import new_file_mode, temp_path_beside, writing

        self._tmp = temp_path_beside(self.path)
        with writing(self.path):  # made here, so that an unwritable folder is said in one line (ffmpeg overwrites it)
            os.close(os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, new_file_mode()))
        fps = str(Fraction(self.fps).limit_denominator())
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{w}x{h}"]
        cmd += ["-pix_fmt", "rgb24", "-r", fps, "-i", "-", "-an", "-vcodec", "libx264", "-pix_fmt", "yuv420p"]
        cmd += ["-v", "error", "-crf", str(self.crf), "-f", "mp4", str(self._tmp)]
        self._log = tempfile.TemporaryFile()
        self._ffmpeg = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,
        )

    def append(self, frame: np.ndarray) -> None:
        """Add one uint8 frame [H, W, C] (C = 1, 3 or 4; alpha is dropped, grayscale is expanded)."""
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
            raise StyleGANError(f"video frames must be uint8 [H, W, C], got {frame.dtype} {list(frame.shape)}")
        if frame.ndim == 2:
            frame = frame[:, :, None]
        if frame.shape[2] == 1:
            frame = np.repeat(frame, 3, axis=2)
        frame = frame[:, :, :3]
        if self._size is None:
            self._size = frame.shape[:2]
        elif frame.shape[:2] != self._size:
            raise StyleGANError(f"all video frames must have the same size: {list(self._size)} vs {frame.shape[:2]}")
        if self.suffix == ".gif":
            from PIL import Image

            self._gif.append(Image.fromarray(frame).quantize(256, method=Image.Quantize.FASTOCTREE))
        else:
            h, w = frame.shape[:2]
            if h % 2 or w % 2:  # yuv420p needs even sides: pad by edge replication
                frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
            if self._ffmpeg is None:
                self._open_mp4(*frame.shape[:2])
            assert self._ffmpeg is not None and self._ffmpeg.stdin is not None
            try:
                self._ffmpeg.stdin.write(np.ascontiguousarray(frame).tobytes())
            except OSError as e:  # a broken pipe: ffmpeg stopped (a full disk, ...)
                raise self._ffmpeg_failed(str(e)) from None
        self.frames += 1
        if self._bar is not None:
            self._bar.update(1)

    def extend(self, frames: Iterable[np.ndarray]) -> None:
        for f in frames:
            self.append(f)

    def close(self, discard: bool = False) -> None:
        """Finish the file (or delete it when `discard`)."""
        if discard:
            self._discard_mp4()
        if self._ffmpeg is not None:
            assert self._ffmpeg.stdin is not None
            try:
                self._ffmpeg.stdin.close()
            except OSError as e:
                raise self._ffmpeg_failed(str(e)) from None
            if self._ffmpeg.wait() != 0:
                raise self._ffmpeg_failed(f"exit status {self._ffmpeg.returncode}")
            self._ffmpeg = None
            if self._log is not None:
                self._log.close()
                self._log = None
            if self._tmp is not None:
                from .fileio import writing

                with writing(self.path):
                    os.replace(self._tmp, self.path)
                self._tmp = None
        if self._gif and not discard:
            import io

            from .fileio import atomic_write_bytes

            buf = io.BytesIO()
            duration = max(1, round(1000.0 / self.fps))  # Pillow: milliseconds per frame
            self._gif[0].save(
                buf, format="GIF", save_all=True, append_images=self._gif[1:], duration=duration, loop=self.loop
            )
            atomic_write_bytes(self.path, buf.getvalue())
        self._gif = []
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if not discard and self.frames == 0:
            raise StyleGANError(f"{self.path}: no frames were written")


def write_video(
    path: str | os.PathLike[str],
    frames: Iterable[np.ndarray],
    *,
    fps: float = 30.0,
    loop: int = 0,
    total: int | None = None,
    progress: bool | None = None,
    desc: str = "video",
) -> Path:
    """Stream `frames` (uint8 [H, W, C]) into an .mp4 or .gif; a progress bar when there are many frames."""
    bar = progress_bar(total, desc, unit="frame", enabled=progress if total is not None else False)
    with VideoWriter(path, fps=fps, loop=loop, progress=bar) as w:
        w.extend(frames)
    return Path(path)


def read_video(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a video (.mp4 through ffmpeg, .gif through Pillow) -> uint8 [T, H, W, 3]. Mainly for tests."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        from PIL import Image, ImageSequence

        with Image.open(path) as im:
            return np.stack([np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)])
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(reader)
    w, h = meta["size"]
    frames = [np.frombuffer(b, dtype=np.uint8).reshape(h, w, 3) for b in reader]
    return np.stack(frames)


# ---------------------------------------------------------------------------------------------------------
# Interpolation through keyframes


def _cubic_path(keys: Tensor, t: Tensor, loop: bool) -> Tensor:
    """Catmull-Rom cubic spline through `keys` [K, ...] at positions t (in key units, 0..K-1 or 0..K if loop).

    Looping wraps around (key K == key 0, neighbours taken modulo K), as SG3's gen_video does with `wraps`.
    """
    k = len(keys)
    bshape = (-1, *([1] * (keys.ndim - 1)))
    i0 = torch.floor(t).long()
    if not loop:
        i0 = i0.clamp(max=k - 2)  # the last frame sits at u = 1 of the last segment
    u = (t - i0).to(keys.dtype).view(bshape)

    def key(i: Tensor) -> Tensor:
        return keys[i % k] if loop else keys[i.clamp(0, k - 1)]

    p0, p1, p2, p3 = key(i0 - 1), key(i0), key(i0 + 1), key(i0 + 2)
    if not loop:  # reflected end tangents: phantom points p[-1] = 2 p[0] - p[1] and p[K] = 2 p[K-1] - p[K-2]
        p0 = torch.where((i0 - 1 < 0).view(bshape), 2 * p1 - p2, p0)
        p3 = torch.where((i0 + 2 > k - 1).view(bshape), 2 * p2 - p1, p3)
    u2, u3 = u * u, u * u * u
    return 0.5 * ((2 * p1) + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u2 + (-p0 + 3 * p1 - 3 * p2 + p3) * u3)


def interpolate_keys(keys: Tensor, frames_per_key: int, *, kind: str = "lerp", loop: bool = False) -> Tensor:
    """Interpolate keyframes [K, ...] -> [T, ...] with `frames_per_key` frames between consecutive keys.

    `kind`: `lerp`, `slerp` (on the last dim, keeping the norm of the lerped vector: for Gaussian z), or `cubic`.
    Without loop T = (K-1) * frames_per_key + 1 (the last key is the last frame); with loop T = K * frames_per_key
    (the walk returns to key 0, which is not repeated, so the video loops seamlessly).

    >>> interpolate_keys(torch.tensor([[0.0], [1.0]]), 4).squeeze(1).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if frames_per_key < 1:
        raise StyleGANError(f"frames per key must be at least 1, got {frames_per_key}")
    k = len(keys)
    if k < 2:
        raise StyleGANError("interpolation needs at least two keyframes")
    n = k * frames_per_key if loop else (k - 1) * frames_per_key + 1
    t = torch.arange(n, dtype=torch.float64) / frames_per_key
    if kind == "cubic":
        return _cubic_path(keys, t, loop)
    i0 = torch.floor(t).long().clamp(max=k - 1 if loop else k - 2)
    u = (t - i0).to(keys.dtype).view(-1, *([1] * (keys.ndim - 1)))
    a, b = keys[i0 % k], keys[(i0 + 1) % k]
    if kind == "lerp":
        return a + (b - a) * u
    if kind == "slerp":
        from .latents import slerp

        norm = a.norm(dim=-1, keepdim=True) * (1 - u) + b.norm(dim=-1, keepdim=True) * u
        return slerp(a, b, u) * norm
    raise StyleGANError(f"unknown interpolation {kind!r}; use lerp, slerp or cubic")


def interpolation_ws(
    G: Generator,
    *,
    seeds: Sequence[int] | None = None,
    latents: Tensor | None = None,
    interp: str = "lerp-w",
    frames_per_key: int = 60,
    loop: bool = False,
    psi: float = 1.0,
    truncation_cutoff: int | None = None,
    class_idx: int | None = None,
) -> Tensor:
    """The latent path ws [T, num_ws, w_dim] of one walk through keyframes (seeds or latents [K, num_ws, w_dim]).

    `slerp-z` needs seeds (it walks in Z and maps every frame); `lerp-w` and `cubic-w` walk in W (W+ latents too).
    """
    from .generation import seeds_to_ws
    from .latents import seed_class_labels, seeds_to_z

    if interp not in INTERPOLATIONS:
        raise StyleGANError(f"unknown interpolation {interp!r}; use one of {', '.join(INTERPOLATIONS)}")
    if (seeds is None) == (latents is None):
        raise StyleGANError("give keyframes as either seeds or latents")
    if interp == "slerp-z":
        if seeds is None:
            raise StyleGANError("slerp-z walks in Z and needs seeds; saved latents are in W: use lerp-w or cubic-w")
        device = next(G.parameters()).device
        z = interpolate_keys(seeds_to_z(seeds, G.z_dim, "cpu"), frames_per_key, kind="slerp", loop=loop)
        try:
            c = seed_class_labels(G.c_dim, class_idx, seeds, "cpu")
        except ValueError as e:
            raise StyleGANError(str(e)) from None
        if c is not None:  # per-seed classes (conditional network, no class given) blend along the walk
            c = interpolate_keys(c, frames_per_key, kind="lerp", loop=loop).to(device)
        with torch.no_grad():
            return G.mapping(z.to(device), c, truncation_psi=psi, truncation_cutoff=truncation_cutoff).cpu()
    if seeds is not None:
        keys = seeds_to_ws(G, list(seeds), psi=psi, truncation_cutoff=truncation_cutoff, class_idx=class_idx).cpu()
    else:
        assert latents is not None  # one of seeds and latents, checked above
        keys = latents.cpu().float()
    return interpolate_keys(keys, frames_per_key, kind="cubic" if interp == "cubic-w" else "lerp", loop=loop)


def check_video_memory(path: str | os.PathLike[str], frames: int, height: int, width: int) -> None:
    """Refuse a GIF whose frames would not fit `MAX_GIF_BYTES` while it is made."""
    if Path(path).suffix.lower() == ".gif" and frames * height * width > MAX_GIF_BYTES:
        size = frames * height * width / 2**30
        raise SettingError(
            f"{{path}} {path}: {frames} GIF frames of {width}x{height} take {size:.1f} GiB while the GIF is made; "
            "write an .mp4 (it streams) or fewer frames",
            path="path",
        )


def interpolation_frames(
    G: Generator,
    walks: Sequence[Tensor],
    *,
    grid: tuple[int, int] = (1, 1),
    noise_mode: NoiseMode = "const",
    batch_size: int = 8,
) -> Iterator[np.ndarray]:
    """Render walks (each ws [T, num_ws, w_dim], rows*cols of them) frame by frame into grid frames, lazily."""
    from .generation import synthesize

    rows, cols = grid
    if len(walks) != rows * cols:
        raise StyleGANError(f"a {rows}x{cols} grid video needs {rows * cols} walks, got {len(walks)}")
    n = len(walks[0])
    if any(len(w) != n for w in walks):
        raise StyleGANError("all walks in a grid video must have the same number of frames")
    per_batch = max(1, batch_size // len(walks))
    with reuse_freed_memory():  # the frames reuse each other's activation memory
        for start in range(0, n, per_batch):
            chunk = torch.cat([w[start : start + per_batch] for w in walks], dim=0)  # [cells * b, num_ws, w_dim]
            imgs = synthesize(G, chunk, noise_mode=noise_mode, batch_size=batch_size, progress=False)
            b = len(imgs) // len(walks)
            imgs = imgs.reshape(len(walks), b, *imgs.shape[1:])
            for i in range(b):
                yield make_grid(imgs[:, i], rows, cols) if len(walks) > 1 else imgs[0, i]


def render_video(
    G: Generator,
    path: str | os.PathLike[str],
    walks: Sequence[Tensor],
    *,
    grid: tuple[int, int] = (1, 1),
    fps: float = 30.0,
    noise_mode: NoiseMode = "const",
    batch_size: int = 8,
    progress: bool | None = None,
    desc: str = "video",
) -> Path:
    """Render latent walks (one per grid cell) straight into a video file."""
    frames = interpolation_frames(G, walks, grid=grid, noise_mode=noise_mode, batch_size=batch_size)
    return write_video(path, frames, fps=fps, total=len(walks[0]), progress=progress, desc=desc)


def video_frames(
    n_keys: int,
    *,
    grid: tuple[int, int] = (1, 1),
    frames_per_key: int = 60,
    duration: float | None = None,
    fps: float = 30.0,
    loop: bool = False,
) -> tuple[int, int]:
    """(frames per key, frames in the video) of an interpolation video through `n_keys` keyframes dealt over the
    grid's cells; settings out of range and videos of more than `MAX_FRAMES` frames are refused before any work.

    >>> video_frames(8, grid=(2, 2), frames_per_key=10)
    (10, 11)
    >>> video_frames(2, duration=1e9)
    Traceback (most recent call last):
    stylegan.errors.SettingError: duration 1000000000.0 at fps 30.0: 30000000000 frames, more than 1000000
    """
    rows, cols = grid
    if rows < 1 or cols < 1:
        raise SettingError(f"{{grid}}: a grid needs at least one row and one column, got {rows}x{cols}", "grid")
    if not (math.isfinite(fps) and fps > 0):
        raise SettingError(f"{{fps}} {fps}: must be a positive number", "fps")
    cells = rows * cols
    if n_keys < 2 * cells:
        raise StyleGANError(f"a {rows}x{cols} video needs at least {2 * cells} keyframes (2 per cell), got {n_keys}")
    segments = n_keys // cells - (0 if loop else 1)
    if duration is not None:  # frames per key so that the whole walk lasts `duration` seconds
        if not (math.isfinite(duration) and duration > 0):
            raise SettingError(f"{{duration}} {duration}: must be a positive number of seconds", "duration")
        if duration * fps > MAX_FRAMES:
            raise SettingError(
                f"{{duration}} {duration} at {{fps}} {fps}: {round(duration * fps)} frames, more than {MAX_FRAMES}",
                "duration",
                "fps",
            )
        frames_per_key = max(1, round(duration * fps / max(1, segments)))
    if frames_per_key < 1:
        raise SettingError(f"{{frames_per_key}} {frames_per_key}: must be at least 1", "frames_per_key")
    total = segments * frames_per_key + (0 if loop else 1)
    if total > MAX_FRAMES:
        raise SettingError(
            f"{{frames_per_key}} {frames_per_key} with {n_keys} keyframes: {total} frames, more than {MAX_FRAMES}",
            "frames_per_key",
        )
    return frames_per_key, total


def interpolation_video(
    G: Generator,
    path: str | os.PathLike[str],
    *,
    seeds: Sequence[int] | None = None,
    latents: Tensor | None = None,
    interp: str = "lerp-w",
    frames_per_key: int = 60,
    duration: float | None = None,
    fps: float = 30.0,
    grid: tuple[int, int] = (1, 1),
    loop: bool = False,
    psi: float = 1.0,
    truncation_cutoff: int | None = None,
    class_idx: int | None = None,
    noise_mode: NoiseMode = "const",
    batch_size: int = 8,
    progress: bool | None = None,
) -> Path:
    """An interpolation video through keyframes; a RxC grid splits the keyframes into rows*cols independent walks.

    With a grid, keyframes are dealt round-robin: cell j walks through keys j, j + cells, j + 2 cells, ... (so
    `--seeds 0-7 --grid 2x2` gives four walks of two keys each). `duration` (seconds) sets the frames per key from
    `fps` so that each walk lasts that long, instead of `frames_per_key`.

    >>> import tempfile
    >>> from stylegan.testing import tiny_generator
    >>> p = interpolation_video(tiny_generator(), tempfile.mkdtemp() + "/w.gif", seeds=[1, 2], frames_per_key=2)
    >>> read_video(p).shape
    (3, 16, 16, 3)
    """
    from .generation import _in_memory_limit, check_grid_pixels

    if Path(path).suffix.lower() not in VIDEO_SUFFIXES:
        raise SettingError(f"{{path}} {path}: use a .mp4 or .gif file name", path="path")
    if (seeds is None) == (latents is None):
        raise SettingError("give keyframes with either {seeds} or {latents}", seeds="seeds", latents="latents")
    rows, cols = grid
    cells = rows * cols
    keys_seeds = list(seeds) if seeds is not None else None
    n_keys = len(keys_seeds) if keys_seeds is not None else (0 if latents is None else len(latents))
    frames_per_key, total = video_frames(
        n_keys, grid=grid, frames_per_key=frames_per_key, duration=duration, fps=fps, loop=loop
    )
    check_grid_pixels(rows, cols, G.img_resolution, G.img_resolution)
    check_video_memory(path, total, rows * G.img_resolution, cols * G.img_resolution)
    walk_bytes = total * cells * G.num_ws * G.w_dim * 4  # the latent paths are computed before rendering
    if walk_bytes > _in_memory_limit():
        raise SettingError(
            f"{{frames_per_key}} {frames_per_key}: {total} frames x {cells} walks need {walk_bytes / 2**30:.1f} GiB "
            "of latents; make fewer frames",
            "frames_per_key",
        )
    per_cell = n_keys // cells
    walks = []
    for j in range(cells):
        idx = [j + cells * i for i in range(per_cell)]
        walks.append(
            interpolation_ws(
                G,
                seeds=[keys_seeds[i] for i in idx] if keys_seeds is not None else None,
                latents=latents[idx] if latents is not None else None,
                interp=interp,
                frames_per_key=frames_per_key,
                loop=loop,
                psi=psi,
                truncation_cutoff=truncation_cutoff,
                class_idx=class_idx,
            )
        )
    return render_video(
        G,
        path,
        walks,
        grid=grid,
        fps=fps,
        noise_mode=noise_mode,
        batch_size=batch_size,
        progress=progress,
        desc="interpolating",
    )


__all__ = [
    "INTERPOLATIONS",
    "VideoWriter",
    "interpolate_keys",
    "interpolation_frames",
    "interpolation_video",
    "interpolation_ws",
    "MAX_FRAMES",
    "check_video_memory",
    "read_video",
    "video_frames",
    "render_video",
    "write_video",
]
