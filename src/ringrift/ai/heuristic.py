"""The heuristic player: one ply over the legal moves with the hand-written evaluation."""

from __future__ import annotations

import math
import random
from pathlib import Path

from ringrift import rules
from ringrift.ai.evaluation import Weights, evaluate, profile_for
from ringrift.ai.player import Decision
from ringrift.rules import GameState, Move


class HeuristicPlayer:
    """Applies each legal move to a copy and keeps the one that evaluates best for the mover.

    `temperature` > 0 samples moves with probability proportional to exp(value / temperature);
    `epsilon` plays a uniformly random move with that probability.
    """

    name = "heuristic"

    def __init__(self, weights: Weights, seed: int = 0, temperature: float = 0.0,
                 epsilon: float = 0.0) -> None:
        self.weights = weights
        self.temperature = temperature
        self.epsilon = epsilon
        self.rng = random.Random(seed)

    @classmethod
    def for_board(cls, board_type: str, num_players: int, *, seed: int = 0,
                  profile: str | None = None, profile_path: str | Path | None = None,
                  temperature: float = 0.0, epsilon: float = 0.0) -> HeuristicPlayer:
        weights = profile_for(board_type, num_players, profile_path, profile)
        return cls(weights, seed=seed, temperature=temperature, epsilon=epsilon)

    def new_game(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def move_values(self, state: GameState, legal: list[Move]) -> list[float]:
        seat = state.current_player - 1
        values = []
        for move in legal:
            child = state.copy()
            rules.apply_move(child, move, validate=False)
            values.append(evaluate(child, self.weights)[seat])
        return values

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
