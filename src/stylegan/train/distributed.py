"""Multi-process training under `torchrun`: process group setup and the few collectives the loop needs.

Gradients are averaged with one flat all-reduce per optimiser step (the data-parallel scheme of
DistributedDataParallel, written out so that R1's and path length's double backward need no DDP support).
NCCL on CUDA, gloo on CPU. With one process every function is a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True on rank 0, the only process that writes files."""
        return self.rank == 0


def init_distributed(device_type: str = "cpu") -> DistInfo:
    """Join the process group described by torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
    MASTER_PORT); a single process when WORLD_SIZE is absent or 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(local)
        dist.init_process_group(backend=backend)
    return DistInfo(rank=rank, world_size=world, local_rank=local)


def is_distributed() -> bool:
    """True inside an initialised multi-process group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _comm_device() -> torch.device:
    """Where collective tensors must live: the current GPU under NCCL, the CPU under gloo."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sum(x: Tensor) -> Tensor:
    """Sum over processes, on the input's device (returns the input itself with one process)."""
    if is_distributed():
        y = x.to(_comm_device(), copy=True)
        dist.all_reduce(y)
        x = y.to(x.device)
    return x


def average_gradients(params: Iterable[torch.nn.Parameter]) -> None:
    """Average the .grad of `params` over processes with one flat all-reduce. Parameters without a gradient keep
    none (the optimiser then skips them, as with one process); which ones have one depends only on the phase, so
    every rank agrees."""
    params = [p for p in params if p.grad is not None]
    if not params or not is_distributed():
        return
    flat = torch.cat([p.grad.flatten() for p in params if p.grad is not None])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n


def broadcast_module(module: torch.nn.Module, src: int = 0) -> None:
    """Copy rank `src`'s parameters and buffers to every process."""
    if not is_distributed():
        return
    for t in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(t.data, src=src)


def gather_objects(obj: Any) -> list[Any]:
    """Every process's `obj`, in rank order (a one-element list with one process)."""
    if not is_distributed():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def barrier() -> None:
    """Wait for every process."""
    if is_distributed():
        dist.barrier()


def shutdown() -> None:
    """Leave the process group."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
