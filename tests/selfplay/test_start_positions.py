"""Selfplay from recorded positions: sampling (seeded, k = round(f * L), legal non-terminal
positions, whole games only), games recorded from their start state (export, workers, network
engines) and bad input as one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from ringrift import rules
from ringrift.ai.options import EngineOptions
from ringrift.cli.main import main
from ringrift.data.export import export_records, game_samples, rotate
from ringrift.data.gamedb import GameDB
from ringrift.data.replay import replay_steps, verify_record
from ringrift.errors import ConfigError
from ringrift.nn import encoding
from ringrift.rules.spec import GameSpec
from ringrift.rules.victory import outcome_values
from ringrift.selfplay.runner import SelfplayConfig
from ringrift.selfplay.session import SelfplayRunner
from ringrift.selfplay.start_positions import (
    START_POSITION_KEY,
    StartPositionSampler,
    recorded_games,
)
from tests.serve.helpers import tiny_model

SQ8 = GameSpec("square8", 2)


def _play(folder, *, games: int, seed: int, **fields) -> str:
    """A heuristic selfplay run into `folder`; the database path."""
    config = SelfplayConfig(num_games=games, seed=seed, output_dir=str(folder),
                            options=EngineOptions(heuristic_epsilon=0.1), **fields)
    SelfplayRunner(config).run()
    return str(folder / "games.db")


@pytest.fixture(scope="module")
def source_db(tmp_path_factory) -> str:
    """Six whole heuristic square8 2p games (60-120 moves each)."""
    return _play(tmp_path_factory.mktemp("src"), games=6, seed=1)


def _records(path: str) -> list:
    with GameDB(path, readonly=True) as db:
        return sorted(db.iter_games(), key=lambda r: r.metadata["game_index"])


def _replayed(record, k: int) -> rules.GameState:
    for step in replay_steps(record):
        if step.index == k:
            return step.state.copy()
    raise AssertionError(f"{record.game_id} has no move {k}")


def test_sampling_is_seeded_and_takes_the_position_at_round_f_times_l(source_db):
    lengths = {r.game_id: r for r in _records(source_db)}
    sampler = StartPositionSampler([source_db], 0.6, SQ8)
    again = StartPositionSampler([source_db], 0.6, SQ8)
    seen = set()
    for seed in range(12):
        start = sampler.sample(seed)
        record = lengths[start.game_id]
        assert start.database == source_db
        assert start.move_index == round(0.6 * record.move_count)
        assert rules.state_to_json(start.state) == rules.state_to_json(
            _replayed(record, start.move_index))
        assert not start.state.is_over and rules.legal_moves(start.state)
        assert start.state.move_count == start.move_index  # (its history comes with it)
        twin = again.sample(seed)  # another sampler over the same games: the same choice
        assert (twin.game_id, twin.move_index) == (start.game_id, start.move_index)
        assert rules.state_to_json(twin.state) == rules.state_to_json(start.state)
        seen.add(start.game_id)
    assert len(seen) >= 3  # seeds spread over the games


def test_positions_at_the_end_and_games_started_from_a_position_are_skipped(tmp_path,
                                                                             source_db):
    short = _play(tmp_path / "short", games=2, seed=5, max_moves=3)  # 3 moves each
    assert [r.move_count for r in _records(short)] == [3, 3]
    assert [g.start_move(0.8) for g in recorded_games([short], SQ8, 0.8)] == [2, 2]
    assert recorded_games([short], SQ8, 0.9) == []  # round(2.7) = 3: the end
    with pytest.raises(ConfigError, match="no whole square8 2-player game long enough") as info:
        StartPositionSampler([short], 0.9, SQ8)
    assert info.value.field == "start_positions"
    started = _play(tmp_path / "started", games=2, seed=6, start_positions=[source_db],
                    start_fraction=0.5)
    assert recorded_games([started], SQ8, 0.0) == []  # not whole games
    both = recorded_games([started, source_db], SQ8, 0.5)
    assert len(both) == 6 and {g.database for g in both} == {source_db}


def test_games_start_from_the_sampled_state_and_export_from_there(tmp_path, source_db):
    config = SelfplayConfig(num_games=3, seed=2, output_dir=str(tmp_path / "out"),
                            start_positions=[source_db], start_fraction=0.5)
    SelfplayRunner(config).run()
    sampler = StartPositionSampler([source_db], 0.5, SQ8)
    records = _records(str(tmp_path / "out" / "games.db"))
    assert len(records) == 3
    for record in records:
        start = sampler.sample(record.seed)
        assert record.metadata[START_POSITION_KEY] == {
            "database": source_db, "game_id": start.game_id, "move_index": start.move_index,
            "fraction": 0.5}
        assert record.initial_state == rules.state_to_json(start.state)
        assert verify_record(record) is None
        # export: one sample per move with a choice from the start on, valued by this game
        samples = game_samples(record)
        choices = [step.index for step in replay_steps(record) if len(step.legal) > 1]
        assert samples["move_numbers"] == choices and len(choices) > 0
        if choices[0] == 0:
            planes, _ = encoding.encode_state(start.state)
            assert np.array_equal(samples["features"][0], planes.astype(np.float16))
        mover = _replayed(record, choices[0]).current_player
        assert samples["values"][0] == rotate(outcome_values(list(record.final_ranks)), mover)
        assert samples["remaining_moves"][0] == record.move_count - choices[0]
    arrays, games = export_records(records, GameSpec("square8", 2))
    assert games == 3 and len(arrays["values"]) == sum(
        len(game_samples(r)["values"]) for r in records)


def test_two_workers_play_the_same_games_as_one(tmp_path, source_db):
    def games(workers: int) -> list:
        folder = tmp_path / f"w{workers}"
        SelfplayRunner(SelfplayConfig(num_games=4, seed=3, output_dir=str(folder),
                                      workers=workers, start_positions=[source_db],
                                      start_fraction=0.7, max_moves=30)).run()
        return [(r.metadata[START_POSITION_KEY], r.initial_state, [m.move for m in r.moves])
                for r in _records(str(folder / "games.db"))]

    assert games(2) == games(1)


def test_batched_network_games_start_from_recorded_positions(tmp_path, source_db):
    path = tiny_model(tmp_path, name="m.pt")
    config = SelfplayConfig(num_games=3, seed=4, engine="gumbel", batch_size=3, max_moves=6,
                            output_dir=str(tmp_path / "out"), start_positions=[source_db],
                            start_fraction=0.4,
                            options=EngineOptions(model_path=str(path), simulations=4,
                                                  device="cpu"))
    SelfplayRunner(config).run()
    records = _records(str(tmp_path / "out" / "games.db"))
    sampler = StartPositionSampler([source_db], 0.4, SQ8)
    assert len(records) == 3
    for record in records:
        assert record.initial_state == rules.state_to_json(sampler.sample(record.seed).state)
        assert record.move_count == 6 and verify_record(record) is None
        assert any(m.policy for m in record.moves)  # the search's policy is kept


def test_cli_flags_play_from_positions(tmp_path, source_db, capsys):
    out = tmp_path / "out"
    assert main(["selfplay", "--board-type", "square8", "--num-players", "2", "--num-games",
                 "2", "--output-dir", str(out), "--start-positions", source_db,
                 "--start-fraction", "0.75", "--quiet"]) == 0
    records = _records(str(out / "games.db"))
    assert [r.metadata[START_POSITION_KEY]["fraction"] for r in records] == [0.75, 0.75]


@pytest.mark.parametrize("flags,message", [
    (["--start-fraction", "0.5"],
     "--start-fraction needs start positions (the game databases to sample them from)"),
    (["--start-positions", "{missing}"], "--start-positions {missing}: no such game database"),
    (["--start-positions", "{text}"], "--start-positions {text}: not a SQLite database"),
    (["--start-positions", "{src}", "--start-fraction", "1"], "--start-fraction must be in [0, 1)"),
    (["--start-positions", "{src}", "--start-fraction", "-0.1"], "--start-fraction must be in [0, 1)"),
    (["--start-positions", "{src}", "--num-players", "3"],
     "--start-positions {src}: no whole square8 3-player game long enough to start from at "
     "fraction 0.0"),
])
def test_bad_start_flags_are_one_line_errors(tmp_path, source_db, capsys, flags, message):
    names = {"missing": str(tmp_path / "nope.db"), "text": str(tmp_path / "x.txt"),
             "src": source_db}
    (tmp_path / "x.txt").write_text("not a database")
    argv = ["selfplay", "--board-type", "square8", "--num-players", "2", "--num-games", "1",
            "--output-dir", str(tmp_path / "out"), "--quiet",
            *[f.format(**names) for f in flags]]  # (a repeated flag: the last one wins)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message.format(**names) in err
    assert not (tmp_path / "out" / "games.db").exists()


def test_library_errors_name_the_fields(source_db):
    with pytest.raises(ConfigError) as info:
        SelfplayConfig(start_positions=[source_db], start_fraction=1.0).validate()
    assert info.value.field == "start_fraction"
    with pytest.raises(ConfigError) as info:
        SelfplayConfig(start_positions=[]).validate()
    assert str(info.value) == "start_positions names no game database"
    assert SelfplayConfig(start_positions=source_db).start_positions == [source_db]
