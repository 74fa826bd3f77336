"""Help texts list the engines from the engine table, so a new engine shows up in them."""

from __future__ import annotations

import argparse

from ringrift.ai.engines import BASIC_ENGINES, ENGINES, MODEL_ENGINES, SIMULATION_ENGINES, Engine
from ringrift.ai.search.gumbel import BUDGETS
from ringrift.cli._engine_names import engine_names
from ringrift.cli.main import build_parser


def _subparser(command: str) -> argparse.ArgumentParser:
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    raise AssertionError("no subcommands")


def _help(command: str, dest: str) -> str:
    return next(a.help for a in _subparser(command)._actions if a.dest == dest)


def test_engine_names_joins_the_last_two():
    assert engine_names(["a"]) == "a" and engine_names([]) == ""
    assert engine_names(["a", "b", "c"], "and") == "a, b and c"
    assert engine_names().endswith(f" or {list(ENGINES)[-1]}")


def test_help_texts_name_every_engine_of_the_table(monkeypatch):
    monkeypatch.setitem(ENGINES, "brand-new", Engine(lambda spec, seed, options: None))
    for command, dest in (("match", "candidate"), ("gauntlet", "opponents")):
        text = _help(command, dest)
        assert all(name in text for name in ENGINES), (command, text)
        assert "brand-new" in text
    daemon = next(g.description for g in _subparser("selfplay")._action_groups
                  if g.title == "daemon")
    assert f"{engine_names(MODEL_ENGINES, 'and')} play with it" in daemon
    assert f"{engine_names(BASIC_ENGINES, 'and')} play without a model" in daemon


def test_every_simulation_flag_names_its_engines_and_the_budgets():
    flags = 0
    for action in build_parser()._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for command, sub in action.choices.items():
            for flag in sub._actions:
                if any(o.endswith("mcts-simulations") for o in flag.option_strings):
                    flags += 1
                    assert engine_names(SIMULATION_ENGINES, "and") in flag.help, command
                    assert all(f"{name} ({count})" in flag.help
                               for name, count in BUDGETS.items()), command
    assert flags >= 8  # selfplay, loop (2), gauntlet, match (2), demo (2)
