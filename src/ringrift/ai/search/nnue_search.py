"""The `nnue-guided` engine: a shallow search valued by the NNUE network at its leaves.

Depth counts decisions (forced moves are stepped through, as in the tree search; a RingRift turn
is often two decisions, placement then movement). Two players: alpha-beta on the zero-sum score
(v_me - v_opponent) / 2, root moves ordered by their static value. Three or four players: max-n
(every node takes the child best for its own mover), without pruning.

Leaves are valued by an NNUE model evaluated in numpy (one embedding sum, one small matrix
product: no torch call per leaf), or, when no model is given, by the hand-written evaluation
with the board's full heuristic profile (few leaves, so the costly features are affordable).

The Decision's policy is softmax(root move scores / 0.1); under alpha-beta, moves refuted by
the pruning carry an upper bound of their score, not the score itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ringrift import rules
from ringrift.ai.evaluation import Weights, evaluate
from ringrift.ai.player import Decision
from ringrift.ai.sampling import sample_with_temperature
from ringrift.ai.search.gumbel import softmax
from ringrift.ai.search.tree import advance_forced
from ringrift.errors import UserError
from ringrift.rules import GameState, Move

DEFAULT_DEPTH = 2
POLICY_TEMPERATURE = 0.1

ValueFn = Callable[[GameState], list[float]]


class NNUEValue:
    """An NNUE network as a numpy value function: per-seat values of a state."""

    def __init__(self, model) -> None:
        self.embed = model.embed.weight.detach().cpu().numpy().astype(np.float32)
        self.bias = model.bias.detach().cpu().numpy().astype(np.float32)
        self.out_w = model.out.weight.detach().cpu().numpy().astype(np.float32)
        self.out_b = model.out.bias.detach().cpu().numpy().astype(np.float32)
        self.num_players = model.config.num_players
        self.board_type = model.config.board_type

    @classmethod
    def from_file(cls, path: str) -> NNUEValue:
        from ringrift.nn.models import NNUE, load_model

        model, metadata = load_model(path)
        if not isinstance(model, NNUE):
            raise UserError(f"{path}: engine nnue-guided needs an nnue model, not "
                            f"{metadata.get('architecture')}")
        return cls(model)

    def __call__(self, state: GameState) -> list[float]:
        from ringrift.nn.encoding import nnue_features

        if state.is_over:
            return rules.outcome(state)
        h = self.embed[nnue_features(state)].sum(axis=0) + self.bias
        np.clip(h, 0.0, 1.0, out=h)
        rotated = np.tanh(self.out_w @ h + self.out_b).tolist()
        n = state.num_players
        mover = state.current_player
        # outputs are from the mover's view (slot 0 = the player to move); back to seat order
        return [rotated[(s - mover + 1) % n] for s in range(n)]


def heuristic_value(weights: Weights) -> ValueFn:
    """The hand-written evaluation as a value function."""
    return lambda state: evaluate(state, weights)


def _child(state: GameState, move: Move) -> tuple[GameState, list[Move]]:
    child = state.copy()
    rules.apply_move(child, move, validate=False)
    return child, advance_forced(child)


class NNUEGuidedPlayer:
    """Depth-limited alpha-beta (2 players) or max-n (3-4 players) over `value_fn`."""

    name = "nnue-guided"

    def __init__(self, value_fn: ValueFn, *, depth: int = DEFAULT_DEPTH, seed: int = 0,
                 temperature: float = 0.0, schedule: Callable[[int], float] | None = None,
                 policy_temperature: float = POLICY_TEMPERATURE) -> None:
        if depth < 1:
            raise ValueError("nnue-guided needs a search depth of at least 1")
        self.value_fn = value_fn
        self.depth = depth
        self.temperature = temperature
        self.schedule = schedule
        self.policy_temperature = policy_temperature
        self.rng = np.random.default_rng(seed)
        self.leaves = 0  # leaves valued by the last search

    def new_game(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def _value(self, state: GameState) -> list[float]:
        self.leaves += 1
        return self.value_fn(state)

    def choose(self, state: GameState, legal: list[Move]) -> Decision:
        self.leaves = 0
        me = state.current_player
        children = [_child(state, m) for m in legal]
        scores: list[float] = [0.0] * len(legal)
        vectors: list[list[float]] = [[]] * len(legal)
        if state.num_players == 2:
            other = 2 if me == 1 else 1
            order = list(range(len(legal)))
            if self.depth > 1:  # order root moves by their static score for better pruning
                static = [self._score(self._value(c), me, other) for c, _ in children]
                order.sort(key=lambda i: -static[i])
            alpha = -math.inf
            for i in order:
                child, child_legal = children[i]
                scores[i], vectors[i] = self._alphabeta(child, child_legal, self.depth - 1,
                                                        alpha, math.inf, me, other)
                alpha = max(alpha, scores[i])
        else:
            for i, (child, child_legal) in enumerate(children):
                vectors[i] = self._maxn(child, child_legal, self.depth - 1)
                scores[i] = vectors[i][me - 1]
        policy = softmax([s / self.policy_temperature for s in scores])
        t = self.schedule(state.move_count, state) if self.schedule is not None else self.temperature
        index = sample_with_temperature(policy, t, self.rng)
        best = max(range(len(scores)), key=scores.__getitem__)
        return Decision(legal[index], policy=list(zip(legal, policy)), value=vectors[best])

    @staticmethod
    def _score(v: list[float], me: int, other: int) -> float:
        return 0.5 * (v[me - 1] - v[other - 1])

    def _alphabeta(self, state: GameState, legal: list[Move], depth: int, alpha: float,
                   beta: float, me: int, other: int) -> tuple[float, list[float]]:
        if depth == 0 or state.is_over:
            v = self._value(state)
            return self._score(v, me, other), v
        maximizing = state.current_player == me
        best_s = -math.inf if maximizing else math.inf
        best_v: list[float] = []
        for move in legal:
            child, child_legal = _child(state, move)
            s, v = self._alphabeta(child, child_legal, depth - 1, alpha, beta, me, other)
            if maximizing:
                if s > best_s:
                    best_s, best_v = s, v
                alpha = max(alpha, s)
            else:
                if s < best_s:
                    best_s, best_v = s, v
                beta = min(beta, s)
            if alpha >= beta:
                break
        return best_s, best_v

    def _maxn(self, state: GameState, legal: list[Move], depth: int) -> list[float]:
        if depth == 0 or state.is_over:
            return self._value(state)
        mover = state.current_player - 1
        best: list[float] | None = None
        for move in legal:
            child, child_legal = _child(state, move)
            v = self._maxn(child, child_legal, depth - 1)
            if best is None or v[mover] > best[mover]:
                best = v
        return best
