"""`ringrift demo`: a small but real training loop on square8 2p (what `make demo` runs); the
defaults are `ringrift.loop.demo.DemoSettings`."""

from __future__ import annotations

import argparse
import time

from ringrift.cli._simulations import simulations_arg, simulations_help
from ringrift.config_defaults import field_default, from_flags


def _d(name: str):
    from ringrift.loop.demo import DemoSettings

    return field_default(DemoSettings, name)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="run a small selfplay -> train -> evaluate loop on square8 2p")
    parser.add_argument("--iterations", type=int, default=_d("iterations"))
    parser.add_argument("--bootstrap-games", type=int, default=_d("bootstrap_games"),
                        help="heuristic games per iteration until a model is promoted")
    parser.add_argument("--selfplay-games", type=int, default=_d("selfplay_games"),
                        help="gumbel games per iteration with the promoted model")
    parser.add_argument("--mcts-simulations", type=simulations_arg, metavar="N",
                        default=_d("mcts_simulations"),
                        help=simulations_help("selfplay: ") + " (default %(default)s)")
    parser.add_argument("--eval-engine", default=_d("eval_engine"),
                        help="engine of the model at evaluation (gumbel: with search, where a "
                        "better network shows; policy-only: the network alone, ~10x cheaper "
                        "but near 10-25%% against the heuristic player at this size)")
    parser.add_argument("--eval-mcts-simulations", type=simulations_arg, metavar="N",
                        dest="eval_simulations", default=_d("eval_simulations"),
                        help=simulations_help("evaluation: ") + " (default %(default)s)")
    parser.add_argument("--training-epochs", type=int, default=_d("training_epochs"))
    parser.add_argument("--samples-per-epoch", type=int, default=_d("samples_per_epoch"),
                        help="samples drawn at random from the window per epoch (default: the "
                        "whole window, so training grows with the games)")
    parser.add_argument("--eval-games", type=int, default=_d("eval_games"),
                        help="games per opponent (a match stops early once decided)")
    parser.add_argument("--test-games", type=int, default=_d("test_games"),
                        help="held-out heuristic games scored every iteration (test loss and "
                        "policy accuracy, comparable across iterations)")
    parser.add_argument("--min-window", type=int, default=_d("min_window"),
                        help="training window (games) before it grows sublinearly")
    parser.add_argument("--workers", type=int, default=_d("workers"),
                        help="processes for selfplay, export and evaluation")
    parser.add_argument("--run-dir", default=_d("run_dir"),
                        help="default: runs/demo-<date>-<time>")
    parser.add_argument("--seed", type=int, default=_d("seed"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift.loop import run_training_loop
    from ringrift.loop.demo import DemoSettings

    settings = from_flags(DemoSettings, args)
    config = settings.loop_config()
    config.validate()  # bad flags: one line, before the banner
    print(f"demo: {settings.iterations} iterations of selfplay -> export -> train (v2) -> "
          f"evaluate -> promote on square8 2p, in {config.run_dir}")
    started = time.perf_counter()
    run_training_loop(config)
    print(f"demo finished in {(time.perf_counter() - started) / 60:.1f} min; "
          f"progress plot: {config.run_dir}/progress.png")
    return 0
