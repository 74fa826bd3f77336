"""The seed's six temperature schedules behind `create_scheduler(name).get_temperature(...)`."""

from __future__ import annotations

import pytest

from ringrift import rules
from ringrift.errors import UserError
from ringrift.selfplay.temperature import create_scheduler, get_schedule

SEED_NAMES = ("alphazero", "aggressive_exploration", "conservative", "adaptive", "curriculum",
              "cosine")


@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_seed_schedule_exists_and_round_trips_its_spec(name):
    schedule = create_scheduler(name)
    assert schedule.spec.startswith(name + ":")
    assert get_schedule(schedule.spec) == schedule
    assert schedule.get_temperature(move_number=0) >= 0.0


def test_alphazero_is_hot_then_argmax():
    s = create_scheduler("alphazero", moves=10)
    assert s.get_temperature(9) == 1.0 and s.get_temperature(10) == 0.0


def test_aggressive_is_hotter_than_alphazero_and_conservative_cooler():
    hot, base, cool = (create_scheduler(n) for n in ("aggressive_exploration", "alphazero",
                                                      "conservative"))
    for move in (0, 15, 40, 100):
        assert hot.get_temperature(move) >= base.get_temperature(move) >= cool.get_temperature(move)
    assert hot.get_temperature(100) > 0.0  # "high throughout"
    assert cool.get_temperature(0) < base.get_temperature(0)


def test_cosine_anneals_smoothly():
    s = create_scheduler("cosine", moves=20)
    temps = [s.get_temperature(m) for m in range(21)]
    assert temps[0] == 1.0 and temps[-1] == 0.0
    assert all(a >= b for a, b in zip(temps, temps[1:], strict=False))


def test_adaptive_follows_the_number_of_legal_moves():
    s = create_scheduler("adaptive")
    opening = rules.new_game("square8", 2)  # many placements: a wide choice
    n = len(rules.legal_moves(opening))
    assert n > 1
    expected = s.low + (s.high - s.low) * min(1.0, __import__("math").log(n) / __import__(
        "math").log(s.reference_moves))
    assert s.get_temperature(move_number=15, game_state=opening) == pytest.approx(expected)
    narrow = create_scheduler("adaptive", reference_moves=n * 4)
    assert narrow.get_temperature(15, opening) < s.get_temperature(15, opening)
    # without a position: high in the opening, low afterwards
    assert s.get_temperature(0) == s.high and s.get_temperature(s.moves) == s.low


def test_adaptive_plays_a_forced_move_at_zero():
    class OneMove:  # stands for a state with a single legal move
        pass

    import ringrift.selfplay.temperature as temperature

    s = create_scheduler("adaptive")
    original = temperature._legal_moves
    temperature._legal_moves = lambda state: [object()]
    try:
        assert s.get_temperature(3, OneMove()) == 0.0
    finally:
        temperature._legal_moves = original


def test_curriculum_cools_with_training_progress():
    s = create_scheduler("curriculum")
    early, late = s.at_progress(0.0), s.at_progress(1.0)
    assert early.get_temperature(5) == s.start and late.get_temperature(5) == s.end
    assert s.at_progress(0.5).get_temperature(5) == pytest.approx((s.start + s.end) / 2)
    assert late.get_temperature(s.moves) == 0.0
    with pytest.raises(UserError, match="progress"):
        create_scheduler("curriculum", progress=2.0)


def test_unknown_or_malformed_names_are_user_errors():
    with pytest.raises(UserError, match="unknown name"):
        create_scheduler("bogus")
    with pytest.raises(UserError, match="unknown key"):
        create_scheduler("adaptive", hot=1)
    with pytest.raises(UserError):
        create_scheduler("alphazero:moves=3")


def test_selfplay_passes_the_position_to_an_adaptive_schedule():
    from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game

    config = SelfplayConfig(board_type="square8", num_players=2, engine="heuristic",
                            temperature_schedule="adaptive", max_moves=30)
    record = play_selfplay_game(config, 0)
    assert record.temperature_schedule.startswith("adaptive:")
    assert record.move_count > 0
