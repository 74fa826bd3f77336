"""The search tree shared by every tree search (PUCT and Gumbel are selection rules over it).

A node is a decision point: a state whose player to move has two or more legal moves (or a
finished game). Forced moves (the only legal move, usually bookkeeping) are stepped through when
a child is created, so a chain of them collapses into the edge that led there.

Values are vectors with one entry per seat (index 0 = seat 1). Every node keeps the sum of the
vectors backed up through it (`w`, for the root value) and, per outgoing edge, the visit count
and the sum of the *acting player's* entry (`edge_n`, `edge_w`): selection reads only these
lists, so a node picks by its own mover's value (max-n) with one float per child.

A leaf evaluator that sets `lazy_moves = True` (the heuristic one, whose priors are uniform)
lets the tree skip move generation at new leaves: a leaf is created right after its move and
valued there; its forced moves are stepped through and its legal moves generated only when a
later simulation passes through it (`Node.complete`). Most leaves are visited once, and move
generation is the largest cost of a simulation.

A search is a generator (`run_simulations`) that yields leaf requests `(leaf_evaluator, state,
moves)` and receives `(priors over moves, value per seat)`. Who answers decides the batching:
`run_sync` answers one request at a time; `ringrift.ai.search.batching` answers requests of many
games at once.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol

from ringrift import rules
from ringrift.rules import GameState, Move

# (priors over the leaf's moves, None for uniform; value per seat)
Evaluation = tuple[Sequence[float] | None, Sequence[float]]


class LeafEvaluator(Protocol):
    """What the search asks of a leaf evaluator (HeuristicLeaf, NetworkLeaf in `leaf`).

    - `evaluate(leaves)`: for each (state, legal moves) leaf, its Evaluation; one call may be
      one network batch, so callers pass many leaves at once.
    - `lazy_moves`: True if a leaf can be valued without its moves (uniform priors); the tree
      then creates leaves without generating their moves until they are descended into.
    - `priors(state, moves)`: priors for a reused root that was valued lazily (None: keep the
      ones it has).
    """

    lazy_moves: bool

    def evaluate(self, leaves: Sequence[tuple[GameState, list[Move]]]) -> Sequence[Evaluation]:
        ...

    def priors(self, state: GameState, moves: list[Move]) -> Sequence[float] | None:
        ...


# (leaf evaluator, state, legal moves) -> Evaluation
Request = tuple[LeafEvaluator, GameState, list[Move]]
SearchSteps = Generator[Request, Evaluation, Any]

MAX_FORCED_CHAIN = 64  # safety bound; real chains are a handful of bookkeeping moves


def advance_forced(state: GameState) -> list[Move]:
    """Apply forced moves in place until the game ends or a real decision comes; return the
    legal moves there ([] when the game is over)."""
    for _ in range(MAX_FORCED_CHAIN):
        if state.is_over:
            return []
        legal = rules.legal_moves(state)
        if len(legal) != 1:
            return legal
        rules.apply_move(state, legal[0], validate=False)
    return [] if state.is_over else rules.legal_moves(state)


class Node:
    """A decision point: its state, legal moves, priors and statistics."""

    __slots__ = ("state", "player", "moves", "priors", "logits", "children", "edge_n", "edge_w",
                 "n", "w", "raw_value", "terminal", "visited", "prior_order", "cursor",
                 "prior_sum")

    def __init__(self, state: GameState, moves: list[Move] | None) -> None:
        self.state = state
        self.player = state.current_player
        self.moves = moves  # None: not generated yet (lazy leaf, forced moves not stepped)
        self.terminal = state.is_over
        self.priors: list[float] | None = None  # set when the node is evaluated
        self.logits: list[float] | None = None  # log priors, computed on demand (Gumbel)
        self.children: list[Node | None] = []
        self.edge_n: list[int] = []
        self.edge_w: list[float] = []
        # Unvisited edges differ only by their prior in every selection rule here, so the rules
        # scan the visited edges (`visited`, in first-visit order) plus the unvisited edge of
        # highest prior (`first_unvisited`): O(visited) rather than O(moves) per step.
        self.visited: list[int] = []
        self.prior_order: list[int] = []  # edges by decreasing prior
        self.cursor = 0  # prior_order[:cursor] are all visited
        self.prior_sum = 0.0
        self.n = 0
        self.w = [0.0] * state.num_players
        # the evaluation of this node itself (terminal: the exact outcome)
        self.raw_value: list[float] | None = rules.outcome(state) if self.terminal else None

    @classmethod
    def root(cls, state: GameState, legal: list[Move] | None = None) -> Node:
        """A root for `state` (copied; forced moves are not stepped through here)."""
        state = state.copy()
        if legal is None:
            legal = [] if state.is_over else rules.legal_moves(state)
        return cls(state, list(legal))

    @property
    def evaluated(self) -> bool:
        return self.raw_value is not None

    def expand(self, priors: Sequence[float] | None, value: Sequence[float]) -> None:
        """Attach the leaf evaluation: priors over `moves` (None: uniform, for a lazy leaf whose
        moves come later) and the value per seat."""
        self.raw_value = [float(v) for v in value]
        if self.moves is not None:
            self._set_edges(priors)

    def _set_edges(self, priors: Sequence[float] | None) -> None:
        k = len(self.moves)
        if priors is None:
            self.priors = [1.0 / k] * k
            self.prior_order = list(range(k))
        else:
            self.priors = [float(p) for p in priors]
            self.prior_order = sorted(range(k), key=self.priors.__getitem__, reverse=True)
        self.prior_sum = sum(self.priors)
        self.children = [None] * k
        self.edge_n = [0] * k
        self.edge_w = [0.0] * k
        self.visited = []
        self.cursor = 0

    def set_priors(self, priors: Sequence[float]) -> None:
        """Replace the priors over `moves`, keeping the statistics (a reused root's priors
        from the root evaluation)."""
        self.priors = [float(p) for p in priors]
        self.prior_order = sorted(range(len(self.priors)), key=self.priors.__getitem__,
                                  reverse=True)
        self.prior_sum = sum(self.priors)
        self.cursor = 0

    def first_unvisited(self) -> int:
        """The unvisited edge of highest prior (lowest index among equals), or -1."""
        order, edge_n = self.prior_order, self.edge_n
        c = self.cursor
        while c < len(order) and edge_n[order[c]]:
            c += 1
        self.cursor = c
        return order[c] if c < len(order) else -1

    def complete(self) -> None:
        """Generate a lazy leaf's moves (stepping its forced moves first; uniform priors)."""
        self.moves = advance_forced(self.state)
        self.player = self.state.current_player
        if self.state.is_over:
            self.terminal = True
            self.raw_value = rules.outcome(self.state)
        else:
            self._set_edges(None)

    def child(self, index: int, lazy: bool = False) -> Node:
        """The child through edge `index`, created on first use: with its forced moves played
        and its legal moves generated, or (`lazy`) just after the move."""
        node = self.children[index]
        if node is None:
            state = self.state.copy()
            rules.apply_move(state, self.moves[index], validate=False)
            node = Node(state, None if lazy else advance_forced(state))
            self.children[index] = node
        return node

    def q(self, index: int) -> float:
        """Mean value of edge `index` for this node's player (0 when unvisited)."""
        n = self.edge_n[index]
        return self.edge_w[index] / n if n else 0.0

    def value(self) -> list[float]:
        """Mean backed-up value per seat."""
        n = self.n
        return [x / n for x in self.w] if n else list(self.raw_value or [0.0] * len(self.w))

    def visit_distribution(self) -> list[float]:
        total = sum(self.edge_n)
        k = len(self.moves)
        return [c / total for c in self.edge_n] if total else [1.0 / k] * k


