"""`ringrift demo`: a short showcase on a fresh machine (random games on every board for now)."""

from __future__ import annotations

import argparse
import random
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="play a few random games per board and summarise")
    parser.add_argument("--games", type=int, default=3, help="games per configuration")
    parser.add_argument("--seed", type=int, default=1)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift import rules
    from ringrift.ai.playout import play_random_game

    print(f"{'board':10} {'players':>7} {'games':>5} {'mean moves':>10} {'moves/s':>9}  "
          "results (winner: reason)")
    for board in rules.BOARD_TYPES:
        for players in (2, 3, 4):
            rng = random.Random(args.seed)
            start = time.perf_counter()
            total = 0
            results = []
            for _ in range(args.games):
                state = play_random_game(board, players, rng)
                total += state.move_count
                results.append(f"p{state.winner}: {state.victory_reason}")
            elapsed = time.perf_counter() - start
            print(f"{board:10} {players:>7} {args.games:>5} {total / args.games:>10.0f} "
                  f"{total / elapsed:>9.0f}  {', '.join(results)}")
    return 0
