"""Evidence that training learns: a small StyleGAN2 on scikit-learn's handwritten digits, scored before and after.

The 1797 bundled 8x8 digits (UCI optdigits, BSD) are upscaled to 32x32 grayscale, written as an NVIDIA-layout
dataset with `stylegan dataset prepare`, and trained on with the library's loop for a fixed CPU budget. Fakes from
G_ema are scored at the start and the end with figures that need no download:

- digit IS: exp(E_x KL(p(y|x) || p(y))) with an SVM digit classifier (trained on the reals) in place of
  Inception: 1 = no recognisable or no varied digits, 10 = every class, each confidently (reals score about 9);
- confidence: mean max p(y|x) of the fakes;  class entropy: entropy of the predicted-class histogram (max 2.30);
- FD64: Fréchet distance between reals and fakes on 8x8 area-downsampled pixels (lower is better; reals vs a
  disjoint half of the reals give the floor).

Example (prints a table and writes sample grids and summary.json into --out):
    python benchmarks/train_quality.py --minutes 12 --out bench-quality --threads 1 [--cond]

Measured here (12 minutes on one busy core, about 7 kimg; gamma 1, ADA; reals = the classifier on held-out reals):

                  unconditional            conditional (--cond)       reals
                  start      end           start      end
    digit IS      1.91       4.44          1.71       7.66             7.66
    confidence    0.85       0.91          0.84       0.93             0.92
    class entropy 0.81       1.67          0.63       2.27             2.30
    FD64          2274       297           2420       244              12.5
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def make_dataset(out: Path) -> Path:
    """sklearn digits -> 32x32 PNGs in class folders -> `stylegan dataset prepare` zip."""
    from PIL import Image
    from sklearn.datasets import load_digits

    from stylegan.data import prepare_dataset

    dest = out / "digits32.zip"
    if dest.exists():
        return dest
    digits = load_digits()
    src = out / "digits-src"
    for i, (img, y) in enumerate(zip(digits.images, digits.target)):
        (src / str(y)).mkdir(parents=True, exist_ok=True)
        a = np.clip(img / 16 * 255, 0, 255).astype(np.uint8)
        Image.fromarray(a).resize((32, 32), Image.Resampling.BICUBIC).save(src / str(y) / f"{i:04d}.png")
    prepare_dataset(src, dest, resolution=32, channels=1, labels="from-folders")
    return dest


def to_8x8(images: np.ndarray) -> np.ndarray:
    """uint8 [N, 1, 32, 32] (or float in [-1, 1]) -> float [N, 64] in 0..16 (the classifier's input)."""
    x = torch.as_tensor(images, dtype=torch.float32)
    if x.min() < 0:  # [-1, 1] -> [0, 255]
        x = ((x + 1) * 127.5).clamp(0, 255)
    return (F.avg_pool2d(x, 4) / 255 * 16).flatten(1).numpy()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||² + Tr(S_a + S_b - 2 (S_a S_b)^½)."""
    from scipy import linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s_a @ s_b)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * covmean.real))


class Scorer:
    """Digit classifier and reference statistics built from the real images."""

    def __init__(self, reals_8x8: np.ndarray, labels: np.ndarray) -> None:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        self.reals = reals_8x8
        self.clf = CalibratedClassifierCV(SVC(gamma=0.001, C=10), ensemble=False).fit(reals_8x8, labels)

    def score(self, fakes_8x8: np.ndarray) -> dict[str, float]:
        p = self.clf.predict_proba(fakes_8x8)
        py = p.mean(0)
        kl = (p * (np.log(p + 1e-12) - np.log(py + 1e-12))).sum(1).mean()
        hist = np.bincount(p.argmax(1), minlength=10) / len(p)
        return {
            "digit_IS": float(np.exp(kl)),
            "confidence": float(p.max(1).mean()),
            "class_entropy": float(-(hist * np.log(hist + 1e-12)).sum()),
            "FD64": frechet_distance(self.reals, fakes_8x8),
        }


@torch.no_grad()
def fakes_of(G: torch.nn.Module, n: int, seed: int = 1) -> np.ndarray:
    """n images of G (a conditional G gets the classes 0..9 in turn)."""
    z = torch.randn([n, G.z_dim], generator=torch.Generator().manual_seed(seed))
    c = torch.eye(G.c_dim)[torch.arange(n) % G.c_dim] if G.c_dim else torch.zeros(n, 0)
    out = [G(zz, cc if G.c_dim else None, noise_mode="const") for zz, cc in zip(z.split(100), c.split(100))]
    return torch.cat(out).numpy()


def save_grid(images: np.ndarray, path: Path, rows: int = 8, cols: int = 12) -> None:
    from stylegan.images import make_grid, save_image, to_uint8

    save_image(make_grid(to_uint8(torch.as_tensor(images[: rows * cols])), rows, cols, pad=1), path)


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=15.0, help="CPU budget for training (wall clock).")
    ap.add_argument("--kimg", type=float, default=1000.0, help="Upper bound on training length.")
    ap.add_argument("--out", type=Path, default=Path("bench-quality"))
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (1 on a busy machine).")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--gamma", type=float, default=1.0, help="R1 weight.")
    ap.add_argument("--aug", choices=["ada", "none"], default="ada")
    ap.add_argument("--cond", action="store_true", help="Train a class-conditional model on the digit labels.")
    ap.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto", help="Training precision.")
    ap.add_argument("--seed", type=int, default=0, help="Seed of the networks' initialisation and of training.")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    from stylegan.data import ImageDataset
    from stylegan.train import Reporter, TrainOptions, build_config, train
    from stylegan.train.loop import StopRequest, build_networks

    args.out.mkdir(parents=True, exist_ok=True)
    data = make_dataset(args.out)
    ds = ImageDataset(data, use_labels=True)
    reals = np.stack([ds[i][0] for i in range(len(ds))])
    labels = np.array([int(ds.get_label(i).argmax()) for i in range(len(ds))])
    scorer = Scorer(to_8x8(reals), labels)
    order = np.random.RandomState(0).permutation(len(reals))  # the dataset is sorted by class: shuffle the split
    a, b = order[: len(order) // 2], order[len(order) // 2 :]
    floor = Scorer(to_8x8(reals[a]), labels[a]).score(to_8x8(reals[b]))

    cfg = build_config(
        "cpu-small",
        resolution=32,
        img_channels=1,
        c_dim=10 if args.cond else 0,
        options=TrainOptions(
            data_path=str(data),
            cond=args.cond,
            channel_base=2048,
            channel_max=128,
            batch=16,
            z_dim=128,
            w_dim=128,
            r1_gamma=args.gamma,
            augment_kind=args.aug,
            kimg=args.kimg,
            kimg_per_tick=2.0,
            snap=10_000,
            image_grid=(8, 12),
            precision=args.precision,
            seed=args.seed,
        ),
    )
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, cache=True))
    _, _, G_init = build_networks(cfg, torch.device("cpu"))  # the very networks train() starts from
    start_fakes = fakes_of(G_init, args.samples)
    start = scorer.score(to_8x8(start_fakes))
    save_grid(start_fakes, args.out / "fakes-start.png")

    run_dir = args.out / "run"
    reporter = Reporter(run_dir, stream=sys.stderr)
    stop = StopRequest(reporter)
    timer = threading.Timer(args.minutes * 60, lambda: setattr(stop, "requested", True))
    timer.daemon = True
    t0 = time.monotonic()
    timer.start()
    result = train(cfg, run_dir, reporter=reporter, stop=stop, resume=(run_dir / "training-state.pt").exists())
    timer.cancel()
    seconds = time.monotonic() - t0

    import stylegan.io

    G_end = stylegan.io.load(result.snapshot)
    end_fakes = fakes_of(G_end, args.samples)
    end = scorer.score(to_8x8(end_fakes))
    save_grid(end_fakes, args.out / "fakes-end.png")
    summary = {
        "kimg": result.cur_nimg / 1000,
        "train_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
        "start": start,
        "end": end,
        "reals_floor": floor,
        "config": {
            "resolution": 32,
            "cbase": 2048,
            "cmax": 128,
            "batch": 16,
            "gamma": cfg.loss.r1_gamma,
            "augment": args.aug,
            "cond": args.cond,
            "precision": args.precision,
            "seed": args.seed,
        },
    }
    buf = io.StringIO()
    buf.write(f"{'':14s}{'start':>10s}{'end':>10s}{'reals':>10s}\n")
    for k in start:
        buf.write(f"{k:14s}{start[k]:10.3f}{end[k]:10.3f}{floor[k]:10.3f}\n")
    buf.write(f"trained {summary['kimg']:.1f} kimg in {seconds / 60:.1f} min; grids: {args.out}/fakes-*.png\n")
    print(buf.getvalue(), end="")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
