"""Training throughput on this CPU: ours vs NVIDIA's official StyleGAN2-ADA code, same config, same algorithm.

    python benchmarks/train_speed.py                                       # ours only
    python benchmarks/train_speed.py --official-repo ~/stylegan2-ada-pytorch --repeats 3
    python benchmarks/train_speed.py --bf16 --threads 1                  # ours in float32 vs --precision bf16

Config: 64x64 RGB, channel_base 8192, channel_max 256, 8-layer mapping, z = w = 512, batch 8 in one
micro-batch, float32 everywhere (the official code with its `--fp32` settings: no fp16 blocks, no conv clamp),
all four phases with lazy regularisation (Gmain every step, Greg every 4, Dmain every step, Dreg every 16), style
mixing 0.9, path length (weight 2, shrink 2), R1, G_ema update every step, no augmentation. One measurement is
16 steps (a whole lazy-regularisation cycle) after 2 warm-up steps, on random in-memory images (data loading
excluded on both sides). GFLOP/s counts the convolutions and matrix products of our step, forward and backward
(torch's FLOP formulas), against the machine's float32 limit (the best of a matrix product and a convolution)
measured alongside. Each implementation runs in its own fresh process, the processes alternate, and the reported
ratio is of the medians; with `--threads 1` the CPU-time ratio is the steadier one on a shared machine.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable

RES, CBASE, CMAX, MAP, BATCH, ZDIM = 64, 8192, 256, 8, 8, 512
GAMMA = 0.0002 * RES**2 / BATCH  # the auto formula; its value does not change the cost


def _official_step_fn(repo: str) -> Callable[[], None]:
    """One training step of NVIDIA's loop (training_loop.py's phases), with their networks and loss."""
    import torch

    sys.path.insert(0, repo)
    sys.modules.setdefault("requests", types.ModuleType("requests"))  # dnnlib imports it for downloads only
    from training.loss import StyleGAN2Loss  # type: ignore[import-not-found]
    from training.networks import Discriminator, Generator  # type: ignore[import-not-found]

    torch.manual_seed(0)
    common = dict(channel_base=CBASE, channel_max=CMAX, num_fp16_res=0, conv_clamp=None)
    G = Generator(
        z_dim=ZDIM,
        c_dim=0,
        w_dim=ZDIM,
        img_resolution=RES,
        img_channels=3,
        mapping_kwargs=dict(num_layers=MAP),
        synthesis_kwargs=common,
    )
    G.train().requires_grad_(False)
    D = (
        Discriminator(
            c_dim=0,
            img_resolution=RES,
            img_channels=3,
            block_kwargs={},
            mapping_kwargs={},
            epilogue_kwargs=dict(mbstd_group_size=4),
            **common,
        )
        .train()
        .requires_grad_(False)
    )
    G_ema = copy.deepcopy(G).eval()
    device = torch.device("cpu")
    loss = StyleGAN2Loss(
        device=device,
        G_mapping=G.mapping,
        G_synthesis=G.synthesis,
        D=D,
        r1_gamma=GAMMA,
        style_mixing_prob=0.9,
        pl_weight=2,
    )
    phases = []
    for name, module, reg_interval in [("G", G, 4), ("D", D, 16)]:
        ratio = reg_interval / (reg_interval + 1)
        opt = torch.optim.Adam(module.parameters(), lr=0.0025 * ratio, betas=(0.0, 0.99**ratio), eps=1e-8)
        phases += [(name + "main", module, opt, 1), (name + "reg", module, opt, reg_interval)]
    state = {"batch_idx": 0, "cur_nimg": 0}

    def step() -> None:
        real_img = torch.randn(BATCH, 3, RES, RES)
        real_c = torch.zeros(BATCH, 0)
        all_gen_z = torch.randn(len(phases) * BATCH, ZDIM).split(BATCH)
        gen_c = torch.zeros(BATCH, 0)
        for (name, module, opt, interval), gen_z in zip(phases, all_gen_z):
            if state["batch_idx"] % interval != 0:
                continue
            opt.zero_grad(set_to_none=True)
            module.requires_grad_(True)
            loss.accumulate_gradients(
                phase=name, real_img=real_img, real_c=real_c, gen_z=gen_z, gen_c=gen_c, sync=True, gain=interval
            )
            module.requires_grad_(False)
            for param in module.parameters():
                if param.grad is not None:
                    torch.nan_to_num(param.grad, nan=0, posinf=1e5, neginf=-1e5, out=param.grad)
            opt.step()
        ema_nimg = min(BATCH * 10 / 32 * 1000, state["cur_nimg"] * 0.05)
        beta = 0.5 ** (BATCH / max(ema_nimg, 1e-8))
        with torch.no_grad():
            for p_ema, p in zip(G_ema.parameters(), G.parameters()):
                p_ema.copy_(p.lerp(p_ema, beta))
            for b_ema, b in zip(G_ema.buffers(), G.buffers()):
                b_ema.copy_(b)
        state["cur_nimg"] += BATCH
        state["batch_idx"] += 1

    return step


def _our_step_fn(precision: str = "fp32") -> Callable[[], None]:
    """One step of our loop (`fetch_batch` excepted: the same random in-memory images as the official side, in the
    layout `fetch_batch` gives them)."""
    import torch

    from stylegan.train.config import TrainOptions, build_config
    from stylegan.train.ema import ema_beta, update_ema
    from stylegan.train.loop import Batch, build_networks, build_phases, memory_format
    from stylegan.train.losses import StyleGAN2Loss

    cfg = build_config(
        "auto",
        resolution=RES,
        options=TrainOptions(
            batch=BATCH,
            channel_base=CBASE,
            channel_max=CMAX,
            mapping_layers=MAP,
            r1_gamma=GAMMA,
            G_lr=0.0025,
            D_lr=0.0025,
            precision=precision,
        ),
    )
    cfg = dataclasses.replace(
        cfg,
        G=dataclasses.replace(cfg.G, conv_clamp=None, z_dim=ZDIM, w_dim=ZDIM),
        D=dataclasses.replace(cfg.D, conv_clamp=None),
    )
    device = torch.device("cpu")
    G, D, G_ema = build_networks(cfg, device)
    phases, _, _ = build_phases(cfg, G, D)
    loss = StyleGAN2Loss(G, D, cfg.loss, generator=torch.Generator().manual_seed(1), precision=precision)
    state = {"batch_idx": 0, "cur_nimg": 0}

    def step() -> None:
        batch = Batch(
            [torch.randn(BATCH, 3, RES, RES).contiguous(memory_format=memory_format(device))],
            [None],
            [[z] for z in torch.randn(len(phases) * BATCH, ZDIM).split(BATCH)],
            [[None] for _ in phases],
        )
        for i, phase in enumerate(phases):
            if state["batch_idx"] % phase.interval:
                continue
            phase.opt.zero_grad(set_to_none=True)
            phase.module.requires_grad_(True)
            loss.accumulate_gradients(phase.name, batch.real_img[0], None, batch.gen_z[i][0], None, gain=phase.interval)
            phase.module.requires_grad_(False)
            phase.opt.step()
        update_ema(G_ema, G, ema_beta(BATCH, cfg.ema_kimg, cfg.ema_rampup, state["cur_nimg"]))
        state["cur_nimg"] += BATCH
        state["batch_idx"] += 1

    return step


def flop_count():  # type: ignore[no-untyped-def]
    """A dispatch mode summing torch's FLOP formulas over every op run inside it, forward and backward (torch's
    FlopCounterMode tracks modules with hooks that `autograd.grad`, used by R1 and path length, rejects)."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class FlopCount(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            out = func(*args, **(kwargs or {}))
            formula = flop_registry.get(func.overloadpacket)
            if formula is not None:
                self.total += formula(*args, **(kwargs or {}), out_val=out)
            return out

    return FlopCount()


