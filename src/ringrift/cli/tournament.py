"""`ringrift tournament`: a round robin between engines and models, then the Elo table.

Each pair plays --games-per-pair games with seats alternated (3-4 players: the two fill the seats
alternately, a-b-a / b-a-b; see ringrift.evaluate.tournament). Games are stored in the database
(resumable like gauntlets), and the table rates every evaluation game of the configuration in it.
"""

from __future__ import annotations

import argparse
import json

from ringrift.ai.options import EngineOptions
from ringrift.cli._backend_args import add_backend_arguments, check_backend_arguments
from ringrift.config_defaults import field_default
from ringrift.errors import UserError
from ringrift.evaluate.tournament_config import TournamentConfig
from ringrift.rules.spec import BOARD_TYPES, PLAYER_COUNTS, GameSpec


def _default(name: str):
    return field_default(TournamentConfig, name)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tournament", help="round robin between engines and models",
                              description=__doc__.splitlines()[0])
    p.add_argument("--board-type", required=True, choices=BOARD_TYPES)
    p.add_argument("--num-players", required=True, type=int, choices=PLAYER_COUNTS)
    p.add_argument("--participants", required=True, metavar="SPEC,...",
                   help="comma-separated ENGINE or ENGINE:MODEL_PATH, e.g. "
                        "random,heuristic,policy-only:models/a.pt")
    p.add_argument("--games-per-pair", type=int, default=_default("games_per_pair"))
    p.add_argument("--temperature", type=float, default=field_default(EngineOptions, "temperature"),
                   help="policy sampling temperature of the model players (0 = argmax)")
    p.add_argument("--device", help="torch device for the networks")
    p.add_argument("--seed", type=int, default=_default("seed"))
    p.add_argument("--max-moves", type=int, default=_default("max_moves"))
    p.add_argument("--workers", type=int, default=_default("workers"), metavar="N",
                   help="processes playing games (default %(default)s; the same results for any N)")
    add_backend_arguments(p)
    p.add_argument("--batch-size", type=int, default=_default("batch_size"), metavar="B",
                   help="games each process plays at once, their network evaluations "
                        "batched (default %(default)s; 8-32 is much faster for network players)")
    p.add_argument("--db", metavar="PATH", help="game database (default: evaluation.db beside "
                   "the first model, else models/evaluation.db)")
    p.add_argument("--anchor", metavar="NAME=ELO",
                   help="rating anchor, a participant (default random=0 when present)")
    p.add_argument("--plot", metavar="OUT.png", help="write a plot of ratings by version")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ringrift.cli.elo import elo_table, parse_anchor
    from ringrift.data.gamedb import GameDB
    from ringrift.evaluate.engine_spec import parse_engine_spec
    from ringrift.evaluate.ratings_db import fit_db_elo
    from ringrift.evaluate.tournament import check_participants, run_tournament
    from ringrift.exec import check_batch_size, check_workers

    anchor, anchor_elo = parse_anchor(args.anchor)
    check_workers(args.workers)
    check_batch_size(args.batch_size)
    check_backend_arguments(args)
    if args.games_per_pair < 1:
        raise UserError(f"--games-per-pair must be at least 1, got {args.games_per_pair}")
    template = EngineOptions(temperature=args.temperature, device=args.device)
    specs = [parse_engine_spec(text, template) for text in args.participants.split(",")]
    game = GameSpec.checked(args.board_type, args.num_players, error=UserError)
    check_participants(specs, game)
    names = [s.name for s in specs]
    if anchor is not None and anchor not in names:
        raise UserError(f"--anchor {anchor!r} is not a participant ({', '.join(names)})")
    models = [s.model_path for s in specs if s.model_path]
    db_path = args.db or str(Path(models[0]).parent / "evaluation.db" if models
                             else Path("models") / "evaluation.db")
    pairs_total = len(specs) * (len(specs) - 1) // 2 * args.games_per_pair
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=pairs_total, unit="game", leave=False, disable=None)

    def on_game(pair) -> None:
        if bar is not None:
            bar.set_description_str(f"{pair.a} vs {pair.b}", refresh=False)
            bar.update(1)

    try:
        with GameDB(db_path) as db:
            pairs = run_tournament(specs, game, args.games_per_pair, seed=args.seed, db=db,
                                   max_moves=args.max_moves, on_game=on_game,
                                   workers=args.workers, batch_size=args.batch_size,
                                   backend=args.backend, ray_address=args.ray_address)
    finally:
        if bar is not None:
            bar.close()
    fit, games = fit_db_elo(db_path, game, anchor=anchor,
                            anchor_elo=anchor_elo)
    if args.plot:
        from ringrift.evaluate.rating_plot import plot_ratings

        plot_ratings(fit.ratings, args.plot,
                     title=f"Elo, {args.board_type} {args.num_players}p (anchor {fit.anchor})")
    if args.json:
        print(json.dumps({"board_type": args.board_type, "num_players": args.num_players,
                          "db": db_path, "pairs": [p.to_dict() for p in pairs],
                          "games": games, **fit.to_dict(), "plot": args.plot}, indent=2))
        return 0
    for pair in pairs:
        print(pair.line())
    print()
    print("\n".join(elo_table(fit, games)))
    print(f"games stored in {db_path}")
    return 0
