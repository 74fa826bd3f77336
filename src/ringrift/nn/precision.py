"""Mixed precision: which autocast dtype a device runs fast, for training and inference.

CUDA: bf16 where the GPU supports it, else fp16 (training then needs loss scaling). CPU: bf16
only when oneDNN has native bf16 kernels (AVX512-BF16 or AMX; there, v2 trains ~1.5x and
evaluates batches of 16+ positions ~1.6x faster than float32, single positions barely faster);
elsewhere CPU bf16 is emulated and slower, so float32 is kept.
"""

from __future__ import annotations

import torch


def cpu_supports_bf16() -> bool:
    """True when oneDNN has native bfloat16 kernels on this CPU."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def autocast_dtype(device: torch.device, requested: str = "bf16"
                   ) -> tuple[torch.dtype | None, str | None]:
    """The autocast dtype for mixed precision `requested` ("bf16" or "fp16") on `device`, and a
    note when the request cannot be honoured as asked (None: run in float32)."""
    if device.type == "cuda":
        if requested == "bf16" and torch.cuda.is_bf16_supported():
            return torch.bfloat16, None
        return torch.float16, None
    if device.type != "cpu" or not cpu_supports_bf16():
        return None, f"note: mixed precision is ignored on this {device.type} (no native " \
                     "bf16): float32"
    note = "note: fp16 autocast is CUDA only: bf16 on CPU" if requested == "fp16" else None
    return torch.bfloat16, note


def dtype_name(dtype: torch.dtype | None) -> str | None:
    """'bfloat16' for torch.bfloat16 (for reports); None for None."""
    return None if dtype is None else str(dtype).removeprefix("torch.")
