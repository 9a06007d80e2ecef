"""GPU speed: training img/s (kimg/h), inference img/s and peak memory, ours in each precision vs NVIDIA's official
StyleGAN2-ADA code, on whatever CUDA GPU is found.

    python benchmarks/gpu_speed.py                                    # ours: fp32, mixed, bf16, compiled
    python benchmarks/gpu_speed.py --nvidia ~/stylegan2-ada-pytorch   # and NVIDIA's code, fp32 and mixed
    python benchmarks/gpu_speed.py --cfg paper512 --res 512 --batch 16 --out gpu512.json

Variants (the same networks, losses and phases; random in-memory images, no augmentation, data loading excluded):
  fp32      every block in float32 (num_fp16_res 0)
  mixed     NVIDIA's mixed precision: the 4 highest resolutions of G and D in float16, conv clamp 256
  bf16      bfloat16 autocast (GPUs with native bfloat16 only, Ampere and later)
  compiled  mixed, with G's synthesis network and D through torch.compile (the main losses)
  nvidia-fp32, nvidia-mixed   NVIDIA's code with its `--fp32` settings, and with its defaults (4 fp16 blocks)

Training: whole steps of the four phases with lazy regularisation (Gmain, Greg every 4, Dmain, Dreg every 16), one
micro-batch of `--batch`, after warm-up steps (which also compile); kimg/h = batch * steps/s * 3.6. Inference: G(z)
with noise_mode const in batches of `--infer-batch`. Peak memory is torch.cuda.max_memory_allocated over the timed
part. Every measurement runs in a fresh process, so that memory and compiled code are its own. A table is printed
and the results are written as JSON (`--out`). Without a CUDA GPU the script exits with status 1 and one line.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from typing import Any

OURS = ("fp32", "mixed", "bf16", "compiled")
NVIDIA = ("nvidia-fp32", "nvidia-mixed")
TRAIN_PHASES = (("Gmain", 1), ("Greg", 4), ("Dmain", 1), ("Dreg", 16))


def _sync() -> None:
    import torch

    torch.cuda.synchronize()


def _ours(args: argparse.Namespace, variant: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """(one training step, one inference batch) of our code in `variant`."""
    import torch

    from stylegan.compiling import maybe_compile
    from stylegan.precision import autocast
    from stylegan.train.config import TrainOptions, build_config
    from stylegan.train.loop import build_networks, build_phases, configure_backends
    from stylegan.train.losses import StyleGAN2Loss

    device = torch.device("cuda")
    configure_backends(device)
    precision = "bf16" if variant == "bf16" else "fp32"
    options = TrainOptions(batch=args.batch, num_fp16_res=0 if variant in ("fp32", "bf16") else 4, precision=precision)
    cfg = build_config(args.cfg, resolution=args.res, options=options)
    G, D, G_ema = build_networks(cfg, device)
    phases, _, _ = build_phases(cfg, G, D)
    compiled = variant == "compiled"
    loss = StyleGAN2Loss(G, D, cfg.loss, precision=precision, compile=compiled, warn=print)
    mixed = variant in ("mixed", "compiled")
    state = {"step": 0}

    def train_step() -> None:
        real = torch.randn(args.batch, 3, args.res, args.res, device=device)
        for phase in phases:
            if state["step"] % phase.interval:
                continue
            phase.opt.zero_grad(set_to_none=True)
            phase.module.requires_grad_(True)
            z = torch.randn(args.batch, cfg.G.z_dim, device=device)
            loss.accumulate_gradients(phase.name, real, None, z, None, gain=phase.interval)
            phase.module.requires_grad_(False)
            if mixed:
                for p in phase.module.parameters():
                    if p.grad is not None:
                        torch.nan_to_num(p.grad, nan=0.0, posinf=1e5, neginf=-1e5, out=p.grad)
            phase.opt.step()
        state["step"] += 1

    synthesis = maybe_compile(G_ema.synthesis, "G_ema's synthesis network", compiled, warn=print)

    @torch.no_grad()
    def infer() -> None:
        ws = G_ema.mapping(torch.randn(args.infer_batch, cfg.G.z_dim, device=device), None)
        with autocast(device, precision):
            synthesis(ws, noise_mode="const")

    return train_step, infer


def _nvidia(args: argparse.Namespace, variant: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """(one training step, one inference batch) of NVIDIA's stylegan2-ada-pytorch at `args.nvidia`, set up as its
    training_loop.py sets it up."""
    import torch

    sys.path.insert(0, args.nvidia)
    sys.modules.setdefault("requests", types.ModuleType("requests"))  # dnnlib imports it for downloads only
    from torch_utils.ops import conv2d_gradfix, grid_sample_gradfix  # type: ignore[import-not-found]
    from training.loss import StyleGAN2Loss  # type: ignore[import-not-found]
    from training.networks import Discriminator, Generator  # type: ignore[import-not-found]

    from stylegan.train.config import TrainOptions, build_config

    cfg = build_config(args.cfg, resolution=args.res, options=TrainOptions(batch=args.batch))  # the same numbers
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    conv2d_gradfix.enabled = grid_sample_gradfix.enabled = True
    fp16 = dict(num_fp16_res=4, conv_clamp=256) if variant == "nvidia-mixed" else dict(num_fp16_res=0, conv_clamp=None)
    common = dict(channel_base=cfg.G.channel_base, channel_max=cfg.G.channel_max, **fp16)
    G = Generator(
        z_dim=cfg.G.z_dim,
        c_dim=0,
        w_dim=cfg.G.w_dim,
        img_resolution=args.res,
        img_channels=3,
        mapping_kwargs=dict(num_layers=cfg.G.mapping_layers),
        synthesis_kwargs=common,
    )
    D = Discriminator(
        c_dim=0,
        img_resolution=args.res,
        img_channels=3,
        block_kwargs={},
        mapping_kwargs={},
        epilogue_kwargs=dict(mbstd_group_size=cfg.D.mbstd_group_size),
        **common,
    )
    G, D = G.to(device).train().requires_grad_(False), D.to(device).train().requires_grad_(False)
    s = cfg.loss
    loss = StyleGAN2Loss(
        device=device,
        G_mapping=G.mapping,
        G_synthesis=G.synthesis,
        D=D,
        r1_gamma=s.r1_gamma,
        style_mixing_prob=s.style_mixing_prob,
        pl_weight=s.pl_weight,
    )
    phases = []
    for name, module, interval, opt_cfg in (("G", G, 4, cfg.G_opt), ("D", D, 16, cfg.D_opt)):
        c = interval / (interval + 1)
        opt = torch.optim.Adam(module.parameters(), lr=opt_cfg.lr * c, betas=(0.0, 0.99**c), eps=1e-8)
        phases += [(name + "main", module, opt, 1), (name + "reg", module, opt, interval)]
    state = {"step": 0}

    def train_step() -> None:
        real = torch.randn(args.batch, 3, args.res, args.res, device=device)
        c = torch.zeros(args.batch, 0, device=device)
        for name, module, opt, interval in phases:
            if state["step"] % interval:
                continue
            opt.zero_grad(set_to_none=True)
            module.requires_grad_(True)
            z = torch.randn(args.batch, G.z_dim, device=device)
            loss.accumulate_gradients(phase=name, real_img=real, real_c=c, gen_z=z, gen_c=c, sync=True, gain=interval)
            module.requires_grad_(False)
            for p in module.parameters():
                if p.grad is not None:
                    torch.nan_to_num(p.grad, nan=0, posinf=1e5, neginf=-1e5, out=p.grad)
            opt.step()
        state["step"] += 1

    G_ema = copy.deepcopy(G).eval()

    @torch.no_grad()
    def infer() -> None:
        G_ema(torch.randn(args.infer_batch, G.z_dim, device=device), None, noise_mode="const")

    return train_step, infer


def _timed(run: Callable[[], None], warmup: int, repeats: int) -> tuple[float, float]:
    """(seconds per call, peak GiB allocated) of `run` after `warmup` calls."""
    import torch

    for _ in range(warmup):
        run()
    _sync()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(repeats):
        run()
    _sync()
    return (time.perf_counter() - t0) / repeats, torch.cuda.max_memory_allocated() / 2**30


def worker(args: argparse.Namespace) -> None:
    """Measure one variant in this process; print one JSON line."""
    import torch

    build = _nvidia if args.worker.startswith("nvidia") else _ours
    out: dict[str, Any] = {"variant": args.worker}
    if args.worker == "bf16" and not torch.cuda.is_bf16_supported():
        print(json.dumps({**out, "skipped": "this GPU has no native bfloat16"}))
        return
    train_step, infer = build(args, args.worker)
    for what, run, warmup, repeats, images in (
        ("train", train_step, args.warmup, args.steps, args.batch),
        ("infer", infer, 2, args.infer_repeats, args.infer_batch),
    ):
        try:
            sec, peak = _timed(run, warmup, repeats)
        except torch.cuda.OutOfMemoryError:
            out[what] = {"error": "out of memory"}
            torch.cuda.empty_cache()
            continue
        out[what] = {"img_per_s": images / sec, "peak_gib": peak}
        if what == "train":
            out[what]["kimg_per_h"] = images / sec * 3.6
    print(json.dumps(out))


def _cell(result: dict[str, Any], what: str, key: str, fmt: str) -> str:
    """One table cell: the number, or "skipped", "OOM" or "failed" (the JSON holds the reason)."""
    entry = result.get(what)
    if entry is None:
        return "skipped" if "skipped" in result else "failed"
    if key in entry:
        return format(entry[key], fmt)
    return "OOM" if entry.get("error") == "out of memory" else "failed"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nvidia", "--official-repo", dest="nvidia", help="A checkout of NVlabs/stylegan2-ada-pytorch.")
    ap.add_argument("--cfg", default="paper256", help="Preset of the networks and losses [paper256].")
    ap.add_argument("--res", type=int, default=256, help="Image resolution [256].")
    ap.add_argument("--batch", type=int, default=32, help="Training batch (one micro-batch) [32].")
    ap.add_argument("--steps", type=int, default=32, help="Timed training steps (two lazy-R1 cycles) [32].")
    ap.add_argument("--warmup", type=int, default=16, help="Warm-up training steps (compiling included) [16].")
    ap.add_argument("--infer-batch", type=int, default=32, help="Inference batch [32].")
    ap.add_argument("--infer-repeats", type=int, default=20, help="Timed inference batches [20].")
    ap.add_argument("--variants", default=",".join(OURS), help=f"Ours to measure [{','.join(OURS)}].")
    ap.add_argument("--out", default="gpu_speed.json", help="Where to write the results [gpu_speed.json].")
    ap.add_argument("--worker", help=argparse.SUPPRESS)  # one measurement, in a child process
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit(
            f"no CUDA GPU found: torch.cuda.is_available() is False (PyTorch {torch.__version__}, CUDA build "
            f"{torch.version.cuda or 'none'}); run this on a machine with an NVIDIA GPU"
        )
    if args.worker:
        worker(args)
        return
    variants = [v for v in args.variants.split(",") if v] + (list(NVIDIA) if args.nvidia else [])
    unknown = sorted(set(variants) - set(OURS) - set(NVIDIA))
    if unknown:
        sys.exit(f"unknown variants: {', '.join(unknown)} (choose from {', '.join(OURS)})")
    if args.nvidia and not os.path.isfile(os.path.join(args.nvidia, "training", "networks.py")):
        sys.exit(f"--nvidia {args.nvidia}: not a stylegan2-ada-pytorch checkout (no training/networks.py)")
    gpu = torch.cuda.get_device_name(0)
    print(f"{gpu}: {args.cfg} at {args.res}x{args.res}, train batch {args.batch}, inference batch {args.infer_batch}")
    results = []
    for variant in variants:
        cmd = [sys.executable, __file__, *sys.argv[1:], "--worker", variant]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            results.append({"variant": variant, "error": tail})
        else:
            results.append(json.loads(lines[-1]))
        print(f"  measured {variant}", flush=True)
    columns = [  # (title, width, part, key, format)
        ("train kimg/h", 12, "train", "kimg_per_h", ".1f"),
        ("train img/s", 11, "train", "img_per_s", ".1f"),
        ("train GiB", 9, "train", "peak_gib", ".2f"),
        ("infer img/s", 11, "infer", "img_per_s", ".1f"),
        ("infer GiB", 9, "infer", "peak_gib", ".2f"),
    ]
    print(f"{'variant':13s} " + " ".join(f"{title:>{width}s}" for title, width, *_ in columns))
    for r in results:
        cells = [f"{_cell(r, part, key, fmt):>{width}s}" for _, width, part, key, fmt in columns]
        print(f"{r['variant']:13s} " + " ".join(cells))
    for r in results:
        for part in ("train", "infer"):
            reason = r.get("error") or r.get("skipped") or r.get(part, {}).get("error")
            if reason:
                print(f"{r['variant']}: {reason}")
                break
    setup = {k: getattr(args, k) for k in ("cfg", "res", "batch", "steps", "warmup", "infer_batch", "infer_repeats")}
    report = {"gpu": gpu, "torch": torch.__version__, "cuda": torch.version.cuda, "setup": setup, "results": results}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
