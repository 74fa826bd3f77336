"""A two-node Ray cluster on this machine (`ray start --head` plus a second `ray start --address`
with its own `--num-cpus 1`), started and stopped by the test: the second node's raylet is killed
in the middle of a selfplay job; the job completes with every game index played exactly once, the
games those of the local backend.

Only the processes of this cluster are stopped at the end (found by its own temp dir), never
another Ray on the machine."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ringrift.exec import Executor
from ringrift.selfplay.workers import play_selfplay_unit, run_games, selfplay_units
from tests.exec.helpers import by_index, game_key, heuristic_config

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_with(text: str) -> dict[int, str]:
    """pid -> command line of the processes whose command line contains `text` (Linux)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found[int(entry.name)] = cmdline
    return found


@pytest.fixture(scope="module")
def cluster():
    if ray.is_initialized():
        ray.shutdown()
    temp_dir = tempfile.mkdtemp(prefix="rr", dir="/tmp")  # short: Ray's socket paths
    port, node_port = free_port(), free_port()
    env = {**os.environ, "RAY_health_check_period_ms": "500",
           "RAY_health_check_timeout_ms": "500", "RAY_health_check_failure_threshold": "3",
           "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    common = ["--temp-dir", temp_dir, "--disable-usage-stats"]
    try:
        subprocess.run([RAY, "start", "--head", "--port", str(port), "--num-cpus", "2",
                        "--include-dashboard", "false", *common], env=env, check=True,
                       capture_output=True, timeout=120)
        subprocess.run([RAY, "start", "--address", f"127.0.0.1:{port}", "--num-cpus", "1",
                        "--node-manager-port", str(node_port), *common], env=env, check=True,
                       capture_output=True, timeout=120)
        # (a loopback cluster: no token; the driver, this process, must agree)
        os.environ["RAY_AUTH_MODE"] = "disabled"
        yield f"127.0.0.1:{port}", node_port
    finally:
        if ray.is_initialized():
            ray.shutdown()
        os.environ.pop("RAY_AUTH_MODE", None)
        for pid in processes_with(temp_dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(temp_dir, ignore_errors=True)


# Enough games that units are still waiting when the node dies (the kill comes after 2 of them):
# with 10, three fast workers had sometimes taken every unit already, so the dead node's actor
# held none and was rightly not replaced, failing 'replacements >= 1' now and then.
GAMES = 30


def drive(address: str, node_port: int) -> None:
    """The driver, run in a process of its own (python -m tests.exec.test_ray_cluster): Ray
    keeps per-process state from an earlier ray.init (another test's local instance) that
    broke actor start-up on this second cluster. Prints the games and counts as JSON."""
    import json

    config = heuristic_config(seed=5)
    records = []
    killed_at = None
    ready_at_kill = False
    with Executor(3, backend="ray", ray_address=address) as ex:
        stream = ex.unordered(play_selfplay_unit, selfplay_units(config, range(GAMES), 1))
        for _, unit_records in stream:
            records += unit_records
            # Kill once every worker is up (the second node's actor then holds a unit and must
            # be replaced); kill anyway late in the job if that actor is still starting.
            all_ready = all(ex._backend._ready)
            if killed_at is None and len(records) >= 2 and (all_ready or len(records) >= 8):
                ready_at_kill = all_ready
                alive = sum(node["Alive"] for node in ray.nodes())
                raylets = [pid for pid, cmd in
                           processes_with(f"--node_manager_port={node_port}").items()
                           if cmd.split()[0].endswith("/raylet")]
                os.kill(raylets[0], signal.SIGKILL)
                killed_at = time.monotonic()
        replacements = ex._backend.replacements
    print("RESULT " + json.dumps({"alive": alive, "raylets": len(raylets), "replacements": replacements,
                      "ready_at_kill": ready_at_kill,
                      "seconds_after_kill": time.monotonic() - killed_at,
                      "games": [list(game_key(r)) for r in records]}))


def test_killing_a_nodes_raylet_mid_job_loses_no_game_and_plays_none_twice(cluster):
    import json

    address, node_port = cluster
    done = subprocess.run([sys.executable, "-m", "tests.exec.test_ray_cluster", address,
                           str(node_port)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "RAY_AUTH_MODE": "disabled"})
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(next(line for line in done.stdout.splitlines()
                          if line.startswith("RESULT "))[len("RESULT "):])
    assert out["alive"] == 2 and out["raylets"] == 1  # two nodes; the second one's raylet
    if out["ready_at_kill"]:  # the second node's actor was up, so it held a unit: replaced
        assert out["replacements"] >= 1
    assert out["seconds_after_kill"] < 120
    played: dict[int, tuple] = {}
    for key in out["games"]:
        assert key[0] not in played, f"game {key[0]} was played twice"
        played[key[0]] = key
    assert sorted(played) == list(range(GAMES))
    expected = {k: list(v) for k, v in by_index(run_games(heuristic_config(seed=5),
                                                            range(GAMES), 1)).items()}
    assert {k: json.loads(json.dumps(v)) for k, v in played.items()} == \
        {k: json.loads(json.dumps(v)) for k, v in expected.items()}


if __name__ == "__main__":
    drive(sys.argv[1], int(sys.argv[2]))
