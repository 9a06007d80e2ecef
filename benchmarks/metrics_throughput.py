"""Feature-extraction throughput of the metric networks on this machine: images/s and time per 10k samples.

    python benchmarks/metrics_throughput.py                   # offline Inception + LPIPS-VGG16 (ST), all threads
    python benchmarks/metrics_throughput.py --threads 1 --batch 16 --iters 3
    python benchmarks/metrics_throughput.py --json out.json

What is timed (after warm-up calls, the median of `--iters` timed calls):
- Inception (FID/KID/IS/PR offline): uint8 images of `--size` (256) px, resized to 299 inside, 2048-d features.
  "per 10k" = 10,000 images; fid50k_full of FFHQ = 50k fakes + 70k reals the first time (reals are cached after).
- LPIPS-VGG16 (PPL and projection): [0, 255] images of 256 px (PPL of 256-px networks; 1024-px face crops are
  128 px). One PPL sample = 2 images, so "per 10k PPL samples" = 20,000 images.
- NVIDIA's files too, when they are on this machine (`stylegan metrics --list` shows where).
Generator time is not included (see benchmarks/generator_speed.py). The machine may be shared: the load average
is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import torch


def _time(fn: Callable[[], Any], iters: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _row(name: str, batch: int, seconds: float, images_per_sample: int = 1) -> dict[str, Any]:
    ips = batch / seconds
    return {
        "network": name,
        "batch": batch,
        "img_per_s": round(ips, 2),
        "s_per_10k_samples": round(10_000 * images_per_sample / ips, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2, help="untimed calls first (TorchScript's profiling runs)")
    ap.add_argument("--size", type=int, default=256, help="input image size in pixels")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)
    if args.threads:
        torch.set_num_threads(args.threads)

    from stylegan.metrics.detectors import find_nvidia_file, find_offline_inception, load_detector
    from stylegan.metrics.perceptual import find_offline_lpips, load_perceptual

    g = torch.Generator().manual_seed(0)
    imgs = torch.randint(0, 256, (args.batch, 3, args.size, args.size), generator=g, dtype=torch.uint8)
    rows = []
    detectors = []
    if find_offline_inception() is not None:
        detectors.append(("inception", "offline"))
    if find_nvidia_file("inception") is not None:
        detectors.append(("inception", "nvidia"))
    if find_nvidia_file("vgg16") is not None:
        detectors.append(("vgg16", "nvidia"))
    for kind, source in detectors:
        det = load_detector(kind, source)  # type: ignore[arg-type]
        sec = _time(lambda det=det: det.features(imgs), args.iters, args.warmup)
        rows.append(_row(f"{det.info.name} features", args.batch, sec))
    nets = []
    if find_offline_lpips() is not None:
        nets.append("offline")
    if find_nvidia_file("vgg16") is not None:
        nets.append("nvidia")
    x = imgs.float()
    for source in nets:
        net = load_perceptual(source)  # type: ignore[arg-type]
        with torch.no_grad():
            sec = _time(lambda net=net: net(x, resize_images=False, return_lpips=True), args.iters, args.warmup)
        rows.append(_row(f"{net.info.name} LPIPS (PPL: 2 img/sample)", args.batch, sec, images_per_sample=2))
    if not rows:
        raise SystemExit("no metric network found: `make install` adds the offline ones")

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"load average {load:.2f}, {args.size}x{args.size} inputs, batch {args.batch}"
    )
    print(f"{'network':48s} {'img/s':>8s} {'s per 10k samples':>18s}")
    for r in rows:
        print(f"{r['network']:48s} {r['img_per_s']:8.2f} {r['s_per_10k_samples']:18.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"threads": torch.get_num_threads(), "load_average": load, "size": args.size, "rows": rows}, f, indent=2
            )


if __name__ == "__main__":
    main()
