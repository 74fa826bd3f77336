"""`ringrift demo`: a small but real training loop on square8 2p (what `make demo` runs)."""

from __future__ import annotations

import argparse
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="run a small selfplay -> train -> evaluate loop on square8 2p")
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--bootstrap-games", type=int, default=200,
                        help="heuristic games per iteration until a model is promoted")
    parser.add_argument("--selfplay-games", type=int, default=64,
                        help="gumbel games per iteration with the promoted model")
    parser.add_argument("--mcts-simulations", type=int, default=16,
                        help="gumbel simulations per move in selfplay")
    parser.add_argument("--eval-engine", default="gumbel",
                        help="engine of the model at evaluation (gumbel: with search, where a "
                        "better network shows; policy-only: the network alone, ~10x cheaper "
                        "but near 10-25%% against the heuristic player at this size)")
    parser.add_argument("--eval-mcts-simulations", type=int, default=32,
                        help="simulations per move when --eval-engine searches")
    parser.add_argument("--training-epochs", type=int, default=2)
    parser.add_argument("--samples-per-epoch", type=int, default=None,
                        help="samples drawn at random from the window per epoch (default: the "
                        "whole window, so training grows with the games)")
    parser.add_argument("--eval-games", type=int, default=60,
                        help="games per opponent (a match stops early once decided)")
    parser.add_argument("--test-games", type=int, default=100,
                        help="held-out heuristic games scored every iteration (test loss and "
                        "policy accuracy, comparable across iterations)")
    parser.add_argument("--min-window", type=int, default=1000,
                        help="training window (games) before it grows sublinearly")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes for selfplay, export and evaluation")
    parser.add_argument("--run-dir", help="default: runs/demo-<date>-<time>")
    parser.add_argument("--seed", type=int, default=1)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift.loop import LoopConfig, run_training_loop

    run_dir = args.run_dir or time.strftime("runs/demo-%Y%m%d-%H%M%S")
    config = LoopConfig(
        board_type="square8", num_players=2, run_dir=run_dir, iterations=args.iterations,
        bootstrap_games=args.bootstrap_games, selfplay_games=args.selfplay_games,
        training_epochs=args.training_epochs, model_version="v2", engine="gumbel",
        mcts_simulations=args.mcts_simulations, eval_simulations=args.eval_mcts_simulations,
        bootstrap_engine="heuristic", eval_engine=args.eval_engine,
        eval_games=args.eval_games, eval_opponents=["random", "heuristic"], seed=args.seed,
        learning_rate=2e-3, batch_size=256, workers=args.workers, amp=True,
        min_window=args.min_window, samples_per_epoch=args.samples_per_epoch,
        warmup_epochs=0.25, test_games=args.test_games, eval_batch_size=16)
    config.validate()  # bad flags: one line, before the banner
    print(f"demo: {args.iterations} iterations of selfplay -> export -> train (v2) -> "
          f"evaluate -> promote on square8 2p, in {run_dir}")
    started = time.perf_counter()
    run_training_loop(config)
    print(f"demo finished in {(time.perf_counter() - started) / 60:.1f} min; "
          f"progress plot: {run_dir}/progress.png")
    return 0
