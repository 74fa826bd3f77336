"""`ringrift bench ...`: benchmarks that print figures."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="benchmarks (print figures)")
    sub = parser.add_subparsers(dest="bench_command", metavar="BENCH", required=True)
    eng = sub.add_parser("engine", help="rules engine: random playouts and per-operation costs")
    eng.add_argument("--board-type", default="square8")
    eng.add_argument("--num-players", type=int, default=2)
    eng.add_argument("--games", type=int, default=50)
    eng.add_argument("--seed", type=int, default=1)
    eng.add_argument("--no-ops", action="store_true", help="skip the per-operation figures")
    eng.add_argument("--json", action="store_true", help="print one JSON object")
    eng.set_defaults(func=run_engine)
    from ringrift.train.benchmark import add_bench_train

    add_bench_train(sub)


def run_engine(args: argparse.Namespace) -> int:
    from ringrift.bench import engine
    from ringrift.errors import UserError
    from ringrift.rules import BOARD_TYPES

    if args.board_type not in BOARD_TYPES:
        raise UserError(f"--board-type must be one of {', '.join(BOARD_TYPES)}")
    if args.num_players not in (2, 3, 4):
        raise UserError("--num-players must be 2, 3 or 4")
    if args.games < 1:
        raise UserError("--games must be at least 1")
    result = engine.playout_figures(args.board_type, args.num_players, args.games, args.seed)
    if not args.no_ops:
        result["operations"] = engine.operation_figures(args.board_type, args.num_players,
                                                        args.seed)
        result["memory"] = engine.memory_figures(args.board_type, args.num_players, args.seed)
        result["import_seconds"] = engine.import_seconds()
        result["warmup_seconds"] = 0.0  # pure Python: no JIT or compile step
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.board_type} {args.num_players}p, {result['games']} random games (seed {args.seed})")
    print(f"  moves/s          {result['moves_per_s']:>10.0f}  (all applied moves)")
    print(f"  decisions/s      {result['decisions_per_s']:>10.0f}  (states with >1 legal move)")
    print(f"  mean game length {result['mean_game_length']:>10.1f}")
    if "operations" in result:
        print(f"  {'position':10} {'n':>5} {'legal_us':>9} {'apply_us':>9} {'copy_us':>8} "
              f"{'hash_us':>8} {'moves':>6}")
        for phase, f in result["operations"].items():
            print(f"  {phase:10} {f['positions']:>5} {f['legal_moves_us']:>9.1f} "
                  f"{f['apply_us']:>9.1f} {f['copy_us']:>8.1f} {f['hash_us']:>8.1f} "
                  f"{f['mean_legal_moves']:>6.1f}")
        mem = result["memory"]
        print(f"  state {mem['state_bytes']} bytes, copy allocates {mem['copy_bytes']} bytes; "
              f"import ringrift.rules {result['import_seconds'] * 1000:.0f} ms, no warm-up")
    return 0
