"""Hard-position mining's settings and their defaults, torch-free so `ringrift mine --help`
can read them without importing the miner (train/hard_positions.py imports torch)."""

from __future__ import annotations

from dataclasses import dataclass

# what a position's hardness is measured by ("both": each measure over its mean, summed)
MEASURES = ("policy", "value", "both")


@dataclass(frozen=True)
class MineSettings:
    """How to mine: the share kept, the measure, and how the model is run."""

    fraction: float = 0.1  # share of the positions kept, hardest first
    by: str = "both"  # one of MEASURES
    batch_size: int = 256  # positions scored per forward pass
    device: str = "cpu"
