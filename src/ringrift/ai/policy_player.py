"""The policy-only player: sample (or take the argmax of) the network's policy."""

from __future__ import annotations

import numpy as np

from ringrift.ai.player import Decision
from ringrift.ai.search.leaf import network_leaf
from ringrift.ai.search.tree import SearchSteps, run_sync
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
        return run_sync(self.choose_steps(state, legal))

    def choose_steps(self, state: GameState, legal: list[Move]) -> SearchSteps:
        """The choice as a generator of one network request, so that games played together
        share network batches (`ai.search.batching`)."""
        priors, value = yield (network_leaf(self.evaluator), state, legal)
        return self._decide(legal, np.asarray(priors, dtype=np.float64), value)

    def _decide(self, moves: list[Move], probs: np.ndarray, value) -> Decision:
        if self.temperature <= 0:
            choice = int(np.argmax(probs))
        else:
            logp = np.log(np.maximum(probs, 1e-12)) / self.temperature
            p = np.exp(logp - logp.max())
            choice = int(self.rng.choice(len(moves), p=p / p.sum()))
        # No search happened: the prior is not an improved target, so only the value is given
        # (training then imitates the move played, weighted by the game's outcome).
        return Decision(moves[choice], value=list(value))
