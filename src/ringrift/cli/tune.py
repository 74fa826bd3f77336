"""`ringrift tune`: Optuna hyperparameter search over the training flags (see tune/study.py)."""

from __future__ import annotations

import argparse

from ringrift.config_defaults import field_default
from ringrift.nn.architectures import PRESETS
from ringrift.rules.spec import BOARD_TYPES, PLAYER_COUNTS
from ringrift.tune.study import TuneSettings


def _d(name: str):
    return field_default(TuneSettings, name)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "tune", help="search training hyperparameters with Optuna (TPE, pruning)",
        description="An Optuna study (TPE sampler, median pruner on the per-epoch validation "
        "loss) over the training flags in a search-space JSON file. The study lives in "
        "--storage (SQLite): run the same command again to resume a killed study; two "
        "processes may share it. Writes best_params.json (with a `ringrift train` command "
        "line), history.png and importance.png beside the storage.")
    p.add_argument("--board-type", required=True, choices=BOARD_TYPES)
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS,
                   default=_d("num_players"))
    p.add_argument("--data-path", required=True, action="extend", nargs="+",
                   help=".npz training file(s); every trial trains on them")
    p.add_argument("--trials", type=int, required=True,
                   help="finished (complete or pruned) trials the study should reach")
    p.add_argument("--timeout", type=float, help="stop starting trials after S seconds")
    p.add_argument("--storage", default="runs/tune/study.db", help="SQLite study file")
    p.add_argument("--study-name", help="default: BOARD_Np")
    p.add_argument("--space", metavar="JSON",
                   help="search space file (default: ringrift/tune/default_space.json)")
    p.add_argument("--epochs", type=int, default=_d("epochs"),
                   help="epochs per trial (default %(default)s)")
    p.add_argument("--seed", type=int, default=_d("seed"),
                   help="training seed of every trial (same init and validation split)")
    p.add_argument("--output-dir", help="where plots and best_params.json go (default: the "
                   "storage's folder)")
    p.add_argument("--heartbeat", type=int, default=_d("heartbeat"), metavar="S",
                   help="seconds between a trial's heartbeats; a trial silent for 2 of them "
                   "is taken as killed and its parameters are queued again (default %(default)s)")
    fixed = p.add_argument_group("fixed training flags (every trial)")
    fixed.add_argument("--model-version", choices=tuple(PRESETS))
    fixed.add_argument("--channels", type=int)
    fixed.add_argument("--blocks", type=int)
    fixed.add_argument("--batch-size", type=int)
    fixed.add_argument("--max-samples", type=int)
    fixed.add_argument("--samples-per-epoch", type=int)
    fixed.add_argument("--device")
    p.set_defaults(func=_run)


FIXED = ("model_version", "channels", "blocks", "batch_size", "max_samples",
         "samples_per_epoch", "device")


def _run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from ringrift.tune.study import TuneSettings, run_tune

    settings = TuneSettings(
        board_type=args.board_type, num_players=args.num_players,
        data_paths=list(args.data_path), storage=Path(args.storage), trials=args.trials,
        timeout=args.timeout, space_path=args.space, epochs=args.epochs, seed=args.seed,
        study_name=args.study_name,
        output_dir=Path(args.output_dir) if args.output_dir else None,
        heartbeat=args.heartbeat,
        fixed={k: getattr(args, k) for k in FIXED if getattr(args, k) is not None})
    run_tune(settings, sys.stdout)
    return 0
