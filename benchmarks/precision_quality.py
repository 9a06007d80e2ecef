"""Does bfloat16 training lose quality? float32 and bf16 runs of the training-quality benchmark, same data, same
kimg, several seeds each, compared with the spread between seeds of the same precision (run-to-run noise).

    python benchmarks/precision_quality.py --kimg 8 --seeds 0,1 --out bench-precision --threads 1
    python benchmarks/precision_quality.py --merge bench-a bench-b    # one table from runs made in parallel

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
    ap.add_argument("--kimg", type=float, default=8.0, help="Training length of every run.")
    ap.add_argument("--seeds", default="0,1", help="Comma-separated seeds; each precision runs every seed.")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--out", type=Path, default=Path("bench-precision"))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--merge", nargs="+", type=Path, help="Only combine the summary.json of earlier --out folders.")
    args = ap.parse_args(argv)
    if args.merge:
        merged: dict[str, dict[int, dict[str, float]]] = {}
        for folder in args.merge:
            earlier = json.loads((folder / "summary.json").read_text())
            for precision, by_seed in earlier["runs"].items():
                merged.setdefault(precision, {}).update({int(k): v for k, v in by_seed.items()})
        return report(merged, args.out, kimg=earlier["kimg"])
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
    return report(runs, args.out, kimg=args.kimg)


def report(runs: dict[str, dict[int, dict[str, float]]], out: Path, kimg: float) -> dict[str, object]:
    """Print the table of `runs` ({precision: {seed: scores}}) and write summary.json into `out`."""
    precisions = list(runs)
    seeds = sorted({seed for by_seed in runs.values() for seed in by_seed})

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
    result = {"runs": runs, "means": means, "seed_spread": noise, "kimg": kimg, "seeds": seeds}
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
