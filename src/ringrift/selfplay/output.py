"""Where selfplay games go: a SQLite game database (default) or a JSONL file."""

from __future__ import annotations

from pathlib import Path

from ringrift.data.gamedb import GameDB
from ringrift.data.jsonl import append_game_jsonl, read_games_jsonl
from ringrift.data.records import GameRecord
from ringrift.errors import UserError

FORMATS = ("db", "jsonl")


class GameSink:
    """Appends finished games, one durable write per game; counts what was there before."""

    def __init__(self, output_dir: str | Path, fmt: str, board_type: str, num_players: int):
        if fmt not in FORMATS:
            raise UserError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        folder = Path(output_dir)
        if folder.exists() and not folder.is_dir():
            raise UserError(f"--output-dir {folder} exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        self.format = fmt
        self.db: GameDB | None = None
        if fmt == "db":
            self.path = folder / "games.db"
            self.db = GameDB(self.path)
            self.existing = self.db.count_games(board_type=board_type, num_players=num_players,
                                                source="selfplay")
        else:
            self.path = folder / "games.jsonl"
            self.existing = (sum(1 for r in read_games_jsonl(self.path)
                                 if r.board_type == board_type and r.num_players == num_players)
                             if self.path.exists() else 0)

    def add(self, record: GameRecord) -> None:
        if self.db is not None:
            self.db.add_game(record)
        else:
            append_game_jsonl(self.path, record)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
