"""Drawing a move index from a distribution at a temperature (used by the search players and
selfplay; it lives below both so the search does not import selfplay)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol


class _Random(Protocol):
    def random(self) -> float: ...


def sample_with_temperature(probs: Sequence[float], temperature: float, rng: _Random) -> int:
    """Index drawn from `probs` sharpened by `temperature`: p^(1/T), renormalised.

    Temperature 0 plays the argmax, ties broken by `rng`. Works in log space, so tiny
    temperatures neither overflow nor underflow; zero probabilities are never chosen.
    `rng` is anything with .random() in [0, 1): random.Random or numpy.random.Generator.
    """
    values = [float(p) for p in probs]
    if not values:
        raise ValueError("sample_with_temperature: empty probability list")
    if not all(math.isfinite(p) and p >= 0.0 for p in values):
        raise ValueError("sample_with_temperature: probabilities must be finite and >= 0")
    top = max(values)
    if top <= 0.0:
        raise ValueError("sample_with_temperature: probabilities sum to zero")
    if math.isnan(temperature) or temperature < 0.0:
        raise ValueError(f"sample_with_temperature: temperature {temperature} must be >= 0")
    if temperature == 0.0:
        ties = [i for i, p in enumerate(values) if p == top]
        return ties[_index_below(len(ties), rng)]
    if math.isinf(temperature):
        weights = [1.0 if p > 0.0 else 0.0 for p in values]
    else:
        # (p / top)^(1/T) = exp((log p - log top) / T): the largest weight is exactly 1.
        log_top = math.log(top)
        weights = [math.exp((math.log(p) - log_top) / temperature) if p > 0.0 else 0.0
                   for p in values]
    total = math.fsum(weights)
    threshold = rng.random() * total
    cumulative = 0.0
    last_positive = 0
    for i, weight in enumerate(weights):
        if weight > 0.0:
            cumulative += weight
            last_positive = i
            if threshold < cumulative:
                return i
    return last_positive  # rounding left the threshold just past the final sum


def _index_below(n: int, rng: _Random) -> int:
    return min(int(rng.random() * n), n - 1)
