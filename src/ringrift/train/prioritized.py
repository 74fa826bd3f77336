"""Prioritized experience replay (Schaul et al. 2016) over a training set.

Each training sample carries a priority, its most recent loss (policy + value); batches are
drawn with probability p_i^alpha / sum_j p_j^alpha, and each drawn sample's loss is scaled by
its importance-sampling weight (N * P(i))^-beta / max_j (N * P(j))^-beta, which undoes the bias
of the skewed sampling as beta goes to 1. Samples not seen yet get the highest priority so far,
so every sample is drawn soon at least once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ringrift.errors import ConfigError, UserError

# a priority never reaches 0, or a sample whose loss happened to be 0 is never seen again
MIN_PRIORITY = 1e-6


def parse_beta(text: str) -> tuple[float, float]:
    """`per_beta` "0.4->1.0" (annealed from start to end) or "0.5" (constant)."""
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(?:->\s*([0-9.eE+-]+)\s*)?", text)
    try:
        if match is None:
            raise ValueError
        start = float(match.group(1))
        end = float(match.group(2)) if match.group(2) is not None else start
    except ValueError:
        raise ConfigError("per_beta", f"{text!r}: expected BETA or START->END, e.g. "
                                      "0.4->1.0") from None
    for beta in (start, end):
        if not 0 <= beta <= 1:
            raise ConfigError("per_beta", f"{text!r}: beta must be in [0, 1]")
    return start, end


@dataclass(frozen=True)
class ReplaySettings:
    """alpha: how strongly priorities skew sampling (0 = uniform); beta annealed start -> end."""

    alpha: float = 0.6
    beta_start: float = 0.4
    beta_end: float = 1.0

    def validate(self) -> None:
        if not 0 <= self.alpha <= 2:
            raise ConfigError("per_alpha", "must be in [0, 2]")
        for beta in (self.beta_start, self.beta_end):
            if not 0 <= beta <= 1:
                raise ConfigError("per_beta", "must be in [0, 1]")


class PrioritizedReplay:
    """Priorities of the samples `indices` (dataset rows); draws batches and IS weights."""

    def __init__(self, indices: np.ndarray, settings: ReplaySettings) -> None:
        settings.validate()
        self.indices = np.asarray(indices, dtype=np.int64)
        self.settings = settings
        self.priorities = np.ones(len(self.indices), dtype=np.float64)
        self.seen = np.zeros(len(self.indices), dtype=bool)
        self._slot = {int(row): i for i, row in enumerate(self.indices)}

    def __len__(self) -> int:
        return len(self.indices)

    def beta(self, progress: float) -> float:
        """beta after `progress` (0..1) of the training run."""
        p = min(max(progress, 0.0), 1.0)
        return self.settings.beta_start + (self.settings.beta_end - self.settings.beta_start) * p

    def probabilities(self) -> np.ndarray:
        """Sampling probability of each slot: p^alpha normalised; unseen slots get max p."""
        pri = self.priorities.copy()
        if self.seen.any():
            pri[~self.seen] = pri[self.seen].max()
        scaled = pri ** self.settings.alpha
        return scaled / scaled.sum()

    def sample(self, batch_size: int, rng: np.random.Generator, progress: float
               ) -> tuple[np.ndarray, np.ndarray]:
        """(dataset rows, importance-sampling weights normalised by their maximum over the whole
        set) of one batch drawn with replacement."""
        probs = self.probabilities()
        slots = rng.choice(len(self.indices), size=batch_size, replace=True, p=probs)
        beta = self.beta(progress)
        n = len(self.indices)
        # max weight belongs to the least likely sample: normalise by it so weights are <= 1
        max_weight = (n * probs.min()) ** -beta
        weights = (n * probs[slots]) ** -beta / max_weight
        return self.indices[slots], weights.astype(np.float32)

    def update(self, rows: np.ndarray, losses: np.ndarray) -> None:
        """Set the priority of each drawn row to its loss just computed (latest draw wins)."""
        slots = np.fromiter((self._slot[int(r)] for r in rows), dtype=np.int64, count=len(rows))
        values = np.maximum(np.nan_to_num(np.asarray(losses, dtype=np.float64), nan=1.0,
                                          posinf=1e6), MIN_PRIORITY)
        self.priorities[slots] = values
        self.seen[slots] = True

    def state_dict(self) -> dict[str, Any]:
        # tensors, so a checkpoint holding them loads with weights_only=True
        import torch

        return {"indices": torch.from_numpy(self.indices.copy()),
                "priorities": torch.from_numpy(self.priorities.copy()),
                "seen": torch.from_numpy(self.seen.copy())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        indices = np.asarray(state["indices"].cpu().numpy())
        if not np.array_equal(indices, self.indices):
            raise UserError("the checkpoint's replay priorities are for other training samples")
        self.priorities = state["priorities"].cpu().numpy().astype(np.float64)
        self.seen = state["seen"].cpu().numpy().astype(bool)

    def summary(self) -> dict[str, float]:
        """Figures for the epoch record: spread of the priorities and share of samples seen."""
        seen = self.priorities[self.seen]
        return {"per_seen": float(self.seen.mean()) if len(self.seen) else 0.0,
                "per_priority_mean": float(seen.mean()) if len(seen) else 0.0,
                "per_priority_max": float(seen.max()) if len(seen) else 0.0}
