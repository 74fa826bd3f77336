"""`ringrift bench ...`: benchmarks that print figures."""

from __future__ import annotations

import argparse
import json

from ringrift.ai.engines import SEARCH_ENGINES
from ringrift.ai.search.gumbel import STANDARD
from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER
from ringrift.rules.spec import DEFAULT_BOARD_TYPE, DEFAULT_NUM_PLAYERS

# the default game (square8, 2 players), as for selfplay itself
BOARD_TYPE = DEFAULT_BOARD_TYPE
NUM_PLAYERS = DEFAULT_NUM_PLAYERS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="benchmarks (print figures)")
    sub = parser.add_subparsers(dest="bench_command", metavar="BENCH", required=True)
    eng = sub.add_parser("engine", help="rules engine: random playouts and per-operation costs")
    eng.add_argument("--board-type", default=BOARD_TYPE)
    eng.add_argument("--num-players", type=int, default=NUM_PLAYERS)
    eng.add_argument("--games", type=int, default=50)
    eng.add_argument("--seed", type=int, default=1)
    eng.add_argument("--no-ops", action="store_true", help="skip the per-operation figures")
    eng.add_argument("--json", action="store_true", help="print one JSON object")
    eng.set_defaults(func=run_engine)
    from ringrift.cli.bench_train import add_bench_train

    add_bench_train(sub)
    from ringrift.cli.bench_presets import add_bench_presets

    add_bench_presets(sub)
    from ringrift.cli.bench_scale import add_bench_scale

    add_bench_scale(sub)
    from ringrift.cli.bench_serve import add_bench_serve

    add_bench_serve(sub)
    srch = sub.add_parser("search", help="search engines: simulations per second")
    srch.add_argument("--engine", default="mcts", choices=SEARCH_ENGINES)
    srch.add_argument("--board-type", default=BOARD_TYPE)
    srch.add_argument("--num-players", type=int, default=NUM_PLAYERS)
    srch.add_argument("--seed", type=int, default=1)
    srch.add_argument("--simulations", type=int, default=None,
                      help=f"per search (default: the engine's, {STANDARD})")
    srch.add_argument("--searches", type=int, default=20, help="searches to time")
    srch.add_argument("--batch-size", type=int, default=DEFAULT_GAMES_PER_WORKER,
                      help="games searched at once, leaf evaluations batched")
    srch.add_argument("--model", default=None, help="network model file (else heuristic leaves)")
    srch.add_argument("--use-gpu", action="store_true", help="network on CUDA when present")
    srch.add_argument("--threads", type=int, default=1,
                      help="torch CPU threads for a network (default 1, as selfplay)")
    srch.add_argument("--amp", action="store_true",
                      help="network in bf16 (CUDA, or a CPU with native bf16)")
    srch.add_argument("--json", action="store_true", help="print one JSON object")
    srch.set_defaults(func=run_search)


def run_engine(args: argparse.Namespace) -> int:
    from ringrift.bench import engine
    from ringrift.errors import UserError
    from ringrift.rules import GameSpec

    spec = GameSpec.checked(args.board_type, args.num_players, error=UserError)
    if args.games < 1:
        raise UserError("--games must be at least 1")
    result = engine.playout_figures(spec, args.games, args.seed)
    if not args.no_ops:
        result["operations"] = engine.operation_figures(spec, args.seed)
        result["memory"] = engine.memory_figures(spec, args.seed)
        result["import_seconds"] = engine.import_seconds()
        result["warmup_seconds"] = 0.0  # pure Python: no JIT or compile step
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.board_type} {args.num_players}p, {result['games']} random games (seed {args.seed})")
    print(f"  moves/s          {result['moves_per_s']:>10.0f}  (all applied moves)")
    print(f"  moves/CPU-s      {result['cpu_moves_per_s']:>10.0f}  (per second of CPU time)")
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


def run_search(args: argparse.Namespace) -> int:
    from ringrift.ai.search.bench import search_figures
    from ringrift.errors import UserError
    from ringrift.rules import GameSpec

    spec = GameSpec.checked(args.board_type, args.num_players, error=UserError)
    if args.searches < 1 or args.batch_size < 1:
        raise UserError("--searches and --batch-size must be at least 1")
    if args.simulations is not None and args.simulations < 1:
        raise UserError("--simulations must be at least 1")
    if args.threads < 1:
        raise UserError("--threads must be at least 1")
    if args.model:
        import torch

        torch.set_num_threads(args.threads)
    r = search_figures(args.engine, spec, args.seed,
                       simulations=args.simulations, searches=args.searches,
                       batch_size=args.batch_size, model=args.model,
                       device="auto" if args.use_gpu else "cpu", amp=args.amp)
    if args.json:
        print(json.dumps(r))
        return 0
    amp = f", {r['amp']}" if r.get("amp") else ""
    print(f"{args.engine} on {args.board_type} {args.num_players}p ({r['leaf_evaluator']}{amp} "
          f"leaves), {r['searches']} searches of {r['simulations']:.0f} simulations, "
          f"batch {r['batch_size']}, seed {args.seed}")
    print(f"  simulations/s  {r['sims_per_s']:>10.0f}   ({r['seconds']:.2f} s)")
    if "evals_per_s" in r:
        print(f"  network evals/s {r['evals_per_s']:>9.0f}   (mean batch {r['mean_batch']:.1f}, "
              f"{r['network_seconds']:.2f} s in the network incl. encoding)")
    return 0
