"""Action index: round trip and no collisions on every state of random games, rare moves built by
hand, bounds, and the layout sizes."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from ringrift import rules
from ringrift.nn import actions
from ringrift.nn.actions import ActionIndexError
from ringrift.rules import boards
from ringrift.rules import moves as mv
from ringrift.rules.boards import get_geometry
from ringrift.rules.spec import GameSpec
from ringrift.rules.state import LINE_PROCESSING, MOVEMENT, TERRITORY_PROCESSING, GameState

BOARDS = ("square8", "hex8", "square19", "hexagonal")
CONFIGS = [(b, n) for b in BOARDS for n in (2, 3, 4)]
SMALL = ("square8", "hex8")


# --------------------------------------------------------------------------- helpers
def build_state(board: str, num_players: int, *, stacks=None, markers=None, collapsed=None,
                player: int = 1, phase: str = MOVEMENT) -> GameState:
    """A state with the given pieces (coordinates as tuples; stacks top ring first)."""
    geo = get_geometry(board)
    s = GameState.empty(geo, num_players)
    for coord, rings in (stacks or {}).items():
        s.set_stack(geo.index[coord], tuple(rings))
    for coord, p in (markers or {}).items():
        s.set_marker(geo.index[coord], p)
    for coord, p in (collapsed or {}).items():
        s.set_collapsed(geo.index[coord], p)
    for p in range(1, num_players + 1):
        s.hand[p] = max(0, s.rings_per_player - s.ring_count[p] - 4)
    s.current_player = player
    s.phase = phase
    return s


def step(coord, direction, k=1):
    return tuple(c + k * d for c, d in zip(coord, direction))


def centre(board: str):
    geo = get_geometry(board)
    return (0, 0, 0) if geo.is_hex else (geo.size // 2 - 1, geo.size // 2 - 1)


def recovery_state(board: str, num_players: int, axis: int) -> GameState:
    """Player 1 can slide a marker into the gap of a 5-marker run along `axis` from every side."""
    geo = get_geometry(board)
    dirs = boards.HEX_DIRECTIONS if geo.is_hex else boards.SQUARE_MOORE
    axes = boards.HEX_LINE_AXES if geo.is_hex else boards.SQUARE_LINE_AXES
    gap = centre(board)
    a = axes[axis]
    markers = {step(gap, a, k): 1 for k in (-3, -2, -1, 1, 2)}
    for d in dirs:
        cell = step(gap, d)
        if cell not in markers:
            markers[cell] = 1
    far = geo.coords[0]
    stacks = {far: (2, 1), geo.coords[-1]: (2, 2, 1, 1), geo.coords[len(geo.coords) // 3]: (3 if
              num_players > 2 else 2, 1)}
    return build_state(board, num_players, stacks=stacks, markers=markers, phase=MOVEMENT)


def line_state(board: str, num_players: int) -> GameState:
    """Line processing with an exact line, overlength lines of both parities and a crossing."""
    geo = get_geometry(board)
    axes = boards.HEX_LINE_AXES if geo.is_hex else boards.SQUARE_LINE_AXES
    length = GameSpec(board, num_players).line_length
    c = centre(board)
    markers = {}
    for k in range(-1, length + 1):  # overlength, length L + 2, through the centre
        markers[step(c, axes[0], k)] = 1
    for k in range(1, length + 2):  # L + 1 on another axis, sharing the centre's neighbour cell
        markers[step(step(c, axes[0], 1), axes[1], k)] = 1
    markers = {k: v for k, v in markers.items() if k in geo.index}
    taken = {geo.index[m] for m in markers}
    for start in geo.coords:  # an exact line touching nothing else
        cells = [step(start, axes[0], k) for k in range(length)]
        if all(x in geo.index for x in cells) and not any(
                geo.index[x] in taken or taken & set(geo.adjacent[geo.index[x]]) for x in cells):
            markers.update({x: 1 for x in cells})
            break
    stacks = {geo.coords[0]: (1, 2), geo.coords[-1]: (2,)}
    return build_state(board, num_players, stacks=stacks, markers=markers, phase=LINE_PROCESSING)


def region_state(board: str, region, *, num_players: int = 2) -> GameState:
    """Territory processing for player 1 with `region` sealed by collapsed cells."""
    geo = get_geometry(board)
    inside = {geo.index[c] for c in region}
    walls = {geo.coords[n] for c in inside for n in geo.territory_neighbors[c] if n not in inside}
    free = [c for c in geo.coords if geo.index[c] not in inside and c not in walls]
    stacks = {free[0]: (1,), free[-1]: (2,)}
    return build_state(board, num_players, stacks=stacks, collapsed={w: 2 for w in walls},
                       phase=TERRITORY_PROCESSING)


def check_state(state: GameState) -> tuple[list, np.ndarray]:
    """Round trip and no collisions over every legal move; returns (moves, indices)."""
    moves, idx = actions.legal_moves_and_indices(state)
    size = actions.policy_size(state.geo.board_type)
    assert idx.dtype == np.int32
    assert len(np.unique(idx)) == len(moves), "two legal moves share an index"
    assert ((idx >= 0) & (idx < size)).all()
    for m, i in zip(moves, idx):
        assert actions.decode(int(i), state) == m
    assert actions.is_decision(state) == (len(moves) > 1)
    return moves, idx


# --------------------------------------------------------------------------- layout
EXPECTED_SIZES = {"square8": 24_585, "hex8": 19_449, "square19": 177_260, "hexagonal": 262_509}


def test_layout_sizes():
    for board in BOARDS:
        lay = actions.action_layout(board)
        geo = get_geometry(board)
        assert (lay.height, lay.width) == (geo.size, geo.size)
        planes = 0
        for name, (first, count) in lay.plane_families().items():
            assert first == planes, name
            planes += count
        assert planes == lay.policy_planes
        assert lay.policy_size == lay.policy_planes * geo.size ** 2 + len(actions.SCALAR_TYPES)
        assert actions.policy_size(board) == EXPECTED_SIZES[board]
        print(f"{board}: {lay.policy_planes} planes x {geo.size}x{geo.size} + "
              f"{lay.scalar_actions} scalars = policy size {lay.policy_size}")


def test_every_spatial_anchor_is_on_board():
    # Spatial indices only ever use on-board grid positions (the network masks the others).
    state = rules.new_game("hex8", 2)
    lay = actions.action_layout("hex8")
    geo = state.geo
    on_board = {row * geo.size + col for col, row in geo.grid}
    off = next(p for p in range(lay.hw) if p not in on_board)
    with pytest.raises(ActionIndexError, match="off the board"):
        actions.decode(lay.move * lay.hw + off, state)
    with pytest.raises(ActionIndexError, match="outside the policy vector"):
        actions.decode(lay.policy_size, state)


# --------------------------------------------------------------------------- random games
def _games(board: str, num_players: int):
    if board in SMALL:
        return [(random.Random(1000 * num_players + g), 100_000) for g in range(2)]
    return [(random.Random(7 + num_players), 400)]


def recovery_variant(lay: actions.ActionLayout, index: int) -> tuple[str, int]:
    """(kind, value) of a recovery index: extraction rank, window start, or window offset."""
    v = (index // lay.hw - lay.recovery) % lay.recovery_variants
    if v < lay.recovery_ranks:
        return "extraction rank", v
    v -= lay.recovery_ranks
    if v < lay.recovery_windows:
        return "window start", v
    return "perpendicular window offset", abs(v - lay.recovery_windows - lay.recovery_perp_bound)


@pytest.mark.parametrize(("board", "num_players"), CONFIGS)
def test_round_trip_and_no_collisions_in_random_games(board, num_players):
    lay = actions.action_layout(board)
    usage = {"extraction rank": -1, "window start": -1, "perpendicular window offset": -1}
    seen = Counter()
    for rng, max_moves in _games(board, num_players):
        state = rules.new_game(board, num_players)
        while not state.is_over and state.move_count < max_moves:
            moves, idx = check_state(state)
            for m, i in zip(moves, idx):
                seen[m.type] += 1
                if m.type == mv.RECOVERY_SLIDE:
                    kind, value = recovery_variant(lay, int(i))
                    usage[kind] = max(usage[kind], value)
            move = moves[rng.randrange(len(moves))]
            rules.apply_move(state, move, validate=False)
    assert seen[mv.PLACE_RING] and seen[mv.MOVE_STACK] and seen[mv.OVERTAKING_CAPTURE]
    # how close random games come to the bounded recovery variants (-1: not seen)
    print(f"{board} {num_players}p: max extraction rank {usage['extraction rank']} "
          f"(bound {lay.recovery_ranks - 1}), max window start {usage['window start']} "
          f"(bound {lay.recovery_windows - 1}), max perpendicular window offset "
          f"{usage['perpendicular window offset']} (bound {lay.recovery_perp_bound})")


# --------------------------------------------------------------------------- rare moves
@pytest.mark.parametrize("board", BOARDS)
def test_recovery_slides_round_trip(board):
    geo = get_geometry(board)
    axes = 3 if geo.is_hex else 4
    kinds = Counter()
    lay = actions.action_layout(board)
    for num_players in (2, 3):
        for axis in range(axes):
            state = recovery_state(board, num_players, axis)
            assert state.is_recovery_eligible(1)
            moves, idx = check_state(state)
            for m, i in zip(moves, idx):
                if m.type == mv.RECOVERY_SLIDE:
                    kinds[recovery_variant(lay, int(i))[0]] += 1
    assert kinds["extraction rank"] and kinds["window start"]
    assert bool(kinds["perpendicular window offset"]) == (not geo.is_hex)


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("num_players", (2, 3))
def test_line_decisions_round_trip(board, num_players):
    state = line_state(board, num_players)
    moves, _ = check_state(state)
    kinds = Counter((m.type, m.option) for m in moves)
    assert kinds[(mv.PROCESS_LINE, 0)] >= 1
    assert kinds[(mv.CHOOSE_LINE_OPTION, 2)] >= 3


def test_territory_regions_round_trip_with_every_anchor_site():
    cases = [
        ("square8", [(3, 0), (4, 0)], 1),  # mirror-symmetric: edge anchor
        ("square8", [(3, 3), (4, 3), (3, 4), (4, 4)], 3),  # symmetric under D4: centre anchor
        ("square8", [(0, 0), (1, 0), (0, 1)], 0),
        ("hex8", [(0, 1, -1), (1, 0, -1)], None),  # edge anchor
        ("square19", [(8, 9), (9, 9), (10, 9)], 0),  # holds a fixed cell
    ]
    for board, region, site in cases:
        state = region_state(board, region)
        moves, _ = check_state(state)
        terr = [m for m in moves if m.type == mv.CHOOSE_TERRITORY_OPTION]
        geo = state.geo
        target = tuple(sorted(geo.index[c] for c in region))
        assert any(m.region == target for m in terr)
        anchor, got, exact = actions.region_anchor(geo, target)
        assert exact and anchor in target
        if site is not None:
            assert got == site, (board, region)
        else:
            assert got >= 1


def test_ring_around_the_centre_is_the_inexact_anchor_case():
    ring = [(x, y) for x in range(2, 6) for y in range(2, 6) if not {x, y} <= {3, 4}]
    geo = get_geometry("square8")
    anchor, site, exact = actions.region_anchor(geo, tuple(sorted(geo.index[c] for c in ring)))
    assert not exact and site == 0 and geo.coords[anchor] in ring


def test_scalar_moves_decode():
    state = rules.new_game("square8", 2)
    lay = actions.action_layout("square8")
    for i, kind in enumerate(actions.SCALAR_TYPES):
        index = lay.policy_planes * lay.hw + i
        assert actions.decode(index, state) == rules.Move(kind, 1)
        assert actions.encode(rules.Move(kind, 1), state) == index


def test_extraction_rank_beyond_the_bound_raises():
    board = "square19"
    k = actions.action_layout(board).recovery_ranks
    geo = get_geometry(board)
    stacks = {c: (2, 1) for c in [c for c in geo.coords if c[0] >= 16][:k + 1]}
    state = build_state(board, 2, stacks=stacks, markers={(1, 1): 1, (2, 1): 1, (4, 1): 1})
    moves = rules.legal_moves(state)
    assert any(m.type == mv.RECOVERY_SLIDE for m in moves)
    with pytest.raises(ActionIndexError, match="exceeds the bound"):
        actions.legal_indices(state)


def test_small_boards_have_no_recovery_bound():
    # A player owns at most rings_per_player rings, so at most that many extraction stacks.
    for board in SMALL:
        lay = actions.action_layout(board)
        assert lay.recovery_ranks == GameSpec(board, 2).rings_per_player


def test_encode_rejects_moves_without_an_index():
    state = rules.new_game("square8", 2)
    with pytest.raises(ActionIndexError):
        actions.encode(rules.Move(mv.PLACE_RING, 1, to=3, count=4), state)
    with pytest.raises(ActionIndexError):
        actions.encode(rules.Move(mv.MOVE_STACK, 1, frm=0, to=10), state)
    with pytest.raises(ActionIndexError):
        actions.encode(rules.Move("resign", 1), state)
