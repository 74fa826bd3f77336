"""Read game results from JSONL: one object per game, {"participants": [...], "ranks": [...]}.

Optional "board_type" / "num_players" fields let one file hold several configurations; games of
another configuration are skipped. Every problem is a UserError naming the file and line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ringrift.errors import UserError
from ringrift.evaluate.pairwise import GameResult


def read_results_jsonl(path: str | os.PathLike[str], board_type: str | None = None,
                       num_players: int | None = None) -> list[GameResult]:
    """Games in `path` matching `board_type` / `num_players` (when the records carry them)."""
    source = Path(path)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UserError(f"results file {source} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read results file {source}: {exc}") from None
    games = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise UserError(f"{where}: expected a JSON object")
        if board_type is not None and record.get("board_type", board_type) != board_type:
            continue
        if num_players is not None and record.get("num_players", num_players) != num_players:
            continue
        games.append(_game(record, where, num_players))
    return games


def _game(record: dict, where: str, num_players: int | None) -> GameResult:
    participants = record.get("participants")
    ranks = record.get("ranks")
    if not isinstance(participants, list) or not all(
            isinstance(p, str) and p for p in participants):
        raise UserError(f"{where}: 'participants' must be a list of non-empty names")
    if not isinstance(ranks, list) or not all(
            isinstance(r, int) and not isinstance(r, bool) and r >= 1 for r in ranks):
        raise UserError(f"{where}: 'ranks' must be a list of integers >= 1")
    if len(participants) != len(ranks):
        raise UserError(f"{where}: {len(participants)} participants but {len(ranks)} ranks")
    if len(participants) < 2:
        raise UserError(f"{where}: a game needs at least 2 participants")
    if num_players is not None and len(participants) != num_players:
        raise UserError(f"{where}: {len(participants)} participants, expected {num_players}")
    return GameResult(tuple(participants), tuple(ranks))
