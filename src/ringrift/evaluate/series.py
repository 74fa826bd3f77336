"""A resumable series of evaluation games between fixed participants, stored in a GameDB.

A series is identified by a key: a digest of its kind ("gauntlet", "tournament"), the
participants' identities (name, engine, model SHA-256, playing options), the board, the player
count and the seed. Game `index` of a series is stored under the id `eval-<key>-<index>`, and the
index alone determines the seating and the game seed. So a series killed midway loses only the
game in flight: running it again with the same database finds games 0..k-1 stored, reads their
results back instead of replaying them, and continues with game k, ending exactly where an
uninterrupted run would have.

Games can be played by workers (`games` with an `Executor`): they are consumed, stored
and counted strictly in index order, only the parent process writes to the database, and
a caller that stops after game k counts nothing beyond k (games running past k are discarded
unstored), so the outcome is the same for any number of workers. Killing a run with workers
loses only the games in flight.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass

from ringrift.ai.game import DEFAULT_MAX_MOVES
from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER
from ringrift.data.records import GameRecord
from ringrift.evaluate.engine_spec import EngineSpec
from ringrift.evaluate.match import GameTask, match_seed, ordered_games, play_game_task
from ringrift.exec import Executor
from ringrift.rules.spec import GameSpec

Seating = Callable[[int], list[int]]  # game index -> participant index per seat


@dataclass(frozen=True)
class SeriesGame:
    """The outcome of one game: who sat where, final ranks (None if unfinished), and whether
    it was read back from the database rather than played now."""

    index: int
    seats: list[int]
    ranks: list[int] | None
    stored: bool


def series_key(kind: str, participants: Sequence[EngineSpec], spec: GameSpec,
               seed: int) -> str:
    """Short stable digest identifying a series (stored game ids depend on it: keep it)."""
    payload = {"kind": kind, "participants": [p.identity() for p in participants],
               "board_type": spec.board_type, "num_players": spec.num_players, "seed": seed}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class Series:
    """Games between `participants` seated by `seating`, stored in `db` (None: not stored)."""

    def __init__(self, kind: str, participants: Sequence[EngineSpec], spec: GameSpec,
                 seed: int, seating: Seating, *, db=None,
                 max_moves: int = DEFAULT_MAX_MOVES, metadata: dict | None = None) -> None:
        self.kind = kind
        self.participants = list(participants)
        self.spec = spec
        self.seed = seed
        self.seating = seating
        self.db = db
        self.max_moves = max_moves
        self.key = series_key(kind, self.participants, spec, seed)
        self._metadata = {"kind": kind, "match_key": self.key, "seed": seed,
                          "match": " vs ".join(p.name for p in self.participants),
                          "participants": [p.identity() for p in self.participants],
                          **(metadata or {})}

    def game_id(self, index: int) -> str:
        return f"eval-{self.key}-{index:06d}"

    def stored_games(self) -> int:
        """How many games of this series (0, 1, ... consecutively) the database holds."""
        if self.db is None:
            return 0
        count = 0
        while self.db.has_game(self.game_id(count)):
            count += 1
        return count

    def task(self, index: int, extra_metadata: dict | None = None) -> GameTask | None:
        """What playing game `index` takes (picklable), or None when the database holds it."""
        if self.db is not None and self.db.has_game(self.game_id(index)):
            return None
        seats = self.seating(index)
        return GameTask(tuple(self.participants[i] for i in seats), self.spec,
                        match_seed(self.seed, index), self.max_moves,
                        {**self._metadata, "game_index": index, **(extra_metadata or {})})

    def finish(self, index: int, record: GameRecord | None) -> SeriesGame:
        """Game `index` from its freshly played `record` (stored now), or read back from the
        database when `record` is None (its task was None)."""
        seats = self.seating(index)
        if record is None:
            return SeriesGame(index, seats, self.db.get_game(self.game_id(index)).final_ranks,
                              stored=True)
        if self.db is not None:
            record.game_id = self.game_id(index)
            self.db.add_game(record)
        return SeriesGame(index, seats, record.final_ranks, stored=False)

    def play(self, index: int, extra_metadata: dict | None = None) -> SeriesGame:
        """Game `index` in this process: read back from the database when stored, else played
        (and stored)."""
        task = self.task(index, extra_metadata)
        return self.finish(index, None if task is None else play_game_task(task))

    def games(self, indices: Iterable[int], pool: Executor,
              extra_metadata: Callable[[int], dict] | None = None,
              batch_size: int = DEFAULT_GAMES_PER_WORKER) -> Iterator[SeriesGame]:
        """Games `indices` in order, played by `pool` (read back when stored), `batch_size` at
        once per worker (`match.ordered_games`). Close the generator (or let it be collected)
        to stop: games beyond the last one yielded are neither stored nor counted (module
        docstring)."""
        jobs = ((i, self.task(i, extra_metadata(i) if extra_metadata else None))
                for i in indices)
        with closing(ordered_games(pool, jobs, batch_size)) as results:
            for index, record in results:
                yield self.finish(index, record)


def pairwise_counts(ranks: Sequence[int] | None, seat: int,
                    num_players: int) -> tuple[int, int, int]:
    """(wins, draws, losses) of the player in 0-based `seat` against every other seat by final
    rank; an unfinished game (no ranks) is a draw against each."""
    if ranks is None:
        return 0, num_players - 1, 0
    wins = sum(1 for s, r in enumerate(ranks) if s != seat and ranks[seat] < r)
    losses = sum(1 for s, r in enumerate(ranks) if s != seat and ranks[seat] > r)
    return wins, num_players - 1 - wins - losses, losses
