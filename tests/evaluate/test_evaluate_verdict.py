import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringrift.evaluate.verdict import gauntlet_verdict


def test_pass_once_losing_the_rest_still_reaches_threshold():
    assert gauntlet_verdict(55, 0, 0, 100, 0.55) == "pass"
    assert gauntlet_verdict(54, 0, 0, 100, 0.55) == "undecided"
    assert gauntlet_verdict(54, 2, 0, 100, 0.55) == "pass"  # two draws = one win


def test_fail_once_winning_the_rest_stays_below():
    assert gauntlet_verdict(0, 0, 46, 100, 0.55) == "fail"
    assert gauntlet_verdict(0, 0, 45, 100, 0.55) == "undecided"
    assert gauntlet_verdict(0, 1, 45, 100, 0.55) == "fail"  # at most 54.5 points


def test_start_is_undecided_and_end_is_decided():
    assert gauntlet_verdict(0, 0, 0, 10, 0.5) == "undecided"
    assert gauntlet_verdict(5, 0, 5, 10, 0.5) == "pass"  # exactly at threshold passes
    assert gauntlet_verdict(4, 1, 5, 10, 0.5) == "fail"


def test_bad_input():
    with pytest.raises(ValueError):
        gauntlet_verdict(6, 0, 5, 10, 0.5)
    with pytest.raises(ValueError):
        gauntlet_verdict(-1, 0, 0, 10, 0.5)
    with pytest.raises(ValueError):
        gauntlet_verdict(0, 0, 0, 0, 0.5)
    with pytest.raises(ValueError):
        gauntlet_verdict(0, 0, 0, 10, 1.5)


@given(st.data())
def test_verdict_is_final_and_consistent(data):
    total = data.draw(st.integers(1, 60))
    threshold = data.draw(st.sampled_from([0.0, 0.25, 0.5, 0.55, 0.6, 2 / 3, 1.0]))
    outcomes = data.draw(st.lists(st.sampled_from("wdl"), min_size=total, max_size=total))
    final_rate = (outcomes.count("w") + 0.5 * outcomes.count("d")) / total
    expected = "pass" if final_rate >= threshold - 1e-12 else "fail"
    for k in range(total + 1):
        seen = outcomes[:k]
        verdict = gauntlet_verdict(seen.count("w"), seen.count("d"), seen.count("l"), total,
                                   threshold)
        if verdict != "undecided":
            assert verdict == expected  # an early verdict never disagrees with the end
        if k == total:
            assert verdict == expected
