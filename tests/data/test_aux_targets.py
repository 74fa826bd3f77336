"""Auxiliary targets: final ownership per cell and the remaining game length. Exact on
hand-made endgames, consistent with the encoding in every configuration and under every board
symmetry, exported with the data (format version 2) and moved with the cells by augmentation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ringrift import rules
from ringrift.data import aux_targets, npz_format
from ringrift.data.export import ExportFilters, run_export
from ringrift.data.gamedb import GameDB
from ringrift.data.replay import final_state
from ringrift.nn import encoding, symmetry
from ringrift.rules.spec import GameSpec
from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game
from ringrift.train.dataset import BatchBuilder, load_training_data
from tests.nn.test_symmetry import random_states

CONFIGS = [(b, p) for b in ("square8", "hex8", "square19", "hexagonal") for p in (2, 3, 4)]


def _cell(state, col: int, row: int) -> int:
    return state.geo.grid.index((col, row))


def test_hand_made_square_endgame_owners_and_rotation():
    state = rules.new_game("square8", 2)
    a, b, c, d = (_cell(state, *xy) for xy in ((0, 0), (7, 0), (3, 4), (5, 6)))
    state.set_collapsed(a, 1)  # territory of player 1
    state.set_collapsed(b, 2)
    state.set_stack(c, (2, 1, 1))  # controlled by its top ring: player 2
    state.set_stack(d, (1,))
    seats = aux_targets.owner_grid(state, aux_targets.final_owner_seats(state))
    expect = np.zeros((8, 8), np.int8)
    expect[0, 0], expect[0, 7], expect[4, 3], expect[6, 5] = 1, 2, 2, 1
    np.testing.assert_array_equal(seats, expect)
    # seen by player 1 nothing changes; seen by player 2 the classes of 1 and 2 swap
    np.testing.assert_array_equal(aux_targets.rotate_owners(seats, 1, 2), expect)
    swapped = aux_targets.rotate_owners(seats, 2, 2)
    assert (swapped[0, 0], swapped[0, 7], swapped[4, 3], swapped[6, 5]) == (2, 1, 1, 2)
    assert (swapped == 0).sum() == 60


def test_hand_made_hex_endgame_four_players_off_board_has_no_target():
    state = rules.new_game("hex8", 4)
    cells = [_cell(state, *state.geo.grid[i]) for i in (0, 5, 30, 60)]
    for seat, cell in zip((1, 2, 3, 4), cells, strict=True):
        state.set_collapsed(cell, seat)
    state.set_stack(_cell(state, *state.geo.grid[40]), (4, 4, 2))
    seats = aux_targets.owner_grid(state, aux_targets.final_owner_seats(state))
    mask = np.array(encoding.board_io(GameSpec("hex8", 2)).valid_mask, dtype=bool)
    assert (seats[~mask] == aux_targets.OWNER_NONE).all()
    assert ((seats[mask] >= 0) & (seats[mask] <= 4)).all()
    rotated = aux_targets.rotate_owners(seats, 3, 4)  # player 3 to move: 3->1, 4->2, 1->3, 2->4
    for seat, cell in zip((1, 2, 3, 4), cells, strict=True):
        col, row = state.geo.grid[cell]
        assert rotated[row, col] == (seat - 3) % 4 + 1
    col, row = state.geo.grid[_cell(state, *state.geo.grid[40])]
    assert rotated[row, col] == 2
    assert (rotated[~mask] == aux_targets.OWNER_NONE).all()


@pytest.mark.parametrize("board,players", CONFIGS)
def test_ownership_agrees_with_the_encoding_and_every_symmetry(board, players):
    """On random positions of all 12 configurations (with some territory added): class k+1
    exactly where the encoding marks slot k's stack or territory, and the target of a
    transformed position is the transformed target."""
    states = random_states(board, players, seed=players, max_moves=60, every=20)[-2:]
    rng = np.random.default_rng(players)
    for state in states:
        free = [c for c in range(state.geo.num_cells) if state.stacks[c] is None
                and not state.markers[c] and not state.collapsed[c]]
        for cell in rng.choice(free, size=players, replace=False):
            state.set_collapsed(int(cell), int(rng.integers(1, players + 1)))
        seats = aux_targets.owner_grid(state, aux_targets.final_owner_seats(state))
        target = aux_targets.rotate_owners(seats, state.current_player, players)
        planes, _ = encoding.encode_state(state)
        for k in range(players):
            base = k * encoding.PLANES_PER_PLAYER
            marked = (planes[base + encoding.P_CONTROL] > 0) | \
                     (planes[base + encoding.P_COLLAPSED] > 0)
            np.testing.assert_array_equal(target == k + 1, marked)
        for sym in symmetry.board_symmetries(board):
            image = symmetry.transform_state(state, sym)
            image_seats = aux_targets.owner_grid(image, aux_targets.final_owner_seats(image))
            np.testing.assert_array_equal(
                symmetry.transform_planes(seats, board, sym), image_seats, err_msg=sym.name)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("aux")
    db_path = root / "games.db"
    with GameDB(db_path) as db:
        for i in range(3):
            db.add_game(play_selfplay_game(SelfplayConfig("square8", 3, engine="random",
                                                          seed=11), i))
        db.add_game(play_selfplay_game(SelfplayConfig("square8", 3, engine="random", seed=12,
                                                      max_moves=30), 0))  # unfinished
    out = root / "x.npz"
    run_export([str(db_path)], GameSpec("square8", 3), out, ExportFilters())
    with GameDB(db_path, readonly=True) as db:
        records = {r.game_id: r for r in db.iter_games()}
    return out, records


def test_export_writes_exact_ownership_and_remaining_moves(exported):
    out, records = exported
    arrays, meta = npz_format.read_npz(out)
    assert meta["format_version"] == npz_format.FORMAT_VERSION >= 2
    assert arrays["ownership"].shape == (len(arrays["move_numbers"]), 8, 8)
    statuses = set()
    for gid, record in records.items():
        rows = np.flatnonzero(arrays["game_ids"] == gid)
        statuses.add(record.status)
        if record.status != "completed":
            assert (arrays["ownership"][rows] == aux_targets.OWNER_NONE).all()
            assert (arrays["remaining_moves"][rows] == aux_targets.LENGTH_UNKNOWN).all()
            continue
        final = final_state(record)
        seats = aux_targets.owner_grid(final, aux_targets.final_owner_seats(final))
        assert (seats > 0).any()
        state = rules.state_from_json(record.initial_state)
        by_index = {}
        for m in record.moves:
            by_index[m.index] = state.current_player
            rules.apply_move(state, rules.move_from_json(state.geo, m.move, state.phase))
        for row in rows:
            index = int(arrays["move_numbers"][row])
            np.testing.assert_array_equal(
                arrays["ownership"][row],
                aux_targets.rotate_owners(seats, by_index[index], 3))
            assert arrays["remaining_moves"][row] == len(record.moves) - index
    assert statuses == {"completed", "max_moves"}


def test_augmentation_moves_ownership_with_the_cells(exported, tmp_path):
    """Build a file whose ownership marks exactly the cells of feature plane 0 (slot 0's
    stacks); under random symmetries the relation must survive."""
    out, _ = exported
    arrays, meta = npz_format.read_npz(out)
    arrays["ownership"] = np.where(arrays["features"][:, encoding.P_CONTROL] > 0, 1,
                                   0).astype(np.int8)
    path = tmp_path / "rel.npz"
    npz_format.write_npz(path, arrays, {k: v for k, v in meta.items()
                                        if k not in ("format", "format_version")})
    data = load_training_data([path], GameSpec("square8", 3))
    builder = BatchBuilder(data, augment=True, seed=3)
    idx = np.arange(len(data))
    batch = builder.build(idx)
    syms = builder._symmetries(idx)
    assert len(set(syms.tolist())) > 3  # several symmetries really applied
    plane = batch.features[:, encoding.P_CONTROL] > 0
    assert np.array_equal((batch.ownership == 1).numpy(), plane.numpy())
    np.testing.assert_allclose(batch.game_length.numpy(),
                               aux_targets.length_target(data.remaining_moves), rtol=1e-6)


def test_version_one_files_still_load_without_aux_targets(tmp_path):
    from tests.train.synth_npz import write_training_file

    path = write_training_file(tmp_path / "v1.npz")
    assert json.loads(str(np.load(path)["metadata"]))["format_version"] == 1
    data = load_training_data([path], GameSpec("square8", 2))
    assert data.ownership is None and data.remaining_moves is None
    batch = BatchBuilder(data).build(np.arange(4))
    assert batch.ownership is None and batch.game_length is None


def test_bad_ownership_values_are_refused(exported, tmp_path):
    out, _ = exported
    arrays, meta = npz_format.read_npz(out)
    arrays["ownership"][0, 0, 0] = 7
    npz_format.write_npz(tmp_path / "bad.npz", arrays, meta)
    with pytest.raises(Exception, match="ownership outside"):
        load_training_data([tmp_path / "bad.npz"], GameSpec("square8", 3))
