import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringrift.evaluate.wilson import score_rate, wilson_interval, z_score


def test_known_value_8_of_10():
    low, high = wilson_interval(8, 0, 2)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)


def test_draws_count_half():
    assert wilson_interval(0, 10, 0) == wilson_interval(5, 0, 5)
    assert score_rate(3, 2, 5) == pytest.approx(0.4)


def test_no_games_is_uninformative():
    assert wilson_interval(0, 0, 0) == (0.0, 1.0)
    assert score_rate(0, 0, 0) == 0.0


def test_confidence_changes_width():
    narrow = wilson_interval(30, 5, 20, confidence=0.80)
    wide = wilson_interval(30, 5, 20, confidence=0.99)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]
    assert z_score(0.95) == pytest.approx(1.959964, abs=1e-6)


def test_extremes_stay_in_unit_interval():
    assert wilson_interval(0, 0, 20)[0] == 0.0
    assert wilson_interval(20, 0, 0)[1] == 1.0
    assert wilson_interval(20, 0, 0)[0] > 0.8


def test_bad_input():
    with pytest.raises(ValueError):
        wilson_interval(-1, 0, 3)
    with pytest.raises(ValueError):
        wilson_interval(1, 0, 3, confidence=1.0)


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500))
def test_interval_contains_rate(w, d, l):
    low, high = wilson_interval(w, d, l)
    if w + d + l:
        assert 0.0 <= low <= score_rate(w, d, l) <= high <= 1.0
        assert not math.isnan(low)
