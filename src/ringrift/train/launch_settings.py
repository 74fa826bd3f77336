"""Defaults of the torchrun launch (`ringrift train --nproc-per-node/--nnodes`), torch-free so
the command line can read them without importing train/distributed.py (which imports torch)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LaunchSettings:
    """Where training runs: processes per machine and machines (1 and 1: no torchrun)."""

    nproc_per_node: int = 1
    nnodes: int = 1
