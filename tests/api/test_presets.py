"""Per-board presets: derived from the measured figures by the module's two rules."""

from __future__ import annotations

import pytest

import ringrift
from ringrift.errors import UserError
from ringrift.rules.spec import BOARD_TYPES
from ringrift.train import presets


def test_every_board_has_measured_figures():
    assert set(presets.MEASURED) == set(BOARD_TYPES)
    for board, figures in presets.MEASURED.items():
        for version in ("v2", "v3"):
            rate, per_sample_mb = figures[version]
            assert rate > 0 and per_sample_mb > 0, (board, version)


@pytest.mark.parametrize("board", BOARD_TYPES)
def test_presets_follow_the_rules(board):
    preset = presets.preset_for_board(board)
    v2, v3 = presets.MEASURED[board]["v2"], presets.MEASURED[board]["v3"]
    expected_version = "v3" if v2[0] <= presets.V3_MAX_COST_RATIO * v3[0] else "v2"
    assert preset.model_version == expected_version == ringrift.get_model_version_for_board(board)
    per_sample = presets.MEASURED[board][preset.model_version][1]
    assert preset.batch_size * per_sample <= presets.BATCH_MEMORY_MB
    assert (preset.batch_size == presets.MAX_BATCH
            or 2 * preset.batch_size * per_sample > presets.BATCH_MEMORY_MB)


@pytest.mark.parametrize("board", BOARD_TYPES)
def test_learning_rates_follow_the_sweep_or_scale_with_the_batch(board):
    preset = presets.preset_for_board(board)
    swept = presets.MEASURED_LR.get(board)
    if swept:  # the rate of the lowest held-out loss
        assert preset.learning_rate == min(swept, key=swept.__getitem__)
        assert all(swept[preset.learning_rate] <= loss for loss in swept.values())
    else:  # the swept boards' rate per sample, times this board's batch
        rates = [presets.preset_for_board(b) for b in presets.MEASURED_LR]
        per_sample = min(p.learning_rate / p.batch_size for p in rates)
        assert preset.learning_rate == pytest.approx(per_sample * preset.batch_size)
    assert ringrift.get_training_config_for_board(board).learning_rate == preset.learning_rate


def test_bigger_boards_get_smaller_batches():
    batch = {b: presets.preset_for_board(b).batch_size for b in BOARD_TYPES}
    assert batch["square19"] <= batch["square8"] and batch["hexagonal"] <= batch["hex8"]


def test_training_config_for_board_is_the_preset_as_a_seed_train_config():
    class BoardType:
        value = "HEX8"

    config = ringrift.get_training_config_for_board(BoardType(), iterations=3)
    preset = presets.preset_for_board("hex8")
    assert isinstance(config, ringrift.TrainConfig)
    assert (config.board_type, config.model_version, config.batch_size, config.iterations) == (
        "hex8", preset.model_version, preset.batch_size, 3)
    assert config.to_loop_config().batch_size == preset.batch_size
    with pytest.raises(UserError, match="unknown board type"):
        ringrift.get_model_version_for_board("go19")


@pytest.mark.slow
def test_bench_presets_prints_the_figures(capsys):
    from ringrift.cli.main import main

    assert main(["bench", "presets", "--boards", "square8", "--architectures", "v2",
                 "--batches", "2,4", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("square8"))
    board, arch, rate, per_sample = row.split()
    assert (board, arch) == ("square8", "v2") and float(rate) > 0
    assert "presets from the figures" in out and "hexagonal" in out
