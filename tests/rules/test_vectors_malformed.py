"""run_vector on malformed vectors: a failed result naming the problem, never an exception."""

from __future__ import annotations

import copy

import pytest

from ringrift import rules
from ringrift.rules.vectors import run_vector

VECTOR = {
    "id": "ours.placement.corner",
    "input": {"state": rules.state_to_json(rules.new_game("square8", 2, swap_rule=False)),
              "move": {"type": "place_ring", "player": 1, "to": {"x": 0, "y": 0}}},
    "expectedOutput": {"status": "complete",
                       "assertions": {"currentPhase": "movement", "stackCount": 1},
                       "finalState": {"markerPositions": []}},
}

MALFORMED = {
    "vector a list": lambda v: [1],
    "input a list": lambda v: v.__setitem__("input", [1]),
    "expectedOutput a list": lambda v: v.__setitem__("expectedOutput", [1]),
    "assertions a list": lambda v: v["expectedOutput"].__setitem__("assertions", [1]),
    "chain sequence a number": lambda v: v["input"].update(
        initialMove=v["input"].pop("move"), expectedChainSequence=5),
    "finalState a number": lambda v: v["expectedOutput"].__setitem__("finalState", 7),
    "markerPositions a number": lambda v: v["expectedOutput"]["finalState"].__setitem__(
        "markerPositions", 3),
    "move a list": lambda v: v["input"].__setitem__("move", [1]),
    "state missing": lambda v: v["input"].pop("state"),
}


def test_the_clean_vector_passes():
    assert run_vector(copy.deepcopy(VECTOR)).outcome == "pass"


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_vector_fails_with_a_reason(name):
    vector = copy.deepcopy(VECTOR)
    vector = MALFORMED[name](vector) or vector
    result = run_vector(vector)
    assert result.outcome == "fail" and result.detail.startswith("error: ")
