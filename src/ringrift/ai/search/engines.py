"""Building the search engines (`mcts`, `gumbel`, `nnue-guided`) from EngineOptions.

Each `make_*` is an `ringrift.ai.engines.EngineFactory`: (GameSpec, seed, EngineOptions) ->
Player; the engine table (`ringrift.ai.engines.ENGINES`) names them.
"""

from __future__ import annotations

from ringrift.ai.model_cache import check_model_fits, load_evaluator, load_nnue_value
from ringrift.ai.options import EngineOptions
from ringrift.ai.search.gumbel import STANDARD
from ringrift.ai.search.leaf import HeuristicLeaf, NetworkLeaf, network_leaf
from ringrift.errors import ConfigError, UserError
from ringrift.rules.spec import GameSpec

_HEURISTIC_LEAVES: dict[tuple, HeuristicLeaf] = {}


def search_leaf(spec: GameSpec, options: EngineOptions) -> HeuristicLeaf | NetworkLeaf:
    """The network of `options.model_path` as a leaf evaluator, else the lean heuristic (one
    per process and configuration, so that players sharing it share evaluation batches)."""
    if options.model_path:
        evaluator = load_evaluator(options.model_path, options.device, options.amp)
        check_model_fits(options.model_path, getattr(evaluator, "metadata", {}), spec)
        return network_leaf(evaluator)
    key = (spec, options.heuristic_profile, options.heuristic_profile_path)
    if key not in _HEURISTIC_LEAVES:
        _HEURISTIC_LEAVES[key] = HeuristicLeaf.for_board(
            spec, profile=options.heuristic_profile,
            profile_path=options.heuristic_profile_path)
    return _HEURISTIC_LEAVES[key]


def _simulations(options: EngineOptions) -> int:
    simulations = STANDARD if options.simulations is None else options.simulations
    if simulations < 1:
        raise ConfigError("simulations", f"must be at least 1, got {simulations}")
    return simulations


def make_mcts(spec: GameSpec, seed: int, options: EngineOptions):
    """PUCT tree search (network leaves with a model, else the lean heuristic)."""
    from ringrift.ai.search.mcts_player import MCTSPlayer

    return MCTSPlayer(search_leaf(spec, options), simulations=_simulations(options), seed=seed,
                      temperature=options.temperature, root_noise=options.root_noise,
                      dirichlet_alpha=options.dirichlet_alpha)


def make_gumbel(spec: GameSpec, seed: int, options: EngineOptions):
    """Gumbel tree search (sequential halving at the root)."""
    from ringrift.ai.search.gumbel_player import GumbelPlayer

    if options.gumbel_considered < 1:
        raise ConfigError("gumbel_considered", "must be at least 1")
    return GumbelPlayer(search_leaf(spec, options), simulations=_simulations(options),
                        seed=seed, max_considered=options.gumbel_considered)


def make_nnue_guided(spec: GameSpec, seed: int, options: EngineOptions):
    """Shallow search on an NNUE value function (the hand-written evaluation without a model)."""
    from ringrift.ai.evaluation import profile_for
    from ringrift.ai.search.nnue_search import NNUEGuidedPlayer, heuristic_value

    _simulations(options)  # the shared budget is checked for every search engine
    if options.search_depth < 1:
        raise ConfigError("search_depth", "must be at least 1")
    if options.model_path:
        from ringrift.nn.encoding import nnue_num_features

        path = options.model_path
        value = load_nnue_value(path)
        fits = (value.num_players == spec.num_players
                and value.board_type in ("", spec.board_type)
                and len(value.embed) == nnue_num_features(spec.board_type))
        if not fits:
            raise UserError(f"{path} is a {value.board_type or '?'} {value.num_players}-"
                            f"player nnue model, not {spec}")
    else:
        value = heuristic_value(profile_for(spec, options.heuristic_profile_path,
                                            options.heuristic_profile))
    return NNUEGuidedPlayer(value, depth=options.search_depth, seed=seed,
                            temperature=options.temperature)
