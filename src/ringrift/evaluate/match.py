"""Playing matches: a candidate against an opponent, seats rotated, games optionally stored.

With N players the candidate takes one seat and the opponent engine all the others; game g puts
the candidate in seat (g mod N) + 1, so it sits in every seat equally. A win is a first place
(ties for first count as draws). Game g's seating and seed depend on g alone, so games can be
played by workers (`workers`, see `ringrift.exec`) with the same results.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ringrift import rules
from ringrift.ai.game import DEFAULT_MAX_MOVES, PlayedGame, play_game, play_game_steps
from ringrift.ai.player import Player
from ringrift.ai.search.batching import run_batched
from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER, DEFAULT_WORKERS, field_default
from ringrift.data.played import game_record
from ringrift.data.records import GameRecord
from ringrift.evaluate.wilson import wilson_interval
from ringrift.exec import Executor
from ringrift.rules.spec import GameSpec

PlayerFactory = Callable[[int], Player]  # seed -> a fresh player
K = TypeVar("K")


@dataclass
class Participant:
    name: str
    make: PlayerFactory


@dataclass
class MatchResult:
    candidate: str
    opponent: str
    wins: int = 0
    draws: int = 0
    losses: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def win_rate(self) -> float:
        return (self.wins + 0.5 * self.draws) / self.games if self.games else 0.0

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        return wilson_interval(self.wins, self.draws, self.losses, confidence)

    def add(self, outcome: str) -> None:
        """Count one game: 'win', 'draw' or 'loss' (see `seat_outcome`)."""
        if outcome == "win":
            self.wins += 1
        elif outcome == "draw":
            self.draws += 1
        elif outcome == "loss":
            self.losses += 1
        else:
            raise ValueError(f"outcome must be 'win', 'draw' or 'loss', got {outcome!r}")

    def line(self) -> str:
        low, high = self.interval()
        return (f"{self.candidate} vs {self.opponent}: {self.wins}-{self.draws}-{self.losses} "
                f"win rate {self.win_rate:.1%} (95% CI {low:.1%}-{high:.1%})")


def match_seed(seed: int, game: int) -> int:
    return (seed * 7919 + game * 104729) & 0x7FFFFFFF


@dataclass(frozen=True)
class MatchConfig:
    """The defaults of a match, one home for `play_match`'s and `ringrift match`'s."""

    num_players: int = 2
    opponent: str = "random"  # engine of every seat but the candidate's
    games: int = 100
    seed: int = 0
    max_moves: int = DEFAULT_MAX_MOVES
    workers: int = DEFAULT_WORKERS
    batch_size: int = DEFAULT_GAMES_PER_WORKER


def play_match(candidate, opponent, spec: GameSpec, games: int,
               seed: int = field_default(MatchConfig, "seed"), *, db=None,
               on_game: Callable[[MatchResult], None] | None = None,
               max_moves: int = field_default(MatchConfig, "max_moves"),
               workers: int = field_default(MatchConfig, "workers"),
               batch_size: int = field_default(MatchConfig, "batch_size"),
               backend: str = "local", ray_address: str | None = None) -> MatchResult:
    """Play `games` games of `candidate` against `opponent` (Participants or EngineSpecs; with
    `workers` > 1, EngineSpecs, built in the worker processes). Games are counted, stored in
    `db` and reported to `on_game` in game order, so the result does not depend on `workers`.
    `batch_size` games per worker are played at once (see `ordered_games`), on the executor's
    `backend` (local processes or Ray)."""
    if not (isinstance(candidate, Participant) or isinstance(opponent, Participant)):
        # (also for one worker: it sets torch's threads for the network players)
        pool = Executor.for_players([candidate, opponent], workers, backend=backend,
                                    ray_address=ray_address)
    elif workers == 1 and backend == "local":
        pool = Executor(1)
    else:
        raise ValueError("play_match in workers needs EngineSpec players")
    label = f"{candidate.name} vs {opponent.name}"

    num_players = spec.num_players

    def jobs():
        for g in range(games):
            seat = g % num_players
            seated = tuple(candidate if s == seat else opponent for s in range(num_players))
            yield g, GameTask(seated, spec, match_seed(seed, g), max_moves,
                              {"candidate_seat": seat + 1, "match": label})

    result = MatchResult(candidate.name, opponent.name)
    with pool, closing(ordered_games(pool, jobs(), batch_size)) as results:
        for g, record in results:
            result.add(seat_outcome(record.final_ranks, g % num_players))
            if record.status == "completed":
                reason = record.victory_reason
                result.reasons[reason] = result.reasons.get(reason, 0) + 1
            if db is not None:
                db.add_game(record)
            if on_game is not None:
                on_game(result)
    return result


@dataclass(frozen=True)
class GameTask:
    """One evaluation game: the player in each seat (a Participant, or an EngineSpec built
    where the game is played), board and player count, seed, move cap and the record's
    metadata. Picklable (for worker processes) when the players are EngineSpecs."""

    players: tuple
    spec: GameSpec
    game_seed: int
    max_moves: int = DEFAULT_MAX_MOVES
    metadata: dict = field(default_factory=dict)


def play_game_task(task: GameTask) -> GameRecord:
    """Play one game and return its record (source 'evaluation'; the caller stores it)."""
    seated = _seated(task)
    game = play_seated_game(seated, task.spec, task.game_seed, max_moves=task.max_moves)
    return _record(task, seated, game)


def play_game_task_batch(tasks: Sequence[GameTask | None]) -> list[GameRecord | None]:
    """Play `tasks` at once in this process, their players' leaf evaluations batched (a network
    sees one batch per round instead of one position per call; see `ai.search.batching`).
    Records in task order; a None task (a game already stored) gives None. The games are those
    `play_game_task` plays, up to floating-point differences between batch sizes."""
    def steps(k: int, task: GameTask) -> Generator[Any, Any, tuple[int, GameRecord]]:
        seated = _seated(task)
        players = [p.make(task.game_seed + s) for s, p in enumerate(seated)]
        start = rules.new_game(task.spec.board_type, task.spec.num_players)
        game = yield from play_game_steps(start, players, max_moves=task.max_moves)
        return k, _record(task, seated, game)

    out: list[GameRecord | None] = [None] * len(tasks)
    jobs = (steps(k, task) for k, task in enumerate(tasks) if task is not None)
    for k, record in run_batched(jobs, max(1, len(tasks))):
        out[k] = record
    return out


def ordered_games(pool: Executor, jobs: Iterable[tuple[K, GameTask | None]],
                  batch_size: int = DEFAULT_GAMES_PER_WORKER) -> Iterator[tuple[K, GameRecord | None]]:
    """`pool.ordered(play_game_task, jobs)`: (key, record) in job order, None for a None task.
    With `batch_size` > 1 each worker plays `batch_size` consecutive games at once, their leaf
    evaluations batched (`play_game_task_batch`). Closing this generator stops like closing
    `pool.ordered` does: games beyond the last one yielded are thrown away."""
    if batch_size <= 1:
        yield from pool.ordered(play_game_task, jobs)
        return
    with closing(pool.ordered(play_game_task_batch, _chunks(jobs, batch_size))) as results:
        for keys, records in results:
            yield from zip(keys, records or [None] * len(keys))


def _chunks(jobs: Iterable[tuple[K, GameTask | None]], size: int
            ) -> Iterator[tuple[tuple[K, ...], tuple[GameTask | None, ...] | None]]:
    """Consecutive jobs in groups of `size`: (keys, tasks), tasks None when none is to play."""
    keys: list = []
    tasks: list = []
    for key, task in jobs:
        keys.append(key)
        tasks.append(task)
        if len(keys) == size:
            yield tuple(keys), (tuple(tasks) if any(t is not None for t in tasks) else None)
            keys, tasks = [], []
    if keys:
        yield tuple(keys), (tuple(tasks) if any(t is not None for t in tasks) else None)


def _seated(task: GameTask) -> list[Participant]:
    return [p if isinstance(p, Participant) else p.participant(task.spec)
            for p in task.players]


def _record(task: GameTask, seated: Sequence[Participant], game: PlayedGame) -> GameRecord:
    return game_record(game, [p.name for p in seated], task.game_seed, source="evaluation",
                       metadata=dict(task.metadata))


def play_seated_game(seated: Sequence[Participant], spec: GameSpec, game_seed: int, *,
                     max_moves: int = DEFAULT_MAX_MOVES) -> PlayedGame:
    """One game with seated[s] in seat s + 1; that seat's player is made with game_seed + s."""
    players = [p.make(game_seed + s) for s, p in enumerate(seated)]
    return play_game(rules.new_game(spec.board_type, spec.num_players), players,
                     max_moves=max_moves)


def seat_outcome(ranks: Sequence[int] | None, seat: int) -> str:
    """'win' (sole first place), 'draw' (shared first place, or no ranks: an unfinished game)
    or 'loss', for the 0-based `seat`."""
    if ranks is None:
        return "draw"
    if ranks[seat] != 1:
        return "loss"
    return "win" if list(ranks).count(1) == 1 else "draw"
