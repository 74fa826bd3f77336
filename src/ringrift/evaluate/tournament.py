"""Round-robin tournaments: every pair of participants plays the same number of games.

Seating. Game g of the pair (a, b) fills the seats alternately, seat s (0-based) taking a when
(s + g) is even and b otherwise: two players a-b then b-a; three players a-b-a then b-a-b; four
players a-b-a-b then b-a-b-a. Over every two games each participant holds each seat equally
often, and in 3-4 player games every seat faces the other participant, so all pairwise results
(by final rank) are between a and b. Games are stored and resumable like gauntlet games
(see `evaluate.series`), and the ratings come from all evaluation games in the database.

With `workers` > 1 the games of all pairs are played in that many processes, a sliding window
ahead of the next game due, and taken (stored, counted, reported) in the one-worker order:
pair by pair, game by game; the results do not depend on the number of workers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from ringrift.config_defaults import field_default
from ringrift.errors import ConfigError, UserError
from ringrift.evaluate.engine_spec import EngineSpec
from ringrift.evaluate.match import ordered_games
from ringrift.evaluate.pairwise import pairwise_from_ranking
from ringrift.evaluate.series import Series, SeriesGame
from ringrift.evaluate.tournament_config import TournamentConfig
from ringrift.exec import Executor, check_workers
from ringrift.rules.spec import GameSpec


def pair_seating(num_players: int) -> Callable[[int], list[int]]:
    """Game g of a pair: seat s gets participant (s + g) mod 2 (see the module docstring)."""
    def seating(index: int) -> list[int]:
        return [(s + index) % 2 for s in range(num_players)]

    return seating


@dataclass
class PairResult:
    """Pairwise score of `a` against `b` over their games (3-4 players: every a-b seat pair)."""

    a: str
    b: str
    games: int = 0
    wins: int = 0  # pairwise results won by a
    draws: int = 0
    losses: int = 0
    resumed: int = 0

    def add(self, game: SeriesGame) -> None:
        self.games += 1
        self.resumed += game.stored
        names = [self.a if who == 0 else self.b for who in game.seats]
        ranks = game.ranks or [1] * len(names)  # unfinished: a draw between all seats
        for first, _, score in pairwise_from_ranking(names, ranks):
            score_a = score if first == self.a else 1.0 - score
            if score_a == 1.0:
                self.wins += 1
            elif score_a == 0.0:
                self.losses += 1
            else:
                self.draws += 1

    @property
    def score(self) -> float:
        total = self.wins + self.draws + self.losses
        return (self.wins + 0.5 * self.draws) / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "games": self.games, "wins": self.wins,
                "draws": self.draws, "losses": self.losses, "score": self.score,
                "resumed_games": self.resumed}

    def line(self) -> str:
        return (f"{self.a} vs {self.b}: {self.games} games, pairwise {self.wins}-{self.draws}-"
                f"{self.losses} (score {self.score:.1%})")


def check_participants(participants: Sequence[EngineSpec], spec: GameSpec) -> None:
    """UserError unless there are >= 2 uniquely named participants that can all be built."""
    if len(participants) < 2:
        raise UserError("a tournament needs at least 2 participants")
    names = [p.name for p in participants]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserError(f"participants share the name {', '.join(repeated)}")
    for p in participants:
        p.check(spec)


def run_tournament(participants: Sequence[EngineSpec], spec: GameSpec,
                   games_per_pair: int = field_default(TournamentConfig, "games_per_pair"), *,
                   seed: int = field_default(TournamentConfig, "seed"), db=None,
                   max_moves: int = field_default(TournamentConfig, "max_moves"),
                   on_game: Callable[[PairResult], None] | None = None,
                   workers: int = field_default(TournamentConfig, "workers"),
                   batch_size: int = field_default(TournamentConfig, "batch_size"),
                   backend: str = "local",
                   ray_address: str | None = None) -> list[PairResult]:
    """Play (or resume) every pair's games in `workers` processes, `batch_size` at once in each
    (leaf evaluations batched); `db` stores them. Returns one result per pair."""
    if games_per_pair < 1:
        raise ConfigError("games_per_pair", f"must be at least 1, got {games_per_pair}")
    check_workers(workers)
    check_participants(participants, spec)
    pairs = []
    for a, b in itertools.combinations(participants, 2):
        pairs.append((PairResult(a.name, b.name),
                      Series("tournament", [a, b], spec, seed, pair_seating(spec.num_players),
                             db=db, max_moves=max_moves)))
    jobs = (((k, index), series.task(index))
            for k, (_, series) in enumerate(pairs) for index in range(games_per_pair))
    with Executor.for_players(participants, workers, backend=backend,
                              ray_address=ray_address) as pool, \
            closing(ordered_games(pool, jobs, batch_size)) as results:
        for (k, index), record in results:
            pair, series = pairs[k]
            pair.add(series.finish(index, record))
            if on_game is not None:
                on_game(pair)
    return [pair for pair, _ in pairs]
