"""The seed's `curriculum` temperature schedule in the loop: it follows training progress."""

from __future__ import annotations

import pytest

from ringrift.cli.main import build_parser, main
from ringrift.loop.config import LoopConfig
from ringrift.loop.stages import iteration_schedule
from ringrift.selfplay.temperature import get_schedule


def test_a_curriculum_schedule_moves_with_the_iterations():
    cfg = LoopConfig("square8", 2, "x", iterations=5, selfplay_temperature="curriculum")
    temps = [get_schedule(iteration_schedule(cfg, i))(0) for i in range(5)]
    start, end = get_schedule("curriculum").start, get_schedule("curriculum").end
    assert temps[0] == start and temps[-1] == end
    assert temps == sorted(temps, reverse=True) and len(set(temps)) == 5


def test_other_schedules_are_used_as_configured():
    cfg = LoopConfig("square8", 2, "x", selfplay_temperature="cosine:moves=9")
    assert iteration_schedule(cfg, 3) == "cosine:moves=9"


def test_the_loop_flag_sets_it_and_a_bad_one_is_refused(tmp_path, capsys):
    args = build_parser().parse_args(["loop", "--board-type", "hex8", "--temperature-schedule",
                                      "curriculum:start=2"])
    assert args.selfplay_temperature == "curriculum:start=2"
    assert main(["loop", "--board-type", "square8", "--temperature-schedule", "bogus",
                 "--run-dir", str(tmp_path / "r")]) == 2
    assert "unknown name 'bogus'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("iterations", [1, 2])
def test_one_or_two_iterations(iterations):
    cfg = LoopConfig("square8", 2, "x", iterations=iterations, selfplay_temperature="curriculum")
    assert get_schedule(iteration_schedule(cfg, 0)).progress == 0.0
