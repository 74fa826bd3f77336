"""`ringrift rules vectors|replay`: check the engine against contract vectors and reference games."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rules", help="check the rules engine (vectors, replays)")
    sub = parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    vec = sub.add_parser("vectors", help="run contract test vectors (RULES.md §6.6)")
    vec.add_argument("paths", nargs="+", metavar="DIR_OR_FILE")
    vec.add_argument("--json", action="store_true", help="print one JSON object")
    vec.set_defaults(func=run_vectors)
    rep = sub.add_parser("replay", help="replay reference games (traces/README.md format)")
    rep.add_argument("files", nargs="+", metavar="FILE.jsonl.gz")
    rep.add_argument("--max-games", type=int, default=None, help="games per file (default all)")
    rep.add_argument("--json", action="store_true", help="print one JSON object")
    rep.set_defaults(func=run_replay)


def run_vectors(args: argparse.Namespace) -> int:
    from ringrift.rules.vectors import run_paths

    results = run_paths(args.paths)
    counts = {k: sum(1 for r in results if r.outcome == k) for k in ("pass", "fail", "skip")}
    if args.json:
        print(json.dumps({"results": [r.__dict__ for r in results],
                          "passed": counts["pass"], "failed": counts["fail"],
                          "skipped": counts["skip"]}))
    else:
        for r in results:
            print(r.line())
        print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    return 1 if counts["fail"] else 0


def run_replay(args: argparse.Namespace) -> int:
    from ringrift.rules.replay import replay_file

    reports = [replay_file(f, args.max_games) for f in args.files]
    unexplained = sum(1 for r in reports for d in r.divergences if d.known_deviation is None)
    if args.json:
        print(json.dumps({"files": [r.as_json() for r in reports]}))
    else:
        for r in reports:
            known = {d.game for d in r.divergences if d.known_deviation}
            print(f"{r.file}: {r.games_agreeing}/{r.games} games agree end to end "
                  f"({len(known)} hit a listed deviation), "
                  f"{r.steps_agreeing}/{r.steps} steps agree")
            for d in r.divergences:
                tag = f"known deviation {d.known_deviation}" if d.known_deviation else "UNEXPLAINED"
                print(f"  {d.game} step {d.step}: {d.what} [{tag}]")
        print(f"{unexplained} unexplained divergence(s)")
    return 1 if unexplained else 0
