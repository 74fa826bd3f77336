"""`ringrift engine`: a JSON-lines analysis engine on stdin/stdout (see ringrift.serve.engine)."""

from __future__ import annotations

import argparse


def add_model_flags(parser: argparse.ArgumentParser) -> None:
    """Flags shared by `engine` and `serve`: the model and the limits on requests."""
    from ringrift.registry import DEFAULT_REGISTRY
    from ringrift.serve.config import ServeConfig
    from ringrift.serve.protocol import Limits

    limits = Limits()
    parser.add_argument("--model", default=None,
                        help="model file, or 'production' (the registry's production model for "
                             "--board-type/--num-players, reloaded when a new one is promoted);"
                             " without one, searches use the hand-written evaluation")
    parser.add_argument("--board-type", default=None, help="board of the model (production)")
    parser.add_argument("--num-players", type=int, default=None)
    parser.add_argument("--registry", default=None,
                        help=f"model store (default {DEFAULT_REGISTRY})")
    parser.add_argument("--reload-interval", type=float, default=ServeConfig.reload_interval,
                        help="seconds between checks for a newly promoted model (0: never)")
    parser.add_argument("--use-gpu", action="store_true", help="network on CUDA when present")
    parser.add_argument("--amp", action="store_true",
                        help="network in bf16 (CUDA, or a CPU with native bf16)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--max-visits", type=int, default=limits.max_visits,
                        help="largest maxVisits a request may ask for")
    parser.add_argument("--max-time-ms", type=float, default=limits.max_time_ms,
                        help="largest timeLimitMs a request may ask for")
    parser.add_argument("--default-time-ms", type=float,
                        default=limits.default_time_ms,
                        help="time limit of a request that gives none")
    parser.add_argument("--max-active", type=int, default=ServeConfig.max_active,
                        help="requests searched at once (their leaves share network batches)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "engine", help="JSON-lines analysis engine: requests on stdin, responses on stdout")
    add_model_flags(parser)
    parser.set_defaults(func=run)


def model_source_from_args(args: argparse.Namespace):
    """Check the shared flags and load the model (UserError for bad values)."""
    from ringrift.errors import UserError
    from ringrift.rules.spec import GameSpec, check_board_type, check_num_players
    from ringrift.serve.models import ModelSource
    from ringrift.serve.protocol import Limits

    if args.board_type is not None:
        check_board_type(args.board_type, error=UserError)
    if args.num_players is not None:
        check_num_players(args.num_players, error=UserError)
    if args.max_visits < 1 or args.max_time_ms <= 0 or args.default_time_ms <= 0:
        raise UserError("--max-visits, --max-time-ms and --default-time-ms must be positive")
    if args.default_time_ms > args.max_time_ms:
        raise UserError("--default-time-ms must not exceed --max-time-ms")
    if args.max_active < 1:
        raise UserError("--max-active must be at least 1")
    if args.reload_interval < 0:
        raise UserError("--reload-interval must not be negative")
    if args.threads is not None:
        if args.threads < 1:
            raise UserError("--threads must be at least 1")
        import torch

        torch.set_num_threads(args.threads)
    game = None  # a model of any board and player count, unless both are given
    if args.board_type is not None and args.num_players is not None:
        game = GameSpec(args.board_type, args.num_players)  # (both checked above)
    source = ModelSource(args.model, game=game,
                         registry=args.registry, device="auto" if args.use_gpu else "cpu",
                         amp=args.amp)
    limits = Limits(max_visits=args.max_visits, max_time_ms=args.max_time_ms,
                    default_time_ms=args.default_time_ms)
    return source, limits


def run(args: argparse.Namespace) -> int:
    import sys

    from ringrift.serve.engine import run_engine

    source, limits = model_source_from_args(args)
    # undecodable input bytes become U+FFFD (a bad-JSON error response), not a crash
    sys.stdin.reconfigure(errors="replace")
    return run_engine(source, sys.stdin, sys.stdout, limits=limits, max_active=args.max_active,
                      reload_interval=args.reload_interval)
