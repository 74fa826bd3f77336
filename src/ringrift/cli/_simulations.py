"""The argparse type of every simulation-count flag: a number or a budget name (throughput,
standard, quality, ultimate), the names and counts living in ringrift.ai.search.gumbel.BUDGETS."""

from __future__ import annotations

import argparse


def simulations_arg(text: str) -> int:
    """argparse type: an integer as it is (its range is checked with the other flags, as a
    one-line error), or a budget name turned into its count."""
    from ringrift.ai.search.gumbel import parse_budget

    try:
        return int(text)
    except ValueError:
        pass
    try:
        return parse_budget(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
