"""The face-video pipeline measured: training loss curve, identity of the swapped faces, and `apply` speed.

The data are the issue's: identity A is 50 layer-0 variations of seed 6 of the bundled network (the same
generated identity in 50 variants), identity B a video of a 384 x 384 window panning over scikit-image's astronaut
photo (--frames frames). The model is trained for --steps (continued when --out already holds a shorter run), then
the video is swapped.

Identity: dlib's face descriptor (the ResNet of `face-recognition-models`, 128-d; the same person is usually
closer than 0.6) of each swapped face, compared with the centroid of A's descriptors and with the same frame's
original face (B). Faces are located in the original frame (the detector may not find a swapped, stylised face);
A's images are described whole (they are aligned crops in which the detector finds no face). Reported: mean
distances swapped->A, swapped->B, and the original B faces' distance to A for reference.

Speed: frames per second of `swap_video` (detection, alignment, model, blending, H.264 encoding) on this machine.

Writes into --out: results.json, loss.png (the loss curve), strip.jpg (original frames over swapped ones), the
model and the videos. `--docs DIR` also copies loss.png and strip.jpg there.

Example (about 25 minutes on one core):
    python benchmarks/faceswap_quality.py --out bench-faceswap --steps 1000 --docs docs/faceswap
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def dlib_models() -> tuple[object, object, object]:
    """dlib's face detector, 68-point shape predictor and face recognition ResNet."""
    import dlib

    from stylegan.inversion.alignment import landmark_model_path

    folder = landmark_model_path().parent
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(landmark_model_path())),
        dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat")),
    )


def descriptor(image: np.ndarray, rect: object, predictor: object, facerec: object) -> np.ndarray:
    shape = predictor(image, rect)  # type: ignore[operator]
    return np.array(facerec.compute_face_descriptor(image, shape))  # type: ignore[attr-defined]


def identity_distances(a_dir: Path, before: np.ndarray, after: np.ndarray) -> dict[str, float]:
    import dlib

    from stylegan.inversion.alignment import load_rgb

    detector, predictor, facerec = dlib_models()
    a_desc = []
    for f in sorted(a_dir.glob("*.png")):
        img = np.asarray(load_rgb(f))
        img = np.kron(img, np.ones((150 // img.shape[0] + 1,) * 2 + (1,), dtype=np.uint8))  # dlib wants >= 150 px
        a_desc.append(descriptor(img, dlib.rectangle(0, 0, img.shape[1] - 1, img.shape[0] - 1), predictor, facerec))
    centroid = np.mean(a_desc, axis=0)
    to_a, to_b, b_to_a = [], [], []
    for orig, swapped in zip(before, after, strict=True):
        rects = sorted(detector(orig, 1), key=lambda r: -r.width() * r.height())  # type: ignore[operator]
        if not rects:
            continue
        d_orig = descriptor(orig, rects[0], predictor, facerec)
        d_swap = descriptor(np.ascontiguousarray(swapped), rects[0], predictor, facerec)
        to_a.append(np.linalg.norm(d_swap - centroid))
        to_b.append(np.linalg.norm(d_swap - d_orig))
        b_to_a.append(np.linalg.norm(d_orig - centroid))
    return {
        "frames_measured": len(to_a),
        "swapped_to_a": float(np.mean(to_a)),
        "swapped_to_original_b": float(np.mean(to_b)),
        "original_b_to_a": float(np.mean(b_to_a)),
        "a_spread": float(np.mean([np.linalg.norm(d - centroid) for d in a_desc])),
    }


def loss_plot(losses: list[list[float]], path: Path, width: int = 640, height: int = 320) -> None:
    """A line chart of the loss curve (A red, B blue) over steps, drawn with Pillow."""
    from PIL import Image, ImageDraw

    arr = np.asarray(losses, dtype=np.float64)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    left, right, top, bottom = 50, width - 10, 10, height - 30
    hi = float(arr[:, 1:].max()) * 1.05
    draw.rectangle((left, top, right, bottom), outline="black")
    for frac in (0, 0.5, 1):
        y = bottom - frac * (bottom - top)
        draw.text((4, y - 6), f"{frac * hi:.2f}", fill="black")
    draw.text((left, bottom + 8), "step 0", fill="black")
    draw.text((right - 70, bottom + 8), f"step {int(arr[-1, 0])}", fill="black")
    for col, colour in ((1, (200, 40, 40)), (2, (40, 70, 200))):
        pts = [
            (left + s / arr[-1, 0] * (right - left), bottom - v / hi * (bottom - top))
            for s, v in zip(arr[:, 0], arr[:, col], strict=True)
        ]
        draw.line(pts, fill=colour, width=2)
    draw.text((right - 160, top + 6), "loss A (red), B (blue)", fill="black")
    img.save(path)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="bench-faceswap")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--docs", default=None)
    args = ap.parse_args(argv)

    from stylegan.faceswap.apply import swap_video
    from stylegan.faceswap.train import state_path, train_faceswap
    from stylegan.images import save_image
    from stylegan.testing import astronaut_pan_video
    from stylegan.video import read_video

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    a_dir, video, model_path = out / "A", out / "B.mp4", out / "swap.safetensors"
    if not a_dir.is_dir():
        cmd = ["latent", "variations", "--latent", "seed:6", "-n", "50", "--layers", "0", "--outdir", str(a_dir)]
        subprocess.run([sys.executable, "-m", "stylegan", *cmd], check=True, env={**os.environ})
    if not video.is_file():
        astronaut_pan_video(video, frames=args.frames, size=384)
    t0 = time.perf_counter()
    model = train_faceswap(
        a_dir, video, model_path, width=args.width, steps=args.steps, resume=state_path(model_path).is_file()
    )
    train_seconds = time.perf_counter() - t0
    report = swap_video(model, video, out / "swapped.mp4", progress=False)
    before, after = read_video(video), read_video(out / "swapped.mp4")
    diff = np.abs(before.astype(int) - after.astype(int)).mean(-1)
    picks = np.linspace(0, len(before) - 1, 4).round().astype(int)
    strip = np.concatenate([np.concatenate(list(before[picks]), 1), np.concatenate(list(after[picks]), 1)], 0)
    save_image(strip[::2, ::2], out / "strip.jpg")
    loss_plot(model.info.losses, out / "loss.png")
    result = {
        "steps": model.info.steps,
        "train_seconds_this_call": round(train_seconds, 1),
        "loss_first": model.info.losses[0],
        "loss_last": model.info.losses[-1],
        "apply_frames_per_second": round(report.frames_per_second, 2),
        "frames": report.frames,
        "faces_detected": report.detected,
        "mean_change_background_rows": float(diff[:, 250:].mean()),
        **identity_distances(a_dir, before, after),
    }
    (out / "results.json").write_text(json.dumps(result, indent=1))
    if args.docs:
        Path(args.docs).mkdir(parents=True, exist_ok=True)
        for name in ("strip.jpg", "loss.png"):
            shutil.copy(out / name, Path(args.docs) / name)
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
