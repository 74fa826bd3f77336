"""`ringrift serve` over real HTTP on loopback (uvicorn in a subprocess, httpx as the client)."""

from __future__ import annotations

import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import httpx
import pytest

from ringrift import rules
from ringrift.registry import ModelRegistry
from tests.serve.helpers import finished_state, is_legal, midgame_state, stored_game_db, tiny_model
from tests.serve.server import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    model = tiny_model(folder)
    db = folder / "games.db"
    game_id = stored_game_db(db)
    with running_server("--model", str(model), "--games-db", str(db), "--body-timeout", "1",
                        "--max-body-bytes", "200000", "--max-visits", "400",
                        "--max-time-ms", "10000000") as url:
        yield url, game_id


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "") + r" (\S+)"
    m = re.search(pattern, text, re.MULTILINE)
    return float(m.group(1)) if m else 0.0


def test_move_and_analyze(server):
    url, _ = server
    state = midgame_state("square8", 2, 18)
    body = {"state": rules.state_to_json(state), "engine": "gumbel", "maxVisits": 16}
    move = httpx.post(f"{url}/v1/move", json=body, timeout=60)
    assert move.status_code == 200, move.text
    assert is_legal(state, move.json()["move"]) and move.json()["evaluator"] == "network:tiny.pt"
    assert "moveInfos" not in move.json()
    analysis = httpx.post(f"{url}/v1/analyze", json={**body, "includePolicy": True,
                                                     "id": "x"}, timeout=60).json()
    assert analysis["id"] == "x" and analysis["rootInfo"]["visits"] == 17
    assert len(analysis["policy"]) == len(rules.legal_moves(state))
    assert len(analysis["value"]) == 2 and analysis["pv"][0] == analysis["move"]
    hex_state = midgame_state("hex8", 3, 9)
    other = httpx.post(f"{url}/v1/move", json={"state": rules.state_to_json(hex_state),
                                               "engine": "mcts", "maxVisits": 8}, timeout=60)
    assert other.status_code == 200 and other.json()["evaluator"] == "heuristic"
    assert is_legal(hex_state, other.json()["move"])


def test_bad_input_gets_a_clear_4xx(server):
    url, _ = server
    live = rules.state_to_json(midgame_state())
    post = lambda path, **kw: httpx.post(f"{url}{path}", timeout=30, **kw)  # noqa: E731
    cases = [
        (post("/v1/move", content=b"{nope"), 400, "bad JSON"),
        (post("/v1/move", content=b"[" * 150000), 400, "bad JSON"),
        (post("/v1/move", json=[1]), 400, "JSON object"),
        (post("/v1/move", json={"state": live, "visits": 3}), 400, "unknown field"),
        (post("/v1/analyze", json={"state": live, "engine": "alphabeta"}), 400, "unknown engine"),
        (post("/v1/move", json={"state": live, "maxVisits": 5000}), 400, "above this server"),
        (post("/v1/move", json={"state": rules.state_to_json(finished_state())}), 400,
         "game is over"),
        (post("/v1/move", json={"state": {"board": 5}}), 400, "state"),
        (post("/v1/move", json={"state": live, "reportDuringSearchEvery": 1}), 400,
         "ringrift engine"),
        (post("/v1/move", content=b"x" * 300000), 413, "over the limit"),
        (post("/v1/game/apply", json={"state": live, "move": {"type": "place_ring"}}), 400,
         "move"),
        (post("/v1/game/new", json={"boardType": "chess"}), 400, "boardType"),
        (httpx.get(f"{url}/v1/games/nope/replay", timeout=30), 404, "no game"),
        (httpx.get(f"{url}/v1/move", timeout=30), 405, ""),
    ]
    for response, status, words in cases:
        assert response.status_code == status, (response.status_code, response.text)
        assert words in response.text
    fresh = rules.new_game("square8", 2)  # no stack to move yet
    bad = {"type": "move_stack", "player": 1, "from": {"x": 0, "y": 0}, "to": {"x": 7, "y": 7}}
    r = post("/v1/game/apply", json={"state": rules.state_to_json(fresh), "move": bad})
    assert r.status_code == 400 and "not legal" in r.json()["error"]
    assert httpx.get(f"{url}/v1/health", timeout=10).json()["status"] == "ok"


def test_a_slow_client_holds_only_its_own_connection(server):
    url, _ = server
    host = urlparse(url)
    slow = socket.create_connection((host.hostname, host.port), timeout=10)
    try:
        slow.sendall(b"POST /v1/move HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"state\":")
        # the server keeps answering others while this body never completes
        state = rules.state_to_json(midgame_state())
        r = httpx.post(f"{url}/v1/move", json={"state": state, "engine": "random"}, timeout=30)
        assert r.status_code == 200
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = slow.recv(4096)
            if not chunk:
                break
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 408"), reply[:100]
    finally:
        slow.close()


