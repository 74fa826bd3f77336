"""`ringrift elo`: maximum-likelihood Elo ratings with 95% intervals from game results.

Results come from a JSONL file (--results) and/or the evaluation games stored in a game
database (--db: gauntlets, tournaments, matches); with both, the games are pooled.
"""

from __future__ import annotations

import argparse
import json
import math

from ringrift.errors import UserError
from ringrift.rules.spec import BOARD_TYPES, PLAYER_COUNTS, GameSpec


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("elo", help="rate participants from game results",
                              description=__doc__.splitlines()[0])
    p.add_argument("--board-type", required=True, choices=BOARD_TYPES)
    p.add_argument("--num-players", required=True, type=int, choices=PLAYER_COUNTS)
    p.add_argument("--results", metavar="FILE.jsonl",
                   help='one game per line: {"participants": [...], "ranks": [...]}')
    p.add_argument("--db", metavar="PATH",
                   help="game database: rate its stored evaluation games of this configuration")
    p.add_argument("--anchor", metavar="NAME=ELO",
                   help="participant held fixed (default: random=0 when present, else the "
                        "first participant at 0)")
    p.add_argument("--plot", metavar="OUT.png", help="write a plot of ratings by version")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def parse_anchor(text: str | None) -> tuple[str | None, float]:
    """'NAME=ELO' or 'NAME' (at 0) -> (name, elo); None -> (None, 0.0)."""
    if text is None:
        return None, 0.0
    name, sep, value = text.partition("=")
    name = name.strip()
    if not name:
        raise UserError(f"--anchor expects NAME=ELO, got {text!r}")
    if not sep:
        return name, 0.0
    try:
        elo = float(value)
    except ValueError:
        raise UserError(f"--anchor expects NAME=ELO with a number, got {text!r}") from None
    if not math.isfinite(elo):
        raise UserError(f"--anchor rating must be finite, got {text!r}")
    return name, elo


def run(args: argparse.Namespace) -> int:
    from ringrift.evaluate.elo import fit_elo
    from ringrift.evaluate.pairwise import PairwiseResults

    spec = GameSpec.checked(args.board_type, args.num_players, error=UserError)
    anchor, anchor_elo = parse_anchor(args.anchor)
    if not args.results and not args.db:
        raise UserError("give --results FILE.jsonl and/or --db PATH")
    games = []
    if args.results:
        from ringrift.evaluate.results_jsonl import read_results_jsonl

        games += read_results_jsonl(args.results, board_type=args.board_type,
                                    num_players=args.num_players)
    if args.db:
        from ringrift.evaluate.ratings_db import read_db_results

        games += read_db_results(args.db, spec)
    if not games:
        where = " or ".join(x for x in (args.results, args.db) if x)
        raise UserError(f"no {args.board_type} {args.num_players}-player games in {where}")
    fit = fit_elo(PairwiseResults.from_games(games), anchor=anchor, anchor_elo=anchor_elo)
    if args.plot:
        from ringrift.evaluate.rating_plot import plot_ratings

        plot_ratings(fit.ratings, args.plot,
                     title=f"Elo, {args.board_type} {args.num_players}p (anchor {fit.anchor})")
    if args.json:
        print(json.dumps({"board_type": args.board_type, "num_players": args.num_players,
                          "games": len(games), **fit.to_dict(),
                          "plot": args.plot}, indent=2))
        return 0
    print("\n".join(elo_table(fit, len(games))))
    if args.plot:
        print(f"plot written to {args.plot}")
    return 0


def elo_table(fit, games: int) -> list[str]:
    """The ratings as text lines: a ranked table and a footer (shared with `tournament`)."""
    rows = []
    for rank, r in enumerate(fit.ranked(), start=1):
        if r.connected:
            rows.append((str(rank), r.name, f"{r.elo:.0f}", f"[{r.low:.0f}, {r.high:.0f}]",
                         str(r.games), f"{r.score / r.games:.3f}" if r.games else "-"))
        else:
            rows.append(("-", r.name, "unrated", "(no games linking it to the anchor)",
                         str(r.games), f"{r.score / r.games:.3f}" if r.games else "-"))
    header = ("RANK", "NAME", "ELO", f"{fit.confidence:.0%} CI", "GAMES", "SCORE")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]
    lines.append(f"{games} games; anchor {fit.anchor} = {fit.anchor_elo:g}; GAMES and SCORE "
                 "count pairwise results")
    return lines
