"""The heuristic player: one ply over the legal moves with the hand-written evaluation.

A move is valued on the position after it (with the mover's forced bookkeeping played out); the
best few are then followed greedily to the end of the mover's turn, because a RingRift turn is
several moves (a placement is only as good as the movement it allows).
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from ringrift import rules
from ringrift.ai.evaluation import Weights, evaluate, profile_for
from ringrift.ai.player import Decision
from ringrift.rules import GameSpec, GameState, Move


class HeuristicPlayer:
    """Applies each legal move to a copy and keeps the one that evaluates best for the mover.

    `temperature` > 0 samples moves with probability proportional to exp(value / temperature);
    `epsilon` plays a uniformly random move with that probability.
    """

    name = "heuristic"

    def __init__(self, weights: Weights, seed: int = 0, temperature: float = 0.0,
                 epsilon: float = 0.0, turn_lookahead: int = 6) -> None:
        self.weights = weights
        self.turn_lookahead = turn_lookahead
        self.temperature = temperature
        self.epsilon = epsilon
        self.rng = random.Random(seed)

    @classmethod
    def for_board(cls, spec: GameSpec, *, seed: int = 0,
                  profile: str | None = None, profile_path: str | Path | None = None,
                  temperature: float = 0.0, epsilon: float = 0.0) -> HeuristicPlayer:
        weights = profile_for(spec, profile_path, profile)
        return cls(weights, seed=seed, temperature=temperature, epsilon=epsilon)

    def new_game(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def move_values(self, state: GameState, legal: list[Move]) -> list[float]:
        """Value of each move for the mover: one ply, then the best `turn_lookahead` candidates
        are played on greedily to the end of the mover's turn and valued there (a placement is
        worth what the movement it enables is worth)."""
        player = state.current_player
        children = []
        values = []
        for move in legal:
            child = state.copy()
            rules.apply_move(child, move, validate=False)
            _advance_forced(child, player)
            children.append(child)
            values.append(evaluate(child, self.weights)[player - 1])
        if self.turn_lookahead:
            order = sorted(range(len(legal)), key=values.__getitem__, reverse=True)
            for i in order[: self.turn_lookahead]:
                values[i] = self._finish_turn_value(children[i], player)
        return values

    def _finish_turn_value(self, state: GameState, player: int, depth: int = 4) -> float:
        for _ in range(depth):
            if state.is_over or state.current_player != player:
                break
            legal = rules.legal_moves(state)
            best_value, best_child = None, None
            for move in legal:
                child = state.copy()
                rules.apply_move(child, move, validate=False)
                _advance_forced(child, player)
                value = evaluate(child, self.weights)[player - 1]
                if best_value is None or value > best_value:
                    best_value, best_child = value, child
            state = best_child
        return evaluate(state, self.weights)[player - 1]

    def choose(self, state: GameState, legal: list[Move]) -> Decision:
        if self.epsilon and self.rng.random() < self.epsilon:
            return Decision(legal[self.rng.randrange(len(legal))])
        values = self.move_values(state, legal)
        if self.temperature > 0:
            top = max(values)
            weights = [math.exp((v - top) / self.temperature) for v in values]
            total = sum(weights)
            probs = [x / total for x in weights]
            move = self.rng.choices(legal, weights=probs)[0]
            return Decision(move, policy=list(zip(legal, probs)))
        best = max(values)
        ties = [m for m, v in zip(legal, values) if v == best]
        return Decision(ties[self.rng.randrange(len(ties))] if len(ties) > 1 else ties[0])


def _advance_forced(state: GameState, player: int, limit: int = 8) -> None:
    """Play the mover's own forced follow-ups (bookkeeping up to the turn end), so that the
    end-of-turn victory check and the real next position are what gets evaluated."""
    for _ in range(limit):
        if state.is_over or state.current_player != player:
            return
        legal = rules.legal_moves(state)
        if len(legal) != 1:
            return
        rules.apply_move(state, legal[0], validate=False)
