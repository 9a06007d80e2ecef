"""How cost grows on this machine: generator images/s and peak memory per resolution and batch size, and training
kimg/h per preset, as Markdown tables.

    python benchmarks/cost_table.py generator [--resolutions 32,64,...,1024] [--batches 1,8]
    python benchmarks/cost_table.py train [--presets cpu-tiny:32,cpu-small:32,auto:64,paper256:256:8]

Generator: the `auto` preset's network at each resolution (random weights, float32, noise const), each size in a
fresh process (so the peak resident memory is its own), the median of --iters forward passes after one warm-up.

Training: `stylegan train` on random images at the preset's resolution for two ticks of about three steps each; the
second tick's seconds per kimg (the first holds start-up and warm-up) give kimg/h. Once with `--precision fp32`,
once with `--precision auto` (bfloat16 where the CPU runs it natively). `preset:res:batch` overrides the preset's
batch size (paper256's 64 images per step take minutes on two cores).

Writes the tables to stdout and, with --out, JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generator_worker(res: int, batch: int, iters: int) -> dict[str, float]:
    import torch

    from stylegan.networks import Generator
    from stylegan.presets import PRESETS

    torch.manual_seed(0)
    G = Generator(PRESETS["auto"].generator(res)).eval().requires_grad_(False)  # type: ignore[arg-type]
    z = torch.randn(batch, G.z_dim)
    times = []
    with torch.no_grad():
        G(z, None, noise_mode="const")
        for _ in range(iters):
            t0 = time.perf_counter()
            G(z, None, noise_mode="const")
            times.append(time.perf_counter() - t0)
    sec = statistics.median(times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"res": res, "batch": batch, "img_s": batch / sec, "sec": sec, "peak_mb": peak}


def run_generator(args: argparse.Namespace) -> list[dict[str, float]]:
    rows = []
    for res in map(int, args.resolutions.split(",")):
        for batch in map(int, args.batches.split(",")):
            cmd = [sys.executable, __file__, "_gen", str(res), str(batch), str(args.iters)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  {res} px batch {batch}: {rows[-1]['img_s']:.3g} img/s", file=sys.stderr, flush=True)
    print("| resolution | batch | img/s | s/batch | peak memory |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['res']} | {r['batch']} | {r['img_s']:.3g} | {r['sec']:.3g} | {r['peak_mb']:.0f} MB |")
    return rows


def random_dataset(path: Path, res: int, n: int = 64) -> Path:
    """n random RGB images at res x res, written as a dataset zip."""
    import numpy as np

    from stylegan.data.prepare import prepare_dataset
    from stylegan.images import save_image

    src = path.parent / f"src{res}"
    src.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        save_image(rng.integers(0, 256, (res, res, 3), dtype=np.uint8), src / f"{i}.png")
    prepare_dataset(src, path, resolution=res)
    return path


def train_rate(preset: str, res: int, precision: str, work: Path, batch: int | None = None) -> dict[str, object]:
    from stylegan.presets import PRESETS

    data = work / f"d{res}.zip"
    if not data.exists():
        random_dataset(data, res)
    batch = batch or PRESETS[preset].resolve(res).batch or 32
    tick = 3 * batch / 1000
    outdir = work / f"runs-{preset}-{precision}"
    cmd = [sys.executable, "-m", "stylegan", "train", "--data", str(data), "--outdir", str(outdir), "--cfg", preset]
    cmd += ["--kimg", str(2 * tick), "--tick", str(tick), "--snap", "1000", "--precision", precision]
    cmd += ["--batch", str(batch)]
    subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ})
    stats = [json.loads(line) for line in next(outdir.glob("*/stats.jsonl")).read_text().splitlines()]
    sec_per_kimg = float(stats[-1]["Timing/sec_per_kimg"])
    return {"preset": preset, "res": res, "batch": batch, "precision": precision, "kimg_h": 3600 / sec_per_kimg}


def run_train(args: argparse.Namespace) -> list[dict[str, object]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for item in args.presets.split(","):
            preset, res, *batch = item.split(":")
            for precision in ("fp32", "auto"):
                rows.append(train_rate(preset, int(res), precision, Path(tmp), int(batch[0]) if batch else None))
                print(f"  {item} {precision}: {rows[-1]['kimg_h']:.3g} kimg/h", file=sys.stderr, flush=True)
    print("| preset | resolution | batch | precision | kimg/h |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['preset']} | {r['res']} | {r['batch']} | {r['precision']} | {r['kimg_h']:.3g} |")
    return rows


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "_gen":
        print(json.dumps(generator_worker(*map(int, sys.argv[2:]))))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    g = sub.add_parser("generator")
    g.add_argument("--resolutions", default="32,64,128,256,512,1024")
    g.add_argument("--batches", default="1,8")
    g.add_argument("--iters", type=int, default=3)
    g.add_argument("--out", default=None)
    t = sub.add_parser("train")
    t.add_argument("--presets", default="cpu-tiny:32,cpu-small:32,auto:64,paper256:256:8")
    t.add_argument("--out", default=None)
    args = ap.parse_args()
    rows = run_generator(args) if args.what == "generator" else run_train(args)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
