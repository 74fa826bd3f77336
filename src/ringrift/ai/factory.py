"""Building players from engine names, for selfplay and matches."""

from __future__ import annotations

from dataclasses import dataclass

from ringrift.ai.heuristic import HeuristicPlayer
from ringrift.ai.player import Player
from ringrift.ai.random_player import RandomPlayer
from ringrift.errors import UserError

BASIC_ENGINES = ("random", "heuristic")
NETWORK_ENGINES = ("policy-only",)
# tree/shallow search (ringrift.ai.search); network optional (heuristic leaves without one)
SEARCH_ENGINES = ("mcts", "gumbel", "nnue-guided")
# a search player whose network learns from its games as it plays them (train/online.py)
LEARNING_ENGINES = ("online",)
ENGINES = (*BASIC_ENGINES, *NETWORK_ENGINES, *SEARCH_ENGINES, *LEARNING_ENGINES, "mixed")


@dataclass
class EngineOptions:
    heuristic_profile: str | None = None
    heuristic_profile_path: str | None = None
    heuristic_epsilon: float = 0.0
    model_path: str | None = None
    temperature: float = 0.0
    device: str | None = None
    # search engines
    simulations: int | None = None  # per move; None = the engine's default (STANDARD)
    root_noise: bool = False  # mcts: Dirichlet noise on the root priors (selfplay)
    dirichlet_alpha: float = 0.3
    gumbel_considered: int = 16  # gumbel: m, the root actions sampled by Gumbel-top-k
    search_depth: int = 2  # nnue-guided: decisions searched
    threads: int | None = None  # torch CPU threads per selfplay worker process (None: 1)
    amp: bool = False  # network in bf16 autocast (CUDA, or a CPU with native bf16): batched
    # leaves run ~1.6x faster on such a CPU; single positions barely gain


_EVALUATORS: dict[tuple[str, str | None, bool], object] = {}


def load_evaluator(path: str, device: str | None = None, amp: bool = False):
    """One Evaluator per (model file, device, precision) per process."""
    key = (path, device, amp)
    if key not in _EVALUATORS:
        from ringrift.nn.inference import Evaluator

        _EVALUATORS[key] = Evaluator.from_checkpoint(path, device=device, amp=amp)
    return _EVALUATORS[key]


def forget_model(path: str) -> None:
    """Drop a model file from this process's model caches (a long-running process that
    switches models, like the selfplay daemon, would otherwise keep every one)."""
    from ringrift.ai.search import engines

    for key in [k for k in _EVALUATORS if k[0] == path]:
        del _EVALUATORS[key]
    engines.forget_nnue(path)


def make_player(engine: str, board_type: str, num_players: int, seed: int,
                options: EngineOptions | None = None) -> Player:
    """A player for one of the basic engines (`mixed` picks one of these per game or seat)."""
    options = options or EngineOptions()
    if engine == "random":
        return RandomPlayer(seed)
    if engine == "heuristic":
        return HeuristicPlayer.for_board(board_type, num_players, seed=seed,
                                         profile=options.heuristic_profile,
                                         profile_path=options.heuristic_profile_path,
                                         epsilon=options.heuristic_epsilon)
    if engine == "policy-only":
        if not options.model_path:
            raise UserError("engine policy-only needs a model (--model PATH)")
        from ringrift.ai.policy_player import PolicyPlayer

        evaluator = load_evaluator(options.model_path, options.device, options.amp)
        check_model_fits(options.model_path, getattr(evaluator, "metadata", {}), board_type,
                         num_players)
        return PolicyPlayer(evaluator, seed=seed, temperature=options.temperature)
    if engine in SEARCH_ENGINES:
        from ringrift.ai.search.engines import make_search_player

        return make_search_player(engine, board_type, num_players, seed, options)
    if engine == "online":
        from ringrift.ai.online_player import make_online_player

        return make_online_player(board_type, num_players, seed, options)
    raise UserError(f"unknown engine {engine!r} (expected one of {', '.join(ENGINES)})")


def check_model_fits(path: str, metadata: dict, board_type: str, num_players: int) -> None:
    """UserError unless the model file was made for this board and player count."""
    if (metadata.get("board_type"), metadata.get("num_players")) != (board_type, num_players):
        raise UserError(f"{path} is a {metadata.get('board_type')} "
                        f"{metadata.get('num_players')}-player model, not {board_type} "
                        f"{num_players}-player")
