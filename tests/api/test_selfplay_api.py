"""`from ringrift import SelfplayConfig, SelfplayRunner, ...` with the seed's argument names."""

from __future__ import annotations

import pytest

import ringrift
from ringrift.data.gamedb import GameDB
from ringrift.errors import UserError


def test_seed_names_are_accepted(tmp_path):
    config = ringrift.SelfplayConfig(board_type="square8", num_players=2, engine_mode="gumbel",
                                     mcts_simulations="quality", num_games=3, batch_size=4,
                                     use_gpu=True)
    assert config.engine == "gumbel"
    assert config.options.simulations == ringrift.GUMBEL_BUDGET_QUALITY == 800
    assert config.options.device == "auto"  # CUDA when present
    assert config.num_games == 3 and config.batch_size == 4
    assert config.output_path == "data/games/selfplay_square8_2p"
    # the seed's Gumbel example gives no board: square8, 2 players
    bare = ringrift.SelfplayConfig(engine_mode="gumbel",
                                   mcts_simulations=ringrift.GUMBEL_BUDGET_QUALITY)
    assert (bare.board_type, bare.num_players, bare.options.simulations) == ("square8", 2, 800)
    with pytest.raises(UserError, match="mcts_simulations"):
        ringrift.SelfplayConfig(board_type="square8", num_players=2, mcts_simulations="lots")


def test_a_board_type_enum_is_taken_by_its_value():
    class BoardType:  # the seed passes BoardType.HEX8
        value = "HEX8"

    assert ringrift.SelfplayConfig(board_type=BoardType(), num_players=2).board_type == "hex8"


def test_heuristic_runner_plays_into_the_output_and_summarises(tmp_path):
    config = ringrift.SelfplayConfig(board_type="square8", num_players=2,
                                     engine_mode="heuristic", num_games=3, max_moves=400,
                                     output_dir=str(tmp_path / "games"))
    summary = ringrift.HeuristicSelfplayRunner(config).run()
    assert isinstance(summary, ringrift.SelfplaySummary)
    assert summary.games == 3 and summary.engine == "heuristic"
    assert sum(summary.wins_by_seat.values()) == 3 == sum(summary.reasons.values())
    with GameDB(summary.path) as db:
        assert db.count_games(board_type="square8", num_players=2) == 3
    assert summary.lines()[0].startswith("3 games of square8 2p (heuristic) -> ")
    # a second run appends: game numbering continues
    again = ringrift.SelfplayRunner(config).run()
    with GameDB(again.path) as db:
        assert db.count_games(board_type="square8", num_players=2) == 6


def test_gumbel_runner_pins_its_engine(tmp_path):
    config = ringrift.SelfplayConfig(board_type="square8", num_players=2, num_games=1,
                                     mcts_simulations=4, max_moves=6,
                                     output_dir=str(tmp_path))
    runner = ringrift.GumbelMCTSSelfplayRunner(config)
    assert runner.config.engine == "gumbel"
    assert runner.run().games == 1
    with pytest.raises(UserError, match="plays heuristic"):
        ringrift.HeuristicSelfplayRunner(
            ringrift.SelfplayConfig(board_type="square8", num_players=2, engine_mode="random"))


def test_library_errors_name_the_field_and_the_cli_the_flag(tmp_path, capsys):
    from ringrift.cli.main import main
    from ringrift.errors import ConfigError
    from ringrift.train.config import TrainConfig

    with pytest.raises(ConfigError, match="^num_games must be at least 1$") as info:
        ringrift.SelfplayConfig(board_type="square8", num_players=2, num_games=0).validate()
    assert info.value.field == "num_games"
    with pytest.raises(ConfigError, match="^batch_size must be >= 1$"):
        TrainConfig("square8", 2, [], "m.pt", batch_size=0).validate()
    # the same checks through the CLI speak of the flags
    assert main(["selfplay", "--board-type", "square8", "--num-players", "2", "--max-moves",
                 "0", "--output-dir", str(tmp_path)]) == 2
    assert "error: --max-moves must be at least 1" in capsys.readouterr().err
    assert main(["train", "--board-type", "square8", "--data-path", "x.npz", "--save-path",
                 str(tmp_path / "m.pt"), "--lr-min", "1"]) == 2
    assert "error: --lr-min must be between 0 and the learning rate" in capsys.readouterr().err