def backup(path: list[tuple[Node, int]], leaf: Node, value: Sequence[float]) -> None:
    """Add one visit with `value` (per seat) to the leaf and every node and edge on the path."""
    leaf.n += 1
    w = leaf.w
    for s, v in enumerate(value):
        w[s] += v
    for node, index in path:
        node.n += 1
        w = node.w
        for s, v in enumerate(value):
            w[s] += v
        if not node.edge_n[index]:
            node.visited.append(index)
        node.edge_n[index] += 1
        node.edge_w[index] += value[node.player - 1]


RootSelect = Callable[[Node, int], int]  # (root, simulation index) -> edge index
InteriorSelect = Callable[[Node], int]


def evaluate_root(root: Node, leaf_evaluator: LeafEvaluator) -> SearchSteps:
    """Evaluate the root once if it has not been (a reused root already has been)."""
    if not root.evaluated:
        priors, value = yield (leaf_evaluator, root.state, root.moves)
        root.expand(priors, value)
        backup([], root, root.raw_value)


def run_simulations(root: Node, num_simulations: int, root_select: RootSelect,
                    interior_select: InteriorSelect, leaf_evaluator: LeafEvaluator
                    ) -> SearchSteps:
    """`num_simulations` descents from an evaluated root: select, create the leaf, evaluate it
    (yielding a request unless the game is over there), back the value up."""
    lazy = leaf_evaluator.lazy_moves
    for sim in range(num_simulations):
        node = root
        index = root_select(root, sim)
        path = [(node, index)]
        leaf = node.child(index, lazy)
        while leaf.evaluated:
            if leaf.moves is None:
                leaf.complete()
            if leaf.terminal:
                break
            node = leaf
            index = interior_select(node)
            path.append((node, index))
            leaf = node.child(index, lazy)
        if not leaf.terminal:
            priors, value = yield (leaf_evaluator, leaf.state, leaf.moves)
            leaf.expand(priors, value)
        backup(path, leaf, leaf.raw_value)


def run_sync(steps: SearchSteps) -> Any:
    """Drive a search generator, answering each request at once; return its result."""
    try:
        request = next(steps)
        while True:
            evaluator, state, moves = request
            [result] = evaluator.evaluate([(state, moves)])
            request = steps.send(result)
    except StopIteration as stop:
        return stop.value


def find_descendant(node: Node, state: GameState, max_depth: int = 12) -> Node | None:
    """The node below `node` (itself included) holding `state`'s position, or None.

    Used to keep the subtree of the moves played since the last search (ours, the forced ones
    and the opponents'). Move numbers only grow along edges, which bounds the walk.
    """
    target_count = state.move_count
    target_hash = state.position_hash()
    frontier = [node]
    for _ in range(max_depth + 1):
        nxt = []
        for n in frontier:
            count = n.state.move_count
            if count == target_count and n.state.position_hash() == target_hash:
                return n
            if count < target_count:
                nxt.extend(c for c in n.children if c is not None)
        if not nxt:
            return None
        frontier = nxt
    return None


def check_statistics(root: Node) -> None:
    """Assert the tree's bookkeeping: every node's visits are its own evaluation plus its
    edges' visits, and every edge's visits are its child's (tests and debugging)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.terminal:
            continue
        if node.moves is None:
            assert node.n == (1 if node.evaluated else 0), node.n
        elif node.evaluated:
            assert node.n == 1 + sum(node.edge_n), (node.n, node.edge_n)
            for i, child in enumerate(node.children):
                if child is None:
                    assert node.edge_n[i] == 0
                else:
                    assert child.n == node.edge_n[i], (child.n, node.edge_n[i])
                    stack.append(child)
