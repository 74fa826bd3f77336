"""One analysis request as a generator of leaf evaluations, returning the response JSON.

The generator yields `(leaf_evaluator, state, moves)` requests and receives `(priors, value)`,
like the search players (`ringrift.ai.search.tree`), so `SearchPool` can answer the requests
of many analyses in one network batch. The search loop is driven here rather than through a
player because the engine reads the tree while it grows (reports during the search, a time
limit that stops it between simulations).

Response fields: `move` (canonical JSON), `moveInfos` (per move: visits, prior, q for the
player to move, its own principal variation), `rootInfo` (visits, value per seat, player to
move), `value` (per seat, index 0 = seat 1), `pv` (decision moves only: forced moves are
collapsed into the edges), `policy` with `includePolicy`, `isDuringSearch`, `elapsedMs`.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Generator
from typing import Any

from ringrift import rules
from ringrift.ai.search import gumbel, puct
from ringrift.ai.search.tree import Node, evaluate_root, run_simulations
from ringrift.rules import GameSpec, GameState, Move
from ringrift.serve.protocol import AnalysisRequest

MAX_MOVE_INFOS = 12
MAX_PV = 16
Steps = Generator[tuple, tuple, dict[str, Any]]
Emit = Callable[[dict[str, Any]], None]


class Leaves:
    """Which leaf evaluator answers a state: the served network when it was made for the
    state's board and player count, else the hand-written evaluation (search engines only)."""

    def __init__(self, network=None, network_name: str = "") -> None:
        self.network = network  # NetworkLeaf or None
        self.network_name = network_name

    def network_for(self, state: GameState):
        net = self.network
        if net is None:
            return None
        cfg = net.evaluator.config
        if (cfg.board_type, cfg.num_players) != (state.geo.board_type, state.num_players):
            return None
        return net

    def search_leaf(self, state: GameState) -> tuple[Any, str]:
        net = self.network_for(state)
        if net is not None:
            return net, f"network:{self.network_name}"
        return heuristic_leaf(state.spec), "heuristic"


_HEURISTIC_LEAVES: dict[GameSpec, Any] = {}


def heuristic_leaf(spec: GameSpec):
    """The search engines' leaves without a network: the full hand-written evaluation, with
    the heuristic player's move values as root priors (one per board and player count)."""
    if spec not in _HEURISTIC_LEAVES:
        from ringrift.ai.search.leaf import HeuristicLeaf

        _HEURISTIC_LEAVES[spec] = HeuristicLeaf.for_board(spec)
    return _HEURISTIC_LEAVES[spec]


class AnalysisError(ValueError):
    """The request is well formed but cannot be answered (e.g. policy-only without a model)."""


def analysis_steps(req: AnalysisRequest, leaves: Leaves, emit: Emit | None = None,
                   clock: Callable[[], float] = time.monotonic) -> Steps:
    """The analysis of `req` (see the module docstring); `emit` receives reports made during
    the search (`reportDuringSearchEvery`)."""
    # the time limit counts from when the request was read (a monotonic time: another clock,
    # as tests may pass, starts here)
    start = req.received if req.received is not None and clock is time.monotonic else clock()
    state = req.state
    legal = rules.legal_moves(state)
    if req.engine in ("random", "heuristic"):
        out = _basic(req, state, legal)
    elif req.engine not in ("gumbel", "mcts", "policy-only"):
        out = _table_engine(req, state, legal)
    elif req.engine == "policy-only":
        out = yield from _policy_only(req, state, legal, leaves)
    else:
        out = yield from _search(req, state, legal, leaves, emit, start, clock)
    out["elapsedMs"] = round((clock() - start) * 1000.0, 3)
    return out


def _heuristic_value(state: GameState) -> list[float]:
    from ringrift.ai.evaluation import evaluate, profile_for

    return [round(v, 5) for v in evaluate(state, profile_for(state.spec))]


def _base(req: AnalysisRequest, state: GameState, evaluator: str) -> dict[str, Any]:
    return {"id": req.id, "isDuringSearch": False, "engine": req.engine, "evaluator": evaluator,
            "currentPlayer": state.current_player}


