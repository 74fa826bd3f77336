"""--augment: a batch sample under a symmetry equals the encoding of the transformed position."""

from __future__ import annotations

import numpy as np
import torch

from ringrift import rules
from ringrift.data.export import ExportFilters, run_export
from ringrift.data.gamedb import GameDB
from ringrift.nn import actions, encoding
from ringrift.nn.symmetry import transform_move, transform_state
from ringrift.rules.spec import GameSpec
from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game
from ringrift.train.dataset import BatchBuilder, load_training_data


def _first_decisions(record, count):
    state = rules.state_from_json(record.initial_state)
    out = []
    for m in record.moves:
        move = rules.move_from_json(state.geo, m.move, state.phase)
        if len(rules.legal_moves(state)) > 1:
            out.append((state.copy(), move))
            if len(out) == count:
                return out
        rules.apply_move(state, move)
    return out


def test_augmented_samples_match_transformed_positions(tmp_path):
    for board in ("square8", "hex8"):
        db_path = tmp_path / f"{board}.db"
        with GameDB(db_path) as db:
            record = play_selfplay_game(SelfplayConfig(board, 2, engine="random", seed=4), 0)
            db.add_game(record)
        npz = tmp_path / f"{board}.npz"
        run_export([str(db_path)], GameSpec(board, 2), npz, ExportFilters())
        data = load_training_data([str(npz)], GameSpec(board, 2))
        builder = BatchBuilder(data, "cpu", augment=True, seed=3)
        idx = np.arange(12)
        syms = builder._symmetries(idx)
        assert len(set(syms.tolist())) > 1
        batch = builder.build(idx)
        for i, (state, move) in enumerate(_first_decisions(record, 12)):
            sym = int(syms[i])
            image = transform_state(state, sym)
            planes, _ = encoding.encode_state(image)
            assert torch.allclose(batch.features[i], torch.from_numpy(planes.astype(np.float32)),
                                  atol=1e-3), (board, i, sym)
            want = actions.encode(transform_move(move, sym, state.geo), image)
            assert int(torch.argmax(batch.policy_target[i])) == want
            legal = set(actions.legal_indices(image).tolist())
            assert set(torch.nonzero(batch.legal_mask[i]).flatten().tolist()) == legal
        plain = BatchBuilder(data, "cpu").build(idx)
        assert torch.equal(plain.features[0], torch.from_numpy(
            encoding.encode_state(_first_decisions(record, 1)[0][0])[0].astype(np.float32)))
