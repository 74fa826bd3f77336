"""`get_model_store()` and the quality classes under the seed's names."""

from __future__ import annotations

import numpy as np
import pytest

import ringrift
from ringrift.data.export import ExportFilters, run_export
from ringrift.data.gamedb import GameDB
from ringrift.data.npz_format import read_npz, write_npz
from ringrift.errors import UserError
from ringrift.rules.spec import GameSpec
from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game
from tests.registry.registry_helpers import make_model

META = {"board_type": "square8", "num_players": 2, "architecture": "v2", "encoder_version": 1}


def test_model_store_register_get_production_promote(tmp_path):
    store = ringrift.get_model_store(tmp_path / "models" / "registry.db")
    path = make_model(tmp_path / "models", "trained.pt", metadata=META)
    model_id, version = store.register(name="square8_2p_v42", model_path=str(path), elo=1650)
    assert (model_id, version) == (1, 1)
    assert store.get(model_id).rating == 1650.0
    assert store.get_production("square8_2p") is None
    store.promote(model_id, "staging")
    store.promote(model_id, "production")
    production = store.get_production("square8_2p")
    assert production is not None and production.id == model_id
    assert store.get_production("square8", 2).id == model_id  # ringrift's own form
    with pytest.raises(UserError, match="BOARD_Np"):
        store.get_production("square8")
    with pytest.raises(UserError, match="cannot move"):
        store.promote(model_id, "staging")  # production -> staging is not a transition
    with pytest.raises(UserError, match="not both"):
        store.register(name="x", model_path=str(path), elo=1, rating=(1, 0, 2))
    store.close()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seedq")
    db_path = folder / "selfplay.db"
    config = SelfplayConfig("square8", 2, engine="random", seed=3, max_moves=300)
    with GameDB(db_path) as db:
        for i in range(3):
            db.add_game(play_selfplay_game(config, i))
    run_export([str(db_path)], GameSpec("square8", 2), folder / "batch.npz", ExportFilters())
    return db_path, folder / "batch.npz"


def test_database_quality_checker_scores_a_database(data):
    db_path, _ = data
    checker = ringrift.DatabaseQualityChecker()
    assert checker.get_quality_score(str(db_path)) == 100
    assert checker.last_report.stats


def test_training_data_validator_accepts_good_and_rejects_bad_files(data, tmp_path):
    _, npz = data
    validator = ringrift.TrainingDataValidator()
    assert validator.validate_npz_file(str(npz)) is True
    stats = validator.check_feature_distribution(str(npz))
    arrays, meta = read_npz(npz)
    assert stats["samples"] == len(arrays["features"])
    assert len(stats["planes"]) == arrays["features"].shape[1]
    plane0 = arrays["features"][:, 0].astype(np.float64)
    assert stats["planes"][0]["mean"] == pytest.approx(plane0.mean())
    assert stats["planes"][0]["max"] == pytest.approx(plane0.max())
    for c in stats["constant_planes"]:
        assert arrays["features"][:, c].std() == 0
    bad = dict(arrays)
    bad["values"] = bad["values"].copy()
    bad["values"][0, 0] = 3.0
    write_npz(tmp_path / "bad.npz", bad, meta)
    assert validator.validate_npz_file(str(tmp_path / "bad.npz")) is False
    assert any("outside" in p.message for p in validator.last_report.errors)
    (tmp_path / "junk.npz").write_bytes(b"not an npz")
    assert validator.validate_npz_file(str(tmp_path / "junk.npz")) is False
    assert validator.last_report.score == 0
