"""Building the search engines (`mcts`, `gumbel`, `nnue-guided`) from EngineOptions."""

from __future__ import annotations

from ringrift.ai.search.gumbel import STANDARD
from ringrift.ai.search.leaf import HeuristicLeaf, NetworkLeaf, network_leaf
from ringrift.errors import UserError

_HEURISTIC_LEAVES: dict[tuple, HeuristicLeaf] = {}
_NNUE_VALUES: dict[str, object] = {}


def forget_nnue(path: str) -> None:
    """Drop an nnue model file from the cache (see `ringrift.ai.factory.forget_model`)."""
    _NNUE_VALUES.pop(path, None)


def search_leaf(board_type: str, num_players: int, options) -> HeuristicLeaf | NetworkLeaf:
    """The network of `options.model_path` as a leaf evaluator, else the lean heuristic (one
    per process and configuration, so that players sharing it share evaluation batches)."""
    from ringrift.ai.factory import check_model_fits, load_evaluator

    if options.model_path:
        evaluator = load_evaluator(options.model_path, options.device, options.amp)
        check_model_fits(options.model_path, getattr(evaluator, "metadata", {}), board_type,
                         num_players)
        return network_leaf(evaluator)
    key = (board_type, num_players, options.heuristic_profile, options.heuristic_profile_path)
    if key not in _HEURISTIC_LEAVES:
        _HEURISTIC_LEAVES[key] = HeuristicLeaf.for_board(
            board_type, num_players, profile=options.heuristic_profile,
            profile_path=options.heuristic_profile_path)
    return _HEURISTIC_LEAVES[key]


def make_search_player(engine: str, board_type: str, num_players: int, seed: int, options):
    """An mcts, gumbel or nnue-guided player."""
    simulations = STANDARD if options.simulations is None else options.simulations
    if simulations < 1:
        raise UserError(f"--mcts-simulations must be at least 1, got {simulations}")
    if engine == "mcts":
        from ringrift.ai.search.mcts_player import MCTSPlayer

        return MCTSPlayer(search_leaf(board_type, num_players, options), simulations=simulations,
                          seed=seed, temperature=options.temperature,
                          root_noise=options.root_noise, dirichlet_alpha=options.dirichlet_alpha)
    if engine == "gumbel":
        from ringrift.ai.search.gumbel_player import GumbelPlayer

        if options.gumbel_considered < 1:
            raise UserError("--gumbel-considered must be at least 1")
        return GumbelPlayer(search_leaf(board_type, num_players, options),
                            simulations=simulations, seed=seed,
                            max_considered=options.gumbel_considered)
    if engine == "nnue-guided":
        from ringrift.ai.evaluation import profile_for
        from ringrift.ai.search.nnue_search import NNUEGuidedPlayer, NNUEValue, heuristic_value

        if options.search_depth < 1:
            raise UserError("--search-depth must be at least 1")
        if options.model_path:
            from ringrift.nn.encoding import nnue_num_features

            path = options.model_path
            if path not in _NNUE_VALUES:
                _NNUE_VALUES[path] = NNUEValue.from_file(path)
            value = _NNUE_VALUES[path]
            fits = (value.num_players == num_players
                    and value.board_type in ("", board_type)
                    and len(value.embed) == nnue_num_features(board_type))
            if not fits:
                raise UserError(f"{path} is a {value.board_type or '?'} {value.num_players}-"
                                f"player nnue model, not {board_type} {num_players}-player")
        else:
            value = heuristic_value(profile_for(board_type, num_players,
                                                options.heuristic_profile_path,
                                                options.heuristic_profile))
        return NNUEGuidedPlayer(value, depth=options.search_depth, seed=seed,
                                temperature=options.temperature)
    raise UserError(f"unknown search engine {engine!r}")
