"""Does bfloat16 training lose quality? float32 and bf16 runs of the training-quality benchmark, same data, same
kimg, several seeds each, compared with the spread between seeds of the same precision (run-to-run noise).

    python benchmarks/precision_quality.py --kimg 6 --seeds 0,1 --out bench-precision --threads 1

Each run is `train_quality.py --kimg K --minutes <no limit> --precision P --seed S` (digits at 32x32, FD64 and the
digit-classifier scores of its docstring). Prints one row per run, the mean per precision, the bf16 - fp32
difference of the means and the largest difference between two seeds of one precision; writes summary.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import train_quality  # this folder is on sys.path when the script runs

METRICS = ("FD64", "digit_IS", "confidence", "class_entropy")


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kimg", type=float, default=6.0, help="Training length of every run.")
    ap.add_argument("--seeds", default="0,1", help="Comma-separated seeds; each precision runs every seed.")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--out", type=Path, default=Path("bench-precision"))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--samples", type=int, default=1000)
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    precisions = args.precisions.split(",")
    runs: dict[str, dict[int, dict[str, float]]] = {p: {} for p in precisions}
    for seed in seeds:
        for precision in precisions:
            options = {"kimg": args.kimg, "minutes": 100000, "precision": precision, "seed": seed}
            options.update(samples=args.samples, out=args.out / f"{precision}-seed{seed}")
            if args.threads:
                options["threads"] = args.threads
            summary: dict = train_quality.main([f"--{k}={v}" for k, v in options.items()])
            minutes = summary["train_seconds"] / 60
            runs[precision][seed] = {**summary["end"], "kimg": summary["kimg"], "minutes": minutes}

    metrics = [m for m in METRICS if m in next(iter(runs[precisions[0]].values()))]
    lines = [f"{'run':16s}" + "".join(f"{m:>15s}" for m in metrics) + f"{'kimg':>8s}{'minutes':>9s}"]
    for precision in precisions:
        for seed, r in runs[precision].items():
            lines.append(
                f"{precision + ' seed ' + str(seed):16s}"
                + "".join(f"{r[m]:15.3f}" for m in metrics)
                + f"{r['kimg']:8.1f}{r['minutes']:9.1f}"
            )
    means = {p: {m: statistics.mean(r[m] for r in runs[p].values()) for m in metrics} for p in precisions}
    for p in precisions:
        lines.append(f"{p + ' mean':16s}" + "".join(f"{means[p][m]:15.3f}" for m in metrics))
    if len(precisions) == 2:
        a, b = precisions
        lines.append(f"{b + ' - ' + a:16s}" + "".join(f"{means[b][m] - means[a][m]:15.3f}" for m in metrics))
    noise = {
        m: max(
            (max(r[m] for r in runs[p].values()) - min(r[m] for r in runs[p].values()) for p in precisions),
            default=0.0,
        )
        for m in metrics
    }
    lines.append(f"{'seed spread':16s}" + "".join(f"{noise[m]:15.3f}" for m in metrics))
    print("\n".join(lines))
    result = {"runs": runs, "means": means, "seed_spread": noise, "kimg": args.kimg, "seeds": seeds}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
