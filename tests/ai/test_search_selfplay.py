"""Search engines with a (tiny, trained) network: selfplay targets, batched selfplay, bench."""

from __future__ import annotations

import json

import pytest

from ringrift import rules
from ringrift.ai.engines import make_player
from ringrift.ai.model_cache import load_evaluator
from ringrift.ai.options import EngineOptions
from ringrift.ai.search.leaf import network_leaf
from ringrift.ai.search.tree import check_statistics
from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.errors import UserError
from ringrift.rules.spec import GameSpec
from ringrift.selfplay.batched import play_batched
from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    # Batches here are tiny, and on a busy machine torch's spinning thread pool makes each
    # call of a tiny network take tens of milliseconds; one thread keeps the tests fast.
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _decisions(record):
    return [m for m in record.moves if m.think_time_s > 0]


def _check_targets(record, num_players=2):
    decisions = _decisions(record)
    assert decisions
    for m in decisions:
        assert m.policy is not None and m.value is not None
        assert abs(sum(p for _, p in m.policy) - 1) < 1e-6
        assert len(m.value) == num_players and all(-1 <= v <= 1 for v in m.value)


def test_mcts_with_a_network_searches_with_its_priors(tiny_model):
    player = make_player("mcts", GameSpec("square8", 2),
                         EngineOptions(model_path=tiny_model, simulations=12, device="cpu"))
    state = rules.new_game("square8", 2)
    decision = player.choose(state, rules.legal_moves(state))
    root = player.last_root
    check_statistics(root)
    assert abs(sum(root.priors) - 1) < 1e-5 and len(set(root.priors)) > 1  # network priors
    assert decision.move in rules.legal_moves(state)


def test_gumbel_selfplay_cli_stores_improved_policy_and_values(tiny_model, tmp_path):
    assert main(["selfplay", "--board-type", "square8", "--num-players", "2", "--engine",
                 "gumbel", "--model", tiny_model, "--mcts-simulations", "8", "--num-games", "2",
                 "--max-moves", "24", "--output-dir", str(tmp_path), "--quiet"]) == 0
    with GameDB(tmp_path / "games.db") as db:
        records = list(db.iter_games())
    assert len(records) == 2 and all(r.engines == ["gumbel", "gumbel"] for r in records)
    for record in records:
        _check_targets(record)


def test_batched_selfplay_groups_network_evaluations(tiny_model):
    config = SelfplayConfig(board_type="square8", num_players=2, engine="gumbel", seed=3,
                            max_moves=16,
                            options=EngineOptions(model_path=tiny_model, simulations=6,
                                                  device="cpu"))
    config.validate()
    leaf = network_leaf(load_evaluator(tiny_model, "cpu"))
    leaf.reset_stats()
    records = list(play_batched(config, range(4), batch_size=4))
    assert sorted(r.metadata["game_index"] for r in records) == [0, 1, 2, 3]
    for record in records:
        _check_targets(record)
    assert max(leaf.batch_sizes) == 4 and leaf.positions > leaf.calls
    # batching changes when leaves are evaluated, not the games (same seeds, same moves)
    single = play_selfplay_game(config, 2)
    batched = next(r for r in records if r.metadata["game_index"] == 2)
    assert [m.move for m in single.moves] == [m.move for m in batched.moves]


def test_batched_selfplay_cli_with_workers(tiny_model, tmp_path):
    assert main(["selfplay", "--board-type", "square8", "--num-players", "2", "--engine",
                 "mcts", "--model", tiny_model, "--mcts-simulations", "6", "--num-games", "4",
                 "--batch-size", "2", "--workers", "2", "--max-moves", "12", "--output-dir",
                 str(tmp_path), "--quiet"]) == 0
    with GameDB(tmp_path / "games.db") as db:
        records = list(db.iter_games())
    assert len(records) == 4
    for record in records:
        _check_targets(record)
        assert record.temperature_schedule.startswith("alphazero")


def test_bad_model_and_flags_are_user_errors(tiny_model, tmp_path, capsys):
    with pytest.raises(UserError, match="square8 2-player model"):
        make_player("gumbel", GameSpec("hex8", 2), EngineOptions(model_path=tiny_model), seed=0)
    assert main(["selfplay", "--board-type", "square8", "--num-players", "3", "--engine",
                 "gumbel", "--model", tiny_model, "--num-games", "1", "--output-dir",
                 str(tmp_path), "--quiet"]) == 2
    assert main(["selfplay", "--board-type", "square8", "--num-players", "2", "--engine",
                 "heuristic", "--model", tiny_model, "--num-games", "1", "--output-dir",
                 str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "3-player" in err and "--model is for the engines that play a model" in err


def test_bench_search_json(tiny_model, capsys):
    assert main(["bench", "search", "--engine", "mcts", "--board-type", "square8",
                 "--num-players", "2", "--seed", "1", "--simulations", "16", "--searches", "3",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["searches"] == 3 and out["simulations"] == 16 and out["sims_per_s"] > 0
    assert main(["bench", "search", "--engine", "gumbel", "--model", tiny_model,
                 "--simulations", "8", "--searches", "4", "--batch-size", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["evals_per_s"] > 0 and out["mean_batch"] > 1
