"""Distributed training with torchrun: one process per device, DistributedDataParallel.

`torchrun --nproc-per-node N -m ringrift.train ...` (or `ringrift train --nproc-per-node N`)
starts N copies of the trainer; each finds its rank in the environment torchrun sets (RANK,
WORLD_SIZE, LOCAL_RANK) and joins the process group: nccl on CUDA (device cuda:LOCAL_RANK),
gloo on the CPU.

Sharding: every rank computes the same global batches of the epoch (a pure function of seed and
epoch, as in one process) and takes its own contiguous slice of each. So N processes see exactly
the global batches one process would, with the same `--batch-size` meaning the global batch. (We
do not use torch's DistributedSampler: it pads a batch with repeated samples to equal shards,
which changes the batch; its other property, a deterministic shard per (seed, epoch), holds
here.) Each rank's loss is scaled by its share of the global batch times N, so DDP's gradient
average equals the gradient of the global batch's mean loss; a rank whose slice is empty plays
one sample with weight 0 (every rank must join each gradient all-reduce). On CUDA, BatchNorm
layers become SyncBatchNorm, so their statistics are those of the global batch, as in one
process; on the CPU (SyncBatchNorm is GPU-only) each rank normalises its own slice, so the loss
curve differs from one process's slightly (within a few percent on the tests' small batches).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ringrift.config_defaults import field_default
from ringrift.errors import ConfigError
from ringrift.train.launch_settings import LaunchSettings


@dataclass(frozen=True)
class DistContext:
    """This process's place in the run: rank 0 of 1 when not distributed."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the only one that writes checkpoints, metrics, TensorBoard and the model."""
        return self.rank == 0

    def barrier(self) -> None:
        if self.distributed:
            torch.distributed.barrier()

    def any(self, flag: bool) -> bool:
        """True on every rank when `flag` is true on any (a stop signal seen by one rank)."""
        if not self.distributed:
            return flag
        t = torch.tensor([1 if flag else 0], device=self._collective_device())
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item())

    def mean_over_ranks(self, tensor: torch.Tensor) -> torch.Tensor:
        """The mean of `tensor` over ranks (in place)."""
        if self.distributed:
            torch.distributed.all_reduce(tensor)
            tensor /= self.world_size
        return tensor

    def sync_buffers(self, module: nn.Module) -> None:
        """Rank 0's buffers (BatchNorm running statistics) on every rank, so validation gives
        the same numbers (and the same decisions: best epoch, early stop) everywhere."""
        if self.distributed:
            for buffer in module.buffers():
                torch.distributed.broadcast(buffer, 0)

    def shard_group(self, group: list[np.ndarray]) -> tuple[list[np.ndarray], list[float]]:
        """This rank's slice of each micro-batch of an optimizer step, and each slice's loss
        scale (its share of the step's samples times the world size)."""
        total = sum(len(b) for b in group)
        local, shares = [], []
        for batch in group:
            part = np.array_split(batch, self.world_size)[self.rank]
            if len(part) == 0:  # join the all-reduce with a zero-weight sample
                local.append(batch[:1])
                shares.append(0.0)
            else:
                local.append(part)
                shares.append(len(part) / total * self.world_size)
        return local, shares

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """The module to run forward/backward through: DDP over `model` when distributed."""
        if not self.distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def _collective_device(self) -> torch.device:
        if torch.distributed.get_backend() == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_distributed(device: torch.device) -> tuple[DistContext, torch.device]:
    """Join torchrun's process group when this process is one of several (no-op otherwise);
    the device this rank trains on."""
    if not launched_by_torchrun():
        return DistContext(), device
    import torch.distributed as dist

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank, world, local_rank), device


def close_distributed() -> None:
    """Leave the process group (end of a torchrun process)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def check_distributed_options(cfg: Any) -> None:
    """ConfigError naming the first training option not built for several processes."""
    for name in ("pcgrad", "prioritized_replay", "elo_early_stopping_patience"):
        if getattr(cfg, name, None):
            raise ConfigError(name, "is not supported with distributed training (torchrun) yet")


def convert_batchnorm(model: nn.Module, ctx: DistContext, device: torch.device) -> nn.Module:
    """SyncBatchNorm in place of BatchNorm when distributed on CUDA (global-batch statistics;
    torch has no CPU SyncBatchNorm)."""
    if not ctx.distributed or device.type != "cuda":
        return model
    return nn.SyncBatchNorm.convert_sync_batchnorm(model)


def torchrun_command(nproc_per_node: int, train_argv: list[str], *,
                     nnodes: int = field_default(LaunchSettings, "nnodes"),
                     rdzv_endpoint: str | None = None,
                     module: str = "ringrift.train") -> list[str]:
    """The torchrun (torch.distributed.run, the elastic agent) command line that runs
    `python -m MODULE TRAIN_ARGV` in `nproc_per_node` processes on each of `nnodes` machines:
    standalone on one machine, c10d rendezvous at `rdzv_endpoint` across several."""
    if nproc_per_node < 1:
        raise ConfigError("nproc_per_node", f"must be at least 1, got {nproc_per_node}")
    if nnodes < 1:
        raise ConfigError("nnodes", f"must be at least 1, got {nnodes}")
    if nnodes > 1 and not rdzv_endpoint:
        raise ConfigError("rdzv_endpoint", "HOST:PORT (the same on every node) is needed with "
                                           "more than one node")
    command = [sys.executable, "-m", "torch.distributed.run",
               f"--nproc-per-node={nproc_per_node}"]
    if rdzv_endpoint:
        command += [f"--nnodes={nnodes}", "--rdzv-backend=c10d",
                    f"--rdzv-endpoint={rdzv_endpoint}"]
    else:
        command.append("--standalone")
    return [*command, "-m", module, *train_argv]


def launch_torchrun(nproc_per_node: int, train_argv: list[str], *,
                    nnodes: int = field_default(LaunchSettings, "nnodes"),
                    rdzv_endpoint: str | None = None) -> int:
    """Run the training under torchrun and wait; its exit status (a signal stops it first)."""
    command = torchrun_command(nproc_per_node, train_argv, nnodes=nnodes,
                               rdzv_endpoint=rdzv_endpoint)
    process = subprocess.Popen(command)
    try:
        return process.wait()
    except KeyboardInterrupt:  # torchrun got the Ctrl-C too and stops its workers
        return process.wait()
