"""`ringrift selfplay --daemon`: games without end, following the registry's production model."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.data.replay import verify_record
from ringrift.registry import ModelRegistry
from ringrift.rules.spec import GameSpec
from ringrift.selfplay.daemon import DaemonConfig, run_daemon
from ringrift.selfplay.runner import SelfplayConfig

BASE = ["selfplay", "--daemon", "--board-type", "square8", "--num-players", "2"]


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    # the daemon sets torch's thread count when it loads a model (--threads, default 1)
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def empty_registry(path: Path) -> Path:
    ModelRegistry(path).close()
    return path


def tiny_model(folder: Path, name: str, seed: int) -> Path:
    """A real (untrained, tiny) square8 2-player policy/value network file with its sidecar."""
    torch = pytest.importorskip("torch")
    from ringrift.nn.models import build_model, make_config, save_model_file

    torch.manual_seed(seed)
    cfg = make_config("v2", GameSpec("square8", 2), channels=8, blocks=1)
    path = folder / name
    meta = {"architecture": "v2", "model_config": cfg.to_dict(), "board_type": "square8",
            "num_players": 2, "encoder_version": 1}
    save_model_file(path, {"metadata": meta, "model_state": build_model(cfg).state_dict()})
    return path


def promote(registry: Path, model: Path) -> int:
    with ModelRegistry(registry) as reg:
        entry = reg.register(model, "square8_2p").entry
        reg.transition(entry.id, "staging")
        reg.transition(entry.id, "production")
    return entry.id


def stored_games(db_path: Path):
    with GameDB(db_path, readonly=True) as db:
        return list(db.iter_games())


def test_without_production_model_plays_the_engine_and_stops_at_max_games(tmp_path, capsys):
    registry = empty_registry(tmp_path / "registry.db")
    out = tmp_path / "out"
    argv = [*BASE, "--engine", "heuristic", "--registry", str(registry), "--output-dir",
            str(out), "--status-interval", "0.001", "--max-games", "3"]
    assert main(argv) == 0
    log = capsys.readouterr().out
    assert "stopped: 3 games stored" in log and "Traceback" not in log
    assert "3 games, " in log and "current model no model (heuristic)" in log  # status lines
    games = stored_games(out / "games.db")
    assert len(games) == 3
    for record in games:
        assert record.status in ("completed", "max_moves")
        assert record.engines == ["heuristic", "heuristic"]
        assert record.metadata["model"] is None
        assert verify_record(record) is None
    # a restart appends to the same database, numbering on
    assert main([*argv[:-4], "--max-games", "1"]) == 0
    games = stored_games(out / "games.db")
    assert [g.metadata["game_index"] for g in games] == [0, 1, 2, 3]


def test_a_promotion_between_games_is_picked_up(tmp_path):
    registry = empty_registry(tmp_path / "models" / "registry.db")
    v1 = promote(registry, tiny_model(tmp_path / "models", "v1.pt", seed=1))
    v2_file = tiny_model(tmp_path / "models", "v2.pt", seed=2)
    config = DaemonConfig(
        selfplay=SelfplayConfig(board_type="square8", num_players=2, engine="gumbel", seed=3,
                                max_moves=12),
        output_dir=tmp_path / "out", registry=registry, max_games=4)
    config.selfplay.options.simulations = 2
    config.selfplay.options.device = "cpu"
    lines: list[str] = []
    promoted: list[int] = []

    def after_game(record, stored):
        if stored == 2:
            promoted.append(promote(registry, v2_file))

    summary = run_daemon(config, log=lines.append, on_game=after_game)
    assert summary.games == 4
    picked = [line for line in lines if line.startswith("picked up model")]
    assert len(picked) == 2
    assert picked[0].startswith(f"picked up model square8_2p v1 (id {v1},")
    assert picked[1].startswith(f"picked up model square8_2p v2 (id {promoted[0]},")
    games = stored_games(tmp_path / "out" / "games.db")
    ids = [g.metadata["model"]["registry_id"] for g in games]
    assert ids == [v1, v1, promoted[0], promoted[0]]
    with ModelRegistry(registry) as reg:
        sha2 = reg.get(promoted[0]).sha256
    assert games[-1].metadata["model"]["sha256"] == sha2
    assert games[-1].metadata["model"]["path"] == str(v2_file.resolve())
    assert all(g.engines == ["gumbel", "gumbel"] for g in games)


def test_a_corrupt_promotion_is_logged_and_play_goes_on(tmp_path):
    registry = empty_registry(tmp_path / "registry.db")
    bad = tiny_model(tmp_path, "bad.pt", seed=4)
    config = DaemonConfig(
        selfplay=SelfplayConfig(board_type="square8", num_players=2, engine="mcts",
                                max_moves=8),
        output_dir=tmp_path / "out", registry=registry, max_games=3, bootstrap_engine="random")
    config.selfplay.options.simulations = 2
    lines: list[str] = []

    def after_game(record, stored):
        if stored == 1:
            promote(registry, bad)
            bad.write_bytes(bad.read_bytes() + b"tampered")

    run_daemon(config, log=lines.append, on_game=after_game)
    refused = [line for line in lines if line.startswith("cannot use production model")]
    assert len(refused) == 1 and "SHA-256" in refused[0]  # logged once, not per game
    games = stored_games(tmp_path / "out" / "games.db")
    assert len(games) == 3
    assert all(g.metadata["model"] is None and g.engines == ["random", "random"] for g in games)


@contextmanager
def reaped(proc: subprocess.Popen):
    """Run the block; kill the daemon on the way out if it is still running (a failed
    assertion or a timeout), so no test leaves a process behind."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def start_random_daemon(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    """`ringrift selfplay --daemon` with the random engine in a subprocess; its database path."""
    registry = empty_registry(tmp_path / "registry.db")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "ringrift", *BASE, "--engine", "random", "--registry",
           str(registry), "--output-dir", str(out), "--status-interval", "0.2", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, out / "games.db"


def wait_for_games(proc: subprocess.Popen, db_path: Path, n: int = 1,
                   timeout_s: float = 20) -> int:
    """Poll the daemon's database (read-only) until it holds n games; return the count seen."""
    count = 0
    deadline = time.monotonic() + timeout_s
    while count < n and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        if db_path.exists():
            try:
                with closing(sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)) as c:
                    count = c.execute("SELECT COUNT(*) FROM games").fetchone()[0]
            except sqlite3.Error:
                pass
    return count


