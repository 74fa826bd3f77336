"""The engine table: every player the package can build, found by name.

`make_player(name, spec, options, seed)` looks the name up in `ENGINES` and calls its factory.
To add an engine, add one entry to `ENGINES`:

    "my-engine": Engine(build=make_my_player, model=OPTIONAL, help="what it plays"),

where `make_my_player(spec: GameSpec, seed: int, options: EngineOptions) -> Player` (import
heavy modules inside it, so building the table stays cheap). Selfplay (`--engine`, `--mix`),
the daemon, matches, gauntlets and the loop accept it from then on; `model` says whether it plays
a model file (`--model`).

"mixed" is not an engine: selfplay picks one of these per game or seat (`ringrift.ai.mixed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ringrift.ai.model_cache import check_model_fits, load_evaluator
from ringrift.ai.options import EngineOptions
from ringrift.ai.player import Player
from ringrift.ai.search import engines as search
from ringrift.errors import ConfigError, UserError
from ringrift.rules.spec import GameSpec

EngineFactory = Callable[[GameSpec, int, EngineOptions], Player]

# Does the engine play a model file (EngineOptions.model_path)?
NO_MODEL = "none"
OPTIONAL = "optional"  # with one if given (network leaves), else without (heuristic leaves)
REQUIRED = "required"


@dataclass(frozen=True)
class Engine:
    build: EngineFactory
    model: str = NO_MODEL
    help: str = ""
    simulations: bool = False  # does it read EngineOptions.simulations (a search budget)?


def _random(spec: GameSpec, seed: int, options: EngineOptions) -> Player:
    from ringrift.ai.random_player import RandomPlayer

    return RandomPlayer(seed)


def _heuristic(spec: GameSpec, seed: int, options: EngineOptions) -> Player:
    from ringrift.ai.heuristic import HeuristicPlayer

    return HeuristicPlayer.for_board(spec, seed=seed,
                                     profile=options.heuristic_profile,
                                     profile_path=options.heuristic_profile_path,
                                     epsilon=options.heuristic_epsilon)


def _policy_only(spec: GameSpec, seed: int, options: EngineOptions) -> Player:
    from ringrift.ai.policy_player import PolicyPlayer

    assert options.model_path  # make_player checks REQUIRED models
    evaluator = load_evaluator(options.model_path, options.device, options.amp)
    check_model_fits(options.model_path, getattr(evaluator, "metadata", {}), spec)
    return PolicyPlayer(evaluator, seed=seed, temperature=options.temperature)


def _online(spec: GameSpec, seed: int, options: EngineOptions) -> Player:
    from ringrift.ai.online_player import make_online_player

    return make_online_player(spec, seed, options)


ENGINES: dict[str, Engine] = {
    "random": Engine(_random, help="uniformly random legal moves"),
    "heuristic": Engine(_heuristic, help="one-ply hand-written evaluation"),
    "policy-only": Engine(_policy_only, REQUIRED, help="the network's policy, no search"),
    "mcts": Engine(search.make_mcts, OPTIONAL, help="PUCT tree search", simulations=True),
    "gumbel": Engine(search.make_gumbel, OPTIONAL, help="Gumbel tree search", simulations=True),
    "nnue-guided": Engine(search.make_nnue_guided, OPTIONAL,
                          help="shallow search on an NNUE value"),
    "online": Engine(_online, REQUIRED,
                     help="Gumbel search whose network learns from its games as it plays",
                     simulations=True),
}

# Groups some callers need, derived from the table (never listed by hand).
BASIC_ENGINES = tuple(n for n, e in ENGINES.items() if e.model == NO_MODEL)
SEARCH_ENGINES = tuple(n for n, e in ENGINES.items() if e.model == OPTIONAL)
NETWORK_ENGINES = tuple(n for n, e in ENGINES.items() if e.model == REQUIRED)
MODEL_ENGINES = SEARCH_ENGINES + NETWORK_ENGINES
SIMULATION_ENGINES = tuple(n for n, e in ENGINES.items() if e.simulations)


def engine(name: str) -> Engine:
    """The table entry of `name`; UserError naming the known engines."""
    try:
        return ENGINES[name]
    except (KeyError, TypeError):
        raise UserError(f"unknown engine {name!r} (expected one of {', '.join(ENGINES)})"
                        ) from None


def check_model_given(name: str, options: EngineOptions) -> None:
    """ConfigError (model_path) when engine `name` needs a model file and `options` names
    none."""
    if engine(name).model == REQUIRED and not options.model_path:
        raise ConfigError("model_path", f"is not set: engine {name} needs a model file")


def make_player(name: str, spec: GameSpec, options: EngineOptions | None = None,
                seed: int = 0) -> Player:
    """A player of engine `name` for `spec`."""
    options = options or EngineOptions()
    entry = engine(name)
    check_model_given(name, options)
    return entry.build(spec, seed, options)
