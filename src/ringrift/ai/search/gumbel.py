"""Gumbel AlphaZero (Danihelka et al., ICLR 2022) as selection rules over the shared tree.

Root: Gumbel-top-k sampling of m actions and sequential halving over the simulation budget,
both expressed, as in mctx, by one rule: at simulation s, among the actions whose visit count
equals `considered_visits(m, budget)[s]`, take the argmax of g + logits + sigma(completed Q).
Interior: the deterministic rule argmax(improved policy - N(a) / (1 + sum N)).
Q-transform: Q completed with the mixed value v_mix for unvisited actions, min-max rescaled to
[0, 1] within the node (mctx's `qtransform_completed_by_mix_value`), then the monotone
sigma(q) = (c_visit + max_b N(b)) * c_scale * q. Improved policy = softmax(logits + sigma).
All Q-values are the acting player's entry of the value vector (max-n for 3-4 players).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from ringrift.ai.search.tree import Node

# Simulation budgets (simulations per move).
THROUGHPUT = 64
STANDARD = 150
QUALITY = 800
ULTIMATE = 1600
BUDGETS = {"throughput": THROUGHPUT, "standard": STANDARD, "quality": QUALITY,
           "ultimate": ULTIMATE}



def parse_budget(text: str) -> int:
    """A simulation count: a positive integer or a budget name (throughput, standard, ...)."""
    name = text.strip().lower()
    if name in BUDGETS:
        return BUDGETS[name]
    try:
        value = int(name)
    except ValueError:
        raise ValueError(f"{text!r} is neither a number nor one of {', '.join(BUDGETS)}") from None
    if value < 1:
        raise ValueError(f"{value} simulations: must be at least 1")
    return value


DEFAULT_CONSIDERED = 16  # m: root actions sampled by Gumbel-top-k
C_VISIT = 50.0
C_SCALE = 1.0
_TINY = 1e-30


@lru_cache(maxsize=256)
def considered_visits(max_considered: int, num_simulations: int) -> tuple[int, ...]:
    """Visit count an action must have to be chosen at each simulation (sequential halving):
    phases of ceil(log2 m), the considered set halved after each, the budget spread evenly."""
    if max_considered <= 1:
        return tuple(range(num_simulations))
    log2max = math.ceil(math.log2(max_considered))
    sequence: list[int] = []
    visits = [0] * max_considered
    considered = max_considered
    while len(sequence) < num_simulations:
        extra = max(1, num_simulations // (log2max * considered))
        for _ in range(extra):
            sequence.extend(visits[:considered])
            for i in range(considered):
                visits[i] += 1
        considered = max(2, considered // 2)
    return tuple(sequence[:num_simulations])


def node_logits(node: Node) -> list[float]:
    """log priors (logits up to a constant, which no softmax or argmax here sees)."""
    if node.logits is None:
        node.logits = [math.log(max(p, _TINY)) for p in node.priors]
    return node.logits


def mixed_value(raw_value: float, priors: Sequence[float], edge_n: Sequence[int],
                edge_w: Sequence[float]) -> float:
    """v_mix = (v + sum_b N(b) * sum_{visited} pi(a) q(a) / sum_{visited} pi(a)) / (1 + sum N)."""
    total = 0
    sum_p = 0.0
    weighted = 0.0
    for p, k, w in zip(priors, edge_n, edge_w):
        if k:
            p = max(p, _TINY)
            total += k
            sum_p += p
            weighted += p * w / k
    if not total:
        return raw_value
    return (raw_value + total * weighted / sum_p) / (total + 1)


def completed_q(node: Node, use_mixed_value: bool = True) -> list[float]:
    """Q of visited actions, v_mix (or the node's raw value) for the unvisited ones."""
    raw = node.raw_value[node.player - 1]
    fill = mixed_value(raw, node.priors, node.edge_n, node.edge_w) if use_mixed_value else raw
    return [w / k if k else fill for k, w in zip(node.edge_n, node.edge_w)]


def sigma(q: Sequence[float], max_visits: int, c_visit: float = C_VISIT,
          c_scale: float = C_SCALE, rescale: bool = True) -> list[float]:
    """sigma(q) = (c_visit + max_b N(b)) * c_scale * q, q min-max rescaled to [0, 1] first."""
    if rescale:
        lo, hi = min(q), max(q)
        span = max(hi - lo, 1e-8)
        q = [(x - lo) / span for x in q]
    scale = (c_visit + max_visits) * c_scale
    return [scale * x for x in q]


def transformed_q(node: Node, c_visit: float = C_VISIT, c_scale: float = C_SCALE) -> list[float]:
    """sigma(completed Q) of the node's actions."""
    return sigma(completed_q(node), max(node.edge_n), c_visit, c_scale)


def softmax(x: Sequence[float]) -> list[float]:
    top = max(x)
    e = [math.exp(v - top) for v in x]
    z = sum(e)
    return [v / z for v in e]


def improved_policy(node: Node, c_visit: float = C_VISIT, c_scale: float = C_SCALE
                    ) -> list[float]:
    """softmax(logits + sigma(completed Q)): the Gumbel training target."""
    return softmax([a + b for a, b in zip(node_logits(node),
                                          transformed_q(node, c_visit, c_scale))])


def _best_with_visits(node: Node, gumbel: Sequence[float], visits: int, c_visit: float,
                      c_scale: float) -> int:
    sig = transformed_q(node, c_visit, c_scale)
    logits = node_logits(node)
    best, best_i = -math.inf, -1
    for i, k in enumerate(node.edge_n):
        if k == visits:
            s = gumbel[i] + logits[i] + sig[i]
            if s > best:
                best, best_i = s, i
    if best_i < 0:  # cannot happen with the halving table; stay total anyway
        scores = [g + a + b for g, a, b in zip(gumbel, logits, sig)]
        best_i = max(range(len(scores)), key=scores.__getitem__)
    return best_i


def root_select(node: Node, gumbel: Sequence[float], simulation: int, num_simulations: int,
                max_considered: int = DEFAULT_CONSIDERED, c_visit: float = C_VISIT,
                c_scale: float = C_SCALE) -> int:
    """Gumbel root selection for simulation number `simulation` of `num_simulations`."""
    considered = min(max_considered, len(node.moves))
    visits = considered_visits(considered, num_simulations)[simulation]
    return _best_with_visits(node, gumbel, visits, c_visit, c_scale)


def final_action(node: Node, gumbel: Sequence[float], c_visit: float = C_VISIT,
                 c_scale: float = C_SCALE) -> int:
    """The move to play: argmax of g + logits + sigma(q) among the most visited (surviving)
    actions."""
    return _best_with_visits(node, gumbel, max(node.edge_n), c_visit, c_scale)


def interior_select(node: Node, c_visit: float = C_VISIT, c_scale: float = C_SCALE) -> int:
    """Deterministic interior selection: argmax(improved policy - N(a) / (1 + sum_b N(b))).

    Computed over the visited edges only: unvisited ones share one completed Q (v_mix), so their
    improved-policy weights are prior * exp(sigma(v_mix)) and the best of them is the one of
    highest prior; their total prior mass is the node's prior sum minus the visited priors.
    (`improved_policy` is the plain O(moves) formula; the tests check both agree.)
    """
    priors, edge_n, edge_w = node.priors, node.edge_n, node.edge_w
    visited = node.visited
    u = node.first_unvisited()
    if not visited:
        return u
    raw = node.raw_value[node.player - 1]
    total = 0
    max_n = 0
    sum_p = 0.0
    weighted = 0.0
    qs = []
    for i in visited:
        k = edge_n[i]
        q = edge_w[i] / k
        qs.append(q)
        p = priors[i]
        total += k
        max_n = k if k > max_n else max_n
        p_floor = p if p > _TINY else _TINY
        sum_p += p_floor
        weighted += p_floor * q
    v_mix = (raw + total * weighted / sum_p) / (total + 1)
    lo, hi = min(qs), max(qs)
    if u >= 0:
        lo, hi = min(lo, v_mix), max(hi, v_mix)
    scale = (c_visit + max_n) * c_scale / max(hi - lo, 1e-8)
    exps = [scale * (q - lo) for q in qs]
    e_u = scale * (v_mix - lo)
    top = max(max(exps), e_u) if u >= 0 else max(exps)
    weights = [priors[i] * math.exp(e - top) for i, e in zip(visited, exps)]
    z = sum(weights)
    unvisited_mass = max(0.0, node.prior_sum - sum(priors[i] for i in visited))
    if u >= 0:
        z += unvisited_mass * math.exp(e_u - top)
    denom = 1.0 + total
    best, best_i = -math.inf, u
    if u >= 0:
        best = priors[u] * math.exp(e_u - top) / z
    for i, w in zip(visited, weights):
        s = w / z - edge_n[i] / denom
        if s > best or (s == best and i < best_i):
            best, best_i = s, i
    return best_i
