"""`ringrift selfplay`: play games and store them in a game database (or JSONL).

With `--daemon` it keeps playing until SIGTERM/SIGINT, with the model registry's current
production model (`ringrift.selfplay.daemon`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ringrift.ai.engines import (
    BASIC_ENGINES,
    ENGINES,
    MODEL_ENGINES,
    NETWORK_ENGINES,
    SEARCH_ENGINES,
)
from ringrift.ai.options import EngineOptions
from ringrift.cli._backend_args import add_backend_arguments, check_backend_arguments
from ringrift.cli._engine_names import engine_names
from ringrift.cli._simulations import simulations_arg, simulations_help
from ringrift.config_defaults import field_default
from ringrift.exec import evaluator_settings as evaluator
from ringrift.registry import DEFAULT_REGISTRY
from ringrift.selfplay.daemon import DaemonConfig
from ringrift.selfplay.output import FORMATS
from ringrift.selfplay.runner import SelfplayConfig


def _default(name: str):
    return field_default(SelfplayConfig, name)


def _option(name: str):
    return field_default(EngineOptions, name)


def register(subparsers: argparse._SubParsersAction) -> None:
    # Defaults come from SelfplayConfig, EngineOptions and DaemonConfig (one home each).
    p = subparsers.add_parser("selfplay", help="play selfplay games into a game database")
    p.add_argument("--board-type", required=True)
    p.add_argument("--num-players", type=int, required=True)
    p.add_argument("--engine", default=_default("engine"),
                   help="; ".join(f"{name}: {e.help}" for name, e in ENGINES.items())
                   + "; mixed: engines picked from --mix")
    p.add_argument("--mix", default=_default("mix"),
                   help="engine weights for --engine mixed, any engines (default %(default)s)")
    p.add_argument("--mix-per", default=_default("mix_per"), choices=("game", "seat"),
                   help="mixed: pick one engine per game or per seat")
    p.add_argument("--num-games", type=int, default=None,
                   help=f"games to play (default {_default('num_games')}; not with --daemon)")
    p.add_argument("--output-dir", default=None,
                   help="folder of the game database (default data/games/selfplay_<board>_<N>p, "
                   "where `ringrift export --use-discovery` looks)")
    p.add_argument("--format", default=_default("format"), choices=FORMATS)
    p.add_argument("--workers", type=int, default=_default("workers"))
    add_backend_arguments(p)
    p.add_argument("--seed", type=int, default=None,
                   help="run seed; games are reproducible from (seed, game number) (default "
                   f"{_default('seed')}; --daemon: a fresh random seed per start, so restarts "
                   "never repeat games)")
    p.add_argument("--max-moves", type=int, default=_default("max_moves"))
    p.add_argument("--start-positions", nargs="+", default=_default("start_positions"),
                   metavar="DB",
                   help="start each game from a position sampled from these game databases' "
                   "whole games (default: the opening); see --start-fraction")
    p.add_argument("--start-fraction", type=float, default=_default("start_fraction"),
                   metavar="F",
                   help="with --start-positions: start a game of L recorded moves at move "
                   "round(F * L), F in [0, 1) (default %(default)s: its initial state)")
    p.add_argument("--temperature-schedule", default=_default("temperature_schedule"),
                   help="alphazero, cosine, constant, linear, aggressive_exploration, "
                   "conservative, adaptive, curriculum (e.g. 'alphazero:moves=20')")
    p.add_argument("--heuristic-profile", default=_option("heuristic_profile"),
                   help="profile name (default per board)")
    p.add_argument("--heuristic-profile-file", default=_option("heuristic_profile_path"),
                   help="JSON file of profiles")
    p.add_argument("--heuristic-epsilon", type=float, default=_option("heuristic_epsilon"),
                   help="probability of a random move by heuristic players")
    p.add_argument("--model", default=_option("model_path"),
                   help=f"model file: required by {engine_names(NETWORK_ENGINES, 'and')}; "
                   f"optional for {engine_names(SEARCH_ENGINES, 'and')} (an NNUE file for "
                   "nnue-guided; without one, heuristic evaluation at the leaves)")
    p.add_argument("--mcts-simulations", type=simulations_arg,
                   default=_option("simulations"), metavar="N",
                   help=simulations_help() + " (default: the engine's)")
    p.add_argument("--batch-size", "--games-per-batch", type=int,
                   default=_default("batch_size"),
                   help="games played at once per worker, their leaf evaluations batched "
                   "(default %(default)s: one game at a time); with --daemon the registry is "
                   "checked before each batch")
    p.add_argument("--use-gpu", action="store_true", default=_default("use_gpu"),
                   help="evaluate the network on CUDA when present (default CPU)")
    g = p.add_argument_group(
        "GPU evaluator", "--gpu-evaluator: one process holds the network (on CUDA when present, "
        "else the CPU; RINGRIFT_DISABLE_GPU_DATAGEN=1 keeps it on the CPU) and evaluates the "
        "leaves of every worker's games in shared batches (--backend ray: one per node)")
    g.add_argument("--gpu-evaluator", action="store_true",
                   help="share one network evaluator between the --workers")
    g.add_argument("--gpu-batch-size", type=int, default=evaluator.BATCH_SIZE, metavar="N",
                   help="most positions per evaluator batch (default %(default)s; on a GH200/"
                   "H100/A100 scaled up from the GPU's memory unless RINGRIFT_AUTO_BATCH_SCALE=0)")
    g.add_argument("--gpu-max-wait-ms", type=float, default=evaluator.MAX_WAIT_S * 1000,
                   metavar="MS",
                   help="longest wait for a batch to fill (default %(default)s)")
    p.add_argument("--amp", action="store_true", default=_option("amp"),
                   help="network in bf16 (CUDA, or a CPU with native bf16: ~1.6x faster leaf "
                   "batches there; elsewhere float32)")
    p.add_argument("--threads", type=int, default=1,  # EngineOptions.threads None = 1
                   help="torch CPU threads per process for the network (default 1: small "
                   "batches gain little from more, and torch's spinning threads are very slow "
                   "on a busy machine; parallelise with --workers)")
    p.add_argument("--dirichlet-alpha", type=float, default=_option("dirichlet_alpha"),
                   help="mcts: Dirichlet noise on the root priors (0: none)")
    p.add_argument("--gumbel-considered", type=int, default=_option("gumbel_considered"),
                   help="gumbel: root actions sampled by Gumbel-top-k (m)")
    p.add_argument("--search-depth", type=int, default=_option("search_depth"),
                   help="nnue-guided: decisions searched")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    d = p.add_argument_group(
        "daemon", "--daemon: play until SIGTERM/SIGINT, appending to the game database of "
        "--output-dir. Before each game (each batch with --batch-size) the registry's production "
        "model for the board and player count is checked; a new one is verified (SHA-256) and "
        f"played from the next game on. {engine_names(MODEL_ENGINES, 'and')} play with it; "
        f"{engine_names(BASIC_ENGINES, 'and')} play without a model. The first signal abandons "
        "the games in flight (never stored) and exits 0 after closing the database; a second "
        "exits at once. With --workers N each worker process follows the registry on its own.")
    d.add_argument("--daemon", action="store_true",
                   help="run as a selfplay daemon (see above)")
    d.add_argument("--registry", default=None, metavar="PATH",
                   help=f"model registry database (default {DEFAULT_REGISTRY}; an explicit "
                   "PATH must exist; a missing default means no model yet)")
    d.add_argument("--bootstrap-engine", default=None, metavar="ENGINE",
                   help="engine played while there is no production model (default: --engine "
                   "without a model; search engines then use heuristic leaves)")
    d.add_argument("--max-games", type=int, default=None, metavar="N",
                   help="stop after N stored games (default: run until stopped)")
    d.add_argument("--status-interval", type=float,
                   default=field_default(DaemonConfig, "status_interval_s"), metavar="SECONDS",
                   help="seconds between status lines (default %(default)s)")
    p.set_defaults(func=run)


_DAEMON_ONLY = ("registry", "bootstrap_engine", "max_games")


def _selfplay_config(args: argparse.Namespace):
    """The SelfplayConfig of the flags, validated (shared by one-off runs and the daemon)."""
    from ringrift.ai.evaluation import load_profiles
    from ringrift.errors import UserError

    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    check_backend_arguments(args)
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    if args.threads < 1:
        raise UserError("--threads must be at least 1")
    if args.model and not Path(args.model).is_file():
        raise UserError(f"--model {args.model}: no such file")
    if args.heuristic_profile_file:
        load_profiles(args.heuristic_profile_file)  # fail early on a bad file
    config = SelfplayConfig(
        board_type=args.board_type, num_players=args.num_players, engine=args.engine,
        mix=args.mix, mix_per=args.mix_per, seed=args.seed, max_moves=args.max_moves,
        temperature_schedule=args.temperature_schedule, num_games=args.num_games or 1,
        batch_size=args.batch_size, workers=args.workers, output_dir=args.output_dir,
        format=args.format, use_gpu=args.use_gpu,
        start_positions=args.start_positions, start_fraction=args.start_fraction,
        options=EngineOptions(heuristic_profile=args.heuristic_profile,
                              heuristic_profile_path=args.heuristic_profile_file,
                              heuristic_epsilon=args.heuristic_epsilon,
                              model_path=args.model, device="auto" if args.use_gpu else "cpu",
                              simulations=args.mcts_simulations, root_noise=True,
                              dirichlet_alpha=args.dirichlet_alpha,
                              gumbel_considered=args.gumbel_considered,
                              search_depth=args.search_depth, threads=args.threads,
                              amp=args.amp))
    config.validate(require_models=not args.daemon)  # the daemon's model: the registry's
    return config


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ringrift.errors import UserError
    from ringrift.selfplay.session import SelfplayRunner

    if args.daemon:
        return _run_daemon(args)
    for name in _DAEMON_ONLY:
        if getattr(args, name) is not None:
            raise UserError(f"--{name.replace('_', '-')} is for --daemon")
    if args.num_games is None:
        args.num_games = _default("num_games")
    if args.seed is None:
        args.seed = _default("seed")
    if args.num_games < 1:
        raise UserError("--num-games must be at least 1")
    config = _selfplay_config(args)
    if args.use_gpu:
        import torch

        if not torch.cuda.is_available():
            print("ringrift selfplay: --use-gpu: CUDA is not available, evaluating on the CPU")
    if args.model:
        from dataclasses import replace

        from ringrift.ai.engines import MODEL_ENGINES, make_player

        model_engines = [e for e in config.engines() if e in MODEL_ENGINES]
        if not model_engines:
            raise UserError(f"--model is for the engines that play a model "
                            f"({', '.join(MODEL_ENGINES)}), not {args.engine}")
        import torch

        torch.set_num_threads(args.threads)
        # fail early on a model of another board (on the CPU: workers may need CUDA fresh)
        for engine in model_engines:
            make_player(engine, config.spec, replace(config.options, device="cpu"))
    bar = tqdm(total=args.num_games, unit="game", disable=args.quiet)

    def progress(done: int, summary) -> None:
        bar.set_postfix(games_s=f"{done / max(summary.seconds, 1e-9):.2f}",
                        mean_len=f"{summary.mean_length:.0f}")
        bar.update(1)

    service = _start_evaluator(args)
    runner = SelfplayRunner(config, backend=args.backend, ray_address=args.ray_address,
                            progress=progress,
                            evaluator=None if service is None else service.handle)
    try:
        summary = runner.run()
    finally:
        bar.close()
        stats = None if service is None else service.close()
    print("\n".join(summary.lines()))
    if stats is not None and stats.batches:
        print(f"  evaluator on {service.handle.device}: {stats.positions} positions in "
              f"{stats.batches} batches (mean {stats.positions / stats.batches:.1f}, most "
              f"{service.batch_size}), {stats.seconds:.1f} s in the network")
    return 0


def _start_evaluator(args: argparse.Namespace):
    """The running GPU evaluator service of --gpu-evaluator (None without it)."""
    from ringrift.errors import UserError

    if not args.gpu_evaluator:
        return None
    if not args.model:
        raise UserError("--gpu-evaluator needs --model (the network it serves)")
    if args.backend == "ray":  # one evaluator actor per node of the cluster
        from ringrift.exec.gpu_evaluator import RayEvaluatorService

        service = RayEvaluatorService(args.model, ray_address=args.ray_address, amp=args.amp,
                                      batch_size=args.gpu_batch_size,
                                      max_wait_s=args.gpu_max_wait_ms / 1000,
                                      threads=args.threads, min_cpus=args.workers)
        service.start()
        return service
    from ringrift.exec.gpu_evaluator import EvaluatorService

    service = EvaluatorService(args.model, args.workers, device="auto", amp=args.amp,
                               batch_size=args.gpu_batch_size,
                               max_wait_s=args.gpu_max_wait_ms / 1000, threads=args.threads)
    service.start()
    return service


def _run_daemon(args: argparse.Namespace) -> int:
    import secrets

    from ringrift.errors import UserError
    from ringrift.selfplay.daemon import DaemonConfig, run_daemon

    if args.num_games is not None:
        raise UserError("--num-games is not used with --daemon: it plays until stopped "
                        "(--max-games N stops it after N games)")
    if args.model:
        raise UserError("--model is not used with --daemon: it plays the registry's production "
                        "model (register and promote the file with `ringrift models`)")
    if args.seed is None:
        args.seed = secrets.randbelow(1 << 31)
    if args.gpu_evaluator:
        raise UserError("--gpu-evaluator is not built for --daemon yet")
    config = _selfplay_config(args)

    if args.use_gpu:
        import torch

        if not torch.cuda.is_available():
            print("ringrift selfplay: --use-gpu: CUDA is not available, evaluating on the CPU")
    daemon = DaemonConfig(
        selfplay=config, output_dir=Path(config.output_path),
        registry=Path(args.registry) if args.registry else DEFAULT_REGISTRY,
        registry_required=args.registry is not None, fmt=args.format,
        bootstrap_engine=args.bootstrap_engine, workers=args.workers,
        backend=args.backend, ray_address=args.ray_address,
        batch_size=args.batch_size, max_games=args.max_games,
        status_interval_s=args.status_interval)
    run_daemon(daemon, log=_log)
    return 0


def _log(line: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}", flush=True)