def assert_intact(db_path: Path, at_least: int) -> None:
    """The database passes SQLite's check and every stored game is whole and replays."""
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    games = stored_games(db_path)
    assert len(games) >= at_least
    for record in games:
        assert record.status in ("completed", "max_moves")
        assert verify_record(record) is None


def test_sigterm_stops_the_daemon_cleanly(tmp_path):
    proc, db_path = start_random_daemon(tmp_path)
    with reaped(proc):
        count = wait_for_games(proc, db_path)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=20)
    assert count >= 1
    assert proc.returncode == 0, stderr
    assert "stopped:" in stdout and "games/s" in stdout
    assert_intact(db_path, count)


def test_a_second_signal_exits_at_once_with_the_database_intact(tmp_path):
    proc, db_path = start_random_daemon(tmp_path)
    with reaped(proc):
        count = wait_for_games(proc, db_path)
        # Stopped, the daemon holds both signals pending; on SIGCONT Python runs their handlers
        # back to back, SIGINT (the lower number) first: the second comes before the first
        # stop has finished, deterministically.
        proc.send_signal(signal.SIGSTOP)
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status)
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGCONT)
        stdout, stderr = proc.communicate(timeout=20)
    assert count >= 1
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    # at once: not the clean stop's summary line, no traceback; the database is closed as is
    assert "selfplay daemon:" in stdout and "stopped:" not in stdout
    assert "Traceback" not in stderr
    assert_intact(db_path, count)


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_abandons_the_game_in_flight_promptly(tmp_path, workers):
    # gumbel with heuristic leaves at the quality budget: a game takes far longer than the test
    registry = empty_registry(tmp_path / "registry.db")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "ringrift", *BASE, "--engine", "gumbel", "--registry",
           str(registry), "--output-dir", str(out), "--workers", str(workers),
           "--mcts-simulations", "quality"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with reaped(proc):
        assert "selfplay daemon:" in proc.stdout.readline()
        time.sleep(1.0 if workers > 1 else 0.3)  # (spawned workers import first)
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        stdout, stderr = proc.communicate(timeout=20)
        assert time.monotonic() - started < 10
    assert proc.returncode == 0, stderr
    assert "stopped: " in stdout
    assert all(verify_record(g) is None for g in stored_games(out / "games.db"))


def test_workers_follow_the_registry_and_stop_at_max_games(tmp_path, capsys):
    registry = empty_registry(tmp_path / "registry.db")
    assert main([*BASE, "--engine", "random", "--registry", str(registry), "--output-dir",
                 str(tmp_path), "--max-games", "5", "--workers", "2"]) == 0
    games = stored_games(tmp_path / "games.db")
    assert sorted(g.metadata["game_index"] for g in games) == [0, 1, 2, 3, 4]


