"""The `mcts` engine: PUCT (AlphaZero) search with max-n values, root noise and tree reuse."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ringrift.ai.player import Decision
from ringrift.ai.sampling import sample_with_temperature
from ringrift.ai.search import puct
from ringrift.ai.search.gumbel import STANDARD
from ringrift.ai.search.tree import (
    LeafEvaluator,
    Node,
    SearchSteps,
    evaluate_root,
    find_descendant,
    run_simulations,
    run_sync,
)
from ringrift.rules import GameState, Move

DIRICHLET_ALPHA = 0.3
NOISE_FRACTION = 0.25


class MCTSPlayer:
    """PUCT search of `simulations` leaf evaluations per move.

    The move is drawn from the root visit counts at the temperature `schedule(move number)`
    (or the fixed `temperature`; 0 = most visited). The Decision carries the visit distribution
    and the root value per seat. With `reuse_tree`, the subtree of the position reached by the
    next call (after our move, the forced moves and the opponents' moves) is kept.
    """

    name = "mcts"

    def __init__(self, leaf_evaluator: LeafEvaluator, *, simulations: int = STANDARD, seed: int = 0,
                 temperature: float = 0.0, schedule: Callable[[int], float] | None = None,
                 root_noise: bool = False, dirichlet_alpha: float = DIRICHLET_ALPHA,
                 noise_fraction: float = NOISE_FRACTION, c_init: float = puct.C_INIT,
                 c_base: float = puct.C_BASE, fpu_reduction: float = 0.0,
                 reuse_tree: bool = True) -> None:
        if simulations < 1:
            raise ValueError("mcts needs at least one simulation per move")
        self.leaf = leaf_evaluator
        self.simulations = simulations
        self.temperature = temperature
        self.schedule = schedule
        self.root_noise = root_noise
        self.dirichlet_alpha = dirichlet_alpha
        self.noise_fraction = noise_fraction
        self.c_init = c_init
        self.c_base = c_base
        self.fpu_reduction = fpu_reduction
        self.reuse_tree = reuse_tree
        self.rng = np.random.default_rng(seed)
        self.root: Node | None = None  # the subtree kept for the next move
        self.last_root: Node | None = None  # the tree of the last search (tests, bench)
        self.reused_visits = 0  # visits the last search inherited

    def new_game(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.root = self.last_root = None

    def choose(self, state: GameState, legal: list[Move]) -> Decision:
        return run_sync(self.choose_steps(state, legal))

    def _root_for(self, state: GameState, legal: list[Move]) -> Node:
        if self.reuse_tree and self.root is not None:
            node = find_descendant(self.root, state)
            if node is not None and node.moves is None:
                node.complete()
            if node is not None and not node.terminal:
                return node
        return Node.root(state, legal)

    def choose_steps(self, state: GameState, legal: list[Move]) -> SearchSteps:
        """The search as a generator of leaf requests (see `tree.run_simulations`)."""
        root = self._root_for(state, legal)
        self.root = None
        self.reused_visits = root.n
        yield from evaluate_root(root, self.leaf)
        if self.reused_visits:
            # a reused root may have been a lazy leaf (uniform priors): give it the root priors
            priors = self.leaf.priors(root.state, root.moves)
            if priors is not None:
                root.set_priors(priors)
        priors = None  # the node's own (fast path); the root's noisy priors when noise is on
        if self.root_noise:
            priors = puct.add_dirichlet_noise(root.priors, self.rng, self.dirichlet_alpha,
                                              self.noise_fraction)
        c_init, c_base, fpu = self.c_init, self.c_base, self.fpu_reduction

        def select_root(node: Node, _sim: int) -> int:
            return puct.puct_select(node, priors, c_init=c_init, c_base=c_base)

        def select_interior(node: Node) -> int:
            return puct.puct_select(node, c_init=c_init, c_base=c_base, fpu_reduction=fpu)

        yield from run_simulations(root, self.simulations, select_root, select_interior,
                                   self.leaf)
        t = self.schedule(state.move_count, state) if self.schedule is not None else self.temperature
        index = sample_with_temperature(root.edge_n, t, self.rng)
        self.last_root = root
        if self.reuse_tree:
            self.root = root.children[index]
        return Decision(root.moves[index], policy=list(zip(root.moves, root.visit_distribution())),
                        value=root.value())
