"""Elo ratings from the evaluation games stored in a game database.

Every stored evaluation game of the configuration (gauntlets, tournaments, `ringrift match`)
becomes one `GameResult`: the per-seat engine names and the final ranks; an unfinished game
(no ranks) is a draw between all seats. A name that stands for several different model files
(the same file stem, different SHA-256 in the game metadata) is split into `name@<sha prefix>`, so
two models never share one rating.
"""

from __future__ import annotations

import os
from collections import defaultdict

from ringrift.errors import UserError
from ringrift.evaluate.elo import EloFit, fit_elo
from ringrift.evaluate.pairwise import GameResult, PairwiseResults
from ringrift.rules.spec import GameSpec


def read_db_results(path: str | os.PathLike[str], spec: GameSpec,
                    source: str = "evaluation") -> list[GameResult]:
    """Results of the stored `source` games of this configuration, oldest first."""
    from ringrift.data.gamedb import open_readonly

    with open_readonly(path) as db:
        rows = [(game.engines, game.final_ranks, _seat_digests(game))
                for game in db.iter_outcomes(spec.board_type, spec.num_players, source)]
    shas: dict[str, set[str]] = defaultdict(set)
    for engines, _, digests in rows:
        for name, sha in zip(engines, digests, strict=True):
            if sha is not None:
                shas[name].add(sha)
    games = []
    for engines, ranks, digests in rows:
        names = tuple(f"{name}@{sha[:8]}" if sha is not None and len(shas[name]) > 1 else name
                      for name, sha in zip(engines, digests, strict=True))
        games.append(GameResult(names, tuple(ranks) if ranks else (1,) * len(names)))
    return games


def _seat_digests(game) -> list[str | None]:
    """Model SHA-256 per seat, from the participants listed in the game's metadata."""
    by_name = {}
    for entry in game.metadata.get("participants", []) or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            by_name[entry["name"]] = entry.get("sha256")
    return [by_name.get(name) for name in game.engines]


def fit_db_elo(path: str | os.PathLike[str], spec: GameSpec, *,
               anchor: str | None = None, anchor_elo: float = 0.0) -> tuple[EloFit, int]:
    """(Elo fit, number of games) over the stored evaluation games of this configuration."""
    games = read_db_results(path, spec)
    if not games:
        raise UserError(f"{path}: no {spec} evaluation games")
    return fit_elo(PairwiseResults.from_games(games), anchor=anchor,
                   anchor_elo=anchor_elo), len(games)
