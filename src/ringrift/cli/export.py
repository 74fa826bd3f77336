"""`ringrift export`: stored games -> training arrays (.npz)."""

from __future__ import annotations

import argparse
import time

from ringrift.config_defaults import DEFAULT_WORKERS
from ringrift.data.gamedb import DEFAULT_GAMES_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="export games to training arrays (.npz)")
    p.add_argument("--db", nargs="+", action="extend", default=[], metavar="PATH")
    p.add_argument("--use-discovery", nargs="?", const=DEFAULT_GAMES_DIR, metavar="DIR",
                   help="every .db file under DIR (bare: %(const)s, where selfplay puts games)")
    p.add_argument("--board-type", required=True)
    p.add_argument("--num-players", type=int, required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--require-completed", action="store_true")
    p.add_argument("--min-moves", type=int)
    p.add_argument("--max-moves", type=int)
    p.add_argument("--max-games", type=int, help="the most recent N games per database")
    p.add_argument("--since", help="games created at or after this date (ISO 8601)")
    p.add_argument("--use-cache", action="store_true",
                   help="reuse earlier exports: only new games are encoded")
    p.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                   help="processes encoding games (default %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift.data.export import ExportFilters, discover_databases, run_export
    from ringrift.errors import UserError
    from ringrift.rules.spec import GameSpec

    spec = GameSpec.checked(args.board_type, args.num_players, error=UserError)
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    since = None
    if args.since:
        from ringrift.data.records import normalize_timestamp

        try:
            since = normalize_timestamp(args.since)
        except (ValueError, UserError):
            raise UserError(f"--since {args.since!r}: not an ISO 8601 date") from None
    paths = list(args.db)
    if args.use_discovery:
        paths.extend(discover_databases(args.use_discovery))
    if not paths:
        raise UserError("no database given (--db PATH or --use-discovery DIR)")
    filters = ExportFilters(require_completed=args.require_completed, min_moves=args.min_moves,
                            max_moves=args.max_moves, max_games=args.max_games, since=since)
    start = time.perf_counter()
    summary = run_export(paths, spec, args.output, filters,
                         use_cache=args.use_cache, workers=args.workers,
                         skip_other_configs=bool(args.use_discovery))
    elapsed = time.perf_counter() - start
    for problem in summary.skipped:
        print(f"  skipped: {problem}")
    if summary.up_to_date:
        print(f"{summary.output} is up to date ({summary.games} games, {summary.samples} "
              f"samples); nothing to do")
        return 0
    per = summary.bytes / max(1, summary.samples)
    dropped = (summary.selected_games or summary.games) - summary.games
    print(f"{summary.samples} samples from {summary.games} games -> {summary.output} "
          f"({summary.bytes / 1e6:.1f} MB, {per:.0f} bytes/sample)")
    if dropped:
        print(f"  {summary.selected_games} games selected, {dropped} dropped by the filters "
              f"or unusable")
    print(f"  {summary.new_games} games encoded, {summary.reused_games} reused from cache; "
          f"{summary.samples / elapsed:.0f} positions/s over {elapsed:.1f} s")
    return 0
