"""The engine table: every engine built by name; policy-only and any engine in --mix in selfplay
and the daemon; adding an engine is one table entry."""

from __future__ import annotations

import pytest

from ringrift import rules
from ringrift.ai import engines
from ringrift.ai.engines import ENGINES, Engine, make_player
from ringrift.ai.options import EngineOptions
from ringrift.ai.random_player import RandomPlayer
from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.errors import UserError
from ringrift.registry import ModelRegistry
from ringrift.rules import GameSpec
from ringrift.selfplay.runner import SelfplayConfig

SQ8 = GameSpec("square8", 2)


@pytest.mark.parametrize("name", [n for n in ENGINES if n != "online"])
def test_every_engine_builds_a_player_that_plays(name, tiny_model):
    options = EngineOptions(model_path=tiny_model if ENGINES[name].model == engines.REQUIRED
                            else None, simulations=4)
    player = make_player(name, SQ8, options, seed=1)
    state = rules.new_game("square8", 2)
    legal = rules.legal_moves(state)
    assert player.choose(state, legal).move in legal


def test_unknown_engine_and_missing_model_are_user_errors():
    with pytest.raises(UserError, match="unknown engine 'nope' .*random, heuristic, "
                                        "policy-only"):
        make_player("nope", SQ8)
    for name in engines.NETWORK_ENGINES:
        with pytest.raises(UserError, match=f"engine {name} needs a model"):
            make_player(name, SQ8)


def test_groups_are_derived_from_the_table():
    assert set(ENGINES) == {*engines.BASIC_ENGINES, *engines.SEARCH_ENGINES,
                            *engines.NETWORK_ENGINES}
    assert "policy-only" in engines.NETWORK_ENGINES and "random" in engines.BASIC_ENGINES


@pytest.mark.parametrize("name", list(ENGINES))
def test_the_table_says_which_engines_read_the_simulation_count(name, tiny_model):
    """Help texts name SIMULATION_ENGINES as the engines --mcts-simulations acts on: the flag
    must reach exactly those players' searches."""
    options = EngineOptions(model_path=tiny_model if ENGINES[name].model == engines.REQUIRED
                            else None, simulations=7)
    player = make_player(name, SQ8, options, seed=1)
    search = getattr(player, "search", player)  # online: its Gumbel search
    if name in engines.SIMULATION_ENGINES:
        assert search.simulations == 7
    else:
        assert getattr(search, "simulations", None) != 7


def test_a_new_engine_is_one_table_entry(monkeypatch, tmp_path):
    built = []

    def make_always_first(spec, seed, options):
        built.append((spec, seed))
        return RandomPlayer(seed)

    monkeypatch.setitem(ENGINES, "first-test", Engine(make_always_first, help="test"))
    config = SelfplayConfig(board_type="hex8", num_players=3, engine="mixed",
                            mix="first-test:1,heuristic:1", num_games=2, max_moves=30)
    config.validate()
    assert isinstance(make_player("first-test", GameSpec("hex8", 3), seed=7), RandomPlayer)
    assert built[-1] == (GameSpec("hex8", 3), 7)


def _stored(db_path):
    with GameDB(db_path, readonly=True) as db:
        return list(db.iter_games())


def test_selfplay_with_policy_only_and_a_mix_of_any_engines(tiny_model, tmp_path, capsys):
    base = ["selfplay", "--board-type", "square8", "--num-players", "2", "--max-moves", "40",
            "--quiet"]
    assert main([*base, "--engine", "policy-only", "--model", tiny_model, "--num-games", "2",
                 "--output-dir", str(tmp_path / "p")]) == 0
    games = _stored(tmp_path / "p" / "games.db")
    assert len(games) == 2 and all(g.engines == ["policy-only"] * 2 for g in games)
    assert main([*base, "--engine", "mixed", "--mix", "heuristic:0.5,policy-only:0.5",
                 "--mix-per", "seat", "--model", tiny_model, "--num-games", "6",
                 "--output-dir", str(tmp_path / "m")]) == 0
    seats = {e for g in _stored(tmp_path / "m" / "games.db") for e in g.engines}
    assert seats == {"heuristic", "policy-only"}
    capsys.readouterr()
    assert main([*base, "--engine", "policy-only", "--num-games", "1", "--output-dir",
                 str(tmp_path / "x")]) == 2
    assert "--model is not set: engine policy-only needs a model file" in \
        capsys.readouterr().err
    assert main([*base, "--engine", "mixed", "--mix", "heuristic:1,nope:1", "--num-games", "1",
                 "--output-dir", str(tmp_path / "x")]) == 2
    assert "--mix names an unknown engine 'nope'" in capsys.readouterr().err


def test_daemon_plays_policy_only_with_the_production_model(tiny_model, tmp_path, capsys):
    registry = tmp_path / "models" / "registry.db"
    base = ["selfplay", "--daemon", "--board-type", "square8", "--num-players", "2",
            "--engine", "policy-only", "--registry", str(registry), "--max-moves", "40",
            "--status-interval", "60"]
    with ModelRegistry(registry):
        pass
    assert main([*base, "--output-dir", str(tmp_path / "out"), "--max-games", "1"]) == 2
    assert "--bootstrap-engine" in capsys.readouterr().err
    # no production model yet: the bootstrap engine plays
    assert main([*base, "--bootstrap-engine", "heuristic", "--output-dir", str(tmp_path / "out"),
                 "--max-games", "1"]) == 0
    with ModelRegistry(registry) as reg:
        entry = reg.register(tiny_model, "square8_2p").entry
        reg.transition(entry.id, "staging")
        reg.transition(entry.id, "production")
    assert main([*base, "--bootstrap-engine", "heuristic", "--output-dir", str(tmp_path / "out"),
                 "--max-games", "1"]) == 0
    games = _stored(tmp_path / "out" / "games.db")
    assert [g.engines for g in games] == [["heuristic"] * 2, ["policy-only"] * 2]
    assert games[0].metadata["model"] is None
    assert games[1].metadata["model"]["registry_id"] == entry.id


def test_no_import_circle_between_the_table_and_the_engines_it_names():
    import importlib.util

    from tests.test_layering import imports

    below = {"ringrift.ai.search.engines", "ringrift.ai.model_cache", "ringrift.ai.options",
             "ringrift.ai.policy_player", "ringrift.ai.online_player"}
    assert [(m, t) for m, t, _ in imports() if m in below and t == "ringrift.ai.engines"] == []
    assert importlib.util.find_spec("ringrift.ai.factory") is None  # the old if-chain module