def test_concurrent_requests_share_network_batches(server):
    url, _ = server
    before = httpx.get(f"{url}/metrics", timeout=10).text
    states = [midgame_state("square8", 2, 10 + i, seed=i) for i in range(8)]

    def ask(state):
        # no time limit to speak of (a loaded machine): the test counts every leaf
        return httpx.post(f"{url}/v1/analyze", json={"state": rules.state_to_json(state),
                                                     "maxVisits": 16, "timeLimitMs": 10**7},
                          timeout=300)

    with ThreadPoolExecutor(8) as ex:
        responses = list(ex.map(ask, states))
    assert all(r.status_code == 200 for r in responses), [r.text[:200] for r in responses]
    after = httpx.get(f"{url}/metrics", timeout=10).text
    calls = (metric(after, "ringrift_batch_size_count", evaluator="network")
             - metric(before, "ringrift_batch_size_count", evaluator="network"))
    positions = (metric(after, "ringrift_batch_size_sum", evaluator="network")
                 - metric(before, "ringrift_batch_size_sum", evaluator="network"))
    assert positions == 8 * 17
    assert calls < positions  # several requests' leaves in one network call
    assert metric(after, "ringrift_requests_total", endpoint="/v1/analyze", status="200") >= 8
    assert "ringrift_request_seconds_bucket" in after


def test_openapi_schema_and_replay(server):
    url, game_id = server
    schema = httpx.get(f"{url}/openapi.json", timeout=10).json()
    for path in ("/v1/move", "/v1/analyze", "/v1/health", "/v1/game/apply"):
        assert path in schema["paths"]
    body = schema["paths"]["/v1/analyze"]["post"]["requestBody"]["content"]
    assert "maxVisits" in body["application/json"]["schema"]["properties"]
    games = httpx.get(f"{url}/v1/games", timeout=10).json()["games"]
    assert [g["gameId"] for g in games] == [game_id]
    replay = httpx.get(f"{url}/v1/games/{game_id}/replay", timeout=30).json()
    assert replay["valueSource"] == "stored"
    assert len(replay["frames"]) == len(replay["values"]) >= 2
    assert replay["frames"][0]["move"] is None and replay["frames"][-1]["gameOver"]


def test_game_actions_play_a_game_through_the_server(server):
    url, _ = server
    view = httpx.post(f"{url}/v1/game/new", json={"boardType": "hex8", "numPlayers": 2},
                      timeout=10).json()
    assert len(view["cells"]) == rules.get_geometry("hex8").num_cells
    for turn in range(400):
        if view["gameOver"]:
            break
        assert len(view["legal"]) > 1  # forced moves were applied by the server
        move = view["legal"][turn % len(view["legal"])]["move"]
        r = httpx.post(f"{url}/v1/game/apply", json={"state": view["state"], "move": move},
                       timeout=10)
        assert r.status_code == 200, r.text
        view = r.json()
        assert view["applied"][0] == move
    assert view["gameOver"] and view["winner"] in (1, 2) and view["legal"] == []


@pytest.mark.slow  # subprocesses that load torch (~10 s on a loaded 2-core machine)
def test_production_model_is_reloaded_after_a_promotion(tmp_path):
    registry = tmp_path / "registry.db"
    first, second = tiny_model(tmp_path, seed=1, name="a.pt"), tiny_model(tmp_path, seed=2,
                                                                           name="b.pt")
    with ModelRegistry(registry) as reg:
        a = reg.register(first, "sq8").entry
        b = reg.register(second, "sq8").entry
        reg.transition(a.id, "staging")
        reg.transition(a.id, "production")
    with running_server("--model", "production", "--board-type", "square8", "--num-players",
                        "2", "--registry", str(registry), "--reload-interval", "0.2") as url:
        health = httpx.get(f"{url}/v1/health", timeout=10).json()
        assert health["model"]["modelId"] == a.id and health["model"]["name"] == "sq8 v1"
        with ModelRegistry(registry) as reg:
            reg.transition(b.id, "staging")
            reg.transition(b.id, "production")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            health = httpx.get(f"{url}/v1/health", timeout=10).json()
            if health["model"]["modelId"] == b.id:
                break
            time.sleep(0.2)
        assert health["model"]["modelId"] == b.id and health["modelReloads"] == 1
        r = httpx.post(f"{url}/v1/move", json={"state": rules.state_to_json(midgame_state()),
                                               "engine": "policy-only"}, timeout=30)
        assert r.json()["evaluator"] == "network:sq8 v2"
        text = httpx.get(f"{url}/metrics", timeout=10).text
        assert metric(text, "ringrift_model_reloads_total") == 1


def test_serve_refuses_bad_flags_in_one_line(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "ringrift", "serve", "--model", "production",
                           "--board-type", "square8", "--num-players", "2", "--registry",
                           str(tmp_path / "none.db")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "no production model" in proc.stderr
    assert "Traceback" not in proc.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = subprocess.run([sys.executable, "-m", "ringrift", "serve", "--port", str(port)],
                               capture_output=True, text=True, timeout=60)
    assert taken.returncode == 2 and "cannot listen on 127.0.0.1" in taken.stderr
