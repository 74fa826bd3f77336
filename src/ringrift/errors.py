"""Errors that mean "the user gave us something wrong" (bad file, bad flag, bad data).

The CLI prints these as one line and exits non-zero; anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with user input: a missing or malformed file, a wrong flag, foreign data."""


class ConfigError(UserError):
    """A bad value of a config dataclass field. The library names the field ("batch_size must be
    >= 1"); the CLI names the flag that set it instead ("--batch-size must be >= 1")."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field} {problem}")


def check_fields(checks: list[tuple[bool, str, str]]) -> None:
    """Raise ConfigError for the first (ok, field, problem) that is not ok (a config's
    `validate()` lists its checks in field order)."""
    for ok, field, problem in checks:
        if not ok:
            raise ConfigError(field, problem)


class Interrupted(Exception):
    """A signal stopped a command after it saved its progress: the CLI prints the message as
    one line and exits 128 + `signum`."""

    def __init__(self, signum: int, message: str) -> None:
        self.signum = int(signum)
        super().__init__(message)
