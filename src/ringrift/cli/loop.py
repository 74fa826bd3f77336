"""`ringrift loop`: the whole pipeline, iterated and resumable."""

from __future__ import annotations

import argparse

from ringrift.cli._simulations import simulations_arg, simulations_help
from ringrift.config_defaults import field_default
from ringrift.loop.config import LR_SPANS, LoopConfig
from ringrift.nn.architectures import ARCHITECTURE_NAMES
from ringrift.rules.spec import DEFAULT_NUM_PLAYERS


def _d(name: str):
    """The default of LoopConfig field `name`: every loop flag's default lives there."""
    return field_default(LoopConfig, name)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("loop", help="selfplay -> export -> train -> evaluate -> promote")
    p.add_argument("--run-dir", default=None,
                   help="the run's folder (default: a new runs/<board>_<N>p_<time>; "
                   "--resume needs it)")
    p.add_argument("--resume", action="store_true", help="continue the loop in --run-dir")
    p.add_argument("--board-type")
    # (LoopConfig requires the count: the default game's, as the loop's selfplay plays it)
    p.add_argument("--num-players", type=int,
                   default=DEFAULT_NUM_PLAYERS)
    p.add_argument("--iterations", type=int, default=None,
                   help=f"iterations in all (default {_d('iterations')}; with --resume: raise "
                   "the total)")
    p.add_argument("--selfplay-games", type=int, default=_d("selfplay_games"))
    p.add_argument("--training-epochs", type=int, default=_d("training_epochs"))
    p.add_argument("--warmup-epochs", type=float, default=_d("warmup_epochs"),
                   help="linear learning-rate warmup at the start of each iteration's training")
    p.add_argument("--keep-optimizer", action="store_true", default=_d("keep_optimizer"),
                   help="start each iteration's optimizer from the moments of the run that "
                   "made its starting model (default: a fresh AdamW every iteration)")
    p.add_argument("--lr-span", choices=LR_SPANS, default=_d("lr_span"),
                   help="iteration: each iteration's training warms up and decays its own "
                   "learning rate (default); run: one warmup and one cosine decay over all "
                   "iterations, the optimizer carried over, as one long training run (needs "
                   "--samples-per-epoch)")
    p.add_argument("--test-games", type=int, default=_d("test_games"), metavar="N",
                   help="play N bootstrap games once as a held-out test set and score every "
                   "iteration's model on it (comparable across iterations; default 0: none)")
    p.add_argument("--samples-per-epoch", type=int, default=_d("samples_per_epoch"), metavar="N",
                   help="an epoch trains on N samples drawn at random from the window (default: "
                   "all): the training cost of an iteration stays fixed as the window grows")
    p.add_argument("--temperature-schedule", dest="selfplay_temperature",
                   default=_d("selfplay_temperature"),
                   help="selfplay temperature schedule (default %(default)s); 'curriculum' "
                   "follows the loop: progress 0 at the first iteration, 1 at the last")
    p.add_argument("--engine", default=_d("engine"),
                   help="selfplay engine of the current best model")
    p.add_argument("--bootstrap-engine", default=_d("bootstrap_engine"),
                   help="selfplay engine while there is no model yet")
    p.add_argument("--bootstrap-games", type=int, default=_d("bootstrap_games"),
                   help="games per bootstrap iteration (default: --selfplay-games)")
    p.add_argument("--mcts-simulations", type=simulations_arg, default=_d("mcts_simulations"),
                   help=simulations_help())
    p.add_argument("--model-version", default=_d("model_version"), choices=ARCHITECTURE_NAMES)
    p.add_argument("--channels", type=int, help="override the preset's tower width")
    p.add_argument("--blocks", type=int, help="override the preset's tower depth")
    p.add_argument("--batch-size", type=int, default=_d("batch_size"))
    p.add_argument("--learning-rate", type=float, default=_d("learning_rate"))
    p.add_argument("--no-augment", action="store_true", help="no symmetry augmentation")
    p.add_argument("--prioritized-replay", action="store_true",
                   help="train each iteration with prioritized replay over the window")
    p.add_argument("--per-alpha", type=float, default=_d("per_alpha"),
                   help="prioritized replay exponent")
    p.add_argument("--per-beta", default=_d("per_beta"), metavar="START->END",
                   help="prioritized replay IS-weight exponent, annealed over each training")
    p.add_argument("--hard-positions", type=float, default=_d("hard_positions"),
                   metavar="FRACTION",
                   help="mine this share of the window with the model training starts from "
                   "(policy surprise + value error) and add it, weighted, to the window")
    p.add_argument("--ownership-weight", type=float, default=_d("ownership_weight"),
                   help="auxiliary final-ownership head with this loss weight (0: none)")
    p.add_argument("--game-length-weight", type=float, default=_d("game_length_weight"),
                   help="auxiliary remaining-game-length head with this loss weight (0: none)")
    p.add_argument("--curriculum", metavar="FILE",
                   help="curriculum stages (JSON, or YAML with PyYAML): the bootstrap "
                   "heuristic's strength rises as the model's win rate reaches each stage's bar")
    p.add_argument("--amp", action="store_true", default=_d("amp"),
                   help="mixed precision (bf16) for training and the network players: CUDA, "
                   "or a CPU with native bf16 (elsewhere float32, with a note)")
    p.add_argument("--min-window", type=int, default=_d("min_window"),
                   help="training window (games) before it starts to grow sublinearly")
    p.add_argument("--eval-games", type=int, default=_d("eval_games"), help="games per gauntlet opponent")
    p.add_argument("--thresholds", metavar="NAME=RATE,...",
                   help="gauntlet pass thresholds (defaults: random=0.85, heuristic=0.6, "
                   "previous=0.55 for 2 players); NAME=none: report-only, no gate")
    p.add_argument("--sprt", metavar="ELO0,ELO1",
                   help="gate against the previous best with a sequential test")
    promote = p.add_mutually_exclusive_group()
    promote.add_argument("--auto-promote", dest="auto_promote", action="store_true",
                         default=_d("auto_promote"),
                         help="promote a model that passes the gauntlet (the default)")
    promote.add_argument("--no-promote", dest="auto_promote", action="store_false",
                         help="evaluate only: leave the model store alone")
    p.add_argument("--workers", type=int, default=_d("workers"),
                   help="processes for selfplay, export and evaluation games")
    p.add_argument("--backend", default=_d("backend"), choices=("local", "ray"),
                   help="where selfplay and evaluation --workers run: local processes "
                   "(default) or Ray actors")
    p.add_argument("--ray-address", default=_d("ray_address"), metavar="ADDR",
                   help="--backend ray: 'auto' or HOST:PORT joins a Ray cluster (default: a "
                   "local Ray instance)")
    p.add_argument("--train-nproc", type=int, default=_d("train_nproc"), metavar="N",
                   help="training processes per iteration under torchrun (DDP; default 1)")
    p.add_argument("--selfplay-batch-size", type=int, default=_d("selfplay_batch_size"),
                   help="network selfplay: games per process whose leaves are batched")
    p.add_argument("--eval-batch-size", type=int, default=_d("eval_batch_size"),
                   help="evaluation: games per process whose leaves are batched (default 16)")
    p.add_argument("--eval-mcts-simulations", type=simulations_arg,
                   default=_d("eval_simulations"), metavar="N",
                   help=simulations_help("evaluation: ") + " (default: --mcts-simulations; a "
                   "stronger search shows a better network more clearly)")
    p.add_argument("--eval-engine", default=_d("eval_engine"),
                   help="engine of the candidate in the gauntlet (default: --engine)")
    p.add_argument("--eval-opponents", default=",".join(_d("eval_opponents")),
                   help="gauntlet opponents besides the previous best (default %(default)s)")
    p.add_argument("--async-eval", action="store_true", default=_d("async_eval"),
                   help="evaluate candidate k in a worker process while selfplay k+1 runs with "
                   "the current best; a promotion decided meanwhile is used by the later games")
    p.add_argument("--seed", type=int, default=_d("seed"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift.cli._flag_values import parse_names, parse_sprt_bounds, parse_thresholds
    from ringrift.errors import UserError
    from ringrift.loop.config import load_config
    from ringrift.loop.runner import run_training_loop
    from ringrift.nn.architectures import resolve_architecture

    if args.resume:
        if args.run_dir is None:
            raise UserError("--resume needs --run-dir (the folder of the run to continue)")
        config = load_config(args.run_dir)
        if args.board_type is not None and args.board_type != config.board_type:
            raise UserError(f"--board-type {args.board_type}: the run in {args.run_dir} is "
                            f"{config.board_type} (a resumed run keeps its settings)")
        if args.iterations is not None:
            config.iterations = args.iterations
        if args.async_eval:
            config.async_eval = True
    else:
        if not args.board_type:
            raise UserError("--board-type is required to start a loop (or pass --resume)")
        from ringrift.loop.training_config import default_run_dir
        from ringrift.rules.spec import GameSpec

        if args.run_dir is None:
            spec = GameSpec.checked(args.board_type, args.num_players, error=UserError)
            args.run_dir = default_run_dir(spec)
            print(f"run folder: {args.run_dir}")
        sprt = parse_sprt_bounds(args.sprt)
        curriculum = None
        if args.curriculum:
            from ringrift.loop.curriculum import load_curriculum_file

            curriculum = load_curriculum_file(args.curriculum)
        config = LoopConfig(
            board_type=args.board_type, num_players=args.num_players, run_dir=args.run_dir,
            iterations=_d("iterations") if args.iterations is None else args.iterations,
            model_version=resolve_architecture(args.model_version),
            selfplay_games=args.selfplay_games,
            training_epochs=args.training_epochs, engine=args.engine,
            selfplay_temperature=args.selfplay_temperature,
            bootstrap_engine=args.bootstrap_engine, bootstrap_games=args.bootstrap_games,
            mcts_simulations=args.mcts_simulations,
            channels=args.channels, blocks=args.blocks,
            batch_size=args.batch_size, learning_rate=args.learning_rate,
            curriculum=curriculum, prioritized_replay=args.prioritized_replay,
            per_alpha=args.per_alpha, per_beta=args.per_beta,
            hard_positions=args.hard_positions, ownership_weight=args.ownership_weight,
            game_length_weight=args.game_length_weight,
            augment=not args.no_augment, amp=args.amp, min_window=args.min_window, eval_games=args.eval_games,
            auto_promote=args.auto_promote, workers=args.workers, seed=args.seed,
            backend=args.backend, ray_address=args.ray_address, train_nproc=args.train_nproc,
            sprt=None if sprt is None else list(sprt), selfplay_batch_size=args.selfplay_batch_size,
            eval_batch_size=args.eval_batch_size, samples_per_epoch=args.samples_per_epoch,
            warmup_epochs=args.warmup_epochs, test_games=args.test_games,
            keep_optimizer=args.keep_optimizer, lr_span=args.lr_span,
            eval_engine=args.eval_engine, eval_simulations=args.eval_mcts_simulations,
            async_eval=args.async_eval,
            thresholds=parse_thresholds(args.thresholds),
            eval_opponents=list(parse_names(args.eval_opponents, "--eval-opponents")))
    run_training_loop(config, resume=args.resume)
    return 0
