"""Elo ratings by maximum likelihood (Bradley-Terry model) over pairwise results.

Model: P(i beats j) = 1 / (1 + 10^(-(R_i - R_j)/400)); a draw counts as half a win for each side.
The log likelihood is maximized by Newton's method with one participant (the anchor) held fixed.

Finite ratings: every pair that played at least once also gets `prior_draws` virtual draws
(default 1), a prior pulling each pair slightly towards equality, so a participant that won every
game still gets a finite rating; it does not connect players who never met.

Intervals: rating +- z * standard error, the standard errors from the inverse of the observed
information (negative Hessian of the log likelihood, virtual draws included) at the optimum, with
the anchor's row and column removed. They are intervals for each rating *relative to the anchor*
(the anchor's own interval has width zero).

Disconnected participants: a participant with no chain of games to the anchor has no defined
rating; it is reported with elo = nan, interval (-inf, inf) and `connected = False`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ringrift.errors import UserError
from ringrift.evaluate.pairwise import PairwiseResults
from ringrift.evaluate.wilson import z_score

ELO_PER_NAT = 400.0 / math.log(10.0)
DEFAULT_ANCHOR = "random"


@dataclass(frozen=True)
class Rating:
    """One participant's fitted rating with its confidence interval (relative to the anchor)."""

    name: str
    elo: float
    low: float
    high: float
    games: int
    score: float
    connected: bool = True


@dataclass(frozen=True)
class EloFit:
    """Result of `fit_elo`: ratings in participant order plus the settings that produced them."""

    ratings: list[Rating]
    anchor: str
    anchor_elo: float
    confidence: float
    prior_draws: float
    iterations: int

    def __getitem__(self, name: str) -> Rating:
        for rating in self.ratings:
            if rating.name == name:
                return rating
        raise KeyError(name)

    def ranked(self) -> list[Rating]:
        """Ratings best first; unrated (disconnected) participants last."""
        return sorted(self.ratings, key=lambda r: (not r.connected, -r.elo if r.connected else 0))

    def to_dict(self) -> dict[str, object]:
        return {
            "anchor": {"name": self.anchor, "elo": self.anchor_elo},
            "confidence": self.confidence,
            "interval_method": "inverse observed information (Hessian), relative to anchor",
            "prior_draws": self.prior_draws,
            "ratings": [
                {"name": r.name, "elo": _json_number(r.elo), "low": _json_number(r.low),
                 "high": _json_number(r.high), "games": r.games, "score": r.score,
                 "connected": r.connected}
                for r in self.ranked()
            ],
        }


def choose_anchor(participants: Sequence[str], anchor: str | None) -> str:
    """The anchor name: `anchor` if given, else 'random' when present, else the first listed."""
    if not participants:
        raise UserError("no games to rate")
    if anchor is None:
        return DEFAULT_ANCHOR if DEFAULT_ANCHOR in participants else participants[0]
    if anchor not in participants:
        raise UserError(f"anchor {anchor!r} played no games (participants: "
                        f"{', '.join(participants)})")
    return anchor


def fit_elo(results: PairwiseResults, anchor: str | None = None, anchor_elo: float = 0.0,
            prior_draws: float = 1.0, confidence: float = 0.95,
            max_iterations: int = 100) -> EloFit:
    """Maximum-likelihood Elo ratings with intervals, `anchor` fixed at `anchor_elo`."""
    if not prior_draws > 0:
        raise ValueError(f"prior_draws must be > 0 (it keeps ratings finite), got {prior_draws}")
    names = results.participants
    anchor = choose_anchor(names, anchor)
    a = names.index(anchor)
    points, games = results.matrices()
    played = games > 0
    points = points + 0.5 * prior_draws * played
    games = games + prior_draws * played

    component = _component(played, a)
    free = [i for i in component if i != a]
    theta = np.zeros(len(names))  # natural-log odds scale, anchor at 0
    variance = np.zeros(len(names))
    iterations = 0
    if free:  # a lone anchor needs no fitting
        theta, variance, iterations = _newton(points, games, component, a, max_iterations)

    z = z_score(confidence)
    se = np.sqrt(np.clip(variance, 0.0, None))
    ratings = []
    members = set(component)
    for i, name in enumerate(names):
        entry = {"name": name, "games": results.games_played(name),
                 "score": results.score(name)}
        if i in members:
            elo = float(anchor_elo + ELO_PER_NAT * theta[i])
            half = float(z * ELO_PER_NAT * se[i])
            ratings.append(Rating(elo=elo, low=elo - half, high=elo + half, **entry))
        else:
            ratings.append(Rating(elo=math.nan, low=-math.inf, high=math.inf, connected=False,
                                  **entry))
    return EloFit(ratings=ratings, anchor=anchor, anchor_elo=anchor_elo, confidence=confidence,
                  prior_draws=prior_draws, iterations=iterations)


def _component(played: np.ndarray, start: int) -> list[int]:
    """Indices reachable from `start` through pairs that played, in index order."""
    seen = {start}
    frontier = [start]
    while frontier:
        i = frontier.pop()
        for j in np.flatnonzero(played[i]):
            if int(j) not in seen:
                seen.add(int(j))
                frontier.append(int(j))
    return sorted(seen)


def _newton(points: np.ndarray, games: np.ndarray, component: list[int], anchor: int,
            max_iterations: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Maximize the log likelihood over `component` with theta[anchor] = 0.

    Returns theta and its variances (both full length, zero outside the free members) and the
    number of iterations used.
    """
    idx = np.array(component)
    p = points[np.ix_(idx, idx)]
    g = games[np.ix_(idx, idx)]
    free = np.array([k for k, i in enumerate(component) if i != anchor])
    t = np.zeros(len(idx))

    def loglik(t: np.ndarray) -> float:
        d = t[:, None] - t[None, :]
        return float(-(p * np.logaddexp(0.0, -d)).sum())  # sum p_ij log sigmoid(d_ij)

    def grad_hess(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = t[:, None] - t[None, :]
        sig = 0.5 * (1.0 + np.tanh(0.5 * d))  # sigmoid, overflow-free
        grad = (p - g * sig).sum(axis=1)
        w = g * sig * (1.0 - sig)
        info = -w  # negative Hessian; w has a zero diagonal (no self-play pairs)
        np.fill_diagonal(info, w.sum(axis=1))
        return grad, info

    current = loglik(t)
    iterations = 0
    for step_number in range(1, max_iterations + 1):
        iterations = step_number
        grad, info = grad_hess(t)
        step = np.linalg.solve(info[np.ix_(free, free)], grad[free])
        scale = 1.0
        while True:
            trial = t.copy()
            trial[free] += scale * step
            value = loglik(trial)
            if value >= current - 1e-12 or scale < 1e-6:
                break
            scale *= 0.5
        t, improvement, current = trial, value - current, value
        if np.max(np.abs(scale * step)) < 1e-10 or abs(improvement) < 1e-14:
            break
    _, info = grad_hess(t)
    free_global = idx[free]
    theta = np.zeros(len(points))
    theta[idx] = t
    variance = np.zeros(len(points))
    variance[free_global] = np.diag(np.linalg.inv(info[np.ix_(free, free)]))
    return theta, variance, iterations


def _json_number(value: float) -> float | None:
    """JSON has no nan/inf: unrated values become null."""
    return value if math.isfinite(value) else None
