"""The board page's view of a state: layout, pieces, clickable cells and labels of legal moves."""

from __future__ import annotations

import math
import random

import pytest

from ringrift import rules
from ringrift.serve.board import advance_forced, layout, unique_labels, view


@pytest.mark.parametrize("board_type", rules.BOARD_TYPES)
def test_layout_places_neighbours_one_step_apart(board_type):
    geo = rules.get_geometry(board_type)
    shape, cells = layout(board_type)
    assert shape == ("hex" if geo.is_hex else "square") and len(cells) == geo.num_cells
    centre = {c["key"]: (c["x"], c["y"]) for c in cells}
    step = math.sqrt(3) if geo.is_hex else 1.0
    for cell in range(geo.num_cells):
        x, y = centre[geo.keys[cell]]
        for other in geo.territory_neighbors[cell]:  # side-sharing neighbours
            ox, oy = centre[geo.keys[other]]
            assert math.hypot(ox - x, oy - y) == pytest.approx(step, abs=1e-3)
    assert len(set(centre.values())) == len(centre)  # no two cells drawn in one place


@pytest.mark.parametrize("board_type,players", [("square8", 2), ("hex8", 3), ("square8", 4)])
def test_every_legal_move_has_valid_cells_and_a_unique_label(board_type, players):
    rng = random.Random(7)
    state = rules.new_game(board_type, players)
    keys = set(state.geo.keys)
    kinds = set()
    while not state.is_over:
        v = view(state)
        legal = rules.legal_moves(state)
        assert len(v["legal"]) == len(legal)
        labels = [m["label"] for m in v["legal"]]
        assert len(set(labels)) == len(labels)
        for entry, move in zip(v["legal"], legal):
            assert set(entry["cells"]) <= keys
            assert rules.move_from_json(state.geo, entry["move"], state.phase) == move
            kinds.add(move.type)
            if move.type in ("move_stack", "overtaking_capture"):
                assert entry["cells"] == [state.geo.keys[move.frm], state.geo.keys[move.to]]
            if move.type.startswith(("skip", "no_")) or move.type == "swap_sides":
                assert entry["cells"] == []
        assert v["stacks"] == {k: s["rings"] for k, s in
                               rules.state_to_json(state)["board"]["stacks"].items()}
        rules.apply_move(state, rng.choice(legal))
    assert {"place_ring", "move_stack"} <= kinds
    final = view(state)
    assert final["gameOver"] and final["legal"] == [] and final["winner"] in range(1, players + 1)


def test_forced_moves_are_applied_for_the_page():
    rng = random.Random(1)
    state = rules.new_game("square8", 2)
    applied_any = False
    for _ in range(200):
        if state.is_over:
            break
        rules.apply_move(state, rng.choice(rules.legal_moves(state)))
        applied = advance_forced(state)
        applied_any = applied_any or bool(applied)
        assert state.is_over or len(rules.legal_moves(state)) > 1
    assert applied_any


def test_unique_labels():
    assert unique_labels(["a", "b", "a"]) == ["a [1]", "b", "a [2]"]
