"""Replaying stored game records through the rules engine (verify, export, quality checks)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ringrift import rules
from ringrift.data.records import GameRecord
from ringrift.rules import GameState, Move


class ReplayError(Exception):
    """A stored game that does not replay through the engine."""


# What the rules layer may raise for malformed stored JSON: a record is data from outside, so
# any of these means "this game is bad", never "the whole database is unreadable".
_MALFORMED = (rules.RulesError, KeyError, TypeError, ValueError, IndexError, AttributeError,
              RecursionError, OverflowError)


@dataclass
class ReplayStep:
    index: int
    state: GameState  # the state before the move (do not keep a reference across steps)
    move: Move
    legal: list[Move]


def replay_steps(record: GameRecord, *, keep_states: bool = False) -> Iterator[ReplayStep]:
    """Yield every step of a stored game with its legal moves; raise ReplayError on a mismatch."""
    try:
        state = rules.state_from_json(record.initial_state)
    except _MALFORMED as exc:
        raise ReplayError(f"game {record.game_id}: bad initial state: {exc!r}") from None
    for mr in record.moves:
        try:
            move = rules.move_from_json(state.geo, mr.move, state.phase)
            legal = rules.legal_moves(state)
        except _MALFORMED as exc:
            raise ReplayError(f"game {record.game_id} move {mr.index}: {exc}") from None
        key = move.key()
        match = [m for m in legal if m.key() == key]
        if not match:
            raise ReplayError(f"game {record.game_id} move {mr.index}: {mr.move.get('type')} is "
                              f"not legal (phase {state.phase})")
        yield ReplayStep(mr.index, state.copy() if keep_states else state, match[0], legal)
        try:
            rules.apply_move(state, match[0], validate=False)
        except _MALFORMED as exc:
            raise ReplayError(f"game {record.game_id} move {mr.index}: {exc!r}") from None
    _check_result(record, state)


def final_state(record: GameRecord) -> GameState:
    state = None
    for step in replay_steps(record, keep_states=True):
        state = step.state
        rules.apply_move(state, step.move, validate=False)
    if state is None:
        state = rules.state_from_json(record.initial_state)
    return state


def _check_result(record: GameRecord, state: GameState) -> None:
    if record.status == "completed":
        if not state.is_over:
            raise ReplayError(f"game {record.game_id}: stored as completed but the replay is "
                              f"still in {state.phase}")
        if record.winner != state.winner:
            raise ReplayError(f"game {record.game_id}: stored winner {record.winner}, replay "
                              f"gives {state.winner}")
        if record.final_ranks is not None and list(record.final_ranks) != rules.final_ranks(state):
            raise ReplayError(f"game {record.game_id}: stored ranks {record.final_ranks}, replay "
                              f"gives {rules.final_ranks(state)}")
    elif state.is_over:
        raise ReplayError(f"game {record.game_id}: stored as {record.status} but the replay ended")


def verify_record(record: GameRecord) -> str | None:
    """None if the game replays exactly, else what went wrong."""
    try:
        for _ in replay_steps(record):
            pass
    except ReplayError as exc:
        return str(exc)
    return None
