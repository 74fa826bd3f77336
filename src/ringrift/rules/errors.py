"""Errors raised by the rules engine."""


class RulesError(ValueError):
    """Malformed input to the rules engine (state, move, coordinates)."""


class IllegalMoveError(RulesError):
    """A well-formed move that is not legal in the given state."""