def worker(args: argparse.Namespace) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.impl == "official":
        step = _official_step_fn(args.official_repo)
    else:
        step = _our_step_fn("bf16" if args.impl == "ours-bf16" else "fp32")
    for _ in range(args.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    sec = (time.perf_counter() - t0) / args.steps
    cpu = (time.process_time() - c0) / args.steps
    flops = None
    if args.impl == "ours":  # both sides run the same algorithm: one count serves for the GFLOP/s of each
        with flop_count() as counter:
            for _ in range(args.steps):
                step()
        flops = counter.total / args.steps
    print(
        json.dumps(
            {
                "impl": args.impl,
                "sec_per_step": sec,
                "cpu_sec_per_step": cpu,
                "kimg_per_hour": BATCH / sec * 3600 / 1000,
                "flops_per_step": flops,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--official-repo", help="A checkout of NVlabs/stylegan2-ada-pytorch (omit to time ours only).")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--bf16", action="store_true", help="Also time ours with --precision bf16 (bfloat16 autocast).")
    ap.add_argument("--impl", choices=["ours", "ours-bf16", "official"], help=argparse.SUPPRESS)  # worker mode
    args = ap.parse_args()
    if args.impl:
        worker(args)
        return
    import torch

    from generator_speed import fp32_limit_gflops  # this folder is on sys.path when the script runs

    if args.threads:
        torch.set_num_threads(args.threads)
    peak = fp32_limit_gflops()
    print(f"machine: {torch.get_num_threads()} threads, fp32 limit {peak:.0f} GFLOP/s")
    flops_per_step = 0.0
    impls = ["ours"] + (["ours-bf16"] if args.bf16 else []) + (["official"] if args.official_repo else [])
    results: dict[str, list[float]] = {k: [] for k in impls}
    cpu_results: dict[str, list[float]] = {k: [] for k in impls}
    for r in range(args.repeats):
        for impl in impls if r % 2 == 0 else impls[::-1]:
            cmd = [sys.executable, __file__, "--impl", impl, "--steps", str(args.steps), "--warmup", str(args.warmup)]
            if args.official_repo:
                cmd += ["--official-repo", args.official_repo]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            res = json.loads(out)
            flops_per_step = res["flops_per_step"] or flops_per_step
            results[impl].append(res["sec_per_step"])
            cpu_results[impl].append(res["cpu_sec_per_step"])
            print(
                f"{impl:9s} run {r}: {res['sec_per_step']:.3f} s/step  {res['kimg_per_hour']:.2f} kimg/h  "
                f"(CPU time {res['cpu_sec_per_step']:.3f} s/step)",
                flush=True,
            )
    med = {k: statistics.median(v) for k, v in results.items()}
    for k, v in med.items():
        gflops = flops_per_step / v / 1e9
        print(
            f"{k:9s} median: {v:.3f} s/step = {BATCH / v * 3.6:.2f} kimg/h, {gflops:.1f} GFLOP/s "
            f"({100 * gflops / peak:.0f}% of the fp32 limit; {flops_per_step / 1e9:.1f} GFLOP per step)"
        )
    if "ours-bf16" in med:
        print(f"speed ratio ours bf16/fp32 = {med['ours'] / med['ours-bf16']:.2f}x (wall clock)")
    if "official" in med:
        cpu = {k: statistics.median(v) for k, v in cpu_results.items()}
        print(
            f"speed ratio ours/official = {med['official'] / med['ours']:.2f}x (wall clock), "
            f"{cpu['official'] / cpu['ours']:.2f}x (CPU time: steadier on a shared machine with --threads 1)"
        )


if __name__ == "__main__":
    main()
