"""`ringrift bench presets`: the figures behind ringrift.train.presets.

The measurement is ringrift.bench.step_cost's. This module registers no top-level command:
cli/bench.py calls `add_bench_presets` on its sub-subparsers. The flags read their defaults
from StepCostSettings.
"""

from __future__ import annotations

import argparse

from ringrift.bench.step_cost import StepCostSettings
from ringrift.cli._flag_values import (
    comma_joined,
    parse_counts,
    parse_names,
    parsed_or_default,
)
from ringrift.config_defaults import field_default
from ringrift.errors import UserError


def _d(name: str):
    """The default of StepCostSettings field `name`."""
    return field_default(StepCostSettings, name)


def _batches(text: str, flag: str) -> tuple[int, ...]:
    counts = parse_counts(text, flag)
    if len(counts) != 2:
        raise UserError(f"{flag} {text!r}: expected SMALL,LARGE")
    return counts


def add_bench_presets(bench_subparsers: argparse._SubParsersAction) -> None:
    """Add `presets` under `ringrift bench`."""
    p = bench_subparsers.add_parser("presets", help="training step cost per board and "
                                    "architecture (the figures of the per-board presets)",
                                    description=__doc__.splitlines()[0])
    # comma-separated text on the command line, parsed in run_bench_presets (a parse error
    # names the flag); the defaults are the settings' values
    p.add_argument("--boards", default=_d("boards"))
    p.add_argument("--architectures", default=_d("architectures"))
    p.add_argument("--batches", default=_d("batches"), metavar="SMALL,LARGE",
                   help=f"the two batch sizes (default {comma_joined(_d('batches'))})")
    p.add_argument("--steps", type=int, default=_d("steps"), help="timed steps per measurement")
    p.set_defaults(func=run_bench_presets)


def settings_from_args(args: argparse.Namespace) -> StepCostSettings:
    """The settings the flags give (a flag left out keeps the settings' tuple)."""
    return StepCostSettings(
        boards=parsed_or_default(args.boards, parse_names, "--boards"),
        architectures=parsed_or_default(args.architectures, parse_names, "--architectures"),
        batches=parsed_or_default(args.batches, _batches, "--batches"), steps=args.steps)


def run_bench_presets(args: argparse.Namespace) -> int:
    from ringrift.bench.step_cost import step_costs
    from ringrift.train import presets

    settings = settings_from_args(args)
    settings.validate()  # before the header: a bad setting prints nothing else
    print(f"{'board':10} {'arch':4} {'samples/cpu-s':>14} {'MB/sample':>10}")
    for row in step_costs(settings):
        print(f"{row['board']:10} {row['version']:4} {row['samples_per_cpu_s']:14.1f} "
              f"{row['mb_per_sample']:10.1f}", flush=True)
    print("presets from the figures in ringrift.train.presets.MEASURED:")
    for board in presets.MEASURED:
        preset = presets.preset_for_board(board)
        print(f"  {board:10} {preset.model_version} batch {preset.batch_size} "
              f"learning rate {preset.learning_rate:g}")
    return 0
