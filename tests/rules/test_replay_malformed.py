"""`rules replay` / trace_moves on malformed trace records: a divergence naming the step (or a
RulesError for trace_moves), never a KeyError/TypeError/AttributeError traceback."""

from __future__ import annotations

import copy
import json
import random

import pytest

from ringrift import rules
from ringrift.cli.main import main
from ringrift.rules.errors import RulesError
from ringrift.rules.replay import FileReport, replay_game, trace_moves


def _trace() -> tuple[dict, list[dict], dict]:
    """A random game of our engine in the traces/README.md record format (one without recovery
    slides: the replay counts their extractions the reference's way, traces/README.md)."""
    for seed in range(50):
        header, steps, final = _game(seed)
        if not any(step["move"]["type"] == "recovery_slide" for step in steps):
            return header, steps, final
    raise AssertionError("every seeded game has a recovery slide")


def _game(seed: int) -> tuple[dict, list[dict], dict]:
    rng = random.Random(seed)
    state = rules.new_game("square8", 2, swap_rule=False)
    header = {"type": "game", "gameId": "g0", "initialState": rules.state_to_json(state)}
    steps = []
    i = 0
    while not state.is_over:
        legal = rules.legal_moves(state)
        move = legal[rng.randrange(len(legal))]
        steps.append({"type": "step", "step": i, "state": rules.state_to_json(state),
                      "legalMoves": [rules.move_to_json(state.geo, m) for m in legal],
                      "move": rules.move_to_json(state.geo, move)})
        rules.apply_move(state, move)
        i += 1
    return header, steps, {"type": "final", "winner": state.winner,
                           "finalState": rules.state_to_json(state)}


_TRACE = _trace()
CORRUPTIONS = {
    "state missing": lambda h, s, f: s[3].__setitem__("state", {}),
    "board a list": lambda h, s, f: s[4]["state"].__setitem__("board", []),
    "move missing": lambda h, s, f: s[2].pop("move"),
    "legal moves a number": lambda h, s, f: s[2].__setitem__("legalMoves", 5),
    "final state without players": lambda h, s, f: f.__setitem__("finalState", {"board": {}}),
}


def test_a_clean_trace_agrees():
    report = FileReport("t")
    replay_game(*copy.deepcopy(_TRACE), report)
    assert report.games_agreeing == 1 and not report.divergences


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_a_malformed_record_is_a_divergence_naming_the_step(name):
    header, steps, final = copy.deepcopy(_TRACE)
    CORRUPTIONS[name](header, steps, final)
    report = FileReport("t")
    replay_game(header, steps, final, report)
    (div,) = report.divergences
    assert div.known_deviation is None
    assert "record" in div.what or "recorded state" in div.what


@pytest.mark.parametrize("name", ["move missing", "legal moves a number"])
def test_trace_moves_raises_rules_error(name):
    header, steps, final = copy.deepcopy(_TRACE)
    CORRUPTIONS[name](header, steps, final)
    with pytest.raises(RulesError, match="step 2: the record needs"):
        list(trace_moves(header, steps, final))


def test_the_command_reports_it_and_exits_1(tmp_path, capsys):
    header, steps, final = copy.deepcopy(_TRACE)
    steps[3]["state"] = {}
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [header, *steps, final]))
    assert main(["rules", "replay", str(path)]) == 1
    captured = capsys.readouterr()
    assert "malformed recorded state" in captured.out and "Traceback" not in captured.err
