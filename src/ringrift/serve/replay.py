"""A stored game as board frames plus an evaluation graph, for the board page and `ringrift view`.

Frame k is the position after k moves (frame 0: the start). The graph gives a value per seat
for every frame: the value the playing engine stored with the move chosen there (search games
store their root value), carried over forced moves; the final frame of a finished game is its
outcome. A game stored without values is valued by a network when one is given (its value head,
in seat order), else by the hand-written evaluation; `valueSource` says which.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ringrift import rules
from ringrift.data.records import GameRecord
from ringrift.errors import UserError
from ringrift.rules import GameState
from ringrift.serve.board import layout, move_label

ValueFn = Callable[[Sequence[GameState]], list[list[float]]]


def _frame(state: GameState, move: dict[str, Any] | None, label: str) -> dict[str, Any]:
    data = rules.state_to_json(state, history=False)  # a frame needs the position only
    board = data["board"]
    return {
        "stacks": {k: s["rings"] for k, s in board["stacks"].items()},
        "markers": {k: m["player"] for k, m in board["markers"].items()},
        "collapsed": dict(board["collapsedSpaces"]),
        "players": data["players"],
        "currentPlayer": state.current_player,
        "phase": state.phase,
        "gameOver": state.is_over,
        "move": move,
        "label": label,
    }


def replay_data(record: GameRecord, value_fn: ValueFn | None = None,
                value_source: str = "network") -> dict[str, Any]:
    """Frames and values of `record` (UserError when it does not replay through the rules)."""
    from ringrift.data.replay import ReplayError, replay_steps

    try:
        state = rules.state_from_json(record.initial_state)
    except rules.RulesError as exc:
        raise UserError(f"game {record.game_id}: bad initial state: {exc}") from None
    frames = [_frame(state, None, "start")]
    states = [state.copy()] if value_fn is not None else []
    stored: list[list[float] | None] = []
    try:
        for step, record_move in zip(replay_steps(record, keep_states=True), record.moves):
            label = move_label(step.state, step.move)
            stored.append(record_move.value)
            move_json = rules.move_to_json(step.state.geo, step.move)
            rules.apply_move(step.state, step.move, validate=False)
            frames.append(_frame(step.state, move_json, f"{record_move.index + 1}. p"
                                 f"{record_move.player} {label}"))
            if value_fn is not None:
                states.append(step.state.copy())
            final = step.state
    except ReplayError as exc:
        raise UserError(str(exc)) from None
    if not record.moves:
        final = state
    values, source = _values(record, frames, stored, states, value_fn, value_source, final)
    shape, cells = layout(record.board_type)
    return {
        "gameId": record.game_id, "boardType": record.board_type,
        "numPlayers": record.num_players, "engines": record.engines,
        "status": record.status, "winner": record.winner,
        "victoryReason": record.victory_reason, "shape": shape, "cells": list(cells),
        "frames": frames, "values": values, "valueSource": source,
    }


def _values(record: GameRecord, frames: list, stored: list, states: list,
            value_fn: ValueFn | None, value_source: str, final: GameState
            ) -> tuple[list[list[float]], str]:
    n = record.num_players
    if any(v is not None and len(v) == n for v in stored):
        values: list[list[float]] = []
        last = [0.0] * n
        for v in stored:  # the value stored with move k is frame k's
            if v is not None and len(v) == n:
                last = [round(float(x), 4) for x in v]
            values.append(last)
        values.append(list(rules.outcome(final)) if final.is_over else last)
        return values, "stored"
    if value_fn is not None:
        values = [[round(float(x), 4) for x in row] for row in value_fn(states)]
        if final.is_over:
            values[-1] = list(rules.outcome(final))
        return values, value_source
    from ringrift.ai.evaluation import evaluate, profile_for

    # re-walk the game: heuristic values need the states, which the frames do not keep
    state = rules.state_from_json(record.initial_state)
    weights = profile_for(state.spec)
    values = [[round(x, 4) for x in evaluate(state, weights)]]
    for frame in frames[1:]:
        rules.apply_move(state, rules.move_from_json(state.geo, frame["move"], state.phase),
                         validate=False)
        values.append([round(x, 4) for x in evaluate(state, weights)])
    return values, "heuristic"


def network_value_fn(evaluator) -> ValueFn:
    """Values per seat from a policy/value network's value head (finished positions: their
    outcome; the network never saw those)."""
    def value_fn(states: Sequence[GameState]) -> list[list[float]]:
        out: list[list[float]] = [[] for _ in states]
        live = [i for i, s in enumerate(states) if not s.is_over
                and len(rules.legal_moves(s)) > 0]
        live_set = set(live)
        for i, s in enumerate(states):
            if i not in live_set:
                out[i] = list(rules.outcome(s)) if s.is_over else [0.0] * s.num_players
        for start in range(0, len(live), 256):
            chunk = live[start:start + 256]
            _, values = evaluator.evaluate_states([states[i] for i in chunk])
            for i, row in zip(chunk, values):
                out[i] = [float(x) for x in row]
        return out
    return value_fn


def load_game(db_path: str | Path, game_id: str) -> GameRecord:
    """One game of a game database (UserError when the file or the game is missing)."""
    from ringrift.data.gamedb import GameDB

    if not Path(db_path).is_file():
        raise UserError(f"{db_path}: no such game database")
    with GameDB(db_path, readonly=True) as db:
        if not db.has_game(game_id):
            raise UserError(f"{db_path}: no game {game_id!r}")
        return db.get_game(game_id)


def static_text(name: str) -> str:
    """A file of the board page (package data)."""
    return resources.files("ringrift.serve").joinpath("static", name).read_text("utf-8")


def replay_html(data: dict[str, Any]) -> str:
    """A self-contained page (the board script and the game inlined) replaying `data`."""
    page = static_text("board.html")
    script = static_text("board.js")
    css = static_text("board.css")
    # "</" would end the inline script early; JSON allows "<\/"
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    if "</" in script or "</" in css:  # would end the inline element early
        raise RuntimeError("board.js/board.css must not contain '</'")
    inline = (f"<style>{css}</style>\n<script>window.RINGRIFT_REPLAY = {payload};</script>\n"
              f"<script>{script}</script>")
    start = page.index("<!--assets-->")
    end = page.index("<!--/assets-->") + len("<!--/assets-->")
    return page[:start] + inline + page[end:]
