"""Replaying reference games (../shared/traces format) through our engine.

At every step: compare our legal moves with the recorded ones, apply the recorded move, compare
the resulting state with the next recorded state. Differences are traced, where possible, to the
reference engine's listed deviations (traces/README.md); the replay continues past a known
deviation whenever the recorded move is still legal for us, so a later real bug is not hidden.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ringrift.rules import moves as mv
from ringrift.rules.apply import apply_move
from ringrift.rules.errors import RulesError
from ringrift.rules.movegen import legal_moves
from ringrift.rules.moves import Move
from ringrift.rules.serialize import move_from_json, parse_position, state_from_json
from ringrift.rules.state import GameState

DEVIATIONS = {
    1: "process_line on an overlength line is a no-op in the reference",
    2: "hex8 3-4p: the reference detects lines only from 4 markers",
    3: "choose_territory_option lists may repeat a region",
    4: "swap_sides does not change the serialized state",
    5: "recovery extractionStacks may be empty in the reference",
    6: "victory evaluated at turn end; host last-player-standing",
    7: "2/3-ring placements where only the taller stack can move",
    8: "territory regions sealed only by collapsed cells and edges",
    9: "recovery option 2: every window of L markers",
}


def deviation_name(number: int) -> str:
    return f"{number}: {DEVIATIONS[number]}"


@dataclass
class Divergence:
    game: str
    step: int
    what: str
    known_deviation: str | None

    def as_json(self) -> dict[str, Any]:
        return {"game": self.game, "step": self.step, "what": self.what,
                "known_deviation": self.known_deviation}


@dataclass
class FileReport:
    file: str
    games: int = 0
    games_agreeing: int = 0
    steps: int = 0
    steps_agreeing: int = 0
    divergences: list[Divergence] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "games": self.games, "games_agreeing": self.games_agreeing,
                "steps": self.steps, "steps_agreeing": self.steps_agreeing,
                "divergences": [d.as_json() for d in self.divergences]}


def read_games(path: str) -> Iterator[tuple[dict, list[dict], dict | None]]:
    """Yield (game header, step records, final record) per game of a .jsonl(.gz) trace file."""
    opener = gzip.open if path.endswith(".gz") else open
    header: dict | None = None
    steps: list[dict] = []
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise RulesError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
                kind = rec.get("type") if isinstance(rec, dict) else None
                if kind == "game":
                    if header is not None:
                        yield header, steps, None
                    header, steps = rec, []
                elif kind == "step":
                    steps.append(rec)
                elif kind == "final":
                    if header is None:
                        raise RulesError(f"{path}:{lineno}: 'final' record before any 'game'")
                    yield header, steps, rec
                    header, steps = None, []
                else:
                    raise RulesError(f"{path}:{lineno}: unknown record type {kind!r}")
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read trace file ({str(exc)[:200]})") from None
    if header is not None:
        yield header, steps, None


# --------------------------------------------------------------------------- comparisons
def _project(move: Move, drop_extract: bool) -> tuple:
    key = move.key()
    if drop_extract and move.type == mv.RECOVERY_SLIDE:
        key = key[:-1] + ((),)
    return key


def _classify_legal(state: GameState, ours: list[Move], recorded: list[Move],
                    recorded_raw: list[dict]) -> tuple[str | None, set[int]]:
    """Compare legal lists. Returns (description of the difference or None, deviations used)."""
    devs: set[int] = set()
    drop_extract = any(m.get("type") == mv.RECOVERY_SLIDE and not m.get("extractionStacks")
                       for m in recorded_raw)
    if drop_extract:
        devs.add(5)
    if len(recorded) != len({m.key() for m in recorded}):
        if all(m.type == mv.CHOOSE_TERRITORY_OPTION or
               sum(1 for r in recorded if r.key() == m.key()) == 1 for m in recorded):
            devs.add(3)
    our_keys = {_project(m, drop_extract): m for m in ours}
    rec_keys = {_project(m, drop_extract): m for m in recorded}
    extra = [m for k, m in our_keys.items() if k not in rec_keys]
    missing = [m for k, m in rec_keys.items() if k not in our_keys]
    if not extra and not missing:
        return None, devs
    unexplained_extra = []
    for m in extra:
        if m.type == mv.PLACE_RING and m.count >= 2:
            devs.add(7)
        elif m.type in (mv.CHOOSE_TERRITORY_OPTION, mv.SKIP_TERRITORY):
            devs.add(8)
        elif m.type == mv.RECOVERY_SLIDE and m.option == 2:
            devs.add(9)
        elif (m.type in (mv.PROCESS_LINE, mv.CHOOSE_LINE_OPTION)
              and state.geo.board_type == "hex8" and state.num_players >= 3):
            devs.add(2)
        else:
            unexplained_extra.append(m)
    unexplained_missing = []
    for m in missing:
        if m.type == mv.PROCESS_LINE and len(m.line) > state.line_length:
            devs.add(1)
        elif m.type == mv.NO_TERRITORY_ACTION and 8 in devs:
            pass
        elif (m.type == mv.NO_LINE_ACTION and state.geo.board_type == "hex8"
              and state.num_players >= 3):
            devs.add(2)
        else:
            unexplained_missing.append(m)
    if unexplained_extra or unexplained_missing:
        parts = []
        if unexplained_extra:
            parts.append(f"we also allow {unexplained_extra[:3]}"
                         + (f" (+{len(unexplained_extra) - 3} more)" if len(unexplained_extra) > 3
                            else ""))
        if unexplained_missing:
            parts.append(f"reference also allows {unexplained_missing[:3]}"
                         + (f" (+{len(unexplained_missing) - 3} more)"
                            if len(unexplained_missing) > 3 else ""))
        return "legal moves differ: " + "; ".join(parts), set()
    return f"legal moves differ by {len(extra)} extra / {len(missing)} missing", devs


def state_summary(state: GameState, extraction_offset: int) -> dict[str, Any]:
    """The fields compared after every step, from our state."""
    return {
        "stacks": {c: r for c, r in enumerate(state.stacks) if r is not None},
        "markers": {c: m for c, m in enumerate(state.markers) if m},
        "collapsed": {c: o for c, o in enumerate(state.collapsed) if o},
        "ringsInHand": state.hand[1:],
        "eliminatedRings": state.eliminated[1:],
        "territorySpaces": state.territory[1:],
        "totalRingsEliminated": state.total_eliminated - extraction_offset,
        "currentPlayer": state.current_player,
        "currentPhase": state.phase,
        "gameStatus": state.status,
        "mustMove": state.must_move,
        "chainCapturePosition": state.chain_pos,
    }


def json_summary(state: GameState, data: dict[str, Any]) -> dict[str, Any]:
    """The same fields, read from a recorded serialized state (RulesError if it is malformed)."""
    try:
        return _json_summary(state, data)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # reading the record only
        raise RulesError(f"malformed recorded state ({type(exc).__name__}: {exc})") from None


def _json_summary(state: GameState, data: dict[str, Any]) -> dict[str, Any]:
    geo = state.geo
    board = data["board"]
    players = data["players"]
    chain = data.get("chainCapturePosition")
    must = data.get("mustMoveFromStackKey")
    return {
        "stacks": {parse_position(geo, st.get("position", k)): tuple(st["rings"])
                   for k, st in board.get("stacks", {}).items()},
        "markers": {parse_position(geo, mk.get("position", k)): mk["player"]
                    for k, mk in board.get("markers", {}).items()},
        "collapsed": {parse_position(geo, k): o for k, o in board.get("collapsedSpaces", {}).items()},
        "ringsInHand": [p["ringsInHand"] for p in players],
        "eliminatedRings": [p["eliminatedRings"] for p in players],
        "territorySpaces": [p["territorySpaces"] for p in players],
        "totalRingsEliminated": data.get("totalRingsEliminated", 0),
        "currentPlayer": data["currentPlayer"],
        "currentPhase": data["currentPhase"],
        "gameStatus": {"finished": "completed"}.get(data["gameStatus"], data["gameStatus"]),
        "mustMove": parse_position(geo, must) if must else -1,
        "chainCapturePosition": parse_position(geo, chain) if chain else -1,
    }


def _first_difference(ours: dict[str, Any], ref: dict[str, Any], geo: Any,
                      ignore: tuple[str, ...] = ()) -> str | None:
    for key in ours:
        if key in ignore or ours[key] == ref[key]:
            continue
        a, b = ours[key], ref[key]
        if isinstance(a, dict):
            cells = sorted(set(a) ^ set(b) | {c for c in set(a) & set(b) if a[c] != b[c]})
            shown = [f"{geo.keys[c]}: ours {a.get(c)} ref {b.get(c)}" for c in cells[:3]]
            return f"{key} differ at " + ", ".join(shown)
        if key in ("mustMove", "chainCapturePosition"):
            a = geo.keys[a] if a >= 0 else None
            b = geo.keys[b] if b >= 0 else None
        return f"{key}: ours {a}, reference {b}"
    return None


# --------------------------------------------------------------------------- one game
def _extraction_cost(move: Move) -> int:
    """Slide extractions the reference leaves out of totalRingsEliminated (§4.5 source note)."""
    if move.type == mv.RECOVERY_SLIDE and move.extract:
        return len(move.extract)
    return 0


def replay_game(header: dict, steps: list[dict], final: dict | None,
                report: FileReport) -> None:
    game_id = str(header.get("gameId", f"game{report.games}"))
    report.games += 1
    first_known: Divergence | None = None
    first_unknown: Divergence | None = None

    def note(step: int, what: str, devs: set[int] | None) -> None:
        nonlocal first_known, first_unknown
        if devs:
            if first_known is None:
                first_known = Divergence(game_id, step, what,
                                         ", ".join(deviation_name(d) for d in sorted(devs)))
        elif first_unknown is None:
            first_unknown = Divergence(game_id, step, what, None)

    try:
        state = state_from_json(header["initialState"], header.get("initialStateExtras"))
    except (RulesError, KeyError) as exc:
        note(0, f"cannot load initial state: {exc}", None)
        _finish_report(report, first_known, first_unknown)
        return
    offset = 0
    stopped = False
    for i, step in enumerate(steps):
        report.steps += 1
        geo = state.geo
        step_ok = True
        try:
            legal_raw, move_raw = step_record(step, i)
            recorded = [move_from_json(geo, m, state.phase) for m in legal_raw]
            played = move_from_json(geo, move_raw, state.phase)
        except RulesError as exc:
            note(i, f"cannot parse recorded move: {exc}", None)
            stopped = True
            break
        ours = legal_moves(state)
        diff, devs = _classify_legal(state, ours, recorded, legal_raw)
        if diff is not None or devs:
            step_ok = False
            note(i, diff or "legal move lists differ only in form", devs if diff is None or devs
                 else None)
            if diff is not None and not devs:
                stopped = True
                break
        # apply the recorded move
        if played.type == mv.PROCESS_LINE and len(played.line) > state.line_length:
            step_ok = False
            note(i, "recorded process_line on an overlength line (no-op)", {1})
            nxt_state = state
        else:
            candidates = _candidates_for(played, ours)
            if not candidates:
                if devs & {2, 8}:
                    note(i, f"recorded {played.type} is not legal for us", devs & {2, 8})
                else:
                    note(i, f"recorded move {played!r} is not legal for us", None)
                stopped = True
                break
            nxt_state = None
            expected = _expected_after(steps, i, final)
            try:
                for cand in candidates:
                    trial = state.copy()
                    apply_move(trial, cand, validate=False)
                    trial_offset = offset + _extraction_cost(cand)
                    if expected is None or _compare_after(trial, trial_offset, expected,
                                                          header) is None:
                        nxt_state, chosen = trial, cand
                        break
                what = None if nxt_state is not None else _compare_after(
                    trial, offset + _extraction_cost(candidates[-1]), expected, header)
            except RulesError as exc:  # the next recorded state is malformed
                note(i, f"cannot read the state recorded after step {i}: {exc}", None)
                stopped = True
                break
            if nxt_state is None:
                note(i, f"after {played.type}: {what}", None)
                stopped = True
                break
            offset += _extraction_cost(chosen)
        state = nxt_state
        if step_ok:
            report.steps_agreeing += 1
        if state.is_over and i + 1 < len(steps):
            note(i, f"our game ended after step {i} ({state.victory_reason}, winner "
                    f"{state.winner}) but the reference continues", None)
            stopped = True
            break
    if not stopped and final is not None:
        what = _compare_final(state, final)
        if what is not None:
            note(len(steps), what, None)
    _finish_report(report, first_known, first_unknown)


def step_record(step: dict, i: int) -> tuple[list, dict]:
    """The recorded legal moves and move of step `i` (RulesError if the record lacks them)."""
    legal, move = step.get("legalMoves"), step.get("move")
    if not isinstance(legal, list) or not isinstance(move, dict):
        raise RulesError(f"step {i}: the record needs a 'legalMoves' list and a 'move' object")
    return legal, move


def _candidates_for(played: Move, ours: list[Move]) -> list[Move]:
    key = played.key()
    exact = [m for m in ours if m.key() == key]
    if exact:
        return exact
    if played.type == mv.RECOVERY_SLIDE and not played.extract:
        loose = _project(played, True)
        return [m for m in ours if _project(m, True) == loose]
    return []


def _expected_after(steps: list[dict], i: int, final: dict | None) -> dict | None:
    after = steps[i].get("after")
    after = after if isinstance(after, dict) else {}
    if i + 1 < len(steps):
        return {"state": steps[i + 1].get("state"), "after": after}
    if final is not None and final.get("finalState"):
        return {"state": final["finalState"], "after": after, "final": True}
    return None


def _compare_after(state: GameState, offset: int, expected: dict, header: dict) -> str | None:
    ref = json_summary(state, expected["state"])
    ours = state_summary(state, offset)
    ignore: tuple[str, ...] = ()
    if expected.get("final") or state.is_over:
        # terminal shapes differ (§4.10 source note, deviation 6): compare the board only
        ignore = ("currentPlayer", "currentPhase", "gameStatus", "mustMove",
                  "chainCapturePosition")
    if ours["currentPhase"] not in ("movement", "capture"):
        # the must-move key only matters while moving; the reference keeps it set after
        # skip_capture, where RULES.md clears it on entering line processing
        ignore += ("mustMove",)
    what = _first_difference(ours, ref, state.geo, ignore)
    if what is not None:
        return what
    after = expected["after"]
    pending = after.get("pendingLineRewardElimination")
    if pending is not None and not state.is_over and bool(pending) != state.pending_line_reward:
        return f"pendingLineRewardElimination: ours {state.pending_line_reward}, reference {pending}"
    return None


def _compare_final(state: GameState, final: dict) -> str | None:
    winner = final.get("winner")
    if not state.is_over:
        return f"the reference game ended (winner {winner}) but ours is still {state.phase}"
    if winner != state.winner:
        return f"winner: ours {state.winner} ({state.victory_reason}), reference {winner}"
    reason = final.get("victoryReason")
    if reason and reason != state.victory_reason:
        return f"victory reason: ours {state.victory_reason}, reference {reason}"
    return None


def _finish_report(report: FileReport, known: Divergence | None,
                   unknown: Divergence | None) -> None:
    if known is None and unknown is None:
        report.games_agreeing += 1
        return
    for d in (known, unknown):
        if d is not None:
            report.divergences.append(d)


def replay_file(path: str, max_games: int | None = None) -> FileReport:
    report = FileReport(file=path)
    for n, (header, steps, final) in enumerate(read_games(path)):
        if max_games is not None and n >= max_games:
            break
        replay_game(header, steps, final, report)
    return report


def trace_moves(header: dict, steps: list[dict], final: dict | None) -> Iterator[tuple[Move, int,
                                                                                     str]]:
    """Our moves for a reference game, as (move, player, phase) in order.

    Resolves the reference's quirks the same way the replay does: a `process_line` on an
    overlength line is a no-op and is dropped (deviation 1); a recovery slide recorded without
    its extraction stack gets the one whose result matches the next recorded state (deviation 5).
    Raises RulesError when a recorded move is not legal for us.
    """
    state = state_from_json(header["initialState"], header.get("initialStateExtras"))
    offset = 0
    for i, step in enumerate(steps):
        played = move_from_json(state.geo, step_record(step, i)[1], state.phase)
        if played.type == mv.PROCESS_LINE and len(played.line) > state.line_length:
            continue
        candidates = _candidates_for(played, legal_moves(state))
        if not candidates:
            raise RulesError(f"step {i}: recorded {played!r} is not legal for us")
        chosen = candidates[0]
        if len(candidates) > 1:
            expected = _expected_after(steps, i, final)
            for cand in candidates:
                trial = state.copy()
                apply_move(trial, cand, validate=False)
                if expected is None or _compare_after(
                        trial, offset + _extraction_cost(cand), expected, header) is None:
                    chosen = cand
                    break
        yield chosen, state.current_player, state.phase
        offset += _extraction_cost(chosen)
        apply_move(state, chosen, validate=False)
