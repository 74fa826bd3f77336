"""`ringrift match`: a candidate engine against an opponent engine, seats rotated."""

from __future__ import annotations

import argparse
import json

from ringrift.ai.options import EngineOptions
from ringrift.cli._backend_args import add_backend_arguments, check_backend_arguments
from ringrift.cli._engine_names import engine_names
from ringrift.cli._simulations import simulations_arg, simulations_help
from ringrift.config_defaults import field_default
from ringrift.evaluate.match import MatchConfig


def _default(name: str):
    return field_default(MatchConfig, name)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("match", help="play a candidate against an opponent")
    p.add_argument("--board-type", required=True)
    p.add_argument("--num-players", type=int, default=_default("num_players"))
    p.add_argument("--candidate", required=True,
                   help=f"engine: {engine_names()} (or ENGINE:MODEL_PATH)")
    p.add_argument("--opponent", default=_default("opponent"),
                   help="engine for every other seat, one of --candidate's (default %(default)s)")
    p.add_argument("--model", help="model file for the candidate's network engine")
    p.add_argument("--opponent-model", help="model file for the opponent's network engine")
    p.add_argument("--mcts-simulations", type=simulations_arg, metavar="N",
                   help=simulations_help("the candidate's "))
    p.add_argument("--opponent-mcts-simulations", type=simulations_arg, metavar="N",
                   help=simulations_help("the opponent's "))
    p.add_argument("--temperature", type=float, default=field_default(EngineOptions, "temperature"),
                   help="policy-only sampling temperature (0 = argmax)")
    p.add_argument("--games", type=int, default=_default("games"))
    p.add_argument("--seed", type=int, default=_default("seed"))
    p.add_argument("--db", help="store every game in this database (source = evaluation)")
    p.add_argument("--workers", type=int, default=_default("workers"), metavar="N",
                   help="processes playing games (default %(default)s; the same result for any N)")
    add_backend_arguments(p)
    p.add_argument("--batch-size", type=int, default=_default("batch_size"), metavar="B",
                   help="games each process plays at once, their network evaluations "
                        "batched (default %(default)s; 8-32 is much faster for network players)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift import rules
    from ringrift.errors import UserError
    from ringrift.evaluate.engine_spec import EngineSpec, engine_options
    from ringrift.evaluate.match import play_match
    from ringrift.exec import check_batch_size, check_workers

    spec = rules.GameSpec.checked(args.board_type, args.num_players, error=UserError)
    if args.games < 1:
        raise UserError("--games must be at least 1")
    check_workers(args.workers)
    check_batch_size(args.batch_size)
    check_backend_arguments(args)
    # ENGINE:MODEL (e.g. online:M.pt) names the model with the engine
    cand_engine, cand_model = _engine_and_model(args.candidate, args.model, "--candidate")
    opp_engine, opp_model = _engine_and_model(args.opponent, args.opponent_model, "--opponent")
    cand_opts = engine_options(model_path=cand_model, temperature=args.temperature,
                               simulations=args.mcts_simulations)
    opp_opts = engine_options(model_path=opp_model, temperature=args.temperature,
                              simulations=args.opponent_mcts_simulations)
    candidate = EngineSpec.build(cand_engine, cand_opts)
    opponent = EngineSpec.build(opp_engine, opp_opts)
    if opponent.name == candidate.name:  # a self-match: keep the two apart in records
        opponent = opponent.renamed(f"{opponent.name}-opponent")
    # build once up front so a bad engine or model fails before any game
    candidate.check(spec)
    opponent.check(spec)
    db = None
    if args.db:
        from ringrift.data.gamedb import GameDB

        db = GameDB(args.db)
    try:
        result = play_match(candidate, opponent, spec, args.games,
                            args.seed, db=db, workers=args.workers,
                            batch_size=args.batch_size, backend=args.backend,
                            ray_address=args.ray_address)
    finally:
        if db is not None:
            db.close()
    if args.json:
        low, high = result.interval()
        print(json.dumps({"wins": result.wins, "draws": result.draws, "losses": result.losses,
                          "games": result.games, "win_rate": result.win_rate,
                          "ci95": [low, high], "reasons": result.reasons}))
    else:
        print(result.line())
    return 0


def _engine_and_model(text: str, model: str | None, flag: str) -> tuple[str, str | None]:
    """'ENGINE' or 'ENGINE:MODEL' -> (engine, model); the model may come from either place."""
    from ringrift.errors import UserError

    engine, sep, inline = text.partition(":")
    if not sep:
        return text, model
    if not engine or not inline:
        raise UserError(f"{flag} {text!r}: expected ENGINE or ENGINE:MODEL_PATH")
    if model and model != inline:
        raise UserError(f"{flag} {text!r} names a model and so does the model flag ({model})")
    return engine, inline
