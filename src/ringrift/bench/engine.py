"""Engine benchmark: random playouts plus the per-operation costs search depends on."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from typing import Any

from ringrift import rules
from ringrift.rules import GameSpec, GameState


def play_recorded_game(spec: GameSpec, rng: random.Random,
                       keep: list[GameState] | None = None) -> tuple[int, int]:
    """One random game; returns (moves, decisions). Optionally keeps a copy of every state."""
    state = rules.new_game(spec.board_type, spec.num_players)
    moves = decisions = 0
    while not state.is_over:
        legal = rules.legal_moves(state)
        if keep is not None:
            keep.append(state.copy())
        if len(legal) > 1:
            decisions += 1
            move = legal[rng.randrange(len(legal))]
        else:
            move = legal[0]
        rules.apply_move(state, move, validate=False)
        moves += 1
    return moves, decisions


def playout_figures(spec: GameSpec, games: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    start = time.perf_counter()
    cpu_start = time.process_time()
    moves = decisions = 0
    for _ in range(games):
        m, d = play_recorded_game(spec, rng)
        moves += m
        decisions += d
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return {
        "moves_per_s": moves / elapsed,
        # per second of this process's CPU time: the single-core speed, less sensitive than
        # wall time to other processes on a busy machine
        "cpu_moves_per_s": moves / cpu if cpu > 0 else float("nan"),
        "decisions_per_s": decisions / elapsed,
        "mean_game_length": moves / games,
        "games": games,
        "moves": moves,
        "seconds": elapsed,
        "cpu_seconds": cpu,
    }


def _sample_positions(spec: GameSpec, seed: int, games: int = 3) -> dict[str, list]:
    """Positions from real (random) games: opening, middle game (most stacks), endgame."""
    rng = random.Random(seed + 1)
    samples: dict[str, list[GameState]] = {"opening": [], "middle": [], "endgame": []}
    for _ in range(games):
        states: list[GameState] = []
        play_recorded_game(spec, rng, keep=states)
        n = len(states)
        samples["opening"].extend(states[: max(1, n // 10)])
        busiest = max(range(n), key=lambda i: states[i].stack_total)
        samples["middle"].extend(states[max(0, busiest - n // 20): busiest + n // 20 + 1])
        samples["endgame"].extend(states[n - max(1, n // 10):])
    return samples


def _time_per_call(fn, items: list, min_seconds: float = 0.2) -> float:
    """Mean microseconds per call of fn(item), cycling over items for at least min_seconds."""
    calls = 0
    start = time.perf_counter()
    while True:
        for item in items:
            fn(item)
        calls += len(items)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls * 1e6


def operation_figures(spec: GameSpec, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    for phase, states in _sample_positions(spec, seed).items():
        states = [s for s in states if not s.is_over] or states
        pairs = []
        for s in states:
            legal = rules.legal_moves(s)
            if legal:
                pairs.append((s, legal[rng.randrange(len(legal))]))

        def copy_and_apply(pair: tuple[GameState, rules.Move]) -> None:
            c = pair[0].copy()
            rules.apply_move(c, pair[1], validate=False)

        copy_us = _time_per_call(GameState.copy, states)
        out[phase] = {
            "positions": len(states),
            "legal_moves_us": _time_per_call(rules.legal_moves, states),
            "copy_us": copy_us,
            "apply_us": max(0.0, _time_per_call(copy_and_apply, pairs) - copy_us),
            "hash_us": _time_per_call(GameState.position_hash, states),
            "mean_legal_moves": sum(len(rules.legal_moves(s)) for s in states) / len(states),
        }
    return out


def _deep_size(obj: Any, seen: set[int]) -> int:
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, (list, tuple, set, frozenset)):
        size += sum(_deep_size(x, seen) for x in obj)
    elif isinstance(obj, dict):
        size += sum(_deep_size(k, seen) + _deep_size(v, seen) for k, v in obj.items())
    elif hasattr(obj, "__slots__") and not isinstance(obj, rules.Geometry):
        size += sum(_deep_size(getattr(obj, a), seen) for a in obj.__slots__ if hasattr(obj, a))
    return size


def memory_figures(spec: GameSpec, seed: int) -> dict[str, int]:
    """Bytes of a middle-game state (geometry shared, excluded) and new bytes made by a copy."""
    middle = _sample_positions(spec, seed, games=1)["middle"]
    state = middle[len(middle) // 2]
    seen = {id(state.geo)}
    total = _deep_size(state, set(seen))
    original_ids = set(seen)
    _deep_size(state, original_ids)
    copy = state.copy()
    copy_new = _deep_size(copy, original_ids)  # only objects the copy does not share
    return {"state_bytes": total, "copy_bytes": copy_new}


def import_seconds() -> float:
    code = ("import time; t = time.perf_counter(); import ringrift.rules; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())
