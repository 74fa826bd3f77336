"""Sequential probability ratio test (SPRT) on game results, for gating a new model.

Hypotheses are Elo differences under the logistic Elo model, expected score
s(elo) = 1 / (1 + 10^(-elo/400)): H0 says the difference is elo0, H1 says elo1.

Results are trinomial (win 1, draw 1/2, loss 0) with an unknown draw rate, so the test is the
generalized SPRT used by fishtest: under each hypothesis the outcome probabilities are the maximum
likelihood estimate from the observed frequencies constrained to mean score s(elo), and the log
likelihood ratio is sum_k n_k log(p1_k / p0_k). Without draws this is exactly the Bernoulli LLR
W log(s1/s0) + L log((1-s1)/(1-s0)). Stopping bounds are Wald's: lower = log(beta/(1-alpha)),
upper = log((1-beta)/alpha).
"""

from __future__ import annotations

import math
from typing import Literal

SprtStatus = Literal["accept_h1", "accept_h0", "continue"]

_SCORES = (0.0, 0.5, 1.0)  # loss, draw, win
# Pseudo-count added to every outcome when estimating the constrained MLE only, so that the
# constraint is always satisfiable (e.g. all wins so far); it does not enter the LLR sum.
_EPSILON = 1e-3


def expected_score(elo: float) -> float:
    """Expected score of a player `elo` points stronger, logistic Elo model."""
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def sprt_llr(wins: int, draws: int, losses: int, elo0: float, elo1: float) -> float:
    """Generalized log likelihood ratio of H1 (elo1) against H0 (elo0) for these results."""
    counts = (losses, draws, wins)
    if sum(counts) == 0:
        return 0.0
    p0 = _constrained_mle(counts, expected_score(elo0))
    p1 = _constrained_mle(counts, expected_score(elo1))
    return sum(n * math.log(b / a) for n, a, b in zip(counts, p0, p1, strict=True) if n)


def _constrained_mle(counts: tuple[int, int, int], s: float) -> list[float]:
    """Outcome probabilities maximizing the likelihood subject to mean score s.

    Lagrange: p_k = f_k / (1 + lam (x_k - s)), where lam solves sum f_k (x_k - s) / (1 + lam
    (x_k - s)) = 0; the left side decreases in lam, so a safeguarded Newton search finds it.
    """
    total = sum(counts) + _EPSILON * len(counts)
    f = [(n + _EPSILON) / total for n in counts]
    a = [x - s for x in _SCORES]
    lo, hi = -1.0 / max(a), -1.0 / min(a)  # keeps every denominator positive

    def g(lam: float) -> tuple[float, float]:
        value = slope = 0.0
        for fk, ak in zip(f, a, strict=True):
            d = 1.0 + lam * ak
            value += fk * ak / d
            slope -= fk * ak * ak / (d * d)
        return value, slope

    lam = 0.0
    for _ in range(100):
        value, slope = g(lam)
        if value > 0:
            lo = lam
        else:
            hi = lam
        if abs(value) < 1e-13:
            break
        step = lam - value / slope
        lam = step if lo < step < hi else 0.5 * (lo + hi)
    return [fk / (1.0 + lam * ak) for fk, ak in zip(f, a, strict=True)]


class SPRT:
    """Sequential test of elo1 against elo0; feed results with `update` until `status` decides.

    The decision is sticky: once the LLR crosses a bound the status stays, even if more results
    are added afterwards (a sequential test stops at the first crossing).
    """

    def __init__(self, elo0: float, elo1: float, alpha: float = 0.05, beta: float = 0.05):
        if not elo1 > elo0:
            raise ValueError(f"SPRT needs elo1 > elo0, got elo0={elo0} elo1={elo1}")
        for label, value in (("alpha", alpha), ("beta", beta)):
            if not 0.0 < value < 0.5:
                raise ValueError(f"{label} must be in (0, 0.5), got {value}")
        self.elo0, self.elo1 = float(elo0), float(elo1)
        self.alpha, self.beta = float(alpha), float(beta)
        self.lower = math.log(beta / (1.0 - alpha))
        self.upper = math.log((1.0 - beta) / alpha)
        self.wins = self.draws = self.losses = 0
        self.llr = 0.0
        self._decision: SprtStatus = "continue"

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def status(self) -> SprtStatus:
        """'accept_h1' (new model is at least elo1 better), 'accept_h0', or 'continue'."""
        return self._decision

    def update(self, result: float | str) -> SprtStatus:
        """Add one game result for the tested player: 1 / 'win', 0.5 / 'draw', 0 / 'loss'."""
        score = _RESULTS.get(result) if isinstance(result, str) else result
        if score == 1:
            self.wins += 1
        elif score == 0.5:
            self.draws += 1
        elif score == 0:
            self.losses += 1
        else:
            raise ValueError(f"game result must be 1, 0.5, 0, 'win', 'draw' or 'loss': {result!r}")
        return self._refresh()

    def update_counts(self, wins: int = 0, draws: int = 0, losses: int = 0) -> SprtStatus:
        """Add several results at once (the LLR is checked only after all of them)."""
        if min(wins, draws, losses) < 0:
            raise ValueError("negative game count")
        self.wins += wins
        self.draws += draws
        self.losses += losses
        return self._refresh()

    def _refresh(self) -> SprtStatus:
        self.llr = sprt_llr(self.wins, self.draws, self.losses, self.elo0, self.elo1)
        if self._decision == "continue":
            if self.llr >= self.upper:
                self._decision = "accept_h1"
            elif self.llr <= self.lower:
                self._decision = "accept_h0"
        return self._decision

    def summary(self) -> dict[str, object]:
        """Plain dict for reports and JSON output."""
        return {"elo0": self.elo0, "elo1": self.elo1, "alpha": self.alpha, "beta": self.beta,
                "wins": self.wins, "draws": self.draws, "losses": self.losses,
                "llr": self.llr, "lower": self.lower, "upper": self.upper,
                "status": self.status}


_RESULTS = {"win": 1.0, "draw": 0.5, "loss": 0.0}
