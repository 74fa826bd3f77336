"""`ringrift engine` as a real subprocess: JSON lines in, responses matched by id out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ringrift import rules
from ringrift.serve.analysis import Leaves, analysis_steps
from ringrift.serve.protocol import Limits, parse_request
from ringrift.serve.scheduler import SearchPool
from tests.serve.helpers import finished_state, is_legal, midgame_state, tiny_model

ENGINE = [sys.executable, "-m", "ringrift", "engine"]


def run_engine(lines: list[str], *args: str, timeout: float = 120) -> list[dict]:
    proc = subprocess.run([*ENGINE, *args], input="".join(x + "\n" for x in lines),
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def by_id(responses: list[dict]) -> dict:
    out: dict = {}
    for r in responses:
        out.setdefault(r.get("id"), []).append(r)
    return out


def test_concurrent_requests_are_answered_by_id_with_legal_moves():
    positions = {f"q{i}": midgame_state("square8", 2, 10 + 3 * i, seed=i) for i in range(4)}
    positions["hex"] = midgame_state("hex8", 3, 12, seed=5)
    engines = ["gumbel", "mcts", "heuristic", "random", "gumbel"]
    lines = [json.dumps({"id": rid, "state": rules.state_to_json(s), "engine": eng,
                         "maxVisits": 24, "includePolicy": True})
             for (rid, s), eng in zip(positions.items(), engines)]
    answers = by_id(run_engine(lines))
    assert set(answers) == set(positions)
    for rid, state in positions.items():
        [final] = [r for r in answers[rid] if not r["isDuringSearch"]]
        assert "error" not in final, final
        assert is_legal(state, final["move"])
        assert len(final["value"]) == state.num_players
        assert final["pv"][0] == final["move"]
        legal = rules.legal_moves(state)
        assert len(final["policy"]) == len(legal)
        assert sum(p["prior"] for p in final["policy"]) == pytest.approx(1.0, abs=1e-3)
        if final["engine"] in ("gumbel", "mcts"):
            assert final["rootInfo"]["visits"] == 25  # the root evaluation + 24 simulations
            assert sum(m["visits"] for m in final["moveInfos"]) <= 24
            top = final["moveInfos"][0]
            assert top["visits"] > 0 and -1.0 <= top["q"] <= 1.0
            for move in final["pv"][:1]:
                assert is_legal(state, move)


def test_bad_requests_get_error_responses_and_the_engine_goes_on():
    live = rules.state_to_json(midgame_state())
    over = rules.state_to_json(finished_state())
    broken = json.loads(json.dumps(live))
    broken["board"]["stacks"] = {"99,99": {"position": {"x": 99, "y": 99}, "rings": [1],
                                           "stackHeight": 1, "capHeight": 1,
                                           "controllingPlayer": 1}}
    lines = [
        "{not json",
        "[1, 2]",
        json.dumps({"state": live}),  # no id
        json.dumps({"id": "u", "state": live, "maxvisits": 5}),
        json.dumps({"id": "e", "state": live, "engine": "alphabeta"}),
        json.dumps({"id": "f", "state": over}),
        json.dumps({"id": "b", "state": broken}),
        json.dumps({"id": "s", "state": "square8"}),
        json.dumps({"id": "v", "state": live, "maxVisits": 10**9}),
        json.dumps({"id": "p", "state": live, "engine": "policy-only"}),
        "[" * 100000,
        json.dumps({"id": "ok", "state": live, "engine": "gumbel", "maxVisits": 8}),
    ]
    responses = run_engine(lines)
    assert len(responses) == len(lines)
    answers = by_id(responses)
    anonymous = [r["error"] for r in answers[None]]
    assert len(anonymous) == 4
    assert any(e.startswith("bad JSON") for e in anonymous)
    assert any("must be a JSON object" in e for e in anonymous)
    assert any("missing field 'id'" in e for e in anonymous)
    assert answers["u"][0]["field"] == "maxvisits" and "unknown field" in answers["u"][0]["error"]
    assert "unknown engine 'alphabeta'" in answers["e"][0]["error"]
    assert "game is over" in answers["f"][0]["error"]
    assert answers["b"][0]["field"] == "state"
    assert answers["s"][0]["field"] == "state"
    assert "above this server's limit" in answers["v"][0]["error"]
    assert "needs a model" in answers["p"][0]["error"]
    assert "error" not in answers["ok"][0]


def test_reports_during_search_and_time_limit():
    state = midgame_state("square8", 2, 16)
    lines = [json.dumps({"id": 7, "state": rules.state_to_json(state), "engine": "mcts",
                         "maxVisits": 10**6, "timeLimitMs": 1500,
                         "reportDuringSearchEvery": 0.05})]
    responses = run_engine(lines, "--max-visits", str(10**6))
    assert all(r["id"] == 7 for r in responses)
    partial = [r for r in responses if r["isDuringSearch"]]
    final = responses[-1]
    assert not final["isDuringSearch"] and partial  # reports come before the final response
    visits = [r["rootInfo"]["visits"] for r in responses]
    assert visits == sorted(visits)
    assert final["rootInfo"]["visits"] < 10**6  # stopped by the time limit, not the budget
    assert is_legal(state, final["move"])


@pytest.mark.slow  # subprocesses that load torch (~10 s on a loaded 2-core machine)
def test_engine_with_a_model_uses_the_network(tmp_path):
    model = tiny_model(tmp_path)
    state = midgame_state("square8", 2, 14)
    other = midgame_state("hex8", 2, 6)
    lines = [json.dumps({"id": "p", "state": rules.state_to_json(state),
                         "engine": "policy-only"}),
             json.dumps({"id": "g", "state": rules.state_to_json(state), "engine": "gumbel",
                         "maxVisits": 16}),
             json.dumps({"id": "h", "state": rules.state_to_json(other), "engine": "gumbel",
                         "maxVisits": 8}),
             json.dumps({"id": "hp", "state": rules.state_to_json(other),
                         "engine": "policy-only"})]
    answers = by_id(run_engine(lines, "--model", str(model)))
    assert answers["p"][0]["evaluator"] == "network:tiny.pt"
    assert answers["g"][0]["evaluator"] == "network:tiny.pt"
    assert is_legal(state, answers["p"][0]["move"]) and is_legal(state, answers["g"][0]["move"])
    # another board: searches fall back to the hand-written evaluation and say so
    assert answers["h"][0]["evaluator"] == "heuristic"
    assert "square8 2-player, not hex8 2-player" in answers["hp"][0]["error"]


def test_engine_bad_model_flag_is_one_line(tmp_path):
    proc = subprocess.run([*ENGINE, "--model", str(tmp_path / "missing.pt")], input="",
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "no such model file" in proc.stderr and "Traceback" not in proc.stderr


def test_pool_batches_concurrent_requests_into_shared_network_calls(tmp_path):
    from ringrift.ai.search.leaf import NetworkLeaf
    from ringrift.nn.inference import Evaluator

    leaf = NetworkLeaf(Evaluator.from_checkpoint(tiny_model(tmp_path), device="cpu"))
    leaves = Leaves(leaf, "tiny")
    sizes: list[int] = []
    pool = SearchPool(max_active=16, on_batch=lambda kind, n, s: sizes.append(n))
    results: list = []
    errors: list = []
    states = [midgame_state("square8", 2, 10 + i, seed=i) for i in range(8)]
    for i, state in enumerate(states):
        # no time limit to speak of: the test counts every simulation's leaf
        req = parse_request({"id": i, "state": rules.state_to_json(state), "maxVisits": 16,
                             "timeLimitMs": 10**7}, Limits(max_time_ms=10**7))
        pool.submit(analysis_steps(req, leaves), results.append, errors.append)
    pool.close(timeout=120)
    assert not errors and len(results) == 8
    assert sum(sizes) == leaf.positions == 8 * 17
    assert max(sizes) > 1 and len(sizes) < 8 * 17  # positions of different requests together


def test_time_spent_waiting_counts_against_the_limit():
    import time

    from ringrift.ai.search.tree import run_sync

    state = midgame_state("square8", 2, 12)
    req = parse_request({"id": 1, "state": rules.state_to_json(state), "engine": "gumbel",
                         "maxVisits": 200, "timeLimitMs": 1000})
    req.received = time.monotonic() - 5.0  # queued for 5 s behind other requests
    out = run_sync(analysis_steps(req, Leaves()))
    assert out["rootInfo"]["visits"] == 1  # the root evaluation only, still a legal answer
    assert is_legal(state, out["move"]) and out["elapsedMs"] >= 5000


@pytest.mark.slow  # subprocesses that load torch (~10 s on a loaded 2-core machine)
def test_engine_follows_promotions_of_the_production_model(tmp_path):
    import time

    from ringrift.registry import ModelRegistry

    registry = tmp_path / "registry.db"
    first = tiny_model(tmp_path, seed=1, name="a.pt")
    second = tiny_model(tmp_path, seed=2, name="b.pt")
    with ModelRegistry(registry) as reg:
        a = reg.register(first, "sq8").entry
        b = reg.register(second, "sq8").entry
        reg.transition(a.id, "staging")
        reg.transition(a.id, "production")
    proc = subprocess.Popen([*ENGINE, "--model", "production", "--board-type", "square8",
                             "--num-players", "2", "--registry", str(registry),
                             "--reload-interval", "0.1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = json.dumps({"id": 1, "state": rules.state_to_json(midgame_state()),
                       "engine": "policy-only"}) + "\n"
    try:
        proc.stdin.write(line)
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["evaluator"] == "network:sq8 v1"
        with ModelRegistry(registry) as reg:
            reg.transition(b.id, "staging")
            reg.transition(b.id, "production")
        time.sleep(0.3)
        proc.stdin.write(line)
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["evaluator"] == "network:sq8 v2"
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        proc.stdout.close()
        proc.stderr.close()


def test_oversized_and_undecodable_lines_get_errors():
    live = json.dumps({"id": "ok", "state": rules.state_to_json(midgame_state()),
                       "engine": "random"}).encode()
    data = b"\xff\xfe{bad bytes}\n" + b"[" * (5 << 20) + b"\n" + live + b"\n"
    proc = subprocess.run(ENGINE, input=data, capture_output=True, timeout=120)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    responses = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(responses) == 3
    assert responses[0]["error"].startswith("bad JSON")
    assert "over the limit" in responses[1]["error"]
    assert responses[2]["id"] == "ok" and "move" in responses[2]


def test_other_engines_of_the_engine_table_are_served_through_their_player():
    from ringrift.ai import engines as table

    state = midgame_state("hex8", 2, 14)
    lines = [json.dumps({"id": "n", "state": rules.state_to_json(state),
                         "engine": "nnue-guided", "includePolicy": True}),
             json.dumps({"id": "o", "state": rules.state_to_json(state), "engine": "online"})]
    answers = by_id(run_engine(lines))
    [n] = answers["n"]
    assert is_legal(state, n["move"]) and len(n["value"]) == 2 and n["engine"] == "nnue-guided"
    # an engine that needs a model file of its own is not served
    assert table.ENGINES["online"].model == table.REQUIRED
    assert "unknown engine 'online'" in answers["o"][0]["error"]
    assert "nnue-guided" in answers["o"][0]["error"]
