"""Property-based fuzzing of state_from_json / move_from_json (issue 18, class 5).

Real states and moves (seeded random playouts on all four boards with 2-4 players, plus the
reference games in ../shared/traces when present) are mutated at any depth: fields deleted or
replaced by wrong types, huge / negative / NaN / infinite numbers, deep nesting, huge lists.
Only RulesError may escape; each parse stays under a fixed CPU-time and memory bound; an
accepted state loads back from its own JSON and survives a short random playout.

The example counts come from the "rules-fuzz" hypothesis profile (RINGRIFT_FUZZ_EXAMPLES scales
them; CI runs the default, >= 10,000 examples over the tests of this module). Examples are
derandomized so CI is reproducible; set RINGRIFT_FUZZ_RANDOM=1 to explore new ones.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import time
import tracemalloc
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringrift import rules
from ringrift.rules import moves as mv
from ringrift.rules.errors import IllegalMoveError, RulesError
from ringrift.rules.state import PHASES
from tests.conftest import SHARED_DIR

EXAMPLES = int(os.environ.get("RINGRIFT_FUZZ_EXAMPLES", "5000"))
settings.register_profile(
    "rules-fuzz",
    max_examples=EXAMPLES,
    deadline=None,  # the bounds below are CPU time, which other processes do not inflate
    database=None,
    derandomize=os.environ.get("RINGRIFT_FUZZ_RANDOM") != "1",
    suppress_health_check=list(HealthCheck),
)
FUZZ = settings.get_profile("rules-fuzz")

CPU_SECONDS = 2.0  # per parse; real states load in milliseconds
PEAK_BYTES = 64 << 20  # per parse, measured with tracemalloc
PLAYOUT_MOVES = 8

BOARDS = ("square8", "hex8", "square19", "hexagonal")


# --------------------------------------------------------------------------- corpus
# Move types worth a state of their own in the corpus (decisions and rarer moves).
INTERESTING = frozenset({
    mv.PROCESS_LINE, mv.CHOOSE_LINE_OPTION, mv.CHOOSE_TERRITORY_OPTION, mv.ELIMINATE_RINGS,
    mv.RECOVERY_SLIDE, mv.FORCED_ELIMINATION, mv.SWAP_SIDES, mv.CONTINUE_CAPTURE,
    mv.OVERTAKING_CAPTURE})


def _kind(phase: str, types: set[str]) -> tuple[str, tuple[str, ...]]:
    return phase, tuple(sorted(types & INTERESTING))


def _pick(moves: list, types: list[str], seed: int) -> list:
    """Up to 6 moves: every interesting type first, then random others."""
    rng = random.Random(seed)
    order = sorted(range(len(moves)), key=lambda i: (types[i] not in INTERESTING, rng.random()))
    return [moves[i] for i in order[:6]]


def _playout_states(board: str, players: int, seed: int, max_moves: int) -> list[rules.GameState]:
    """States of one random game: the first of each phase and set of interesting legal move
    types seen, and the last."""
    rng = random.Random(seed)
    state = rules.new_game(board, players)
    seen: dict[object, rules.GameState] = {}
    for _ in range(max_moves):
        if state.is_over:
            break
        legal = rules.legal_moves(state)
        seen.setdefault(_kind(state.phase, {m.type for m in legal}), state.copy())
        rules.apply_move(state, legal[rng.randrange(len(legal))], validate=False)
    seen["end"] = state
    return list(seen.values())


def _trace_items(limit_steps: int = 400) -> list[tuple[dict, dict, list[dict]]]:
    """(state with history, stateExtras, legal moves) at the first step of each phase and set of
    interesting legal move types of the first game of every trace file in ../shared/traces
    (none when it is absent)."""
    out = []
    for path in sorted((SHARED_DIR / "traces").glob("*.jsonl.gz")) if SHARED_DIR.is_dir() else []:
        history: list[dict] = []
        kinds: set[object] = set()
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if rec.get("type") == "final" or len(history) >= limit_steps:
                    break
                if rec.get("type") != "step":
                    continue
                state, legal = rec["state"], rec["legalMoves"]
                types = [m["type"] for m in legal]
                kind = _kind(state["currentPhase"], set(types))
                if kind not in kinds:
                    kinds.add(kind)
                    out.append((dict(state, moveHistory=list(history)), rec.get("stateExtras"),
                                _pick(legal, types, len(history))))
                history.append(rec["move"])
    return out


@cache
def corpus() -> tuple[tuple[str, str | None, tuple[str, ...]], ...]:
    """(state JSON text, extras JSON text, move JSON texts) of every real state."""
    items = []
    seed = 0
    for board in BOARDS:
        for players in (2, 3, 4):
            seed += 1
            max_moves = 200 if board in ("square8", "hex8") else 90
            for state in _playout_states(board, players, seed, max_moves):
                legal = rules.legal_moves(state)
                picks = _pick(legal, [m.type for m in legal], seed)
                items.append((json.dumps(rules.state_to_json(state)), None,
                              tuple(json.dumps(rules.move_to_json(state.geo, m)) for m in picks)))
    for state, extras, legal in _trace_items():
        items.append((json.dumps(state), json.dumps(extras) if extras else None,
                      tuple(json.dumps(m) for m in legal)))
    return tuple(items)


@cache
def loaded_state(index: int) -> rules.GameState:
    text, extras, _ = corpus()[index]
    return rules.state_from_json(json.loads(text), json.loads(extras) if extras else None)


# --------------------------------------------------------------------------- hostile values
def _deep(depth: int, container: str) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value] if container == "list" else {"x": value}
    return value


# Built once and shared: the parser must never copy, walk recursively or repr them in full.
PREBUILT = (
    _deep(50_000, "list"), _deep(50_000, "dict"), _deep(30, "list"), _deep(30, "dict"),
    [0] * 2_000_000, [{"x": 0, "y": 0}] * 200_000, [[1, 2]] * 100_000,
    {str(i): {"rings": [1]} for i in range(50_000)}, "1" * 1_000_000, "9" * 5000 + ",1",
)
NUMBERS = (0, -1, 1, 2, 3, 4, 5, 8, 9, 11, 13, 18, 19, 25, 72, 96, 469, 2**31, 2**63, -2**63,
           10**100, -10**100, 10**5000, 0.5, 3.0, -0.0, 1e308, float("nan"), float("inf"),
           float("-inf"), True, False)
STRINGS = ("", "1,1", "0,0", "0,0,0", "1,-1,0", "-1,-1", "9,9", "1,x", "3,3,0", "7,7,-14",
           "99999999999999999999,1", " 1,1", "1_0,1", "finished", "regular", "collapsed",
           "line", "territory", "recovery", "fallback", "stack_strike", "active", "completed",
           "waiting") + PHASES + mv.MOVE_TYPES + tuple(mv.MOVE_TYPE_ALIASES) + BOARDS
SCALARS = st.one_of(st.none(), st.sampled_from(NUMBERS), st.integers(), st.floats(),
                    st.sampled_from(STRINGS), st.text(max_size=8))
VALUES = st.one_of(
    SCALARS, SCALARS, SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.sampled_from(("x", "y", "z", "1", "2", "rings", "player", "0,0")),
                    SCALARS, max_size=3),
    st.sampled_from(PREBUILT),
)


@st.composite
def mutated(draw: st.DrawFn, root: Any) -> Any:
    """`root` (a fresh copy) with 1-3 mutations, each at a random depth."""
    inserted: set[int] = set()  # values put in by a mutation: never walked into (shared ones)

    def value() -> Any:
        v = draw(VALUES)
        inserted.add(id(v))
        return v

    for _ in range(draw(st.integers(1, 3))):
        parent, key = None, None
        node = root
        while (isinstance(node, (dict, list)) and node and id(node) not in inserted
               and (parent is None or draw(st.integers(0, 3)) > 0)):  # mostly deeper
            keys = list(node) if isinstance(node, dict) else range(len(node))
            key = draw(st.sampled_from(keys))
            parent, node = node, node[key]
        action = draw(st.sampled_from(("replace", "replace", "delete", "insert")))
        if parent is None or action == "insert":
            target = node if isinstance(node, (dict, list)) and id(node) not in inserted \
                else parent
            if isinstance(target, dict):
                target[draw(st.sampled_from(STRINGS + ("rings", "player", "board")))] = value()
            elif isinstance(target, list):
                target.insert(draw(st.integers(0, len(target))), value())
        elif action == "delete":
            del parent[key]
        else:
            parent[key] = value()
    return root


# --------------------------------------------------------------------------- bounded calls
def bounded(call: Any, *args: Any) -> Any:
    """Run `call(*args)`; only RulesError may escape (returned as the result), within the CPU
    time and tracemalloc peak bounds."""
    tracemalloc.start()
    start = time.process_time()
    try:
        result = call(*args)
    except RulesError as exc:
        result = exc
    finally:
        elapsed = time.process_time() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < CPU_SECONDS, f"{call.__name__} took {elapsed:.2f} s of CPU"
    assert peak < PEAK_BYTES, f"{call.__name__} allocated {peak >> 20} MiB"
    if isinstance(result, RulesError):
        assert str(result), "a RulesError must say what is wrong"
    return result


def playout(state: rules.GameState, seed: int) -> None:
    """A short random playout: every step has a legal move until the game ends."""
    rng = random.Random(seed)
    for _ in range(PLAYOUT_MOVES):
        if state.is_over:
            return
        legal = rules.legal_moves(state)
        assert legal, f"accepted state has no legal move: {state!r}"
        rules.apply_move(state, legal[rng.randrange(len(legal))])


# --------------------------------------------------------------------------- the properties
@pytest.mark.slow  # ~25 s of CPU with the CI profile
@FUZZ
@given(data=st.data())
def test_mutated_states_raise_rules_error_or_load_playable(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(corpus()) - 1), label="corpus item")
    text, extras_text, _ = corpus()[index]
    state_json = data.draw(mutated(json.loads(text)), label="state")
    extras = json.loads(extras_text) if extras_text else None
    if extras is not None and data.draw(st.booleans()):
        extras = data.draw(mutated(extras), label="extras")
    state = bounded(rules.state_from_json, state_json, extras)
    if isinstance(state, RulesError):
        return
    again = rules.state_from_json(rules.state_to_json(state))  # our own output loads back
    assert again.position_hash() == state.position_hash()
    playout(state, data.draw(st.integers(0, 2**32), label="seed"))


@pytest.mark.slow  # ~12 s of CPU with the CI profile
@FUZZ
@given(data=st.data())
def test_mutated_moves_raise_rules_error_or_apply_cleanly(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(corpus()) - 1), label="corpus item")
    _, _, moves = corpus()[index]
    if not moves:
        return
    move_json = data.draw(mutated(json.loads(data.draw(st.sampled_from(moves)))), label="move")
    state = loaded_state(index).copy()
    parsed = bounded(rules.move_from_json, state.geo, move_json, state.phase)
    resolved = bounded(rules.move_from_json, state, move_json)
    if isinstance(parsed, rules.Move) and isinstance(resolved, rules.Move):
        assert parsed == resolved  # a full payload means the same move either way
    if isinstance(resolved, rules.Move):
        try:
            rules.apply_move(state, resolved)
        except IllegalMoveError:
            return
        playout(state, data.draw(st.integers(0, 2**32), label="seed"))


DECISION_TYPES = ("process_line", "choose_line_option", "choose_territory_option")
PAYLOAD_KEYS = ("formedLines", "collapsedMarkers", "disconnectedRegions")


@cache
def decision_moves() -> tuple[tuple[int, str], ...]:
    return tuple((i, m) for i, (_, _, moves) in enumerate(corpus()) for m in moves
                 if json.loads(m)["type"] in DECISION_TYPES)


@pytest.mark.slow  # ~3 s of CPU with the CI profile, more under load
@settings(FUZZ, max_examples=max(1, EXAMPLES // 5))
@given(data=st.data())
def test_payload_less_decisions_resolve_or_raise_rules_error(data: st.DataObject) -> None:
    index, text = data.draw(st.sampled_from(decision_moves()), label="decision")
    move_json = json.loads(text)
    for key in PAYLOAD_KEYS:
        move_json.pop(key, None)
    for key in data.draw(st.lists(st.sampled_from(("player", "to", "lineIndex", "id", "type")),
                                  max_size=3), label="fields"):
        move_json[key] = data.draw(st.one_of(VALUES, st.sampled_from(DECISION_TYPES)), label=key)
    state = loaded_state(index).copy()
    move = bounded(rules.move_from_json, state, move_json)
    if isinstance(move, rules.Move):
        try:
            rules.apply_move(state, move)
        except IllegalMoveError:
            return
        playout(state, data.draw(st.integers(0, 2**32), label="seed"))


def test_corpus_covers_every_board_player_count_and_decision_phase() -> None:
    assert len(decision_moves()) >= 10  # the payload-less test has something to strip
    states = [json.loads(text) for text, _, _ in corpus()]
    combos = {(s["board"]["type"], len(s["players"])) for s in states}
    assert combos >= {(b, n) for b in BOARDS for n in (2, 3, 4)}
    phases = {s["currentPhase"] for s in states}
    assert phases >= {"ring_placement", "movement", "line_processing", "territory_processing"}


@pytest.mark.parametrize("where", ["board.size", "board", "players", "board.stacks",
                                   "moveHistory", "currentPlayer", "rulesOptions.ringsPerPlayer"])
@pytest.mark.parametrize("value", PREBUILT + (10**100, 2**63, float("nan"), float("inf")),
                         ids=lambda v: type(v).__name__)
def test_every_prebuilt_hostile_value_in_every_top_field(where: str, value: Any) -> None:
    state_json = json.loads(corpus()[0][0])
    *path, last = where.split(".")
    node = state_json
    for key in path:
        node = node.setdefault(key, {})
    node[last] = value
    result = bounded(rules.state_from_json, state_json)
    assert isinstance(result, RulesError), where


@settings(FUZZ, max_examples=max(1, EXAMPLES // 10))
@given(board=st.one_of(st.sampled_from(BOARDS), VALUES), players=st.one_of(st.integers(1, 5), VALUES),
       swap=st.one_of(st.none(), st.booleans(), VALUES), rings=st.one_of(st.none(), VALUES))
def test_new_game_raises_rules_error_or_starts_a_playable_game(board, players, swap, rings) -> None:
    try:
        state = rules.new_game(board, players, swap_rule=swap, rings_per_player=rings)
    except RulesError:
        return
    assert state.hand[1:] == [state.rings_per_player] * state.num_players
    playout(state, 1)
