"""Playing selfplay games and turning them into game records.

Every game is reproducible from (config, game index): its seed is derived from the run seed and
the index, and every random choice in the game comes from generators seeded from it.
"""

from __future__ import annotations

import random
from dataclasses import InitVar, dataclass, field, replace
from os import PathLike

from ringrift import rules
from ringrift.ai.engines import ENGINES, check_model_given, make_player
from ringrift.ai.game import DEFAULT_MAX_MOVES
from ringrift.ai.heuristic import HeuristicPlayer
from ringrift.ai.mixed import parse_mix, pick_engine
from ringrift.ai.options import EngineOptions
from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER, DEFAULT_WORKERS
from ringrift.data.gamedb import DEFAULT_GAMES_DIR
from ringrift.data.played import game_record
from ringrift.data.records import GameRecord
from ringrift.errors import ConfigError, UserError
from ringrift.rules.spec import DEFAULT_BOARD_TYPE, DEFAULT_NUM_PLAYERS
from ringrift.selfplay.start_positions import (
    START_POSITION_KEY,
    StartPositionSampler,
    check_start_fraction,
)
from ringrift.selfplay.temperature import get_schedule

# The heuristic's values are tanh-squashed in [-1, 1]; a schedule temperature of 1 maps to this
# softmax temperature over them (about "prefer the best, but explore near-equal moves").
HEURISTIC_TEMPERATURE_SCALE = 0.05


@dataclass
class SelfplayConfig:
    """One selfplay run: what each game is (engine, seed, schedule) and how many are played
    where. The `ringrift selfplay` flags take their defaults from these fields.

    The seed's names are accepted too: `engine_mode` (= engine) and `mcts_simulations` (a
    number or a budget name, = options.simulations); like the seed, a config without a board
    plays square8 with 2 players.
    """

    board_type: str = DEFAULT_BOARD_TYPE
    num_players: int = DEFAULT_NUM_PLAYERS
    engine: str = "heuristic"
    mix: str = "heuristic:0.8,random:0.2"
    mix_per: str = "game"  # or "seat"
    seed: int = 0
    max_moves: int = DEFAULT_MAX_MOVES
    temperature_schedule: str | None = None
    options: EngineOptions = field(default_factory=EngineOptions)
    # where games start: None, the opening; else positions sampled from these game databases'
    # whole games, `start_fraction` of the way through each (see selfplay.start_positions)
    start_positions: list[str] | None = None
    start_fraction: float = 0.0
    # the run (SelfplayRunner / `ringrift selfplay`)
    num_games: int = 100
    batch_size: int = DEFAULT_GAMES_PER_WORKER
    workers: int = DEFAULT_WORKERS
    output_dir: str | None = None  # None: default_output_dir(spec)
    format: str = "db"
    use_gpu: bool = False  # the network on CUDA when present
    engine_mode: InitVar[str | None] = None
    mcts_simulations: InitVar[int | str | None] = None

    def __post_init__(self, engine_mode: str | None, mcts_simulations: int | str | None) -> None:
        board = getattr(self.board_type, "value", self.board_type)  # a seed BoardType enum
        self.board_type = str(board).lower()
        if engine_mode is not None:
            self.engine = engine_mode
        if mcts_simulations is not None:
            from ringrift.ai.search.gumbel import parse_budget

            try:
                simulations = parse_budget(str(mcts_simulations))
            except ValueError as exc:
                raise UserError(f"mcts_simulations: {exc}") from None
            self.options = replace(self.options, simulations=simulations)
        if self.use_gpu and self.options.device in (None, "cpu"):
            self.options = replace(self.options, device="auto")
        if isinstance(self.start_positions, str | PathLike):
            self.start_positions = [self.start_positions]
        if self.start_positions is not None:
            self.start_positions = [str(p) for p in self.start_positions]

    @property
    def spec(self) -> rules.GameSpec:
        return rules.GameSpec.checked(self.board_type, self.num_players, error=UserError)

    @property
    def output_path(self) -> str:
        return self.output_dir or default_output_dir(self.spec)

    def engines(self) -> list[str]:
        """The engines this run plays: the engine, or every engine of a mixed run's --mix."""
        if self.engine == "mixed":
            return [name for name, _ in parse_mix(self.mix)]
        return [self.engine]

    def validate(self, require_models: bool = True) -> None:
        """UserError naming the first bad setting. `require_models=False`: engines that need a
        model may lack one (the daemon takes it from the registry)."""
        self.spec  # noqa: B018 (validates board type and player count)
        if self.engine == "mixed":
            for name in self.engines():
                if name not in ENGINES:
                    raise ConfigError("mix", f"names an unknown engine {name!r} "
                                             f"(expected any of {', '.join(ENGINES)})")
            if self.mix_per not in ("game", "seat"):
                raise ConfigError("mix_per", "must be 'game' or 'seat'")
        elif self.engine not in ENGINES:
            raise UserError(f"unknown engine {self.engine!r} (expected one of "
                            f"{', '.join((*ENGINES, 'mixed'))})")
        if require_models:
            for name in self.engines():
                check_model_given(name, self.options)
        if self.temperature_schedule:
            get_schedule(self.temperature_schedule)
        for name in ("max_moves", "num_games", "batch_size", "workers"):
            if getattr(self, name) < 1:
                raise ConfigError(name, "must be at least 1")
        check_start_fraction(self.start_fraction)
        if self.start_positions is None and self.start_fraction:
            raise ConfigError("start_fraction", "needs start positions (the game databases "
                                                "to sample them from)")
        self.start_sampler()  # (reads the databases: a bad one fails here)

    def start_sampler(self) -> StartPositionSampler | None:
        """The sampler of this config's start positions (None: games start at the opening).
        Built once and kept with the config, so worker processes it is sent to sample from
        the same list of games."""
        if self.start_positions is None:
            return None
        key = (tuple(self.start_positions), self.start_fraction, self.board_type,
               self.num_players)
        built = self.__dict__.get("_start_sampler")
        if built is None or built[0] != key:  # (rebuilt if those fields were changed)
            built = (key, StartPositionSampler(self.start_positions, self.start_fraction,
                                               self.spec))
            self.__dict__["_start_sampler"] = built
        return built[1]

    def game_seed(self, index: int) -> int:
        return (self.seed * 1_000_003 + index) & 0x7FFFFFFF


