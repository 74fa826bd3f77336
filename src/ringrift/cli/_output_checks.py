"""Output paths of every command checked right after parsing, before any work.

Why by flag name: the familiar output flags (`--output`, `--save-path`, `--plot`,
`--output-dir`, `--run-dir`) mean the same thing in every command, so one check here covers the
commands that exist and those added later. A path under a file, a folder given for a file, or a
read-only folder is one line (exit 2) instead of a traceback after the work is done.
"""

from __future__ import annotations

import argparse

from ringrift.output_paths import check_output_dir, check_output_file

FILE_DESTS = ("output", "save_path", "plot")
DIR_DESTS = ("output_dir", "run_dir")


def check_outputs(args: argparse.Namespace) -> None:
    """Raise UserError for the first output flag whose path cannot be written."""
    for dest in FILE_DESTS + DIR_DESTS:
        value = getattr(args, dest, None)
        if not isinstance(value, str):
            continue
        flag = "--" + dest.replace("_", "-")
        if dest in FILE_DESTS:
            check_output_file(value, flag)
        else:
            check_output_dir(value, flag)
