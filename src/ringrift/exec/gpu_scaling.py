"""Automatic batch size of the GPU evaluator, from the GPU's kind and memory (the seed's
`GpuScalingConfig`).

On CUDA the batch is base x the GPU's multiplier (GH200 64 -> 4096, H100/H200 32 -> 2048, A100 16
-> 1024; other GPUs keep the requested size), capped by what fits in the GPU's memory less
`reserved_memory_gb` (an estimate per position from the network's size). Without CUDA, or with
RINGRIFT_AUTO_BATCH_SCALE=0, the requested size is used as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

AUTO_BATCH_SCALE_ENV = "RINGRIFT_AUTO_BATCH_SCALE"
DISABLE_GPU_DATAGEN_ENV = "RINGRIFT_DISABLE_GPU_DATAGEN"


@dataclass(frozen=True)
class GpuScalingConfig:
    """Batch multipliers per GPU kind over `base_batch_size`, and GPU memory kept free."""

    base_batch_size: int = 64
    gh200_batch_multiplier: int = 64  # 64 * 64 = 4096
    h100_batch_multiplier: int = 32  # 64 * 32 = 2048
    a100_batch_multiplier: int = 16  # 64 * 16 = 1024
    reserved_memory_gb: float = 8.0

    def multiplier(self, gpu_name: str) -> int | None:
        """The multiplier of a GPU by its CUDA device name (None: a kind not in the table)."""
        name = gpu_name.upper()
        if "GH200" in name:
            return self.gh200_batch_multiplier
        if "H100" in name or "H200" in name:
            return self.h100_batch_multiplier
        if "A100" in name:
            return self.a100_batch_multiplier
        return None


def auto_batch_scale_enabled() -> bool:
    return os.environ.get(AUTO_BATCH_SCALE_ENV, "1") != "0"


def gpu_datagen_disabled() -> bool:
    """RINGRIFT_DISABLE_GPU_DATAGEN=1: selfplay keeps its networks on the CPU."""
    return os.environ.get(DISABLE_GPU_DATAGEN_ENV, "0") not in ("", "0")


def bytes_per_position(channels: int, blocks: int, height: int, width: int) -> int:
    """A generous estimate of inference memory per position: the tower's activations (a few
    live feature maps per block, float32) plus the policy head's planes."""
    return 4 * channels * height * width * (4 + blocks) + 4 * 64 * height * width


def scaled_batch_size(requested: int, *, gpu_name: str | None, total_memory_gb: float | None,
                      position_bytes: int, config: GpuScalingConfig = GpuScalingConfig()
                      ) -> int:
    """The evaluator's batch size: `requested` unless auto-scaling applies (a CUDA GPU of a
    known kind, RINGRIFT_AUTO_BATCH_SCALE not 0); never more than the memory allows."""
    if gpu_name is None or not auto_batch_scale_enabled():
        return requested
    multiplier = config.multiplier(gpu_name)
    size = requested if multiplier is None else config.base_batch_size * multiplier
    if total_memory_gb is not None:
        usable = max(0.0, total_memory_gb - config.reserved_memory_gb) * 1024 ** 3
        size = min(size, max(1, int(usable // max(1, position_bytes))))
    return max(1, size)


def cuda_properties(device: str | None) -> tuple[str | None, float | None]:
    """(name, memory in GB) of the CUDA device `device` would use, or (None, None)."""
    import torch

    if device == "cpu" or not torch.cuda.is_available():
        return None, None
    index = torch.device(device).index if device and device.startswith("cuda:") else 0
    props = torch.cuda.get_device_properties(index or 0)
    return props.name, props.total_memory / 1024 ** 3
