"""Engine names for help texts, generated from the engine table (`ai/engines.py`): a list
written by hand goes stale the day an engine is added."""

from __future__ import annotations

from collections.abc import Iterable

from ringrift.ai.engines import ENGINES


def engine_names(engines: Iterable[str] | None = None, last: str = "or") -> str:
    """'random, heuristic or mcts' (`last` joins the final two); every engine by default."""
    names = list(ENGINES if engines is None else engines)
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {last} {names[-1]}"
