"""`ringrift quality`: check a game database or a training file."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("quality", help="data quality checks (database or .npz)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--db", metavar="PATH")
    src.add_argument("--npz", metavar="PATH")
    p.add_argument("--detailed", action="store_true", help="list every problem")
    p.add_argument("--limit", type=int, help="databases: check at most N games")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift.data import quality

    if args.db:
        report = quality.check_database(args.db, detailed=args.detailed, limit=args.limit)
    else:
        from ringrift.data.npz_format import read_npz

        arrays, meta = read_npz(args.npz)
        report = quality.check_arrays(arrays, meta, args.npz, detailed=args.detailed)
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        print(f"{report.source}: quality score {report.score}/100")
        for key, value in report.stats.items():
            print(f"  {key}: {value}")
        for p in report.problems:
            print(f"  {p.severity.upper()}: {p.message}")
        if not report.problems:
            print("  no problems found")
    return 1 if report.errors else 0