def _basic(req: AnalysisRequest, state: GameState, legal: list[Move]) -> dict[str, Any]:
    """random: a uniform choice; heuristic: the heuristic player's one-ply move values as a
    softmax (`prior`) and its choice. The value is the hand-written evaluation."""
    geo = state.geo
    out = _base(req, state, "heuristic")
    if req.engine == "random" or len(legal) == 1:
        priors = [1.0 / len(legal)] * len(legal)
        choice = random.Random(req.seed).randrange(len(legal))
    else:
        from ringrift.ai.heuristic import HeuristicPlayer
        from ringrift.ai.search.leaf import ROOT_PRIOR_TEMPERATURE

        player = HeuristicPlayer.for_board(state.spec, seed=req.seed)
        values = player.move_values(state, legal)
        top = max(values)
        weights = [math.exp((v - top) / ROOT_PRIOR_TEMPERATURE) for v in values]
        total = sum(weights)
        priors = [w / total for w in weights]
        choice = max(range(len(legal)), key=values.__getitem__)
    order = sorted(range(len(legal)), key=lambda i: (-priors[i], i))[:MAX_MOVE_INFOS]
    value = _heuristic_value(state)
    out.update(move=rules.move_to_json(geo, legal[choice]), value=value, pv=[
        rules.move_to_json(geo, legal[choice])],
        moveInfos=[{"move": rules.move_to_json(geo, legal[i]), "visits": 0,
                    "prior": round(priors[i], 6), "q": None, "pv": []} for i in order],
        rootInfo={"visits": 0, "value": value, "currentPlayer": state.current_player})
    if req.include_policy:
        out["policy"] = [{"move": rules.move_to_json(geo, m), "prior": round(p, 6)}
                         for m, p in zip(legal, priors)]
    return out


def _table_engine(req: AnalysisRequest, state: GameState, legal: list[Move]
                  ) -> dict[str, Any]:
    """Another engine of the engine table (e.g. nnue-guided), played through its player
    without a model file: the move, plus the distribution and value its decision carries (the
    hand-written evaluation when it gives no value). Not batched: it runs on its own."""
    from ringrift.ai.engines import make_player
    from ringrift.ai.options import EngineOptions

    geo = state.geo
    player = make_player(req.engine, state.spec, EngineOptions(), seed=req.seed)
    decision = player.choose(state, legal)
    value = ([round(float(v), 5) for v in decision.value] if decision.value is not None
             else _heuristic_value(state))
    policy = sorted(decision.policy or [], key=lambda mp: -mp[1])
    out = _base(req, state, "heuristic")
    out.update(move=rules.move_to_json(geo, decision.move), value=value,
               pv=[rules.move_to_json(geo, decision.move)],
               moveInfos=[{"move": rules.move_to_json(geo, m), "visits": 0,
                           "prior": round(float(p), 6), "q": None, "pv": []}
                          for m, p in policy[:MAX_MOVE_INFOS]],
               rootInfo={"visits": 0, "value": value, "currentPlayer": state.current_player})
    if req.include_policy:
        out["policy"] = [{"move": rules.move_to_json(geo, m), "prior": round(float(p), 6)}
                         for m, p in policy]
    return out


def _policy_only(req: AnalysisRequest, state: GameState, legal: list[Move],
                 leaves: Leaves) -> Steps:
    """The network's policy argmax and value, one evaluation."""
    net = leaves.network_for(state)
    if net is None:
        raise AnalysisError(_no_network_message(leaves, state))
    priors, value = yield (net, state, legal)
    geo = state.geo
    priors = [float(p) for p in priors]
    choice = max(range(len(legal)), key=priors.__getitem__)
    value = [round(float(v), 5) for v in value]
    order = sorted(range(len(legal)), key=lambda i: (-priors[i], i))[:MAX_MOVE_INFOS]
    out = _base(req, state, f"network:{leaves.network_name}")
    out.update(move=rules.move_to_json(geo, legal[choice]), value=value,
               pv=[rules.move_to_json(geo, legal[choice])],
               moveInfos=[{"move": rules.move_to_json(geo, legal[i]), "visits": 0,
                           "prior": round(priors[i], 6), "q": None, "pv": []} for i in order],
               rootInfo={"visits": 1, "value": value, "currentPlayer": state.current_player})
    if req.include_policy:
        out["policy"] = [{"move": rules.move_to_json(geo, m), "prior": round(p, 6)}
                         for m, p in zip(legal, priors)]
    return out


