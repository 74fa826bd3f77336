"""Leaf evaluators: priors over a leaf's legal moves and a value per seat, for a batch of leaves.

`HeuristicLeaf` (no network): the hand-written evaluation, with the heuristic player's move
values as root priors. `NetworkLeaf`: a policy/value network through `ringrift.nn.inference.Evaluator`,
counting its calls and batch sizes (for the bench and the batching tests).
"""

from __future__ import annotations

import dataclasses
import math
import time
import weakref
from collections import Counter
from collections.abc import Sequence

from ringrift.ai.evaluation import Weights, evaluate, profile_for
from ringrift.rules import GameSpec, GameState, Move

Leaf = tuple[GameState, list[Move]]

# The lean profile drops the evaluation's three costly features (mobility: a ray walk per
# stack; line potential: a ray walk per marker; territory threats: a region search), ~85% of its
# time: ~4x the simulations per second, but a weaker search at equal simulations (mcts 800 vs the
# heuristic player, square8 2p: 62.8% lean vs 70% full with root priors).
LEAN_DROPPED = ("mobility", "line_potential", "region_threat")

# Root priors: softmax of the heuristic player's move values (one ply plus the rest of the
# mover's turn) at this temperature. The values are tanh-squashed score differences, a few
# hundredths apart between good and bad moves; 0.02 concentrates the search on the few best
# without excluding the rest (0.05 was weaker; uniform priors weaker still).
ROOT_PRIOR_TEMPERATURE = 0.02


def lean_weights(weights: Weights) -> Weights:
    """`weights` without the costly features (see LEAN_DROPPED)."""
    return dataclasses.replace(weights, **{name: 0.0 for name in LEAN_DROPPED})


class HeuristicLeaf:
    """Search without a network: values from `evaluate(state, weights)` (per seat, in [-1, 1]);
    priors from the heuristic player's move values for the requests that carry their moves
    (the root: lazy leaves come without), uniform elsewhere.

    Uniform priors need no moves, so the tree may value a leaf before generating them
    (`lazy_moves`, see `ringrift.ai.search.tree`).
    """

    lazy_moves = True

    def __init__(self, weights: Weights, prior_weights: Weights | None = None,
                 prior_temperature: float = ROOT_PRIOR_TEMPERATURE) -> None:
        self.weights = weights
        self.prior_temperature = prior_temperature
        self.prior_player = None
        if prior_weights is not None:
            from ringrift.ai.heuristic import HeuristicPlayer

            self.prior_player = HeuristicPlayer(prior_weights)

    @classmethod
    def for_board(cls, spec: GameSpec, *, lean: bool = False,
                  root_priors: bool = True, profile: str | None = None,
                  profile_path: str | None = None) -> HeuristicLeaf:
        weights = profile_for(spec, profile_path, profile)
        return cls(lean_weights(weights) if lean else weights,
                   prior_weights=weights if root_priors else None)

    def priors(self, state: GameState, moves: list[Move]) -> list[float] | None:
        """Softmax of the heuristic player's move values (None: uniform, without a player)."""
        if self.prior_player is None or len(moves) < 2:
            return None
        values = self.prior_player.move_values(state, moves)
        top = max(values)
        t = self.prior_temperature
        weights = [math.exp((v - top) / t) for v in values]
        total = sum(weights)
        return [x / total for x in weights]

    def evaluate(self, leaves: Sequence[Leaf]) -> list[tuple[list[float] | None, list[float]]]:
        w = self.weights
        return [(self.priors(state, moves) if moves else None, evaluate(state, w))
                for state, moves in leaves]


class NetworkLeaf:
    """A policy/value network as a leaf evaluator; one `evaluate` call = one network batch."""

    lazy_moves = False  # the policy head needs the leaf's moves

    def __init__(self, evaluator) -> None:
        self.evaluator = evaluator
        self.calls = 0
        self.positions = 0
        self.seconds = 0.0
        self.batch_sizes: Counter[int] = Counter()

    def reset_stats(self) -> None:
        self.calls = self.positions = 0
        self.seconds = 0.0
        self.batch_sizes.clear()

    def priors(self, state: GameState, moves: list[Move]) -> None:
        """None: a reused root already holds the network's priors (it was never lazy)."""
        return None

    def evaluate(self, leaves: Sequence[Leaf]) -> list[tuple[list[float], list[float]]]:
        from ringrift.nn import actions, encoding

        start = time.perf_counter()
        states = [s for s, _ in leaves]
        features, globals_ = encoding.encode_states(states)
        indices = [actions.encode_moves(moves, state) for state, moves in leaves]
        probs, rotated = self.evaluator.evaluate_arrays(features, globals_, indices)
        out = []
        for b, state in enumerate(states):
            n = state.num_players
            mover = state.current_player
            row = rotated[b].tolist()
            # network values are rotated (slot 0 = the player to move); back to seat order
            values = [row[(s - mover + 1) % n] for s in range(n)]
            out.append((probs[b].tolist(), values))
        self.calls += 1
        self.positions += len(leaves)
        self.batch_sizes[len(leaves)] += 1
        self.seconds += time.perf_counter() - start
        return out


_NETWORK_LEAVES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def network_leaf(evaluator) -> NetworkLeaf:
    """The one NetworkLeaf of an Evaluator, so that players sharing a network share batches."""
    leaf = _NETWORK_LEAVES.get(evaluator)
    if leaf is None:
        leaf = _NETWORK_LEAVES[evaluator] = NetworkLeaf(evaluator)
    return leaf
