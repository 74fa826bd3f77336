"""PUCT selection (AlphaZero) over the shared tree, and Dirichlet noise for the root priors."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ringrift.ai.search.tree import Node

C_INIT = 1.25
C_BASE = 19652.0


def exploration(parent_visits: int, c_init: float = C_INIT, c_base: float = C_BASE) -> float:
    """AlphaZero's c(s) = log((1 + N + c_base) / c_base) + c_init."""
    return math.log((1.0 + parent_visits + c_base) / c_base) + c_init


def puct_select(node: Node, priors: Sequence[float] | None = None, *, c_init: float = C_INIT,
                c_base: float = C_BASE, fpu_reduction: float = 0.0) -> int:
    """argmax over edges of Q + c * P * sqrt(N) / (1 + n), by the node's acting player.

    Unvisited edges take the node's own mean value for its player minus `fpu_reduction`
    (first-play urgency), so among them the highest prior wins. N counts the node's own
    evaluation, so the priors order the first visits. `priors` overrides the node's (the root's
    noisy priors); without it only the visited edges and the best unvisited one are scored.
    """
    n = node.n
    cs = exploration(n, c_init, c_base) * math.sqrt(n)
    fpu = (node.w[node.player - 1] / n if n else 0.0) - fpu_reduction
    edge_n, edge_w = node.edge_n, node.edge_w
    best = -math.inf
    best_i = 0
    if priors is not None:
        i = 0
        for p, k, w in zip(priors, edge_n, edge_w):
            s = (w / k + cs * p / (1 + k)) if k else (fpu + cs * p)
            if s > best:
                best = s
                best_i = i
            i += 1
        return best_i
    priors = node.priors
    u = node.first_unvisited()
    if u >= 0:
        best, best_i = fpu + cs * priors[u], u
    for i in node.visited:
        k = edge_n[i]
        s = edge_w[i] / k + cs * priors[i] / (1 + k)
        if s > best:
            best = s
            best_i = i
    return best_i


def add_dirichlet_noise(priors: Sequence[float], rng: np.random.Generator, alpha: float,
                        fraction: float) -> list[float]:
    """(1 - fraction) * priors + fraction * Dirichlet(alpha), as AlphaZero does at the root."""
    if alpha <= 0 or fraction <= 0:
        return list(priors)
    noise = rng.dirichlet([alpha] * len(priors))
    return [(1.0 - fraction) * p + fraction * float(x) for p, x in zip(priors, noise)]
