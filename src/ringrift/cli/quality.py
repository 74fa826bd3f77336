"""`ringrift quality`: check a game database or a training file."""

from __future__ import annotations

import argparse
import json

from ringrift.data.gamedb import DEFAULT_GAMES_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("quality", help="data quality checks (database or .npz)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--db", metavar="PATH")
    src.add_argument("--npz", metavar="PATH")
    src.add_argument("--all", nargs="?", const=DEFAULT_GAMES_DIR, metavar="DIR",
                     help="every .db file under DIR (bare: %(const)s)")
    p.add_argument("--detailed", action="store_true", help="list every problem")
    p.add_argument("--limit", type=int, help="databases: check at most N games")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift.data import quality
    from ringrift.data.quality_checkers import check_npz_file

    if args.all:
        return _run_all(args)
    if args.db:
        report = quality.check_database(args.db, detailed=args.detailed, limit=args.limit)
    else:
        report = check_npz_file(args.npz, detailed=args.detailed)
    _print_report(report, args.json)
    return 1 if report.errors else 0


def _run_all(args: argparse.Namespace) -> int:
    """Check every database under the folder; one report each, then a one-line tally."""
    from ringrift.data import quality
    from ringrift.data.export import discover_databases

    reports = [quality.check_database(path, detailed=args.detailed, limit=args.limit)
               for path in discover_databases(args.all, "--all")]
    for report in reports:
        _print_report(report, args.json)
    failing = sum(1 for r in reports if r.errors)
    if not args.json:
        print(f"{len(reports)} databases under {args.all}: {len(reports) - failing} without "
              f"errors, {failing} with errors")
    return 1 if failing else 0


def _print_report(report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_json()))
    else:
        print(f"{report.source}: quality score {report.score}/100")
        for key, value in report.stats.items():
            print(f"  {key}: {value}")
        for p in report.problems:
            print(f"  {p.severity.upper()}: {p.message}")
        if not report.problems:
            print("  no problems found")