def default_output_dir(spec: rules.GameSpec) -> str:
    """Where selfplay games go without --output-dir: a folder under data/games/, the folder
    that `ringrift export --use-discovery` searches by default."""
    return f"{DEFAULT_GAMES_DIR}/selfplay_{spec.board_type}_{spec.num_players}p"


def seat_engines(config: SelfplayConfig, rng: random.Random) -> list[str]:
    if config.engine != "mixed":
        return [config.engine] * config.num_players
    mix = parse_mix(config.mix)
    if config.mix_per == "game":
        return [pick_engine(mix, rng)] * config.num_players
    return [pick_engine(mix, rng) for _ in range(config.num_players)]


class _ScheduledHeuristic:
    """A heuristic player whose sampling temperature follows the schedule by move number."""

    def __init__(self, player: HeuristicPlayer, schedule) -> None:
        self.player = player
        self.schedule = schedule
        self.name = player.name

    def new_game(self, seed: int) -> None:
        self.player.new_game(seed)

    def choose(self, state, legal):
        self.player.temperature = self.schedule(state.move_count, state) * HEURISTIC_TEMPERATURE_SCALE
        return self.player.choose(state, legal)


# Search engines without a temperature schedule of their own play this one in selfplay
# (MCTS would otherwise always play its most visited move).
DEFAULT_SEARCH_SCHEDULE = {"mcts": "alphazero", "nnue-guided": "alphazero"}


def selfplay_players(config: SelfplayConfig, index: int):
    """(seed, engine per seat, players, temperature schedule or None) of game `index`."""
    seed = config.game_seed(index)
    rng = random.Random(seed)
    engines = seat_engines(config, rng)
    schedule_name = config.temperature_schedule or DEFAULT_SEARCH_SCHEDULE.get(config.engine)
    schedule = get_schedule(schedule_name) if schedule_name else None
    game = config.spec
    players = []
    for seat, engine in enumerate(engines):
        player = make_player(engine, game, config.options, seed=seed * 8 + seat)
        if schedule is not None and isinstance(player, HeuristicPlayer):
            player = _ScheduledHeuristic(player, schedule)
        elif schedule is not None and hasattr(player, "schedule"):
            player.schedule = schedule  # search players sample from their search distribution
        players.append(player)
    return seed, engines, players, schedule


def selfplay_game_steps(config: SelfplayConfig, index: int):
    """Game `index` as a generator of leaf requests (batchable, see selfplay.batched);
    returns its GameRecord."""
    from ringrift.ai.game import play_game_steps

    seed, engines, players, schedule = selfplay_players(config, index)
    metadata: dict = {"game_index": index, "run_seed": config.seed}
    sampler = config.start_sampler()
    if sampler is None:
        state = rules.new_game(config.board_type, config.num_players)
    else:  # recorded with the start state as its initial state, and where that came from
        start = sampler.sample(seed)
        state = start.state
        metadata[START_POSITION_KEY] = {**start.source(), "fraction": sampler.fraction}
    game = yield from play_game_steps(state, players, max_moves=config.max_moves)
    return game_record(game, engines, seed, source="selfplay",
                       temperature_schedule=schedule.spec if schedule else None,
                       metadata=metadata)


def play_selfplay_game(config: SelfplayConfig, index: int) -> GameRecord:
    from ringrift.ai.search.tree import run_sync

    return run_sync(selfplay_game_steps(config, index))
