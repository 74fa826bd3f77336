"""The argparse type and the help of every simulation-count flag: a number or a budget name, the
names and counts living in ringrift.ai.search.gumbel.BUDGETS, the engines that read the count in
the engine table."""

from __future__ import annotations

import argparse

from ringrift.ai.engines import SIMULATION_ENGINES
from ringrift.ai.search.gumbel import BUDGETS, parse_budget
from ringrift.cli._engine_names import engine_names


def simulations_arg(text: str) -> int:
    """argparse type: an integer as it is (its range is checked with the other flags, as a
    one-line error), or a budget name turned into its count."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return parse_budget(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def simulations_help(whose: str = "") -> str:
    """The help of a simulation-count flag, naming the engines that read it and the budgets
    (both from their tables)."""
    budgets = ", ".join(f"{name} ({count})" for name, count in BUDGETS.items())
    engines = engine_names(SIMULATION_ENGINES, "and")
    return (f"{whose}simulations per move for {engines}: a number or a budget name, {budgets}")
