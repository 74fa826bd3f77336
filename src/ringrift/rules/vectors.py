"""Running contract test vectors (RULES.md §6.6-§6.9).

Load `input.state`, apply `input.move` (or `initialMove`, then follow the expected chain) with the
full rules; for `status: complete` auto-apply the bookkeeping `no_line_action` /
`no_territory_action` while it is the only legal move; then compare every assertion.
Vectors that RULES.md §6.9 lists as contradicting the rules are skipped with that reason.
"""

from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import dataclass
from typing import Any

from ringrift.rules import moves as mv
from ringrift.rules.apply import apply_move
from ringrift.rules.errors import RulesError
from ringrift.rules.jsonread import as_list, obj, opt_obj, show
from ringrift.rules.movegen import legal_moves
from ringrift.rules.serialize import move_from_json, parse_position, state_from_json
from ringrift.rules.state import GameState

# (id pattern, reason) from RULES.md §6.9; first match wins.
KNOWN_BAD_VECTORS: tuple[tuple[str, str], ...] = (
    ("territory.forced_elimination.simple_hexagonal",
     "§6.9: invalid coordinate (3,3,0) with x + y + z != 0"),
    ("multi_phase.full_sequence_with_territory_hex",
     "§6.9: invalid coordinates (7,7,-14) and cells outside radius 5"),
    ("forced_elimination.monotone_chain.*",
     "§6.9: single-player state; steps 2/final apply eliminate_rings_from_stack in ring_placement"),
    ("forced_elimination.anm_guard.hexagonal", "§6.9: single-player state"),
    ("chain_capture.depth3.segment3.square8",
     "§6.9: illegal move (landing at distance 4 with a height-5 stack)"),
    ("chain_capture.depth3.segment3.square19",
     "§6.9: illegal move (landing at distance 4 with a height-5 stack)"),
    ("chain_capture.depth3.segment*.hexagonal",
     "§6.9: illegal move (segments land at distance 2 with height >= 3)"),
    ("hex_edge_case.edge_chain.segment2.hexagonal",
     "§6.9: illegal move (distance 2 with a height-3 stack)"),
    ("meta.swap_sides.after_p1_first_move.square8",
     "§6.9: swap_sides in movement, without swapRuleEnabled, before player 1's turn ended"),
    ("territory.forced_elimination.simple_*",
     "§6.9: move.player differs from currentPlayer; expects territory_processing with completed"),
    ("territory.*.step2_*",
     "§6.9: move.player differs from currentPlayer / elimination without a processed region"),
    ("forced_elimination.territory_explicit.square8",
     "§6.9: eliminate_rings_from_stack with no preceding choose_territory_option"),
    ("forced_elimination.territory_no_host_fe.square8",
     "§4.7 source note: choose_territory_option without a processable region (here without "
     "any disconnectedRegions) is rejected; the reference treats it as a no-op"),
    ("multiplayer.line.3marker_forms_line_3p",
     "§6.9: expects a line, but the moving stack collapses the player's own markers (§4.3)"),
    ("multiplayer.line.4marker_line_in_2p",
     "§6.9: expects a line, but the moving stack collapses the player's own markers (§4.3)"),
    ("multiplayer.line.2marker_no_line_3p",
     "§6.9: pairs status 'complete' with currentPhase 'line_processing'"),
    ("territory.square_region_then_elim.*",
     "§6.9: the supplied region is not physically/colour-disconnected"),
    ("territory.*two_regions*", "§6.9: the supplied regions are not physically/colour-disconnected"),
    ("territory.hex_region_then_elim.*",
     "§6.9: the supplied region is not physically/colour-disconnected"),
    ("near_victory_territory.*",
     "§6.9: expects the game to end after choose_territory_option without self-elimination"),
    ("territory_processing.mizw0rb1.wpbd",
     "§6.9: region not disconnected; expects a win before the mandatory self-elimination"),
    ("recovery.exact_length_option1",
     "§6.9: expects 'active' but player 2 wins by early last-player-standing (§4.10.3)"),
    ("recovery.overlength_option1",
     "§6.9: expects 'active' but player 2 wins by early last-player-standing (§4.10.3)"),
    ("recovery.fallback_reposition",
     "§6.9: expects 'active' but player 2 wins by early last-player-standing (§4.10.3)"),
    ("multi_phase.placement_capture_line",
     "§6.9: the described 5-marker line cannot form; sInvariantDelta is 2 by §4.12"),
    ("multi_phase.line_then_multi_region_territory.*",
     "§6.9: metadata-only steps (empty boards, empty lines/regions)"),
)

