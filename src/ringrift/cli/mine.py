"""`ringrift mine`: the positions a model gets most wrong, written as a weighted training file."""

from __future__ import annotations

import argparse

from ringrift.config_defaults import field_default
from ringrift.train.mine_settings import MEASURES, MineSettings


def _m(name: str):
    """The default of MineSettings field `name` (mine_hard_positions reads the same)."""
    return field_default(MineSettings, name)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "mine", help="mine hard positions (policy surprise, value error) into a weighted .npz",
        description="Score every position of the training files with a model: KL(search "
        "policy || network prior) and value error against the outcome; write the top "
        "--fraction with sample weights proportional to the score (mean 1).")
    p.add_argument("--model", required=True, help="v2/v3 model file (.pt)")
    p.add_argument("--data-path", required=True, action="extend", nargs="+",
                   help=".npz training file(s) to mine")
    p.add_argument("--output", required=True, help="weighted .npz to write")
    p.add_argument("--fraction", type=float, default=_m("fraction"),
                   help="share of the positions to keep, hardest first (default %(default)s)")
    p.add_argument("--by", default=_m("by"), choices=MEASURES,
                   help="policy surprise, value error, or both (each over its mean, summed)")
    p.add_argument("--batch-size", type=int, default=_m("batch_size"))
    p.add_argument("--device", default=_m("device"), help="cpu, cuda or cuda:N")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ringrift.errors import UserError
    from ringrift.train.hard_positions import mine_hard_positions

    if args.batch_size < 1:
        raise UserError("--batch-size must be >= 1")
    summary = mine_hard_positions(args.model, args.data_path, args.output,
                                  fraction=args.fraction, by=args.by,
                                  batch_size=args.batch_size, device=args.device)
    print(f"wrote {summary['output']}: {summary['samples']} of {summary['from_samples']} "
          f"positions; policy KL {summary['mean_policy_kl_mined']:.4f} mined vs "
          f"{summary['mean_policy_kl_all']:.4f} all, value error "
          f"{summary['mean_value_error_mined']:.4f} vs {summary['mean_value_error_all']:.4f}")
    return 0
