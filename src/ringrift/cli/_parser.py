"""The argument parser of every (sub)command: a wrong flag is one line, not a page of usage.

argparse prints the whole usage (twenty lines for `train`) before its error; a user who typed
one flag wrong needs the error and where to look.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line naming `--help`; exit status 2 as before.
    Subparsers inherit the class (argparse makes them with the parent's type)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)
