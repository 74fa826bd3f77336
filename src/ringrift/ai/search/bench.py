"""`ringrift bench search`: simulations per second of a search engine in selfplay positions.

The engine plays games against itself (a fresh player per seat and game, as selfplay does)
until `searches` searches are done; `batch_size` games run at once with their leaf evaluations
batched. Figures are wall-clock over the whole run (search time plus the game loop's forced
moves, which are a small share).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from typing import Any

from ringrift import rules
from ringrift.ai.engines import make_player
from ringrift.ai.options import EngineOptions
from ringrift.ai.search.batching import run_batched
from ringrift.ai.search.leaf import NetworkLeaf
from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER
from ringrift.rules.spec import GameSpec


class _Budget:
    def __init__(self, searches: int) -> None:
        self.remaining = searches
        self.leaves = 0  # nnue-guided: leaves valued


def _bench_game(players, state, budget: _Budget) -> Generator:
    while not state.is_over and budget.remaining > 0:
        legal = rules.legal_moves(state)
        if len(legal) > 1:
            budget.remaining -= 1
            player = players[state.current_player - 1]
            steps = getattr(player, "choose_steps", None)
            decision = (yield from steps(state, legal)) if steps else player.choose(state, legal)
            budget.leaves += getattr(player, "leaves", 0)
            move = decision.move
        else:
            move = legal[0]
        rules.apply_move(state, move, validate=False)


def search_figures(engine: str, spec: GameSpec, seed: int, *,
                   simulations: int | None = None, searches: int = 20,
                   batch_size: int = DEFAULT_GAMES_PER_WORKER,
                   model: str | None = None, device: str | None = "cpu",
                   amp: bool = False) -> dict[str, Any]:
    """Play `searches` searches of `engine`; return sims/s (and network figures with a model)."""
    from ringrift.nn.precision import dtype_name

    options = EngineOptions(model_path=model, simulations=simulations, device=device, amp=amp)
    budget = _Budget(searches)
    probe = make_player(engine, spec, options, seed=seed)
    leaf = getattr(probe, "leaf", None)
    network = leaf if isinstance(leaf, NetworkLeaf) else None
    if network is not None:  # warm-up: the first network call pays one-off setup costs
        state = rules.new_game(spec.board_type, spec.num_players)
        network.evaluate([(state, rules.legal_moves(state))])
        network.reset_stats()

    def jobs() -> Iterator[Generator]:
        game = 0
        while budget.remaining > 0:
            players = [make_player(engine, spec, options, seed=seed * 1000 + game * 8 + s)
                       for s in range(spec.num_players)]
            yield _bench_game(players, rules.new_game(spec.board_type, spec.num_players), budget)
            game += 1

    start = time.perf_counter()
    for _ in run_batched(jobs(), batch_size):
        pass
    seconds = time.perf_counter() - start
    if engine == "nnue-guided":
        per_search = budget.leaves / searches  # leaves valued stand in for simulations
    else:
        per_search = getattr(probe, "simulations", 0)
    result: dict[str, Any] = {
        "engine": engine, "board_type": spec.board_type, "num_players": spec.num_players,
        "searches": searches, "simulations": per_search, "batch_size": batch_size,
        "seconds": seconds, "sims_per_s": searches * per_search / seconds,
        "leaf_evaluator": "network" if network is not None else (
            "nnue" if model else "heuristic"),
        "amp": dtype_name(network.evaluator.amp_dtype) if network is not None else None,
    }
    if network is not None:
        result["evals_per_s"] = network.positions / seconds
        result["network_evals"] = network.positions
        result["network_seconds"] = network.seconds
        result["mean_batch"] = network.positions / max(1, network.calls)
    return result
