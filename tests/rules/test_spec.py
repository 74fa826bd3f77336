"""GameSpec and the one board table."""

from __future__ import annotations

import dataclasses

import pytest

from ringrift import rules
from ringrift.errors import UserError
from ringrift.rules import GameSpec, RulesError
from ringrift.rules.boards import get_geometry


@pytest.mark.parametrize("spec", list(GameSpec.all()), ids=str)
def test_table_agrees_with_geometry_and_new_game(spec):
    geo = get_geometry(spec.board_type)
    assert spec.num_cells == geo.num_cells
    assert spec.size == geo.size and spec.is_hex == geo.is_hex
    state = rules.new_game(spec.board_type, spec.num_players)
    assert (state.rings_per_player, state.line_length, state.victory_threshold,
            state.territory_minimum) == (spec.rings_per_player, spec.line_length,
                                         spec.victory_threshold, spec.territory_minimum)


def test_rules_md_values():
    # RULES.md §1.1: ring supply and line length; §1.4: thresholds.
    assert [rules.BOARDS[b].rings_per_player for b in rules.BOARD_TYPES] == [18, 72, 18, 96]
    assert [GameSpec(b, 3).line_length for b in rules.BOARD_TYPES] == [3, 4, 3, 4]
    assert GameSpec("square8", 2).line_length == 4
    assert GameSpec("square8", 2).victory_threshold == 18
    assert GameSpec("square8", 3).victory_threshold == 24
    assert GameSpec("square8", 2).territory_minimum == 33
    assert GameSpec("hexagonal", 4).num_cells == 469
    assert len(list(GameSpec.all())) == 12


@pytest.mark.parametrize("board,players,fragment", [
    ("square9", 2, "unknown board type 'square9' (expected one of square8, square19, hex8, "
                   "hexagonal)"),
    ("square8", 5, "num_players must be 2, 3 or 4, got 5"),
    ("square8", 1, "num_players must be 2, 3 or 4, got 1"),
    ("square8", True, "num_players must be 2, 3 or 4, got True"),
    (None, 2, "unknown board type None"),
])
def test_bad_values_name_themselves(board, players, fragment):
    with pytest.raises(RulesError) as err:
        GameSpec(board, players)
    assert fragment in str(err.value)
    with pytest.raises(UserError, match="must be|unknown board"):
        GameSpec.checked(board, players, error=UserError)


def test_spec_is_frozen_and_hashable():
    spec = GameSpec.checked("hex8", 3)
    assert spec == GameSpec("hex8", 3) and hash(spec) == hash(GameSpec("hex8", 3))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.num_players = 4
    assert str(spec) == "hex8 3-player"


@pytest.mark.parametrize("spec", list(GameSpec.all()))
def test_a_state_knows_its_spec(spec):
    state = rules.new_game(spec.board_type, spec.num_players)
    assert state.spec == spec and state.copy().spec == spec
