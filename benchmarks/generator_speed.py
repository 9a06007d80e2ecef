"""Generator inference speed: images/s, achieved GFLOP/s and peak memory, ours vs NVIDIA's official code.

    python benchmarks/generator_speed.py                                   # ours only: paper256 and config F 1024
    python benchmarks/generator_speed.py --official-repo ~/stylegan2-ada-pytorch [--pkl ffhq256.pkl] \
        [--official-python other-venv/bin/python]

Timings on a shared machine are noisy, so each implementation runs in its own fresh process (so peak memory is
its own), the processes alternate, and the ratio is taken from medians measured in the same run. Both run in
float32 (the official code with `force_fp32=True`) with noise_mode='const'.
GFLOP/s counts the convolutions and matrix products of our forward pass (torch.utils.flop_counter), and the
machine's float32 limit (the best of a matrix product and a convolution) is measured alongside for scale.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import types

CONFIGS = {
    # name: (resolution, channel_base, batch)
    "paper256": (256, 16384, 8),
    "stylegan2-1024": (1024, 32768, 1),  # config F
}


def _build(impl: str, res: int, channel_base: int, official_repo: str | None, pkl: str | None):
    import torch

    torch.manual_seed(0)
    if impl == "official":
        sys.path.insert(0, official_repo)  # type: ignore[arg-type]
        sys.modules.setdefault("requests", types.ModuleType("requests"))  # dnnlib imports it for downloads only
        if pkl:
            import dnnlib  # type: ignore[import-not-found]
            import legacy  # type: ignore[import-not-found]

            with dnnlib.util.open_url(pkl) as f:
                return legacy.load_network_pkl(f)["G_ema"].eval().requires_grad_(False)
        from training.networks import Generator as OfficialGenerator  # type: ignore[import-not-found]

        return (
            OfficialGenerator(
                z_dim=512,
                c_dim=0,
                w_dim=512,
                img_resolution=res,
                img_channels=3,
                mapping_kwargs=dict(num_layers=8),
                synthesis_kwargs=dict(channel_base=channel_base, channel_max=512, num_fp16_res=4, conv_clamp=256),
            )
            .eval()
            .requires_grad_(False)
        )
    import stylegan
    from stylegan.networks import Generator, GeneratorConfig

    if pkl:
        return stylegan.load(pkl)
    cfg = GeneratorConfig(img_resolution=res, channel_base=channel_base, conv_clamp=256)
    return Generator(cfg).eval().requires_grad_(False)


def worker(args: argparse.Namespace) -> None:
    """Run in a child process: build one generator, time it, print one JSON line."""
    import torch

    res, channel_base, batch = CONFIGS[args.config]
    batch = args.batch or batch
    G = _build(args.impl, res, channel_base, args.official_repo, args.pkl)
    z = torch.randn(batch, G.z_dim)
    c = torch.zeros(batch, G.c_dim) if G.c_dim else None
    kwargs = dict(noise_mode="const")
    if args.impl == "official":
        kwargs["force_fp32"] = True
    times = []
    with torch.no_grad():
        G(z, c, **kwargs)  # warm-up (oneDNN primitive creation)
        for _ in range(args.iters):
            t0 = time.perf_counter()
            G(z, c, **kwargs)
            times.append(time.perf_counter() - t0)
        flops = None
        if args.impl == "ours":
            from torch.utils.flop_counter import FlopCounterMode

            with FlopCounterMode(display=False) as counter:
                G(z, c, **kwargs)
            flops = counter.get_total_flops()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "impl": args.impl,
                "config": args.config,
                "batch": batch,
                "times": times,
                "flops": flops,
                "peak_mb": peak_mb,
            }
        )
    )


def fp32_limit_gflops() -> float:
    """The machine's float32 limit as PyTorch reaches it: the best of a 2048 x 2048 matrix product and a
    channels-last 3x3 convolution (256 channels, 64 x 64, batch 8) in GFLOP/s. Which is faster depends on the CPU:
    oneDNN's convolutions beat the BLAS matrix product by 2.4x on an AMD Zen 5, for instance."""
    import torch
    import torch.nn.functional as F

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    x = torch.randn(8, 256, 64, 64).contiguous(memory_format=torch.channels_last)
    w = torch.randn(256, 256, 3, 3).contiguous(memory_format=torch.channels_last)
    rates = []
    for fn, flops in ((lambda: a @ b, 2 * 2048**3), (lambda: F.conv2d(x, w, padding=1), 2 * 8 * 256 * 256 * 9 * 64**2)):
        fn()
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        rates.append(flops / best / 1e9)
    return max(rates)


def run_child(args: argparse.Namespace, impl: str, config: str) -> dict:
    python = args.official_python if impl == "official" and args.official_python else sys.executable
    cmd = [python, __file__, "--worker", impl, "--config", config, "--iters", str(args.iters)]
    for flag in ("official_repo", "pkl", "batch"):
        if getattr(args, flag):
            cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0:
        sys.exit(f"{impl} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--official-repo", help="A checkout of NVlabs/stylegan2-ada-pytorch to compare against.")
    p.add_argument("--official-python", help="Python to run the official code with (it needs `requests`).")
    p.add_argument("--pkl", help="An official network pickle to run in both (default: random weights).")
    p.add_argument("--configs", default=",".join(CONFIGS), help=f"Comma-separated subset of {list(CONFIGS)}.")
    p.add_argument("--rounds", type=int, default=2, help="Alternating rounds of (ours, official) processes.")
    p.add_argument("--iters", type=int, default=3, help="Timed forward passes per process.")
    p.add_argument("--batch", type=int, default=None, help="Override the batch size.")
    p.add_argument("--worker", choices=["ours", "official"], help=argparse.SUPPRESS)
    p.add_argument("--config", choices=list(CONFIGS), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        args.impl = args.worker
        worker(args)
        return

    import torch

    peak = fp32_limit_gflops()
    print(
        f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"fp32 limit {peak:.0f} GFLOP/s"
    )
    impls = ["ours"] + (["official"] if args.official_repo else [])
    for config in args.configs.split(","):
        results: dict[str, list[dict]] = {impl: [] for impl in impls}
        for _ in range(args.rounds):
            for impl in impls:
                results[impl].append(run_child(args, impl, config))
        summary = {}
        for impl, runs in results.items():
            batch = runs[0]["batch"]
            med = statistics.median(t for r in runs for t in r["times"])
            summary[impl] = {"img_s": batch / med, "peak_mb": max(r["peak_mb"] for r in runs), "sec": med}
            peak_mb = summary[impl]["peak_mb"]
            line = f"{config:15s} {impl:9s} batch {batch}: {batch / med:6.2f} img/s  peak RSS {peak_mb:6.0f} MB"
            if runs[0]["flops"]:
                gflops = runs[0]["flops"] / med / 1e9
                line += f"  {gflops:5.1f} GFLOP/s ({100 * gflops / peak:.0f}% of the fp32 limit)"
                flops_per_img = runs[0]["flops"] / batch
            print(line, flush=True)
        if "official" in summary:
            ratio = summary["ours"]["img_s"] / summary["official"]["img_s"]
            official_gflops = flops_per_img * summary["official"]["img_s"] / 1e9
            mem = summary["ours"]["peak_mb"] / summary["official"]["peak_mb"]
            share = 100 * official_gflops / peak
            print(
                f"{config:15s} speed ratio ours/official = {ratio:.2f}x   official {official_gflops:.1f} GFLOP/s "
                f"({share:.0f}% of the fp32 limit)   memory ratio = {mem:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
