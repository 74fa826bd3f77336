"""`ringrift bench train`: training throughput (samples/s) on synthetic data.

The benchmark is ringrift.train.benchmark's. This module registers no top-level command:
cli/bench.py calls `add_bench_train` on its sub-subparsers. The flags read their defaults from
TrainBenchSettings.
"""

from __future__ import annotations

import argparse
import json
import sys

from ringrift.config_defaults import field_default, from_flags
from ringrift.nn.architectures import PRESETS
from ringrift.rules.spec import BOARD_TYPES, PLAYER_COUNTS
from ringrift.train.benchmark import TrainBenchSettings
from ringrift.train.config import AMP_DTYPES


def _d(name: str):
    """The default of TrainBenchSettings field `name`."""
    return field_default(TrainBenchSettings, name)


def add_bench_train(bench_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `train` under `ringrift bench`."""
    p = bench_subparsers.add_parser("train", help="training throughput on synthetic data",
                                    description=__doc__.splitlines()[0])
    p.add_argument("--model-version", default=_d("model_version"), choices=tuple(PRESETS))
    p.add_argument("--board-type", default=_d("board_type"), choices=BOARD_TYPES)
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS, default=_d("num_players"))
    p.add_argument("--batch-size", type=int, default=_d("batch_size"))
    p.add_argument("--steps", type=int, default=_d("steps"), help="timed steps")
    p.add_argument("--warmup-steps", type=int, default=_d("warmup_steps"),
                   help="untimed steps first")
    p.add_argument("--amp", action="store_true", default=_d("amp"),
                   help="mixed precision (CUDA; bf16 on CPUs with native bf16)")
    p.add_argument("--amp-dtype", default=_d("amp_dtype"), choices=AMP_DTYPES)
    p.add_argument("--pcgrad", action="store_true", default=_d("pcgrad"))
    p.add_argument("--channels", type=int, default=_d("channels"),
                   help="override the preset's tower width")
    p.add_argument("--blocks", type=int, default=_d("blocks"),
                   help="override the preset's tower depth")
    p.add_argument("--device", default=_d("device"), help="auto, cpu, cuda or cuda:N")
    p.add_argument("--seed", type=int, default=_d("seed"))
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_bench_train)
    return p


def run_bench_train(args: argparse.Namespace) -> int:
    from ringrift.train.benchmark import run_train_benchmark

    result = run_train_benchmark(from_flags(TrainBenchSettings, args))
    if result["amp_note"]:
        print(result["amp_note"], file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"bench train: {result['model_version']} {result['board_type']} "
              f"{result['num_players']}p ({result['parameters']:,} params), batch "
              f"{result['batch_size']} on {result['device']}"
              f"{' ' + result['amp'] if result['amp'] else ''}: "
              f"{result['samples_per_s']:.1f} samples/s ({result['ms_per_step']:.1f} ms/step, "
              f"{result['steps']} steps, {result['torch_threads']} threads)")
    return 0