def child_pids(pid: int) -> list[int]:
    """The live children of a process (Linux: /proc/PID/task/*/children)."""
    pids: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        pids += [int(p) for p in children.read_text().split()]
    return pids


def test_a_killed_worker_is_replaced_and_play_goes_on(tmp_path):
    if not Path(f"/proc/{os.getpid()}/task").is_dir():
        pytest.skip("needs /proc")
    proc, db_path = start_random_daemon(tmp_path, "--workers", "2")
    with reaped(proc):
        before = wait_for_games(proc, db_path, 3)
        workers = child_pids(proc.pid)  # (random engine: forked workers, no other children)
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while set(child_pids(proc.pid)) & {workers[0]} and time.monotonic() < deadline:
            time.sleep(0.05)  # (until the parent has reaped it)
        after_kill = wait_for_games(proc, db_path, before + 1)  # (the kill may cost no game)
        after = wait_for_games(proc, db_path, after_kill + 5)  # two workers play on
        replaced = [p for p in child_pids(proc.pid) if p not in workers]
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=20)
    assert before >= 3 and after >= after_kill + 5, (before, after_kill, after, stdout, stderr)
    assert len(replaced) == 1
    assert proc.returncode == 0, stderr
    assert (f"selfplay worker 0 (pid {workers[0]}) crashed: killed by SIGKILL; started worker 2 "
            f"in its place (restart 1)") in stdout
    assert "stopped:" in stdout and "Traceback" not in stderr
    assert_intact(db_path, after)


@pytest.mark.parametrize("crash", ["raise", "exit"])
def test_a_crash_loop_stops_the_daemon_with_the_database_intact(tmp_path, capsys, monkeypatch,
                                                               crash):
    import ringrift.selfplay.daemon as daemon

    registry = empty_registry(tmp_path / "registry.db")
    argv = [*BASE, "--engine", "random", "--registry", str(registry), "--output-dir",
            str(tmp_path), "--workers", "2"]
    assert main([*argv, "--max-games", "3"]) == 0
    capsys.readouterr()

    def crashing_unit(*args, **kwargs):  # (forked workers inherit the patch)
        if crash == "exit":
            os._exit(3)  # the process vanishes without a word
        raise ZeroDivisionError("a bug in a game")

    monkeypatch.setattr(daemon, "play_daemon_unit", crashing_unit)
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    reason = ("ZeroDivisionError: a bug in a game (at test_daemon.py:" if crash == "raise"
              else "exited with status 3 without reporting")
    assert err.startswith("ringrift selfplay: error: selfplay workers keep crashing (6 worker "
                          "crashes within 60 s; last: worker ")
    assert reason in err and "\n" not in err, err
    restarts = [line for line in captured.out.splitlines() if " crashed: " in line]
    assert len(restarts) == 5 and reason in restarts[0]
    assert restarts[-1].endswith("(restart 5)")
    assert_intact(tmp_path / "games.db", 3)
    assert len(stored_games(tmp_path / "games.db")) == 3


def test_the_crash_loop_rule():
    from ringrift.selfplay.daemon import _CrashLimit

    now = [0.0]
    limit = _CrashLimit(limit=2, window_s=60, clock=lambda: now[0])
    assert limit.crashed() is None and limit.crashed() is None
    assert limit.crashed() == "3 worker crashes within 60 s"
    now[0] = 61.0  # the window moves on; a stored game resets the count in a row
    limit.game_stored()
    assert limit.crashed() is None and limit.total == 4
    now[0] = 200.0
    assert limit.crashed() is None
    now[0] = 400.0
    assert limit.crashed() == "3 worker crashes in a row without a game stored"


@pytest.mark.parametrize("extra,message", [
    (["--format", "npz"], "--format npz is not supported by the daemon"),
    (["--registry", "MISSING"], "no such file"),
    (["--num-games", "5"], "--num-games is not used with --daemon"),
    (["--model", "x.pt"], "--model is not used with --daemon"),
    (["--max-games", "0"], "--max-games must be at least 1"),
    (["--bootstrap-engine", "alphago"], "unknown engine"),
])
def test_bad_daemon_flags_are_one_line_errors(tmp_path, capsys, extra, message):
    registry = empty_registry(tmp_path / "registry.db")
    extra = [str(tmp_path / "missing.db") if e == "MISSING" else e for e in extra]
    argv = [*BASE, "--engine", "random", "--registry", str(registry), "--output-dir",
            str(tmp_path / "out"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_daemon_flags_without_daemon_are_refused(tmp_path, capsys):
    assert main(["selfplay", "--board-type", "square8", "--num-players", "2", "--output-dir",
                 str(tmp_path), "--max-games", "3"]) == 2
    assert "--max-games is for --daemon" in capsys.readouterr().err
