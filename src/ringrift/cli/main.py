"""The `ringrift` command. Each subcommand lives in its own module of this package.

A subcommand module defines `register(subparsers)`, which adds its parser and sets `func` to a
callable taking the parsed args and returning an exit status. Modules must import heavy
libraries (torch, numpy-heavy code) inside `func`, so `ringrift --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import sys

import ringrift.cli as cli_package
from ringrift.cli._flag_ranges import check_flag_ranges, chosen_actions
from ringrift.cli._output_checks import check_outputs
from ringrift.cli._parser import OneLineErrorParser
from ringrift.errors import ConfigError, Interrupted, UserError


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="ringrift", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "main":
            continue
        module = importlib.import_module(f"ringrift.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    _add_board_aliases(parser)
    return parser


def _add_board_aliases(parser: argparse.ArgumentParser) -> None:
    """`--board` names `--board-type` in every (sub)command that has it, as in the seed's
    command lines (`selfplay --board hex8`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                _add_board_aliases(sub)
    board_type = parser._option_string_actions.get("--board-type")
    if board_type is not None and "--board" not in parser._option_string_actions:
        board_type.option_strings.append("--board")
        parser._option_string_actions["--board"] = board_type


# command -> {config field or parameter: flag dest} where the flag's dest is not that name
FIELD_DESTS = {
    "selfplay": {"status_interval_s": "status_interval", "fmt": "format",
                 "simulations": "mcts_simulations", "gpu_max_wait_s": "gpu_max_wait_ms",
                 "model_path": "model", "evaluator": "gpu_evaluator"},
    "gauntlet": {"simulations": "mcts_simulations", "extra": "engine_option",
                 "model_path": "model"},
    "loop": {"eval_simulations": "eval_mcts_simulations"},
    "train": {"data_paths": "data_path"},
    "distill": {"data_paths": "data_path", "model_version": "student_arch"},
    "mine": {"data_paths": "data_path"},
    "pbt": {"data_paths": "data_path"},
    "tune": {"data_paths": "data_path"},
    "train-nnue": {"db_paths": "db"},
}


def _as_flags(parser: argparse.ArgumentParser, args: argparse.Namespace,
              exc: UserError) -> str:
    """A ConfigError names a config field; on the command line, name the flag that sets it
    (the option whose dest is the field, or FIELD_DESTS's), when the command has one."""
    if not isinstance(exc, ConfigError):
        return str(exc)
    dest = FIELD_DESTS.get(args.command, {}).get(exc.field, exc.field)
    for option in chosen_actions(parser, args):  # (`bench serve`: the nested command's too)
        if option.dest == dest:
            return f"{option.option_strings[0]} {exc.problem}"
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # the reader went away (`ringrift ... | head`): stop quietly, as Unix tools do; point
        # stdout at /dev/null so the interpreter's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # SIGPIPE


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"  # (not Python's two lines quoting our source code)


def _main(argv: list[str] | None) -> int:
    import warnings

    warnings.formatwarning = _one_line_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        check_flag_ranges(parser, args)  # every numeric flag, before any work starts
        check_outputs(args)  # every output path: writable, a file where a file is meant
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"ringrift {args.command}: error: {_as_flags(parser, args, exc)}", file=sys.stderr)
        return 2
    except Interrupted as stop:
        print(f"ringrift {args.command}: interrupted: {stop}", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print(f"ringrift {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # rules errors come from a layer that cannot import UserError
        from ringrift.rules.errors import RulesError

        if isinstance(exc, RulesError):
            print(f"ringrift {args.command}: error: {exc}", file=sys.stderr)
            return 2
        line = _environment_problem(exc)
        if line:
            print(f"ringrift {args.command}: error: {line}", file=sys.stderr)
            return 2
        raise


def _environment_problem(exc: Exception) -> str | None:
    """One line for failures of the user's files rather than of our code: a damaged or
    read-only SQLite database, a path that cannot be read or written. The commands check
    their paths first; this is the net for what a check could not foresee (a page corrupted
    in the middle of a table, a disk that fills up)."""
    import sqlite3

    if isinstance(exc, sqlite3.DatabaseError):
        return f"database problem: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    text = str(exc)
    if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and (
            "can't allocate memory" in text or "out of memory" in text.lower())):
        wanted = re.search(r"allocate (\d+) bytes", text)
        size = f" ({int(wanted.group(1)) / 2**30:.1f} GiB asked)" if wanted else ""
        return (f"out of memory{size}: a smaller network (--channels, --blocks) or batch "
                "(--batch-size) may fit")
    return None


if __name__ == "__main__":
    sys.exit(main())
