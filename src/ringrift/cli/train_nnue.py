"""`ringrift train-nnue`: train the NNUE value network of engine nnue-guided from game databases."""

from __future__ import annotations

import argparse

from ringrift.config_defaults import field_default
from ringrift.rules.spec import BOARD_TYPES, DEFAULT_NUM_PLAYERS, PLAYER_COUNTS
from ringrift.train.nnue_config import NNUETrainConfig


def _d(name: str):
    """The default of NNUETrainConfig field `name`: every flag's default lives there."""
    return field_default(NNUETrainConfig, name)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train-nnue", help="train an NNUE value network (engine nnue-guided) from game databases",
        description="Replay completed games, fit the NNUE value net to the game outcomes (MSE, "
        "from the mover's view) and save the best epoch by validation loss.")
    p.add_argument("--db", required=True, action="append", metavar="PATH",
                   help="game database (repeatable)")
    p.add_argument("--board-type", required=True, choices=BOARD_TYPES)
    # (NNUETrainConfig requires the count: the default game's, as selfplay plays it)
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS,
                   default=DEFAULT_NUM_PLAYERS)
    p.add_argument("--save-path", required=True, help="model file to write (.pt)")
    p.add_argument("--epochs", type=int, default=_d("epochs"))
    p.add_argument("--batch-size", type=int, default=_d("batch_size"))
    p.add_argument("--learning-rate", type=float, default=_d("learning_rate"))
    p.add_argument("--weight-decay", type=float, default=_d("weight_decay"),
                   help="AdamW weight decay")
    p.add_argument("--warmup-epochs", type=float, default=_d("warmup_epochs"),
                   help="linear warmup before the cosine decay")
    p.add_argument("--hidden", type=int, default=_d("hidden"), help="accumulator width")
    p.add_argument("--val-fraction", type=float, default=_d("val_fraction"),
                   help="fraction of games held out for validation (0: none)")
    p.add_argument("--patience", type=int, default=_d("patience"),
                   help="stop after N epochs without a better validation loss (0: off)")
    p.add_argument("--seed", type=int, default=_d("seed"))
    p.add_argument("--max-games", type=int, default=_d("max_games"),
                   help="use only the most recent N games")
    p.add_argument("--device", default=_d("device"),
                   help="cpu, cuda or auto (default %(default)s; cpu is deterministic)")
    p.add_argument("--no-augment", dest="augment", action="store_false",
                   help="train on the positions as played (default: each under a random board "
                   "symmetry, 8 on square boards, 12 on hex; this generalises far better)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: the network is small, and more threads "
                   "only contend)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift.train.nnue_trainer import train_nnue

    if args.threads < 1:
        from ringrift.errors import UserError

        raise UserError("--threads must be at least 1")
    import torch

    torch.set_num_threads(args.threads)
    cfg = NNUETrainConfig(
        db_paths=list(args.db), board_type=args.board_type, num_players=args.num_players,
        save_path=args.save_path, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, weight_decay=args.weight_decay,
        warmup_epochs=args.warmup_epochs, hidden=args.hidden, val_fraction=args.val_fraction,
        patience=args.patience, seed=args.seed, max_games=args.max_games, augment=args.augment,
        device=args.device,
        progress=False if args.no_progress else None)
    train_nnue(cfg)
    return 0
