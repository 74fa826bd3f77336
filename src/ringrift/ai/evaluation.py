"""A fast hand-written evaluation: a score per seat, used by the heuristic player and by search.

Features (per player p): progress to each victory condition (credited eliminations, territory),
material (rings in hand, rings in stacks p controls, cap heights), stack control, mobility,
markers and line potential, territory threats. Weights come from a named profile.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from ringrift.errors import UserError
from ringrift.rules import GameState
from ringrift.rules.movegen import stack_can_act
from ringrift.rules.spec import GameSpec
from ringrift.rules.state import cap_height
from ringrift.rules.territory import find_regions

WIN_SCORE = 1000.0


@dataclass
class Weights:
    eliminated: float = 10.0     # credited eliminated rings / threshold
    territory: float = 8.0       # territory / territory minimum
    hand: float = 1.0            # rings in hand / rings per player
    controlled_rings: float = 2.0  # rings in stacks p controls / rings per player
    caps: float = 1.5            # summed cap heights / rings per player
    stacks: float = 0.3          # stacks controlled
    mobility: float = 0.3        # controlled stacks that can move
    markers: float = 0.05        # markers on the board
    line_potential: float = 0.4  # runs of L-1 markers
    region_threat: float = 6.0   # best region the player could process now / territory minimum
    opponent_weight: float = 1.0  # how much the best opponent's score counts against p


def load_profiles(path: str | Path | None = None) -> dict[str, Weights]:
    """Named weight profiles ("square8_2p", ..., "default") from a JSON file."""
    if path is None:
        text = resources.files("ringrift.ai").joinpath("heuristic_profiles.json").read_text()
        source = "built-in heuristic_profiles.json"
    else:
        try:
            text = Path(path).read_text()
        except UnicodeDecodeError:
            raise UserError(f"heuristic profile file {path}: not a UTF-8 text file") from None
        except OSError as exc:
            raise UserError(f"heuristic profile file {path}: {exc.strerror}") from None
        source = str(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{source}: not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{source}: must hold a JSON object of named profiles, not a "
                        f"{type(raw).__name__}")
    known = {f.name for f in fields(Weights)}
    profiles = {}
    for name, values in raw.items():
        if not isinstance(values, dict) or set(values) - known:
            bad = sorted(set(values) - known) if isinstance(values, dict) else values
            raise UserError(f"{source}: profile {name!r} has unknown weights {bad}")
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value):
                raise UserError(f"{source}: profile {name!r} weight {key} must be a finite "
                                f"number, got {value!r}")
        profiles[name] = Weights(**values)
    return profiles


def profile_for(spec: GameSpec, path: str | Path | None = None,
                name: str | None = None) -> Weights:
    profiles = load_profiles(path)
    key = name or f"{spec.board_type}_{spec.num_players}p"
    if name is not None and name not in profiles:
        raise UserError(f"no heuristic profile {name!r} (have: {', '.join(sorted(profiles))})")
    return profiles.get(key) or profiles.get("default") or Weights()


def player_scores(state: GameState, w: Weights) -> list[float]:
    """Raw score per seat (index 0 = seat 1)."""
    n = state.num_players
    rpp = state.rings_per_player
    stacks = state.stacks
    controlled = [0] * (n + 1)
    caps = [0] * (n + 1)
    mobile = [0] * (n + 1)
    for cell, rings in enumerate(stacks):
        if rings is None:
            continue
        owner = rings[0]
        cap = cap_height(rings)
        caps[owner] += cap
        controlled[owner] += len(rings)
        if w.mobility and stack_can_act(state, cell, len(rings), cap):
            mobile[owner] += 1
    potential = _line_potential(state) if w.line_potential else [0] * (n + 1)
    threats = _region_threats(state) if w.region_threat else [0] * (n + 1)
    scores = []
    for p in range(1, n + 1):
        scores.append(
            w.eliminated * state.eliminated[p] / state.victory_threshold
            + w.territory * state.territory[p] / state.territory_minimum
            + w.hand * state.hand[p] / rpp
            + w.controlled_rings * controlled[p] / rpp
            + w.caps * caps[p] / rpp
            + w.stacks * state.control_count[p]
            + w.mobility * mobile[p]
            + w.markers * state.marker_count[p]
            + w.line_potential * potential[p]
            + w.region_threat * threats[p] / state.territory_minimum
        )
    return scores


def _line_potential(state: GameState) -> list[int]:
    """Per player: maximal marker runs one short of a line (L - 1 long)."""
    n = state.num_players
    out = [0] * (n + 1)
    target = state.line_length - 1
    markers = state.markers
    for cell, owner in enumerate(markers):
        if not owner:
            continue
        for forward, backward in state.geo.line_rays[cell]:
            if backward and markers[backward[0]] == owner:
                continue
            length = 1
            for nxt in forward:
                if markers[nxt] != owner:
                    break
                length += 1
            if length >= target:
                out[owner] += 1
    return out


def _region_threats(state: GameState) -> list[int]:
    """Per player: cells + rings of the best disconnected region they could process now.

    Any player may claim any disconnected region on their turn, so such a region is a threat
    (or an opportunity) for every player who controls a stack outside it.
    """
    n = state.num_players
    out = [0] * (n + 1)
    if state.collapsed_total == 0 and state.marker_total < 4:
        return out  # nothing can be sealed yet
    stacks = state.stacks
    for region in find_regions(state):
        inside = set(region)
        rings = sum(len(stacks[c]) for c in region if stacks[c] is not None)
        size = len(region) + rings
        for p in range(1, n + 1):
            if out[p] >= size or not state.control_count[p]:
                continue
            controlled_inside = sum(1 for c in inside if stacks[c] is not None
                                    and stacks[c][0] == p)
            if state.control_count[p] > controlled_inside:
                out[p] = size
    return out


def evaluate(state: GameState, w: Weights) -> list[float]:
    """Value per seat in [-1, 1]: terminal results exactly, else squashed score differences."""
    n = state.num_players
    if state.is_over:
        from ringrift import rules

        return rules.outcome(state)
    scores = player_scores(state, w)
    values = []
    for p in range(n):
        best_other = max(scores[q] for q in range(n) if q != p)
        values.append(math.tanh((scores[p] - w.opponent_weight * best_other) / 10.0))
    return values
