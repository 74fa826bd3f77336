"""`ringrift bench scale`: what the scale-out engines cost and give on this machine.

The measurement is ringrift.bench.scale's. This module registers no top-level command:
cli/bench.py calls `add_bench_scale` on its sub-subparsers. The flags read their defaults from
ScaleBenchSettings.
"""

from __future__ import annotations

import argparse
import json
import os

from ringrift.bench.scale import ScaleBenchSettings
from ringrift.cli._flag_values import (
    comma_joined,
    parse_counts,
    parse_names,
    parsed_or_default,
)
from ringrift.config_defaults import field_default


def _d(name: str):
    """The default of ScaleBenchSettings field `name`."""
    return field_default(ScaleBenchSettings, name)


def add_bench_scale(sub: argparse._SubParsersAction) -> None:
    """Add `scale` under `ringrift bench`."""
    p = sub.add_parser("scale", help="selfplay games/s local vs Ray, training samples/s with "
                       "1 and 2 torchrun processes")
    p.add_argument("--board-type", default=_d("board_type"))
    p.add_argument("--num-players", type=int, default=_d("num_players"))
    p.add_argument("--engine", default=_d("engine"),
                   help=f"selfplay engine (default {_d('engine')})")
    p.add_argument("--games", type=int, default=_d("games"), help="selfplay games per run")
    p.add_argument("--seed", type=int, default=_d("seed"))
    # comma-separated lists, parsed in run_bench_scale (a parse error names the flag)
    p.add_argument("--workers", default=_d("workers"),
                   help=f"worker counts to time (default {comma_joined(_d('workers'))})")
    p.add_argument("--backends", default=_d("backends"), help="backends to time")
    p.add_argument("--model-version", default=_d("model_version"),
                   help=f"network trained (default {_d('model_version')})")
    p.add_argument("--train-nproc", default=_d("train_nproc"),
                   help=f"torchrun process counts (default {comma_joined(_d('train_nproc'))})")
    p.add_argument("--train-samples", type=int, default=_d("train_samples"),
                   help="training samples per run (one epoch; default %(default)s)")
    p.add_argument("--batch-size", type=int, default=_d("batch_size"),
                   help="global training batch")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_bench_scale)


def settings_from_args(args: argparse.Namespace) -> ScaleBenchSettings:
    return ScaleBenchSettings(
        board_type=args.board_type, num_players=args.num_players, engine=args.engine,
        games=args.games, seed=args.seed,
        workers=parsed_or_default(args.workers, parse_counts, "--workers"),
        backends=parsed_or_default(args.backends, parse_names, "--backends"),
        model_version=args.model_version,
        train_nproc=parsed_or_default(args.train_nproc, parse_counts, "--train-nproc"),
        train_samples=args.train_samples, batch_size=args.batch_size)


def run_bench_scale(args: argparse.Namespace) -> int:
    from ringrift.bench.scale import scale_figures

    settings = settings_from_args(args)
    result = scale_figures(settings)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"selfplay ({settings.engine}, {settings.board_type} {settings.num_players}p, "
          f"{settings.games} games, {os.cpu_count()} CPUs):")
    for row in result["selfplay"]:
        start = (f" (Ray start {row['ray_start_s']:.1f} s, not counted)"
                 if row["ray_start_s"] is not None else "")
        print(f"  {row['backend']:5s} {row['workers']} worker(s): {row['games_per_s']:.2f} "
              f"games/s, {row['moves_per_s']:.0f} moves/s, {row['seconds']:.1f} s{start}")
    if result["training"]:
        print(f"training ({settings.model_version}, CPU gloo, global batch "
              f"{settings.batch_size}, {settings.train_samples} samples):")
        for row in result["training"]:
            if "error" in row:
                print(f"  {row['nproc']} process(es): failed: {row['error']}")
            else:
                print(f"  {row['nproc']} process(es): {row['samples_per_s']:.0f} samples/s "
                      f"(wall {row['wall_s']:.1f} s with start-up)")
    return 0
