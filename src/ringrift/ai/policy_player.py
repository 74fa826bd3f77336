"""The policy-only player: sample (or take the argmax of) the network's policy."""

from __future__ import annotations

import numpy as np

from ringrift.ai.player import Decision
from ringrift.rules import GameState, Move


class PolicyPlayer:
    """Plays from the network policy alone. temperature 0 = argmax, else p^(1/T) sampling."""

    name = "policy-only"

    def __init__(self, evaluator, seed: int = 0, temperature: float = 0.0) -> None:
        self.evaluator = evaluator
        self.temperature = temperature
        self.rng = np.random.default_rng(seed)

    def new_game(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def choose(self, state: GameState, legal: list[Move]) -> Decision:
        [(moves, probs)], values = self.evaluator.evaluate_states([state])
        if self.temperature <= 0:
            choice = int(np.argmax(probs))
        else:
            logp = np.log(np.maximum(probs, 1e-12)) / self.temperature
            p = np.exp(logp - logp.max())
            choice = int(self.rng.choice(len(moves), p=p / p.sum()))
        # No search happened: the prior is not an improved target, so only the value is given
        # (training then imitates the move played, weighted by the game's outcome).
        return Decision(moves[choice], value=values[0].tolist())
