import numpy as np
import pytest

from ringrift.evaluate.pairwise import GameResult, PairwiseResults, pairwise_from_ranking


def test_four_player_ranking_with_ties():
    pairs = pairwise_from_ranking(["a", "b", "c", "d"], [2, 1, 2, 4])
    assert pairs == [
        ("a", "b", 0.0), ("a", "c", 0.5), ("a", "d", 1.0),
        ("b", "c", 1.0), ("b", "d", 1.0),
        ("c", "d", 1.0),
    ]


def test_two_player_and_three_player():
    assert pairwise_from_ranking(["x", "y"], [2, 1]) == [("x", "y", 0.0)]
    assert pairwise_from_ranking(["x", "y", "z"], [1, 1, 1]) == [
        ("x", "y", 0.5), ("x", "z", 0.5), ("y", "z", 0.5)]


def test_same_participant_in_two_seats_gives_no_pair():
    assert pairwise_from_ranking(["m", "m", "r"], [1, 3, 2]) == [("m", "r", 1.0),
                                                                  ("m", "r", 0.0)]


def test_length_mismatch():
    with pytest.raises(ValueError):
        pairwise_from_ranking(["a", "b"], [1])


def test_accumulation_and_matrices():
    results = PairwiseResults.from_games([
        GameResult(("a", "b"), (1, 2)),
        GameResult(("b", "a"), (1, 1)),
        GameResult(("a", "b", "c", "d"), (2, 1, 2, 4)),
    ])
    assert results.participants == ["a", "b", "c", "d"]
    points, games = results.matrices()
    assert games[0, 1] == games[1, 0] == 3
    assert points[0, 1] == 1.5 and points[1, 0] == 1.5
    assert np.allclose(points + points.T, games)
    assert results.games_played("a") == 5
    assert results.score("d") == 0.0
    assert results.score("b") == 1.5 + 2.0  # 1.5 against a, beat c and d


def test_add_rejects_bad_input():
    results = PairwiseResults()
    with pytest.raises(ValueError):
        results.add("a", "a", 1.0)
    with pytest.raises(ValueError):
        results.add("a", "b", 0.3)
