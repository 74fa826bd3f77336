"""`ringrift view`: a stored game as a self-contained HTML replay (board, moves, value graph)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("view", help="write a stored game as a self-contained HTML "
                                                "replay (step through it in a browser)")
    parser.add_argument("--db", required=True, help="game database")
    parser.add_argument("--game", required=True, help="game id (see `ringrift db stats`)")
    parser.add_argument("-o", "--output", required=True, help="HTML file to write")
    parser.add_argument("--model", default=None,
                        help="value the positions with this network when the game has no "
                             "stored values (default: the hand-written evaluation)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift.atomic import atomic_write_text
    from ringrift.serve.replay import load_game, network_value_fn, replay_data, replay_html

    record = load_game(args.db, args.game)
    value_fn = None
    if args.model:
        from ringrift.ai.model_cache import check_model_fits
        from ringrift.errors import UserError
        from ringrift.nn.inference import Evaluator
        from ringrift.rules.spec import GameSpec

        evaluator = Evaluator.from_checkpoint(args.model, device="cpu")
        spec = GameSpec.checked(record.board_type, record.num_players, error=UserError)
        check_model_fits(args.model, evaluator.metadata, spec)
        value_fn = network_value_fn(evaluator)
    data = replay_data(record, value_fn)
    atomic_write_text(args.output, replay_html(data))
    print(f"wrote {args.output}: game {record.game_id}, {record.board_type} "
          f"{record.num_players}p, {len(data['frames']) - 1} moves (values: "
          f"{data['valueSource']})")
    return 0
