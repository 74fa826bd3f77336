"""Leaf evaluators: priors over a leaf's legal moves and a value per seat, for a batch of leaves.

`HeuristicLeaf` (no network): uniform priors and the hand-written evaluation with a lean weight
profile. `NetworkLeaf`: a policy/value network through `ringrift.nn.inference.Evaluator`,
counting its calls and batch sizes (for the bench and the batching tests).
"""

from __future__ import annotations

import dataclasses
import time
import weakref
from collections import Counter
from collections.abc import Sequence

from ringrift.ai.evaluation import Weights, evaluate, profile_for
from ringrift.rules import GameState, Move

Leaf = tuple[GameState, list[Move]]

# Leaf evaluation runs once per simulation, so it drops the evaluation's three costly features
# (mobility: a ray walk per stack; line potential: a ray walk per marker; territory threats: a
# region search). They cost ~85% of the evaluation time; material, eliminations, territory and
# markers remain, and finished games are still valued exactly.
LEAN_DROPPED = ("mobility", "line_potential", "region_threat")


def lean_weights(weights: Weights) -> Weights:
    """`weights` without the costly features (see LEAN_DROPPED)."""
    return dataclasses.replace(weights, **{name: 0.0 for name in LEAN_DROPPED})


class HeuristicLeaf:
    """Uniform priors and `evaluate(state, weights)` (per seat, in [-1, 1]).

    Its priors need no moves, so the tree may value a leaf before generating them
    (`lazy_moves`, see `ringrift.ai.search.tree`).
    """

    lazy_moves = True

    def __init__(self, weights: Weights) -> None:
        self.weights = weights

    @classmethod
    def for_board(cls, board_type: str, num_players: int, *, lean: bool = True,
                  profile: str | None = None, profile_path: str | None = None) -> HeuristicLeaf:
        weights = profile_for(board_type, num_players, profile_path, profile)
        return cls(lean_weights(weights) if lean else weights)

    def evaluate(self, leaves: Sequence[Leaf]) -> list[tuple[None, list[float]]]:
        w = self.weights
        return [(None, evaluate(state, w)) for state, _ in leaves]  # None: uniform priors


class NetworkLeaf:
    """A policy/value network as a leaf evaluator; one `evaluate` call = one network batch."""

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
