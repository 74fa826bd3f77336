"""Learning-rate schedules, per optimizer step: linear warmup, then none | step | cosine.

The rate is a pure function of the step, so resuming only needs the step count.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

SCHEDULES = ("none", "step", "cosine")


@dataclass(frozen=True)
class LRSchedule:
    """lr(step) for `total_steps` optimizer steps.

    warmup: linear from base_lr/warmup_steps up to base_lr over `warmup_steps`.
    cosine: after warmup, base_lr -> min_lr_ratio*base_lr along half a cosine by the last step.
    step: after warmup, base_lr * gamma ** (steps since warmup // step_size).
    offset: this run's step 0 is step `offset` of the schedule (a run that continues a longer
    schedule, e.g. one iteration of a loop whose schedule spans all its iterations).
    """

    kind: str
    base_lr: float
    total_steps: int
    warmup_steps: int = 0
    step_size: int = 1
    gamma: float = 0.1
    min_lr_ratio: float = 0.0
    offset: int = 0

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULES:
            raise ValueError(f"unknown lr schedule {self.kind!r} (expected {SCHEDULES})")

    def lr(self, step: int) -> float:
        """Learning rate for optimizer step `step` (0-based) of this run."""
        step += self.offset
        if step < self.warmup_steps:
            return self.base_lr * (step + 1) / self.warmup_steps
        t = step - self.warmup_steps
        if self.kind == "cosine":
            span = max(self.total_steps - self.warmup_steps - 1, 1)
            frac = min(t / span, 1.0)
            low = self.base_lr * self.min_lr_ratio
            return low + 0.5 * (self.base_lr - low) * (1 + math.cos(math.pi * frac))
        if self.kind == "step":
            return self.base_lr * self.gamma ** (t // max(self.step_size, 1))
        return self.base_lr

    def state_dict(self) -> dict[str, Any]:
        return asdict(self)