def _no_network_message(leaves: Leaves, state: GameState) -> str:
    where = f"{state.geo.board_type} {state.num_players}-player"
    if leaves.network is None:
        return "engine policy-only needs a model (start with --model PATH|production)"
    cfg = leaves.network.evaluator.config
    return (f"engine policy-only: the served model is {cfg.board_type} {cfg.num_players}-player,"
            f" not {where}")


def _search(req: AnalysisRequest, state: GameState, legal: list[Move], leaves: Leaves,
            emit: Emit | None, start: float, clock: Callable[[], float]) -> Steps:
    """mcts (PUCT, most visited move) or gumbel (Gumbel-top-k and sequential halving with the
    request's seed), stopped at maxVisits or the time limit, whichever comes first."""
    leaf, label = leaves.search_leaf(state)
    root = Node.root(state, legal)
    yield from evaluate_root(root, leaf)
    if len(legal) == 1:
        return _search_result(req, root, 0, label, final=True)
    sims = req.visits
    if req.engine == "gumbel":
        import numpy as np

        g = np.random.default_rng(req.seed).gumbel(size=len(root.moves)).tolist()
        m = gumbel.DEFAULT_CONSIDERED

        def select_root(node: Node, sim: int) -> int:
            return gumbel.root_select(node, g, sim, sims, m)

        def select_interior(node: Node) -> int:
            return gumbel.interior_select(node)

        def chosen() -> int:
            return gumbel.final_action(root, g)
    else:
        def select_root(node: Node, _sim: int) -> int:
            return puct.puct_select(node)

        def select_interior(node: Node) -> int:
            return puct.puct_select(node)

        def chosen() -> int:
            return max(range(len(root.moves)), key=lambda i: (root.edge_n[i], root.priors[i]))

    deadline = start + req.time_limit_s
    next_report = start + req.report_every_s if req.report_every_s else math.inf
    steps = run_simulations(root, sims, select_root, select_interior, leaf)
    try:
        request = next(steps)
        while True:
            now = clock()
            if now >= deadline:
                steps.close()  # the pending leaf stays unexpanded; the statistics are whole
                break
            if emit is not None and now >= next_report and root.n > 1:
                emit(_search_result(req, root, chosen(), label, final=False))
                next_report = now + req.report_every_s
            answer = yield request
            request = steps.send(answer)
    except StopIteration:
        pass
    return _search_result(req, root, chosen(), label, final=True)


def _search_result(req: AnalysisRequest, root: Node, choice: int, label: str,
                   final: bool) -> dict[str, Any]:
    state = root.state
    geo = state.geo
    out = _base(req, state, label)
    out["isDuringSearch"] = not final
    value = [round(v, 5) for v in root.value()]
    edges = sorted(range(len(root.moves)),
                   key=lambda i: (-root.edge_n[i], -root.priors[i], i))[:MAX_MOVE_INFOS]
    infos = []
    for i in edges:
        n = root.edge_n[i]
        infos.append({"move": rules.move_to_json(geo, root.moves[i]), "visits": n,
                      "prior": round(root.priors[i], 6),
                      "q": round(root.q(i), 5) if n else None,
                      "pv": principal_variation(root, i)})
    out.update(move=rules.move_to_json(geo, root.moves[choice]), value=value,
               pv=principal_variation(root, choice), moveInfos=infos,
               rootInfo={"visits": root.n, "value": value,
                         "currentPlayer": state.current_player})
    if req.include_policy:
        if req.engine == "gumbel" and root.n > 1:
            search_policy = gumbel.improved_policy(root)
        else:
            search_policy = root.visit_distribution()
        out["policy"] = [{"move": rules.move_to_json(geo, m), "prior": round(p, 6),
                          "search": round(s, 6)}
                         for m, p, s in zip(root.moves, root.priors, search_policy)]
    return out


def principal_variation(root: Node, first: int) -> list[dict[str, Any]]:
    """Move `first`, then the most visited edge at each following decision (forced moves in
    between are not listed: the tree collapses them into the edges)."""
    geo = root.state.geo
    pv = [rules.move_to_json(geo, root.moves[first])]
    node = root.children[first] if root.children else None
    while node is not None and len(pv) < MAX_PV:
        if node.terminal or node.moves is None or not node.edge_n or not any(node.edge_n):
            break
        best = max(range(len(node.moves)), key=lambda i: (node.edge_n[i], node.priors[i]))
        pv.append(rules.move_to_json(geo, node.moves[best]))
        node = node.children[best]
    return pv
