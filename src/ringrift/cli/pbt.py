"""`ringrift pbt`: population-based training (see tune/pbt.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ringrift.config_defaults import field_default
from ringrift.nn.architectures import PRESETS
from ringrift.registry import DEFAULT_REGISTRY
from ringrift.rules.spec import BOARD_TYPES, PLAYER_COUNTS, GameSpec
from ringrift.train.config import TrainConfig
from ringrift.tune.pbt import PBTSettings


def _d(name: str):
    return field_default(PBTSettings, name)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pbt", help="population-based training: exploit/explore over a population",
        description="Members train a fixed number of steps per generation on the same data, "
        "are scored by matches against a fixed reference pool (one Bradley-Terry Elo fit per "
        "generation); the bottom quartile copies the weights and optimizer state of the top "
        "quartile and perturbs learning rate, weight decay, entropy weight, value-loss weight "
        "and label smoothing. Rerun the same command to resume a killed run.")
    p.add_argument("--board-type", required=True, choices=BOARD_TYPES)
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS,
                   default=_d("num_players"))
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data-path", action="extend", nargs="+",
                     help=".npz training file(s) (default, as `ringrift train`: "
                     "data/training/<board>_<N>p.npz)")
    src.add_argument("--db", action="extend", nargs="+", metavar="GAMES.db",
                     help="game databases, exported once to RUN_DIR/data.npz")
    p.add_argument("--run-dir", default="runs/pbt")
    p.add_argument("--population-size", type=int, default=_d("population_size"))
    p.add_argument("--generations", type=int, default=_d("generations"))
    p.add_argument("--steps-per-generation", type=int, default=_d("steps_per_generation"),
                   help="optimizer steps each member trains per generation (default "
                   "%(default)s)")
    p.add_argument("--batch-size", type=int, default=_d("batch_size"))
    p.add_argument("--reference-pool", default=",".join(_d("reference_pool")),
                   help="comma-separated engines every member plays; the first is Elo 0")
    p.add_argument("--games", type=int, default=_d("games"),
                   help="games per member per reference engine each generation (default "
                   "%(default)s)")
    p.add_argument("--seed", type=int, default=_d("seed"))
    p.add_argument("--model-version", default=field_default(TrainConfig, "model_version"),
                   choices=tuple(PRESETS))
    p.add_argument("--channels", type=int)
    p.add_argument("--blocks", type=int)
    p.add_argument("--device", default=_d("device"))
    p.add_argument("--workers", type=int, default=_d("workers"), help="processes for the match games")
    p.add_argument("--backend", default=_d("backend"), choices=("local", "ray"),
                   help="where the match games run: local processes (default) or Ray actors")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="--backend ray: 'auto' or HOST:PORT (default: a local Ray instance)")
    p.add_argument("--registry", default=str(DEFAULT_REGISTRY), metavar="PATH",
                   help="model store the best member is registered in (development; default "
                   "%(default)s)")
    p.add_argument("--no-register", action="store_true", help="do not register the best member")
    p.add_argument("--model-name", help="registry name (default pbt_<board>_<n>p)")
    p.add_argument("--baseline", action="store_true",
                   help="also train one run with the default hyperparameters for the same "
                   "steps per member and rate it in one fit with the best member")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import sys

    from ringrift.errors import UserError
    from ringrift.tune.pbt import PBTSettings, run_pbt

    spec = GameSpec.checked(args.board_type, args.num_players, error=UserError)
    if args.population_size < 2:  # (before any export or training)
        raise UserError("--population-size must be >= 2 (exploit needs a better member to copy)")
    run_dir = Path(args.run_dir)
    pool = tuple(e.strip() for e in args.reference_pool.split(",") if e.strip())
    data = list(args.data_path or [])
    if not data and not args.db:  # the seed's line names no data: train's default file
        from ringrift.train.config import default_data_paths

        data = default_data_paths(spec)
    if args.db:
        missing = [d for d in args.db if not Path(d).is_file()]
        if missing:
            raise UserError(f"--db {missing[0]} does not exist")
        data = [str(_export(args.db, spec, run_dir))]
    settings = PBTSettings(
        board_type=args.board_type, num_players=args.num_players, data_paths=data,
        run_dir=run_dir, population_size=args.population_size, generations=args.generations,
        steps_per_generation=args.steps_per_generation, batch_size=args.batch_size,
        reference_pool=pool, games=args.games, seed=args.seed,
        model_version=args.model_version, channels=args.channels, blocks=args.blocks,
        device=args.device, workers=args.workers, backend=args.backend,
        ray_address=args.ray_address,
        registry=None if args.no_register else Path(args.registry),
        model_name=args.model_name, baseline=args.baseline)
    run_pbt(settings, out=sys.stdout)
    return 0


def _export(dbs: list[str], spec: GameSpec, run_dir: Path) -> Path:
    """The databases exported once (a resumed run reuses the file)."""
    from ringrift.data.export import ExportFilters, run_export

    out = run_dir / "data.npz"
    if not out.exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        run_export(list(dbs), spec, out, ExportFilters())
    return out
