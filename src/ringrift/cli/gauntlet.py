"""`ringrift gauntlet`: a candidate against random, heuristic and the previous model.

Win rate (first place) per opponent with 95% Wilson intervals and pass/fail against thresholds,
stopping each match once its verdict is decided; `--sprt elo0,elo1` turns the previous-model
match into a sequential test; `--workers N` plays games in N processes with the same result.
Games are stored (default `<model dir>/evaluation.db`), and a
re-run with the same database and seed resumes where a killed run stopped. Exit status: 0 pass,
1 fail or undecided, 2 bad input.
"""

from __future__ import annotations

import argparse
import json

from ringrift.ai.options import EngineOptions
from ringrift.cli._backend_args import add_backend_arguments, check_backend_arguments
from ringrift.cli._engine_names import engine_names
from ringrift.cli._simulations import simulations_arg, simulations_help
from ringrift.config_defaults import field_default, parameter_default
from ringrift.errors import UserError
from ringrift.evaluate.engine_spec import DEFAULT_MODEL_ENGINE
from ringrift.evaluate.gauntlet import Gauntlet, GauntletConfig
from ringrift.rules.spec import BOARD_TYPES, PLAYER_COUNTS


def _g(name: str):
    """The default of GauntletConfig field `name` (every gauntlet flag's default lives there)."""
    return field_default(GauntletConfig, name)


def add_candidate_arguments(p: argparse.ArgumentParser, *, model_required: bool) -> None:
    """Flags describing the candidate player (shared with `ringrift promote`)."""
    p.add_argument("--model", required=model_required, metavar="PATH",
                   help="candidate model file")
    p.add_argument("--engine", default=DEFAULT_MODEL_ENGINE,
                   help="candidate engine (default %(default)s; the previous model plays with "
                        "the same engine)")
    p.add_argument("--name", help="candidate's rated name (default: model file stem, "
                                  "':ENGINE' added for engines other than policy-only)")
    p.add_argument("--temperature", type=float, default=field_default(EngineOptions, "temperature"),
                   help="policy sampling temperature (0 = argmax)")
    p.add_argument("--device", help="torch device for the network (default: cuda if present)")
    p.add_argument("--mcts-simulations", type=simulations_arg, metavar="N",
                   help=simulations_help())
    p.add_argument("--engine-option", action="append", default=[], metavar="KEY=VALUE",
                   help="any other engine option (repeatable)")


def add_gauntlet_arguments(p: argparse.ArgumentParser) -> None:
    """Flags describing what the gauntlet plays (shared with `ringrift promote`)."""
    p.add_argument("--board-type", required=True, choices=BOARD_TYPES)
    p.add_argument("--num-players", required=True, type=int, choices=PLAYER_COUNTS)
    p.add_argument("--games", "--num-games", dest="games", type=int, default=_g("games"),
                   help="games per opponent (default %(default)s; matches stop early once "
                        "decided)")
    p.add_argument("--opponents", default=",".join(_g("opponents")),
                   help="comma-separated: previous (the previous model) or engines "
                        f"({engine_names()}) (default %(default)s)")
    p.add_argument("--thresholds", metavar="NAME=RATE,...",
                   help="pass thresholds on the win rate (defaults: 2p random=0.85, "
                        "heuristic=0.6, previous=0.55; 3p 0.74/0.43/0.38; 4p 0.65/0.33/0.29); "
                        "NAME=none: report-only, every game played, no gate")
    p.add_argument("--sprt", metavar="ELO0,ELO1",
                   help="test the previous model with an SPRT instead of a fixed match")
    p.add_argument("--sprt-alpha", type=float, default=_g("sprt_alpha"))
    p.add_argument("--sprt-beta", type=float, default=_g("sprt_beta"))
    p.add_argument("--sprt-max-games", type=int, default=_g("sprt_max_games"),
                   help="stop an undecided SPRT after this many games (default %(default)s)")
    p.add_argument("--seed", type=int, default=_g("seed"))
    p.add_argument("--max-moves", type=int, default=_g("max_moves"),
                   help="an unfinished game after this many moves counts as a draw")
    p.add_argument("--db", metavar="PATH",
                   help="game database for the games (default: <model dir>/evaluation.db)")
    p.add_argument("--stop-on-fail", action="store_true", default=_g("stop_on_fail"),
                   help="skip the remaining opponents once one is not passed")
    p.add_argument("--workers", type=int, default=parameter_default(Gauntlet.run, "workers"),
                   metavar="N",
                   help="processes playing games (default %(default)s); the result is the same for "
                        "any N (games are taken in order, stopping where one worker would)")
    add_backend_arguments(p)
    p.add_argument("--batch-size", type=int,
                   default=parameter_default(Gauntlet.run, "batch_size"), metavar="B",
                   help="games each process plays at once, their network evaluations "
                        "batched (default %(default)s; 8-32 is much faster for network players)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("gauntlet", help="gate a candidate against fixed opponents",
                              description=__doc__.splitlines()[0])
    add_candidate_arguments(p, model_required=False)
    add_gauntlet_arguments(p)
    p.add_argument("--previous", metavar="PATH",
                   help="the previous model (default: the production model of --registry)")
    p.add_argument("--registry", metavar="PATH",
                   help="model registry whose production model is 'previous'")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    """A validated GauntletConfig from the shared flags."""
    from ringrift.cli._flag_values import parse_names, parse_sprt_bounds, parse_thresholds
    from ringrift.evaluate.gauntlet import GauntletConfig
    from ringrift.exec import check_batch_size, check_workers

    check_workers(args.workers)
    check_batch_size(args.batch_size)
    check_backend_arguments(args)
    config = GauntletConfig(
        board_type=args.board_type, num_players=args.num_players, games=args.games,
        opponents=parse_names(args.opponents, "--opponents"), thresholds=parse_thresholds(args.thresholds),
        seed=args.seed, sprt=parse_sprt_bounds(args.sprt),
        sprt_alpha=args.sprt_alpha, sprt_beta=args.sprt_beta,
        sprt_max_games=args.sprt_max_games, max_moves=args.max_moves,
        stop_on_fail=args.stop_on_fail)
    config.validate()
    return config


