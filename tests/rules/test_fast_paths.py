"""The engine's fast paths (bit sets, shared moves) against plain cell-by-cell reference code."""

from __future__ import annotations

import random

import pytest

from ringrift import rules
from ringrift.rules import bitboards, movegen, territory
from ringrift.rules import moves as mv
from ringrift.rules.moves import Move, make_move
from ringrift.rules.state import RING_PLACEMENT, GameState, cap_height

CONFIGS = [("square8", 2), ("square8", 4), ("hex8", 3), ("square19", 2), ("hexagonal", 2)]


def game_states(board: str, n: int, seed: int, every: int = 1) -> list[GameState]:
    rng = random.Random(seed)
    state = rules.new_game(board, n)
    out = []
    while not state.is_over:
        if state.move_count % every == 0:
            out.append(state.copy())
        legal = rules.legal_moves(state)
        rules.apply_move(state, legal[rng.randrange(len(legal))], validate=False)
    return out


# --------------------------------------------------------------------------- references
def reference_regions(state: GameState) -> tuple[tuple[int, ...], ...]:
    """§4.7 regions by breadth-first search over cells (the engine's former code)."""
    active = set(state.active_colors())
    if not active:
        return ()
    neighbors = state.geo.territory_neighbors
    base = [c != 0 for c in state.collapsed]
    passes = [base] + [[b or m == colour for b, m in zip(base, state.markers)]
                       for colour in range(1, state.num_players + 1)
                       if state.marker_count[colour]]
    regions, seen = [], set()
    for blocked in passes:
        done = blocked[:]
        for start in range(len(done)):
            if done[start]:
                continue
            done[start] = True
            comp = [start]
            for cell in comp:
                for n in neighbors[cell]:
                    if not done[n]:
                        done[n] = True
                        comp.append(n)
            colours = {state.stacks[c][0] for c in comp if state.stacks[c] is not None}
            region = tuple(sorted(comp))
            if colours < active and region not in seen:
                seen.add(region)
                regions.append(region)
    return tuple(regions)


def reference_placements(state: GameState, player: int) -> list[tuple]:
    """Every legal place_ring key, cell by cell and count by count (§4.1)."""
    hand = state.hand[player]
    max_count = min(3, hand, state.rings_per_player - state.ring_count[player])
    out = []
    for cell in range(state.geo.num_cells):
        if state.collapsed[cell] or state.markers[cell]:
            continue
        rings = state.stacks[cell]
        if rings is not None:
            cap = cap_height(rings) + 1 if rings[0] == player else 1
            if movegen.stack_can_act(state, cell, len(rings) + 1, cap):
                out.append(Move(mv.PLACE_RING, player, to=cell, count=1).key())
            continue
        for n in range(1, max_count + 1):
            if movegen.stack_can_act(state, cell, n, n):
                out.append(Move(mv.PLACE_RING, player, to=cell, count=n).key())
    return out


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("board", rules.BOARD_TYPES)
def test_layout_steps_are_the_board_neighbours(board):
    geo = rules.get_geometry(board)
    layout = bitboards.get_layout(geo)
    for steps, neighbours in ((layout.move_steps, geo.adjacent),
                              (layout.territory_steps, geo.territory_neighbors)):
        for cell in range(geo.num_cells):
            found = set()
            for offset, mask in steps:
                reached = bitboards.shift(mask & layout.bit[cell], -offset)
                found |= {c for c in range(geo.num_cells) if reached & layout.bit[c]}
            assert found == set(neighbours[cell])


@pytest.mark.parametrize("board", rules.BOARD_TYPES)
def test_members_and_selector_round_trip(board):
    geo = rules.get_geometry(board)
    layout = bitboards.get_layout(geo)
    rng = random.Random(1)
    values = [rng.randrange(5) for _ in range(geo.num_cells)]
    for p in range(5):
        bits = layout.members(bytes(values), bitboards.EQUALS[p])
        cells = [c for c in layout.cell_at if c >= 0 and bits & layout.bit[c]]
        assert cells == [c for c, v in enumerate(values) if v == p]
        assert [c for c in layout.cell_at if c >= 0 and layout.selector(bits)[layout.pos[c]]] == cells


@pytest.mark.parametrize(("board", "n"), CONFIGS)
def test_regions_match_a_cell_by_cell_search(board, n):
    checked = 0
    for seed in (1, 2):
        for state in game_states(board, n, seed, every=1 if "8" in board else 3):
            assert territory._find_regions(state) == reference_regions(state)
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(("board", "n"), CONFIGS)
def test_placements_match_a_cell_by_cell_check(board, n):
    checked = 0
    for seed in (3, 4):
        for state in game_states(board, n, seed):
            if state.phase != RING_PLACEMENT:
                continue
            for player in range(1, n + 1):
                if state.hand[player] <= 0:
                    continue
                expected = reference_placements(state, player)
                assert [m.key() for m in movegen.placement_moves(state, player)] == expected
                first = movegen.placement_moves(state, player, first_only=True)
                assert [m.key() for m in first] == expected[:1]
                checked += 1
    assert checked > 50


@pytest.mark.parametrize(("board", "n"), CONFIGS[:3])
def test_capture_existence_matches_capture_generation(board, n):
    for state in game_states(board, n, 5):
        for cell, rings in enumerate(state.stacks):
            if rings is not None:
                found: list[Move] = []
                movegen.captures_from(state, cell, rings[0], mv.OVERTAKING_CAPTURE, found)
                assert movegen.has_capture_from(state, cell) == bool(found)


def test_make_move_sets_every_field_like_the_constructor():
    fast = make_move(mv.OVERTAKING_CAPTURE, 2, 5, 9, 7, 0)
    slow = Move(mv.OVERTAKING_CAPTURE, 2, frm=5, to=9, target=7)
    assert all(getattr(fast, a) == getattr(slow, a) for a in Move.__slots__)
    assert fast == slow and hash(fast) == hash(slow)
