"""Importing games into a database: our JSONL records and the reference trace corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ringrift import rules
from ringrift.ai.game import PlayedGame, PlayedMove
from ringrift.data.jsonl import read_games_jsonl
from ringrift.data.records import GameRecord
from ringrift.data.replay import verify_record
from ringrift.errors import UserError
from ringrift.rules.replay import read_games as read_trace_games
from ringrift.rules.replay import trace_moves


def is_trace_file(path: Path) -> bool:
    """Reference traces start with a {"type": "game"} record; our records have a "format"."""
    import gzip
    import json

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            first = fh.readline()
        return json.loads(first).get("type") == "game"
    except (OSError, EOFError, ValueError, AttributeError, gzip.BadGzipFile):
        return False


def trace_records(path: Path) -> Iterator[tuple[GameRecord | None, str]]:
    """Yield (record, problem) per trace game: replayed through our engine to fill phases."""
    from ringrift.data.played import game_record

    for header, steps, final in read_trace_games(str(path)):
        game_id = str(header.get("gameId"))
        try:
            state = rules.state_from_json(header["initialState"],
                                          header.get("initialStateExtras"))
            game = PlayedGame(initial_state=state.copy(), final_state=state)
            for move, player, phase in trace_moves(header, steps, final):
                rules.apply_move(state, move)
                game.moves.append(PlayedMove(move, player, phase, None, 0.0))
        except (rules.RulesError, KeyError) as exc:
            yield None, f"{game_id}: does not replay through our engine ({exc})"
            continue
        record = game_record(game, ["reference-random"] * state.num_players,
                             int(header.get("seed", 0)), source="import",
                             metadata={"trace_file": path.name, "trace_game": game_id,
                                       "reference_winner": (final or {}).get("winner")})
        record.game_id = game_id
        yield record, ""


def check_import_files(paths: list[str]) -> None:
    """Every file exists and is not a database (checked before anything is stored)."""
    for name in paths:
        if not Path(name).is_file():
            raise UserError(f"{name}: no such file")
        with open(name, "rb") as fh:
            if fh.read(16) == b"SQLite format 3\x00":
                raise UserError(f"{name}: a SQLite database, not JSONL game records or traces")


def import_files(paths: list[str], db) -> tuple[int, int, list[str]]:
    """Import every game of the files; returns (added, already present, problems)."""
    added = present = 0
    problems: list[str] = []
    check_import_files(paths)
    for name in paths:
        path = Path(name)
        trace = is_trace_file(path)
        if trace:  # (replayed through our engine as they are read)
            items = trace_records(path)
        else:
            items = ((r, "") for r in read_games_jsonl(path))
        for record, problem in items:
            if record is not None and not trace:
                # replayed as `db verify` does: a record the engine cannot replay would
                # break every later reader of the database
                problem = verify_record(record) or ""
            if problem:
                problems.append(problem)
                continue
            if db.add_game(record, skip_existing=True):
                added += 1
            else:
                present += 1
    return added, present, problems
