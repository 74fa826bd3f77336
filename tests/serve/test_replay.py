"""Replays of stored games: frames, the value graph's sources, `ringrift view`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ringrift import rules
from ringrift.data.gamedb import GameDB
from ringrift.errors import UserError
from ringrift.serve.replay import load_game, network_value_fn, replay_data, replay_html
from tests.serve.helpers import stored_game_db, tiny_model


def random_game_db(path, board_type="square8", seed=0) -> str:
    """A game between random players (no stored values)."""
    from ringrift.ai.game import play_game
    from ringrift.ai.random_player import RandomPlayer
    from ringrift.data.played import game_record

    game = play_game(rules.new_game(board_type, 2), [RandomPlayer(seed), RandomPlayer(seed + 1)])
    record = game_record(game, ["random", "random"], seed, source="selfplay")
    with GameDB(path) as db:
        db.add_game(record)
    return record.game_id


def test_frames_follow_the_game_and_stored_values_are_used(tmp_path):
    game_id = stored_game_db(tmp_path / "g.db", "hex8", seed=1)
    record = load_game(tmp_path / "g.db", game_id)
    data = replay_data(record)
    assert len(data["frames"]) == len(record.moves) + 1 == len(data["values"])
    assert data["valueSource"] == "stored"
    # the value stored with move k is frame k's; the last frame is the outcome
    first_valued = next(m for m in record.moves if m.value is not None)
    assert data["values"][first_valued.index] == pytest.approx(first_valued.value, abs=1e-4)
    state = rules.state_from_json(record.initial_state)
    for frame, move in zip(data["frames"][1:], record.moves):
        assert frame["move"]["type"] == move.move["type"]
        rules.apply_move(state, rules.move_from_json(state.geo, frame["move"], state.phase))
    assert data["frames"][-1]["stacks"] == {
        k: s["rings"] for k, s in rules.state_to_json(state)["board"]["stacks"].items()}
    assert data["values"][-1] == rules.outcome(state)


def test_games_without_values_are_valued_by_the_network_or_the_heuristic(tmp_path):
    from ringrift.nn.inference import Evaluator

    game_id = random_game_db(tmp_path / "r.db")
    record = load_game(tmp_path / "r.db", game_id)
    heuristic = replay_data(record)
    assert heuristic["valueSource"] == "heuristic"
    evaluator = Evaluator.from_checkpoint(tiny_model(tmp_path), device="cpu")
    network = replay_data(record, network_value_fn(evaluator))
    assert network["valueSource"] == "network"
    assert len(network["values"]) == len(heuristic["values"]) == len(record.moves) + 1
    assert network["values"] != heuristic["values"]
    html = replay_html(network)
    assert game_id in html and "<script src=" not in html  # inlined, nothing to fetch


@pytest.mark.slow  # subprocesses that load torch (~10 s on a loaded 2-core machine)
def test_view_command(tmp_path):
    db = tmp_path / "r.db"
    game_id = random_game_db(db, seed=3)
    model = tiny_model(tmp_path)
    out = tmp_path / "replay.html"
    proc = subprocess.run([sys.executable, "-m", "ringrift", "view", "--db", str(db), "--game",
                           game_id, "-o", str(out), "--model", str(model)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "values: network" in proc.stdout
    text = out.read_text()
    payload = text.split("window.RINGRIFT_REPLAY = ", 1)[1].split(";</script>", 1)[0]
    assert json.loads(payload)["gameId"] == game_id
    hex_model = tiny_model(tmp_path, "hex8", 2, name="hex.pt")
    wrong = subprocess.run([sys.executable, "-m", "ringrift", "view", "--db", str(db), "--game",
                            game_id, "-o", str(tmp_path / "x.html"), "--model", str(hex_model)],
                           capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "not square8 2-player" in wrong.stderr
    with pytest.raises(UserError, match="no such game database"):
        load_game(tmp_path / "missing.db", game_id)
