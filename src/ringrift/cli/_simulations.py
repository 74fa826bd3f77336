"""The argparse type of every simulation-count flag: a number or a budget name (throughput,
standard, quality, ultimate), the names and counts living in ringrift.ai.search.gumbel.BUDGETS."""

from __future__ import annotations

import argparse


def simulations_arg(text: str) -> int:
    """argparse type: parse_budget, its error as an argparse error (one line, exit 2)."""
    from ringrift.ai.search.gumbel import parse_budget

    try:
        return parse_budget(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
