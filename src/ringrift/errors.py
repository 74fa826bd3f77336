"""Errors that mean "the user gave us something wrong" (bad file, bad flag, bad data).

The CLI prints these as one line and exits non-zero; anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with user input: a missing or malformed file, a wrong flag, foreign data."""