def options_from_args(args: argparse.Namespace):
    """The candidate's EngineOptions from the shared flags."""
    from ringrift.evaluate.engine_spec import engine_options

    return engine_options(model_path=args.model, temperature=args.temperature,
                          device=args.device, simulations=args.mcts_simulations,
                          extra=args.engine_option)


class GauntletProgress:
    """A progress bar per opponent (stderr), showing the record so far."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None
        self.label = None

    def __call__(self, result) -> None:
        if self.quiet:
            return
        if result.opponent != self.label:
            from tqdm import tqdm

            self.close()
            self.label = result.opponent
            self.bar = tqdm(total=result.planned, desc=f"vs {result.opponent}", unit="game",
                            leave=False, disable=None)  # None: only on a terminal
        m = result.match
        self.bar.set_postfix_str(f"{m.wins}-{m.draws}-{m.losses}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run(args: argparse.Namespace) -> int:
    from ringrift.evaluate.engine_spec import EngineSpec
    from ringrift.evaluate.gauntlet import PREVIOUS, Gauntlet, previous_spec
    from ringrift.evaluate.promotion import default_db_path

    config = config_from_args(args)
    candidate = EngineSpec.build(args.engine, options_from_args(args), args.name)
    previous, note = None, None
    if PREVIOUS not in config.opponents:
        if args.previous or args.registry:
            raise UserError("--previous/--registry given, but --opponents does not include "
                            "'previous'")
    elif args.previous:
        previous, note = previous_spec(candidate, args.previous)
    elif args.registry:
        from ringrift.registry import ModelRegistry

        with ModelRegistry(args.registry, create=False) as registry:
            production = registry.get_production(args.board_type, args.num_players)
            if production is None:
                note = (f"no production {args.board_type} {args.num_players}-player model in "
                        f"{args.registry}")
            else:
                previous, note = previous_spec(candidate, str(registry.load_path(production)))
    else:
        note = "no previous model (give --previous PATH or --registry PATH)"
    if previous is None and set(config.opponents) == {PREVIOUS}:
        raise UserError(f"nothing to play: the only opponent is 'previous' and there is none "
                        f"({note})")
    gauntlet = Gauntlet(candidate, config, previous=previous, previous_note=note)

    db_path = args.db or (default_db_path(args.model) if args.model else None)
    db = None
    if db_path is not None:
        from ringrift.data.gamedb import GameDB

        db = GameDB(db_path)
    progress = GauntletProgress(args.quiet)
    try:
        result = gauntlet.run(db, progress, workers=args.workers,
                              batch_size=args.batch_size, backend=args.backend,
                              ray_address=args.ray_address)
    finally:
        progress.close()
        if db is not None:
            db.close()
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print("\n".join(result.table()))
        if db_path is None:
            print("games not stored (no --model or --db)")
    return 0 if result.passed else 1
