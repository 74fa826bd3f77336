"""Helpers shared by the gauntlet tests: a gauntlet killed partway, to resume."""

from __future__ import annotations

from ringrift.evaluate.engine_spec import EngineSpec
from ringrift.evaluate.gauntlet import GauntletConfig, run_gauntlet


class Killed(Exception):
    """Stands for the process dying between two stored games."""


def die_after(k: int):
    """An `on_game` callback that raises Killed once the result counts k games (resumed ones
    included), i.e. right after the k-th game is stored."""
    def callback(result):
        if result.games == k:
            raise Killed
    return callback


def resumable_gauntlet():
    """(candidate, config, uninterrupted result): random against random needing 0.5 over 30
    games, so a verdict comes late enough to kill and resume the run before it."""
    cand = EngineSpec.build("random", name="cand")
    config = GauntletConfig("square8", 2, games=30, opponents=("random",),
                            thresholds={"random": 0.5})
    return cand, config, run_gauntlet(cand, config).results[0]
