"""Does Info-StyleGAN's categorical code find the digits? A StyleGAN2 trained with `--info-cat 10` (unconditional:
it never sees a label) on scikit-learn's handwritten digits, as `train_quality.py` trains one, then each code value
is rendered and its images are sorted by the same SVM digit classifier.

Purity: for each code value, the share of its images in its most common predicted digit, averaged over the code
values (1 = every code makes one digit only). Chance is the purity of a random assignment: the same predictions
shuffled across the code values (so the generator's own class balance and the sample size per code are kept),
averaged over many shuffles; a generator whose codes ignore the digits scores it. Also reported: how many distinct
digits are some code's most common one (10 = the codes split the digits one to one), and the normalised mutual
information between code and predicted digit (0 = independent, 1 = one determines the other).

Writes into --out: `info-grid.png` (one row per code value, the same latents in every column), `summary.json`, and
the run folder `run/`, from which a second call resumes (training goes on until --kimg; --minutes bounds each call).

Example (the long run; a smoke test is `--minutes 0.5 --kimg 0.1 --samples-per-code 20`):
    python benchmarks/info_purity.py --minutes 60 --kimg 1000 --out bench-info --threads 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_quality import Scorer, make_dataset, save_grid, to_8x8  # the benchmark beside this one


def purity(codes: np.ndarray, classes: np.ndarray, n_codes: int) -> float:
    """Mean over code values of the share of their images in their most common class.

    >>> purity(np.array([0, 0, 1, 1]), np.array([3, 3, 5, 6]), 2)
    0.75
    """
    shares = []
    for k in range(n_codes):
        mine = classes[codes == k]
        if len(mine):
            shares.append(np.bincount(mine).max() / len(mine))
    return float(np.mean(shares))


def chance_purity(codes: np.ndarray, classes: np.ndarray, n_codes: int, shuffles: int = 500, seed: int = 0) -> float:
    """The purity of a random assignment: `classes` shuffled across the codes, averaged over `shuffles`."""
    rng = np.random.RandomState(seed)
    return float(np.mean([purity(codes, rng.permutation(classes), n_codes) for _ in range(shuffles)]))


def normalised_mutual_information(codes: np.ndarray, classes: np.ndarray) -> float:
    """I(code; class) / sqrt(H(code) H(class)) from the joint histogram."""
    joint = np.zeros((codes.max() + 1, classes.max() + 1))
    np.add.at(joint, (codes, classes), 1)
    p = joint / joint.sum()
    pc, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    mi = float((p[nz] * np.log(p[nz] / (pc @ py)[nz])).sum())
    h = [float(-(q[q > 0] * np.log(q[q > 0])).sum()) for q in (pc, py)]
    return mi / np.sqrt(h[0] * h[1]) if min(h) > 0 else 0.0


@torch.no_grad()
def code_images(G: torch.nn.Module, info: object, per_code: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """`per_code` images of every categorical value (continuous codes 0), the same latents for every value:
    (images float [cat * per_code, C, H, W] in [-1, 1], the code of each)."""
    from stylegan.infocodes import InfoCodes, info_labels

    assert isinstance(info, InfoCodes)
    z = torch.randn([per_code, G.z_dim], generator=torch.Generator().manual_seed(seed))
    out, codes = [], []
    for k in range(info.cat):
        c = info_labels(info, k, n=per_code)
        out += [G(zz, cc, noise_mode="const") for zz, cc in zip(z.split(100), c.split(100))]
        codes += [k] * per_code
    return torch.cat(out).numpy(), np.array(codes)


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="CPU budget of this call (wall clock).")
    ap.add_argument("--kimg", type=float, default=1000.0, help="Training length (a later call resumes towards it).")
    ap.add_argument("--out", type=Path, default=Path("bench-info"))
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (1 on a busy machine).")
    ap.add_argument("--cat", type=int, default=10, help="Values of the categorical code (--info-cat).")
    ap.add_argument("--weight", type=float, default=1.0, help="Weight of the Q loss (--info-weight).")
    ap.add_argument("--samples-per-code", type=int, default=200)
    ap.add_argument("--cols", type=int, default=12, help="Columns of the grid (one row per code value).")
    ap.add_argument("--gamma", type=float, default=1.0, help="R1 weight.")
    ap.add_argument("--aug", choices=["ada", "none"], default="ada")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    import stylegan.io
    from stylegan.data import ImageDataset
    from stylegan.infocodes import read_info_codes
    from stylegan.train import Reporter, TrainOptions, build_config, train
    from stylegan.train.loop import StopRequest

    args.out.mkdir(parents=True, exist_ok=True)
    data = make_dataset(args.out)
    ds = ImageDataset(data, use_labels=True)
    reals = np.stack([ds[i][0] for i in range(len(ds))])
    labels = np.array([int(ds.get_label(i).argmax()) for i in range(len(ds))])
    scorer = Scorer(to_8x8(reals), labels)

    cfg = build_config(
        "cpu-small",
        resolution=32,
        img_channels=1,
        options=TrainOptions(
            data_path=str(data),
            channel_base=2048,
            channel_max=128,
            batch=16,
            z_dim=128,
            w_dim=128,
            r1_gamma=args.gamma,
            augment_kind=args.aug,
            kimg=args.kimg,
            kimg_per_tick=min(2.0, args.kimg),
            snap=10_000,
            image_grid=(args.cat, 12),
            info_cat=args.cat,
            info_weight=args.weight,
        ),
    )
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, cache=True))
    run_dir = args.out / "run"
    resume = (run_dir / "training-state.pt").exists()
    reporter = Reporter(run_dir, stream=sys.stderr)
    stop = StopRequest(reporter)
    timer = threading.Timer(args.minutes * 60, lambda: setattr(stop, "requested", True))
    timer.daemon = True
    t0 = time.monotonic()
    timer.start()
    result = train(cfg, run_dir, reporter=reporter, stop=stop, resume=resume)
    timer.cancel()
    seconds = time.monotonic() - t0
    snapshot = result.snapshot or sorted(run_dir.glob("network-snapshot-*.safetensors"))[-1]

    info = read_info_codes(snapshot)
    G = stylegan.io.load(snapshot)
    images, codes = code_images(G, info, args.samples_per_code)
    predicted = scorer.clf.predict(to_8x8(images))
    dominant = [int(np.bincount(predicted[codes == k], minlength=10).argmax()) for k in range(args.cat)]
    per = args.samples_per_code
    grid = images.reshape(args.cat, per, *images.shape[1:])[:, : min(args.cols, per)]
    save_grid(grid.reshape(-1, *images.shape[1:]), args.out / "info-grid.png", rows=args.cat, cols=grid.shape[1])
    summary = {
        "kimg": result.cur_nimg / 1000,
        "train_seconds_this_call": round(seconds, 1),
        "resumed": resume,
        "threads": torch.get_num_threads(),
        "purity": purity(codes, predicted, args.cat),
        "chance_purity": chance_purity(codes, predicted, args.cat),
        "nmi": normalised_mutual_information(codes, predicted),
        "dominant_digit_per_code": dominant,
        "distinct_dominant_digits": len(set(dominant)),
        "samples_per_code": per,
        "config": {"resolution": 32, "cbase": 2048, "cmax": 128, "batch": 16, "gamma": cfg.loss.r1_gamma,
                   "augment": args.aug, "info_cat": args.cat, "info_weight": args.weight},
    }  # fmt: skip
    print(
        f"purity {summary['purity']:.3f} (chance {summary['chance_purity']:.3f}), NMI {summary['nmi']:.3f}, "
        f"{summary['distinct_dominant_digits']} distinct dominant digits {dominant}; "
        f"{summary['kimg']:.2f} kimg; grid: {args.out}/info-grid.png"
    )
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
