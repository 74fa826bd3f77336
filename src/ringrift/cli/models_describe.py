"""`ringrift models describe`: parameter counts of a network preset for a board.

This module registers no top-level command: the `models` command calls `add_describe` on its
sub-subparsers.
"""

from __future__ import annotations

import argparse

from ringrift.config_defaults import field_default
from ringrift.nn.architectures import ARCHITECTURE_NAMES
from ringrift.rules.spec import BOARD_TYPES, DEFAULT_NUM_PLAYERS, PLAYER_COUNTS
from ringrift.train.config import TrainConfig


def add_describe(models_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `describe` under `ringrift models`."""
    p = models_subparsers.add_parser(
        "describe", help="print a network's parameter counts",
        description="Print the parameter count of a v2/v3 network (per part) for a board, "
                    "with the input and policy sizes of the encoding (ringrift.nn.encoding).")
    p.add_argument("--model-version", default=field_default(TrainConfig, "model_version"),
                   choices=ARCHITECTURE_NAMES)
    p.add_argument("--board-type", required=True, choices=BOARD_TYPES)
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS,  # the default game's
                   default=DEFAULT_NUM_PLAYERS)
    p.add_argument("--rank-head", action="store_true", help="include the rank head")
    p.add_argument("--channels", type=int, help="override the preset's tower width")
    p.add_argument("--blocks", type=int, help="override the preset's tower depth")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_describe)
    return p


def run_describe(args: argparse.Namespace) -> int:
    import json

    from ringrift.errors import UserError
    from ringrift.nn.architectures import resolve_architecture
    from ringrift.nn.models import build_model, make_config, parameter_breakdown
    from ringrift.rules.spec import GameSpec

    try:
        spec = GameSpec.checked(args.board_type, args.num_players, error=UserError)
        cfg = make_config(resolve_architecture(args.model_version), spec, channels=args.channels,
                          blocks=args.blocks, rank_head=args.rank_head)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    parts = parameter_breakdown(build_model(cfg))
    if args.json:
        print(json.dumps({"model_version": cfg.model_version, "board_type": cfg.board_type,
                          "num_players": cfg.num_players, "channels": cfg.channels,
                          "blocks": cfg.blocks, "se": cfg.se, "policy_size": cfg.policy_size,
                          "parameters": parts}, indent=1))
        return 0
    print(f"{cfg.model_version} {cfg.board_type} {cfg.num_players}p: {cfg.channels} channels x "
          f"{cfg.blocks} blocks{', squeeze-excitation' if cfg.se else ''}")
    print(f"input {cfg.in_channels}x{cfg.height}x{cfg.width} + {cfg.num_globals} globals; "
          f"policy {cfg.policy_planes}x{cfg.height}x{cfg.width} + {cfg.scalar_actions} = "
          f"{cfg.policy_size}; value {cfg.num_players}")
    width = max(len(k) for k in parts)
    for name, count in parts.items():
        print(f"  {name:<{width}}  {count:>12,}")
    return 0
