"""Every numeric flag of every command rejects non-finite and out-of-range values up front."""

from __future__ import annotations

import argparse

import pytest

from ringrift.cli._flag_ranges import BOUNDS, Bound, check_flag_ranges
from ringrift.cli.main import build_parser, main
from ringrift.errors import UserError


def _filler(action: argparse.Action) -> list[str]:
    """A valid value for a required option or positional, so the flag under test parses."""
    if action.choices:
        return [str(next(iter(action.choices)))]
    return ["2" if action.type in (int, float) else "x"]


def _numeric_flags() -> list[tuple[list[str], str, type]]:
    """(argv prefix, flag, type) for every int/float option of every (nested) command; the
    prefix names the command and fills its required arguments."""
    found = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        required: list[str] = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not action.option_strings and action.nargs != 0:
                required += _filler(action)
            elif action.required:
                required += [action.option_strings[0], *_filler(action)]
        for group in parser._mutually_exclusive_groups:
            if group.required:
                first = group._group_actions[0]
                required += [first.option_strings[0], *_filler(first)]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif action.option_strings and action.type in (int, float) and not action.choices:
                found.append(([*path, *required], action.option_strings[0], action.type))

    walk(build_parser(), [])
    return found


NUMERIC = _numeric_flags()
PARSER = build_parser()  # (parsing does not change it: one for every case)


def test_every_command_has_numeric_flags_found():
    commands = {path[0] for path, _, _ in NUMERIC}
    assert {"selfplay", "train", "export", "gauntlet", "loop", "bench"} <= commands


@pytest.mark.parametrize("path,flag,kind", NUMERIC,
                         ids=[f"{p[0]} {f}" for p, f, _ in NUMERIC])
def test_negative_and_nan_values_are_refused_by_every_numeric_flag(path, flag, kind):
    parser = PARSER
    bad = ["-5"] + (["nan", "inf"] if kind is float else [str(2**63)])
    for value in bad:
        args = parser.parse_args([*path, flag, value])
        with pytest.raises(UserError, match=flag):
            check_flag_ranges(parser, args)


@pytest.mark.parametrize("argv,message", [
    (["selfplay", "--board-type", "square8", "--num-players", "2", "--output-dir", "OUT",
      "--heuristic-epsilon", "2"], "--heuristic-epsilon must be in [0, 1]"),
    (["selfplay", "--board-type", "square8", "--num-players", "2", "--output-dir", "OUT",
      "--heuristic-epsilon", "nan"], "must be a finite number"),
    (["selfplay", "--board-type", "square8", "--num-players", "2", "--output-dir", "OUT",
      "--dirichlet-alpha", "-1"], "--dirichlet-alpha must be greater than 0"),
    (["selfplay", "--board-type", "square8", "--num-players", "9", "--output-dir", "OUT"],
     "--num-players must be in [2, 4]"),
    (["gauntlet", "--board-type", "square8", "--num-players", "2", "--model", "m.pt",
      "--temperature", "-1"], "--temperature must be at least 0"),
    (["export", "--board-type", "square8", "--num-players", "2", "--output", "OUT/x.npz",
      "--max-games", "0"], "--max-games must be at least 1"),
    (["loop", "--run-dir", "OUT", "--board-type", "square8", "--iterations", "0"],
     "--iterations must be at least 1"),
    (["loop", "--run-dir", "OUT", "--board-type", "square8", "--learning-rate", "-1"],
     "--learning-rate must be greater than 0"),
])
def test_cli_reports_one_line_and_creates_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    argv = [str(out) if a == "OUT" else a.replace("OUT", str(out)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_bounds_table_messages():
    assert Bound(low=1).problem(0) == "must be at least 1"
    assert Bound(low=0, high=1, high_open=True).problem(1) == "must be in [0, 1)"
    assert BOUNDS["learning_rate"].problem(0) == "must be greater than 0"
    assert BOUNDS["learning_rate"].problem(1e-3) is None
