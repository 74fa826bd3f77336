"""`ringrift db stats|verify|import`: inspect, check and fill game databases."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="game database tools")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    stats = sub.add_parser("stats", help="games per configuration, results, lengths")
    stats.add_argument("path")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=run_stats)
    verify = sub.add_parser("verify", help="replay every game through the engine")
    verify.add_argument("path")
    verify.add_argument("--limit", type=int, default=None, help="check at most N games")
    verify.set_defaults(func=run_verify)
    imp = sub.add_parser("import", help="import JSONL game records or reference traces")
    imp.add_argument("files", nargs="+")
    imp.add_argument("--db", required=True, help="database to add the games to (created if new)")
    imp.set_defaults(func=run_import)


def run_stats(args: argparse.Namespace) -> int:
    from ringrift.data.gamedb import GameDB

    with GameDB(args.path, readonly=True) as db:
        stats = db.stats()
    if args.json:
        print(json.dumps(stats))
        return 0
    print(f"{args.path}: {stats['games']} games")
    for name, c in sorted(stats["configs"].items()):
        m = c["moves"]
        print(f"  {name}: {c['games']} games, statuses {c['statuses']}")
        print(f"    wins by seat {c['wins_by_seat']}, no winner {c['no_winner']}")
        print(f"    reasons {c['victory_reasons']}")
        print(f"    length mean {m['mean']:.1f}, min {m['min']}, max {m['max']}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from ringrift.data.gamedb import GameDB
    from ringrift.data.replay import verify_record
    from ringrift.errors import UserError

    bad = 0
    checked = 0
    with GameDB(args.path, readonly=True) as db:
        problems = db.check()
        for problem in problems:
            print(f"  {problem}")
        for game_id in db.game_ids(limit=args.limit):
            checked += 1
            try:  # a game whose stored JSON cannot be read is one bad game, named
                error = verify_record(db.get_game(game_id))
            except UserError as exc:
                error = str(exc)
            if error:
                bad += 1
                print(f"  {error}")
    print(f"{checked} games checked: {checked - bad} replay exactly, {bad} do not; "
          f"database check: {'ok' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if bad or problems else 0


def run_import(args: argparse.Namespace) -> int:
    from ringrift.data.gamedb import GameDB
    from ringrift.data.importer import check_import_files, import_files
    from ringrift.errors import UserError
    from ringrift.output_paths import check_output_file

    target = check_output_file(args.db, "--db")
    check_import_files(args.files)  # (before the database is created)
    created = not target.exists()
    try:
        with GameDB(target) as db:
            added, present, problems = import_files(args.files, db)
    except UserError:
        if created:
            _remove_if_empty(target)  # a failed import leaves no new, empty database behind
        raise
    for p in problems:
        print(f"  skipped {p}")
    print(f"{added} games added, {present} already present, {len(problems)} skipped -> {args.db}")
    return 0


def _remove_if_empty(path) -> None:
    from pathlib import Path

    from ringrift.data.gamedb import GameDB

    with GameDB(path, readonly=True) as db:
        if db.count_games():
            return
    for leftover in (Path(path), Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
