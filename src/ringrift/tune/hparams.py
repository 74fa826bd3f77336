"""The hyperparameters population-based training explores, their bounds, and perturbation.

Log-scale knobs (learning rate, weight decay) are multiplied by 0.8 or 1.2, as Ray Tune's PBT
does; linear knobs that may be 0 (entropy weight, label smoothing) or are weights (value weight)
move by +-10% of their range, so a member at 0 can still leave it. Every result is clipped into
the bounds.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    log: bool

    def sample(self, rng: random.Random) -> float:
        if self.log:
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return rng.uniform(self.low, self.high)

    def perturb(self, value: float, rng: random.Random) -> float:
        if self.log:
            moved = value * rng.choice((0.8, 1.2))
        else:
            moved = value + rng.choice((-0.1, 0.1)) * (self.high - self.low)
        return min(self.high, max(self.low, moved))

    def clip(self, value: float) -> float:
        return min(self.high, max(self.low, value))


BOUNDS: dict[str, Bound] = {
    "learning_rate": Bound(1e-4, 1e-2, log=True),
    "weight_decay": Bound(1e-6, 1e-2, log=True),
    "entropy_weight": Bound(0.0, 0.02, log=False),
    "value_weight": Bound(0.25, 2.0, log=False),
    "label_smoothing": Bound(0.0, 0.1, log=False),
}


def default_hparams() -> dict[str, float]:
    """The `ringrift train` defaults of the explored knobs (clipped into the bounds)."""
    from ringrift.train.config import TrainConfig

    defaults = {f: getattr(TrainConfig, f) for f in BOUNDS}
    return {name: BOUNDS[name].clip(float(v)) for name, v in defaults.items()}


def sample_hparams(rng: random.Random) -> dict[str, float]:
    return {name: bound.sample(rng) for name, bound in BOUNDS.items()}


def perturb_hparams(hparams: dict[str, float], rng: random.Random) -> dict[str, float]:
    """Every knob moved once (explore), within its bounds."""
    return {name: BOUNDS[name].perturb(float(hparams[name]), rng) for name in BOUNDS}
