import math

import numpy as np
import pytest

from ringrift.errors import UserError
from ringrift.evaluate.elo import fit_elo
from ringrift.evaluate.pairwise import PairwiseResults
from ringrift.evaluate.sprt import expected_score

TRUE = {"random": 0.0, "v1": 120.0, "v2": 260.0, "v3": 380.0, "v4": 450.0}


def simulate_round_robin(rng, games_per_pair=120, ratings=TRUE) -> PairwiseResults:
    results = PairwiseResults()
    names = list(ratings)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            wins = rng.binomial(games_per_pair, expected_score(ratings[a] - ratings[b]))
            for _ in range(wins):
                results.add(a, b, 1.0)
            for _ in range(games_per_pair - wins):
                results.add(a, b, 0.0)
    return results


def test_two_players_match_closed_form():
    results = PairwiseResults()
    for score in [1.0] * 30 + [0.0] * 10 + [0.5] * 4:
        results.add("random", "m", 1.0 - score)
    fit = fit_elo(results)
    # 32 points of 44 games for m, plus one virtual draw: 32.5 against 12.5
    assert fit["m"].elo == pytest.approx(400 * math.log10(32.5 / 12.5), abs=1e-6)
    s = 32.5 / 45
    se = 400 / math.log(10) / math.sqrt(45 * s * (1 - s))
    assert fit["m"].high - fit["m"].elo == pytest.approx(1.959964 * se, rel=1e-5)
    assert fit["m"].games == 44 and fit["m"].score == 32
    assert (fit["random"].low, fit["random"].elo, fit["random"].high) == (0.0, 0.0, 0.0)


def test_recovers_known_ratings_within_intervals():
    fit = fit_elo(simulate_round_robin(np.random.default_rng(7)))
    assert fit.anchor == "random"
    for name, true in TRUE.items():
        r = fit[name]
        assert r.low <= true <= r.high, (name, true, r)
    assert [r.name for r in fit.ranked()] == ["v4", "v3", "v2", "v1", "random"]


def test_interval_coverage_is_near_95_percent():
    rng = np.random.default_rng(11)
    hits = total = 0
    for _ in range(40):
        fit = fit_elo(simulate_round_robin(rng, games_per_pair=60))
        for name in ("v1", "v2", "v3", "v4"):
            hits += fit[name].low <= TRUE[name] <= fit[name].high
            total += 1
    assert 0.85 <= hits / total <= 1.0


def test_anchor_shifts_ratings_and_keeps_widths():
    results = simulate_round_robin(np.random.default_rng(3), games_per_pair=40)
    base = fit_elo(results)
    shifted = fit_elo(results, anchor="random", anchor_elo=100.0)
    for name in TRUE:
        assert shifted[name].elo == pytest.approx(base[name].elo + 100.0)
        assert shifted[name].high - shifted[name].low == pytest.approx(
            base[name].high - base[name].low)
    by_v2 = fit_elo(results, anchor="v2", anchor_elo=1000.0)
    assert by_v2["v2"].elo == 1000.0 and by_v2["v2"].low == by_v2["v2"].high
    assert by_v2["v4"].elo - by_v2["v1"].elo == pytest.approx(base["v4"].elo - base["v1"].elo)


def test_default_anchor_is_first_participant_without_random():
    results = PairwiseResults()
    results.add("alpha", "beta", 1.0)
    results.add("alpha", "beta", 0.0)
    fit = fit_elo(results)
    assert fit.anchor == "alpha" and fit["alpha"].elo == 0.0
    assert fit["beta"].elo == pytest.approx(0.0, abs=1e-9)


def test_unknown_anchor_and_empty_results():
    results = PairwiseResults()
    results.add("a", "b", 1.0)
    with pytest.raises(UserError, match="anchor 'zz'"):
        fit_elo(results, anchor="zz")
    with pytest.raises(UserError):
        fit_elo(PairwiseResults())
    with pytest.raises(ValueError):
        fit_elo(results, prior_draws=0.0)


def test_perfect_record_gets_finite_rating():
    results = PairwiseResults()
    for _ in range(25):
        results.add("random", "champ", 0.0)
    fit = fit_elo(results)
    assert math.isfinite(fit["champ"].elo) and fit["champ"].elo > 400
    assert math.isfinite(fit["champ"].high)


def test_disconnected_participants_are_unrated():
    results = PairwiseResults()
    for score in (1.0, 0.0, 1.0):
        results.add("random", "a", score)
    results.add("b", "c", 1.0)
    fit = fit_elo(results)
    assert fit["a"].connected
    for name in ("b", "c"):
        r = fit[name]
        assert not r.connected and math.isnan(r.elo)
        assert r.low == -math.inf and r.high == math.inf
    assert [r.name for r in fit.ranked()][-2:] == ["b", "c"]
    data = fit.to_dict()
    unrated = [r for r in data["ratings"] if not r["connected"]]
    assert all(r["elo"] is None and r["low"] is None for r in unrated)


def test_multiplayer_games_rank_strongest_first():
    rng = np.random.default_rng(5)
    strength = {"random": 0.0, "weak": 100.0, "mid": 250.0, "strong": 400.0}
    results = PairwiseResults()
    names = list(strength)
    for _ in range(150):
        seats = list(rng.permutation(names))
        # Plackett-Luce draw of a finishing order from the strengths.
        order, left = [], list(seats)
        while left:
            w = np.array([10 ** (strength[n] / 400) for n in left])
            pick = left[rng.choice(len(left), p=w / w.sum())]
            order.append(pick)
            left.remove(pick)
        results.add_game(seats, [order.index(n) + 1 for n in seats])
    fit = fit_elo(results)
    assert [r.name for r in fit.ranked()] == ["strong", "mid", "weak", "random"]
