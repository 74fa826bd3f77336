"""The `gumbel` engine: Gumbel AlphaZero search (see `ringrift.ai.search.gumbel`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ringrift.ai.player import Decision
from ringrift.ai.search import gumbel
from ringrift.ai.search.tree import (
    LeafEvaluator,
    Node,
    SearchSteps,
    evaluate_root,
    run_simulations,
    run_sync,
)
from ringrift.rules import GameState, Move


class GumbelPlayer:
    """Gumbel-top-k + sequential halving at the root, deterministic selection below.

    The Decision carries the improved policy softmax(logits + sigma(completed Q)) and the root
    value per seat. The Gumbel noise is scaled by `schedule(move number)` when a temperature
    schedule is set (1 = the published sampling, 0 = deterministic), else by `gumbel_scale`.
    Every search starts from a fresh tree: sequential halving counts the root visits of this
    search only.
    """

    name = "gumbel"

    def __init__(self, leaf_evaluator: LeafEvaluator, *, simulations: int = gumbel.STANDARD,
                 seed: int = 0, max_considered: int = gumbel.DEFAULT_CONSIDERED,
                 c_visit: float = gumbel.C_VISIT,
                 c_scale: float = gumbel.C_SCALE, gumbel_scale: float = 1.0,
                 schedule: Callable[[int], float] | None = None) -> None:
        if simulations < 1:
            raise ValueError("gumbel needs at least one simulation per move")
        if max_considered < 1:
            raise ValueError("gumbel needs at least one considered action")
        self.leaf = leaf_evaluator
        self.simulations = simulations
        self.max_considered = max_considered
        self.c_visit = c_visit
        self.c_scale = c_scale
        self.gumbel_scale = gumbel_scale
        self.schedule = schedule
        self.rng = np.random.default_rng(seed)
        self.last_root: Node | None = None

    def new_game(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.last_root = None

    def choose(self, state: GameState, legal: list[Move]) -> Decision:
        return run_sync(self.choose_steps(state, legal))

    def choose_steps(self, state: GameState, legal: list[Move]) -> SearchSteps:
        """The search as a generator of leaf requests (see `tree.run_simulations`)."""
        root = Node.root(state, legal)
        yield from evaluate_root(root, self.leaf)
        scale = self.schedule(state.move_count, state) if self.schedule is not None else self.gumbel_scale
        g = (self.rng.gumbel(size=len(root.moves)) * scale).tolist()
        sims, m, cv, cs = self.simulations, self.max_considered, self.c_visit, self.c_scale

        def select_root(node: Node, sim: int) -> int:
            return gumbel.root_select(node, g, sim, sims, m, cv, cs)

        def select_interior(node: Node) -> int:
            return gumbel.interior_select(node, cv, cs)

        yield from run_simulations(root, sims, select_root, select_interior, self.leaf)
        index = gumbel.final_action(root, g, cv, cs)
        policy = gumbel.improved_policy(root, cv, cs)
        self.last_root = root
        return Decision(root.moves[index], policy=list(zip(root.moves, policy)),
                        value=root.value())
