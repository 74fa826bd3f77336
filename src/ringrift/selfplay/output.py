"""Where selfplay games go: a SQLite game database (default), a JSONL file, or training arrays.

The npz format goes through the exporter (`ringrift.data.export`), so it holds exactly what
`ringrift export` would make of the same games; it is written when the run ends (merged with an
existing file of the same folder).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from ringrift.data.gamedb import GameDB
from ringrift.data.jsonl import append_game_jsonl, read_games_jsonl
from ringrift.data.records import GameRecord
from ringrift.errors import ConfigError, UserError
from ringrift.output_paths import check_output_dir
from ringrift.rules.spec import GameSpec

FORMATS = ("db", "jsonl", "npz")


class GameSink:
    """Appends finished games, one durable write per game; counts what was there before."""

    def __init__(self, output_dir: str | Path, fmt: str, spec: GameSpec):
        if fmt not in FORMATS:
            raise ConfigError("fmt", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")
        folder = check_output_dir(output_dir, "output_dir")
        folder.mkdir(parents=True, exist_ok=True)
        self.format = fmt
        self.db: GameDB | None = None
        self.duplicates = 0  # games not stored: the same game was there already
        if fmt == "db":
            self.path = folder / "games.db"
            self.db = GameDB(self.path)
            self.existing = self.db.count_games(board_type=spec.board_type,
                                                num_players=spec.num_players, source="selfplay")
        elif fmt == "npz":
            self.path = folder / "selfplay.npz"
            self.records: list[GameRecord] = []
            self.spec = spec
            self.existing = 0
            if self.path.exists():
                from ringrift.data.npz_format import read_npz

                arrays, meta = read_npz(self.path)
                if (meta.get("board_type"), meta.get("num_players")) != (spec.board_type,
                                                                         spec.num_players):
                    raise UserError(f"{self.path} holds {meta.get('board_type')} "
                                    f"{meta.get('num_players')}-player data")
                self.existing = int(meta.get("counts", {}).get("games", 0))
        else:
            self.path = folder / "games.jsonl"
            self.existing = (sum(1 for r in read_games_jsonl(self.path)
                                 if (r.board_type, r.num_players) == (spec.board_type,
                                                                      spec.num_players))
                             if self.path.exists() else 0)

    def fresh_indices(self, game_seed: Callable[[int], int], start: int,
                      count: int) -> list[int]:
        """`count` game indices from `start` on whose games are not stored yet: a run killed
        with workers finishing out of order stored some games past its count, and a re-run
        plays new games rather than those again."""
        if self.db is None:
            return list(range(start, start + count))
        stored = self.db.stored_seeds()
        out: list[int] = []
        index = start
        while len(out) < count:
            if game_seed(index) not in stored:
                out.append(index)
            index += 1
        return out

    def add(self, record: GameRecord) -> bool:
        """Store a finished game; False (with a warning, once) for a game that is stored
        already: another run with the same --seed writing into this folder at the same time."""
        if self.db is not None:
            if self.db.has_same_game(record):
                if not self.duplicates:
                    print(f"warning: {self.path} already holds the game of seed {record.seed} "
                          "(another selfplay with the same --seed into this folder?): games "
                          "already stored are not stored again", file=sys.stderr)
                self.duplicates += 1
                return False
            self.db.add_game(record)
        elif self.format == "npz":
            self.records.append(record)
        else:
            append_game_jsonl(self.path, record)
        return True

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
        elif self.format == "npz" and self.records:
            self._write_npz()

    def _write_npz(self) -> None:
        from ringrift.data import npz_format
        from ringrift.data.export import ExportFilters, export_metadata, export_records

        arrays, games = export_records(self.records, self.spec)
        if self.existing:
            old, _ = npz_format.read_npz(self.path)
            arrays = npz_format.merge([old, arrays])
            games += self.existing
        meta = export_metadata(self.spec, arrays, ["selfplay"], games, ExportFilters())
        npz_format.write_npz(self.path, arrays, meta)
        self.records = []
