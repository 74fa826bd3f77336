"""`ringrift bench serve`: a bounded load test of `ringrift serve` from a second process.

The load test is ringrift.serve.loadtest's. This module registers no top-level command:
cli/bench.py calls `add_bench_serve` on its sub-subparsers. The flags read their defaults from
LoadTestSettings.
"""

from __future__ import annotations

import argparse
import json

from ringrift.config_defaults import field_default, from_flags
from ringrift.serve.loadtest import LoadTestSettings


def _d(name: str):
    """The default of LoadTestSettings field `name`."""
    return field_default(LoadTestSettings, name)


def add_bench_serve(sub: argparse._SubParsersAction) -> None:
    """Add `serve` under `ringrift bench`."""
    p = sub.add_parser("serve", help="HTTP service: load test from a second process")
    p.add_argument("--model", default=_d("model"),
                   help="model file (default: a randomly initialised v2 network)")
    p.add_argument("--board-type", default=_d("board_type"))
    p.add_argument("--num-players", type=int, default=_d("num_players"))
    p.add_argument("--engines", default=_d("engines"),
                   help=f"comma-separated ENGINE or ENGINE:VISITS (default {_d('engines')})")
    p.add_argument("--clients", type=int, default=_d("clients"), help="concurrent clients")
    p.add_argument("--duration", type=float, default=_d("duration"), help="seconds per engine")
    p.add_argument("--positions", type=int, default=_d("positions"),
                   help="positions to ask about")
    p.add_argument("--seed", type=int, default=_d("seed"))
    p.add_argument("--amp", action="store_true", default=_d("amp"),
                   help="server runs the network in bf16")
    p.add_argument("--threads", type=int, default=_d("threads"),
                   help="server's torch CPU threads")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_bench_serve)


def run_bench_serve(args: argparse.Namespace) -> int:
    from ringrift.serve.loadtest import load_test

    settings = from_flags(LoadTestSettings, args)
    out = load_test(settings)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"ringrift serve on loopback, {settings.board_type} {settings.num_players}p, model "
          f"{settings.model or 'random-init v2'}, {settings.clients} clients x "
          f"{settings.duration:g} s per engine, POST /v1/move")
    print(f"  {'engine':<14} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'mean batch':>10} {'errors':>6}")
    for r in out["results"]:
        print(f"  {r['engine']:<14} {r['requests']:>8} {r['requests_per_s']:>8.1f} "
              f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['mean_batch']:>10.1f} "
              f"{r['errors']:>6}")
    return 0
