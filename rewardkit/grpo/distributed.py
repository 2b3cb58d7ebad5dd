"""Data parallelism on torch.distributed: set-up from ``torchrun`` / ``accelerate launch`` variables,
and the few collectives the trainer needs (gloo on CPU, NCCL on GPUs)."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist


@dataclass
class Dist:
    """Where this process sits: ``rank`` of ``world`` processes, and its device."""

    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    def all_gather(self, x: torch.Tensor) -> torch.Tensor:
        """Concatenate equal-shaped tensors from every process along dim 0, in rank order."""
        if not self.enabled:
            return x
        parts = [torch.empty_like(x) for _ in range(self.world)]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, dim=0)

    def all_sum(self, x: torch.Tensor) -> torch.Tensor:
        if self.enabled:
            x = x.clone()
            dist.all_reduce(x, op=dist.ReduceOp.SUM)
        return x

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def wrap(self, model: Any) -> Any:
        """The model as the loss sees it: DistributedDataParallel when there are several processes."""
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DDP(model, device_ids=ids)

    def no_sync(self, model: Any, sync: bool) -> AbstractContextManager[Any]:
        """Skip the gradient all-reduce on all but the last micro-batch of a step."""
        if self.enabled and not sync:
            return model.no_sync()
        return nullcontext()


def setup(device: str | None = None) -> Dist:
    """Join the process group that ``torchrun`` describes (``WORLD_SIZE`` > 1), else run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device:
        dev = torch.device(device)
    elif torch.cuda.is_available():
        dev = torch.device("cuda", local)
    else:
        dev = torch.device("cpu")
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return Dist(rank, world, dev)


def is_main_process() -> bool:
    """True on rank 0 (or when not distributed): the process that prints and writes shared files."""
    return int(os.environ.get("RANK", "0")) == 0


def shutdown() -> None:
    """Leave the process group, if one was joined (torchrun warns about a group left open)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
