import math

import numpy as np
import pytest

from ringrift.evaluate.sprt import SPRT, expected_score, sprt_llr


def test_bounds_are_walds():
    t = SPRT(0, 35)
    assert t.lower == pytest.approx(math.log(0.05 / 0.95))
    assert t.upper == pytest.approx(math.log(0.95 / 0.05))
    assert t.status == "continue" and t.llr == 0.0 and t.games == 0
    other = SPRT(0, 35, alpha=0.01, beta=0.1)
    assert other.lower == pytest.approx(math.log(0.1 / 0.99))
    assert other.upper == pytest.approx(math.log(0.9 / 0.01))


def test_expected_score():
    assert expected_score(0) == 0.5
    assert expected_score(400) == pytest.approx(10 / 11)
    assert expected_score(-100) == pytest.approx(1 - expected_score(100))


@pytest.mark.parametrize("w,l", [(10, 5), (10, 0), (0, 7), (120, 131)])
def test_without_draws_llr_is_the_bernoulli_llr(w, l):
    s0, s1 = expected_score(0), expected_score(35)
    exact = w * math.log(s1 / s0) + l * math.log((1 - s1) / (1 - s0))
    assert sprt_llr(w, 0, l, 0, 35) == pytest.approx(exact, rel=1e-5, abs=1e-6)


def test_with_draws_llr_is_close_to_the_normal_approximation():
    w, d, l = 1200, 800, 1000
    n = w + d + l
    s = (w + d / 2) / n
    var = (w * (1 - s) ** 2 + d * (0.5 - s) ** 2 + l * s**2) / n
    s0, s1 = expected_score(0), expected_score(10)
    normal = n * (s1 - s0) * (2 * s - s0 - s1) / (2 * var)
    assert sprt_llr(w, d, l, 0, 10) == pytest.approx(normal, rel=0.02)


def test_llr_mirror_symmetry():
    assert sprt_llr(30, 12, 21, 0, 35) == pytest.approx(-sprt_llr(21, 12, 30, -35, 0))


def test_draws_alone_are_evidence_for_no_difference():
    assert sprt_llr(0, 40, 0, 0, 35) < 0


def test_update_accepts_numbers_and_words_and_decision_is_sticky():
    t = SPRT(0, 35)
    for result in ("win", 1, 1.0, "draw", 0.5, "loss", 0):
        t.update(result)
    assert (t.wins, t.draws, t.losses) == (3, 2, 2)
    while t.status == "continue":
        t.update("win")
    assert t.status == "accept_h1" and t.llr >= t.upper
    for _ in range(200):
        t.update("loss")
    assert t.llr < t.upper and t.status == "accept_h1"
    summary = t.summary()
    assert summary["status"] == "accept_h1" and summary["wins"] == t.wins


def test_update_counts_matches_single_updates():
    a, b = SPRT(0, 35), SPRT(0, 35)
    a.update_counts(wins=20, draws=10, losses=30)
    for r in [1] * 20 + [0.5] * 10 + [0] * 30:
        b.update(r)
    assert a.llr == pytest.approx(b.llr)
    assert a.status == "accept_h0" or a.llr > a.lower  # checked once at the end


def test_bad_arguments():
    with pytest.raises(ValueError):
        SPRT(35, 0)
    with pytest.raises(ValueError):
        SPRT(0, 35, alpha=0.0)
    with pytest.raises(ValueError):
        SPRT(0, 35).update(0.7)
    with pytest.raises(ValueError):
        SPRT(0, 35).update("tie")


def simulate(true_elo: float, runs: int = 200, draw_rate: float = 0.2, seed: int = 1,
             elo0: float = 0, elo1: float = 35, max_games: int = 20000):
    """Run `runs` SPRTs on simulated games; returns (mean games, decision frequencies)."""
    rng = np.random.default_rng(seed)
    s = expected_score(true_elo)
    p_win = s - draw_rate / 2
    lengths, decisions = [], []
    for _ in range(runs):
        test = SPRT(elo0, elo1)
        for u in rng.random(max_games):
            test.update(1.0 if u < p_win else 0.5 if u < p_win + draw_rate else 0.0)
            if test.status != "continue":
                break
        lengths.append(test.games)
        decisions.append(test.status)
    freq = {k: decisions.count(k) / runs for k in ("accept_h0", "accept_h1", "continue")}
    return float(np.mean(lengths)), freq


def test_simulated_identical_players_accept_h0():
    mean_games, freq = simulate(0.0)
    print(f"identical players: mean games {mean_games:.0f}, decisions {freq}")
    assert freq["continue"] == 0
    assert freq["accept_h1"] <= 0.05 + 0.04  # type I error ~ alpha
    assert mean_games < 1000


def test_simulated_true_elo1_accepts_h1():
    mean_games, freq = simulate(35.0, seed=2)
    print(f"true diff = elo1: mean games {mean_games:.0f}, decisions {freq}")
    assert freq["accept_h0"] <= 0.05 + 0.04  # type II error ~ beta


def test_simulated_strong_vs_weak_accepts_h1_quickly():
    mean_games, freq = simulate(200.0, seed=3)
    print(f"strong vs weak (+200): mean games {mean_games:.0f}, decisions {freq}")
    assert freq["accept_h1"] == 1.0
    assert mean_games < 400 / 4  # far fewer than a fixed 400-game match