_AWAITING_PHASES = ("capture", "chain_capture", "line_processing", "territory_processing",
                    "forced_elimination")


@dataclass
class VectorResult:
    id: str
    outcome: str  # "pass", "fail" or "skip"
    detail: str = ""

    def line(self) -> str:
        text = f"{self.outcome.upper():4} {self.id}"
        return f"{text}: {self.detail}" if self.detail else text


def skip_reason(vector: dict[str, Any]) -> str | None:
    vid = str(vector.get("id", ""))
    for pattern, reason in KNOWN_BAD_VECTORS:
        if fnmatch.fnmatchcase(vid, pattern):
            return reason
    if vector.get("skip"):
        return f"marked skip in the vector: {vector['skip']}"
    return None


def load_vector_files(paths: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(file, vector) pairs from files and folders (every *.json inside a folder)."""
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(sorted(os.path.join(path, f) for f in os.listdir(path)
                                if f.endswith(".json")))
        elif os.path.exists(path):
            files.append(path)
        else:
            raise RulesError(f"{path}: no such file or folder")
    out = []
    for f in files:
        try:
            with open(f, encoding="utf-8") as fh:
                bundle = json.load(fh)
        except (OSError, ValueError) as exc:  # (ValueError: bad JSON or not UTF-8 text)
            raise RulesError(f"{f}: cannot read vector bundle ({str(exc)[:200]})") from None
        vectors = bundle.get("vectors") if isinstance(bundle, dict) else None
        if not isinstance(vectors, list):
            raise RulesError(f"{f}: not a vector bundle (no 'vectors' list)")
        out.extend((f, v) for v in vectors)
    return out


def run_vector(vector: dict[str, Any]) -> VectorResult:
    if not isinstance(vector, dict):
        return VectorResult("?", "fail", f"error: a vector must be a JSON object, got {show(vector)}")
    vid = show(vector["id"])[1:-1] if isinstance(vector.get("id"), str) else "?"
    reason = skip_reason(vector)
    if reason:
        return VectorResult(vid, "skip", reason)
    try:
        return _run(vid, vector)
    except RulesError as exc:
        return VectorResult(vid, "fail", f"error: {exc}")


def _run(vid: str, vector: dict[str, Any]) -> VectorResult:
    inp = opt_obj(vector, "input", "vector")
    expected = opt_obj(vector, "expectedOutput", "vector")
    assertions = opt_obj(expected, "assertions", "vector.expectedOutput")
    state = state_from_json(inp.get("state"))
    before = state.s_invariant()
    geo = state.geo
    move_json = inp.get("move") or inp.get("initialMove")
    if move_json is None:
        raise RulesError("vector has no input.move or input.initialMove")
    mover = state.current_player
    chain = ChainRecord(state)
    move = move_from_json(geo, move_json, state.phase)
    apply_move(state, move)
    chain.observe(move)
    status = expected.get("status", "complete")
    sequence = inp.get("expectedChainSequence")
    expects_chain = assertions.get("currentPhase") == "chain_capture"
    if "initialMove" in inp and not expects_chain:
        _follow_chain(state, sequence, chain)
    if status == "complete":
        _auto_complete(state)
    failure = _check(state, before, mover, status, expected, chain)
    if failure:
        return VectorResult(vid, "fail", failure)
    return VectorResult(vid, "pass")


class ChainRecord:
    """What a capture chain did, for the chain assertions (§6.7)."""

    def __init__(self, state: GameState) -> None:
        self.segments = 0
        self.last_landing = -1
        self.markers_before = state.marker_total
        self.targets = set()
        self.state = state

    def observe(self, move: Any) -> None:
        if move.type in (mv.OVERTAKING_CAPTURE, mv.CONTINUE_CAPTURE):
            self.segments += 1
            self.last_landing = move.to
            self.targets.add(move.target)


def _follow_chain(state: GameState, sequence: list | None, chain: ChainRecord) -> None:
    sequence = as_list(sequence, "input.expectedChainSequence", 64) if sequence else []
    steps = sequence[1:] if sequence and chain.segments else list(sequence)
    while state.phase == "chain_capture" and not state.is_over:
        options = legal_moves(state)
        choice = options[0]
        if steps:
            step = obj(steps.pop(0), "input.expectedChainSequence[]")
            want = (parse_position(state.geo, step.get("from"), "expectedChainSequence.from"),
                    parse_position(state.geo, step.get("captureTarget"), "captureTarget"),
                    parse_position(state.geo, step.get("landing") or step.get("to"), "landing"))
            match = [m for m in options if (m.frm, m.target, m.to) == want]
            if not match:
                raise RulesError(f"expected chain segment {step} is not legal")
            choice = match[0]
        apply_move(state, choice)
        chain.observe(choice)


def _auto_complete(state: GameState) -> None:
    while not state.is_over and state.phase in ("line_processing", "territory_processing"):
        options = legal_moves(state)
        if len(options) == 1 and options[0].type in (mv.NO_LINE_ACTION, mv.NO_TERRITORY_ACTION):
            apply_move(state, options[0])
        else:
            break


def _check(state: GameState, before: int, mover: int, status: str, expected: dict[str, Any],
           chain: ChainRecord) -> str | None:
    awaiting = (not state.is_over and state.phase in _AWAITING_PHASES
                and state.current_player == mover)
    actual_status = "awaiting_decision" if awaiting else "complete"
    if status in ("complete", "awaiting_decision") and status != actual_status:
        return f"status: expected {status}, got {actual_status} (phase {state.phase})"
    actual = _actual_values(state, before, chain)
    for key, want in opt_obj(expected, "assertions", "vector.expectedOutput").items():
        if key not in actual:
            continue  # informational assertion keys (§6.8)
        got = actual[key]() if callable(actual[key]) else actual[key]
        if got != want:
            return f"{key}: expected {want!r}, got {got!r}"
    final = opt_obj(expected, "finalState", "vector.expectedOutput")
    if final:
        geo = state.geo
        if final.get("finalStackPosition") is not None:
            want = parse_position(geo, final["finalStackPosition"], "finalStackPosition")
            if chain.last_landing != want:
                return (f"finalStackPosition: expected {geo.keys[want]}, got "
                        f"{geo.keys[chain.last_landing] if chain.last_landing >= 0 else None}")
        if final.get("markerPositions") is not None:
            marker_list = as_list(final["markerPositions"], "finalState.markerPositions", geo.num_cells)
            want_set = {parse_position(geo, p, "markerPositions") for p in marker_list}
            got_set = {c for c, m in enumerate(state.markers) if m}
            if want_set != got_set:
                return (f"markerPositions: expected {sorted(geo.keys[c] for c in want_set)}, "
                        f"got {sorted(geo.keys[c] for c in got_set)}")
    return None


def _actual_values(state: GameState, before: int, chain: ChainRecord) -> dict[str, Any]:
    values: dict[str, Any] = {
        "currentPlayer": state.current_player,
        "currentPhase": state.phase,
        "gameStatus": state.status,
        "stackCount": state.stack_total,
        "markerCount": state.marker_total,
        "collapsedCount": state.collapsed_total,
        "sInvariantDelta": state.s_invariant() - before,
        "victoryWinner": state.winner or None,
        "victoryReason": state.victory_reason or None,
        "pendingDecisionType": lambda: _pending_decision(state),
        "totalCapturesInChain": chain.segments,
        "markersCreated": state.marker_total - chain.markers_before,
    }
    if chain.last_landing >= 0 and state.stacks[chain.last_landing] is not None:
        rings = state.stacks[chain.last_landing]
        values["finalStackHeight"] = len(rings)
        values["finalStackController"] = rings[0]
    values["targetStacksRemaining"] = sum(1 for c in chain.targets if state.stacks[c] is not None)
    for p in range(1, state.num_players + 1):
        values[f"player{p}RingsInHand"] = state.hand[p]
        values[f"player{p}EliminatedRings"] = state.eliminated[p]
        values[f"player{p}TerritorySpaces"] = state.territory[p]
    return values


def _pending_decision(state: GameState) -> str | None:
    if state.is_over:
        return None
    if state.phase == "line_processing":
        if state.pending_line_reward:
            return "line_reward_elimination"
        options = legal_moves(state)
        if any(m.type in (mv.PROCESS_LINE, mv.CHOOSE_LINE_OPTION) for m in options):
            return "select_line_to_process"
        return "no_line_action_required"
    if state.phase == "territory_processing":
        return "territory_self_elimination" if state.pending_region else "select_region"
    if state.phase == "chain_capture":
        return "chain_capture"
    if state.phase == "forced_elimination":
        return "forced_elimination"
    return None


def run_paths(paths: list[str]) -> list[VectorResult]:
    return [run_vector(v) for _, v in load_vector_files(paths)]
