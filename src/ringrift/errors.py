"""Errors that mean "the user gave us something wrong" (bad file, bad flag, bad data).

The CLI prints these as one line and exits non-zero; anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with user input: a missing or malformed file, a wrong flag, foreign data."""


class Interrupted(Exception):
    """A signal stopped a command after it saved its progress: the CLI prints the message as
    one line and exits 128 + `signum`."""

    def __init__(self, signum: int, message: str) -> None:
        self.signum = int(signum)
        super().__init__(message)
