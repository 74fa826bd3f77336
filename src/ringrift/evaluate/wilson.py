"""Wilson score interval for a win rate.

Draws count as half a win and half a loss (the usual chess convention), so the "rate" is the
score fraction (wins + draws / 2) / games and the number of trials is the number of games.
"""

from __future__ import annotations

import math
from statistics import NormalDist


def z_score(confidence: float) -> float:
    """Two-sided standard-normal quantile for `confidence` (1.959964 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def score_rate(wins: int, draws: int = 0, losses: int = 0) -> float:
    """Score fraction (wins + draws/2) / games; 0.0 when no games were played."""
    games = _games(wins, draws, losses)
    return (wins + 0.5 * draws) / games if games else 0.0


def wilson_interval(wins: int, draws: int = 0, losses: int = 0,
                    confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (low, high) for the score rate; (0.0, 1.0) when no games."""
    n = _games(wins, draws, losses)
    if n == 0:
        return 0.0, 1.0
    p = (wins + 0.5 * draws) / n
    z = z_score(confidence)
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At p = 0 or 1 the bound is exactly 0 or 1; rounding would leave it a hair inside.
    low = 0.0 if p == 0.0 else max(0.0, centre - half)
    high = 1.0 if p == 1.0 else min(1.0, centre + half)
    return low, high


def _games(wins: int, draws: int, losses: int) -> int:
    if min(wins, draws, losses) < 0:
        raise ValueError(f"negative game count: wins={wins} draws={draws} losses={losses}")
    return wins + draws + losses
