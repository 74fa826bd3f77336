"""Hostile and careless input to every command: one line on stderr, exit 2 (or 1 where
documented), no traceback, and files that existed before are byte-identical afterwards."""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from ringrift.cli.main import build_parser, main
from ringrift.rules.spec import GameSpec

BOARD = ["--board-type", "square8", "--num-players", "2"]


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder` (hidden ones too), but SQLite's `-shm` index,
    which every reader of a WAL database rewrites (it holds no data)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith("-shm")}


def cli(argv: list) -> int:
    return main([str(a) for a in argv])


def refused(capsys, argv: list[str], *, code: int = 2, message: str | None = None) -> str:
    """Run the CLI in-process; assert a short one-line-ish refusal. Returns stderr."""
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert rc == code, (argv, rc, err)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= 3, (argv, err)
    if message is not None:
        assert message in err, (argv, err)
    return err


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A folder with good data: a game database (games.db) and an export of it (good.npz)."""
    folder = tmp_path_factory.mktemp("ws")
    assert main(["selfplay", *BOARD, "--engine", "random", "--num-games", "4", "--seed", "3",
                 "--max-moves", "400", "--output-dir", str(folder), "--quiet"]) == 0
    assert main(["export", "--db", str(folder / "games.db"), *BOARD,
                 "--output", str(folder / "good.npz")]) == 0
    return folder


@pytest.fixture(scope="module")
def model_file(workspace, tmp_path_factory) -> Path:
    """A tiny square8 2p model trained for one epoch on the workspace's export."""
    path = tmp_path_factory.mktemp("model") / "model.pt"
    assert main(["train", *BOARD, "--data-path", str(workspace / "good.npz"), "--channels", "8",
                 "--blocks", "1", "--epochs", "1", "--batch-size", "64", "--save-path",
                 str(path), "--no-progress", "--no-tensorboard"]) == 0
    return path


@pytest.fixture
def ws(workspace, tmp_path) -> Path:
    """A private copy of the workspace (tests may try to damage it)."""
    import shutil

    copy = tmp_path / "ws"
    shutil.copytree(workspace, copy)
    return copy


@pytest.fixture
def untouched(ws):
    """Assert after the test that every file of the workspace is byte-identical."""
    before = snapshot(ws)
    yield ws
    assert snapshot(ws) == before


# --------------------------------------------------------------------------- class 1: no loss
@pytest.mark.parametrize("extra,message", [
    (["--max-games", "-2"], "--max-games"),
    (["--max-games", "0"], "--max-games"),
    (["--min-moves", "100", "--max-moves", "10"], "no game can pass"),
    (["--min-moves", "100000"], "left as it was"),
])
def test_export_with_a_wrong_filter_keeps_the_old_file(capsys, untouched, extra, message):
    ws = untouched
    refused(capsys, ["export", "--db", ws / "games.db", *BOARD, "--output", ws / "good.npz",
                     *extra], message=message)


def test_export_skips_a_game_that_does_not_replay_and_names_it(capsys, ws):
    import json

    with sqlite3.connect(ws / "games.db") as conn:
        game_id = conn.execute("SELECT id FROM games LIMIT 1").fetchone()[0]
        conn.execute("UPDATE moves SET move = ? WHERE game_id = ? AND move_index = 3",
                     (json.dumps({"type": "teleport"}), game_id))
    assert cli(["export", "--db", ws / "games.db", *BOARD, "--output", ws / "x.npz"]) == 0
    captured = capsys.readouterr()
    assert game_id in captured.out + captured.err and "Traceback" not in captured.err
    from ringrift.data.npz_format import read_npz

    arrays, _ = read_npz(ws / "x.npz")
    assert game_id not in set(arrays["game_ids"].tolist()) and len(arrays["game_ids"])


def test_export_cache_with_nan_is_encoded_again(capsys, ws):
    import numpy as np

    from ringrift.data.npz_format import read_npz, write_npz

    argv = ["export", "--db", ws / "games.db", *BOARD, "--output", ws / "c.npz", "--use-cache"]
    assert cli(argv) == 0
    reference, _ = read_npz(ws / "c.npz")
    chunk = next((ws / "c.npz.cache").glob("chunk_*.npz"))
    arrays, meta = read_npz(chunk)
    arrays = {k: v.copy() for k, v in arrays.items()}
    arrays["values"][0, 0] = np.nan
    write_npz(chunk, arrays, meta)
    (ws / "c.npz").unlink()
    capsys.readouterr()
    assert cli(argv) == 0
    assert "encoding its games again" in capsys.readouterr().err
    again, _ = read_npz(ws / "c.npz")
    assert np.isfinite(again["values"]).all()
    assert np.array_equal(again["values"], reference["values"])


# --------------------------------------------------------------------------- loop: the right run
def _finished_run(folder: Path, run_dir_text: str) -> Path:
    """A loop run folder whose one iteration is done (resuming it plays nothing), its saved
    paths recorded under `run_dir_text`."""
    import json

    from ringrift.loop.config import LoopConfig
    from ringrift.loop.state import LoopState

    folder.mkdir(parents=True)
    config = LoopConfig("square8", 2, run_dir_text, iterations=1)
    (folder / "loop_config.json").write_text(json.dumps(config.to_dict()))
    model = f"{run_dir_text}/models/iter_000.pt"
    state = LoopState(iteration=1, best_model=model, latest_model=model,
                      history=[{"iteration": 0, "train": {"model": model}}])
    (folder / "loop_state.json").write_text(json.dumps(state.__dict__))
    return folder


def test_loop_start_over_an_existing_run_refuses_without_rewriting_it(capsys, tmp_path):
    run = _finished_run(tmp_path / "run", str(tmp_path / "run"))
    before = snapshot(run)
    refused(capsys, ["loop", "--run-dir", run, "--board-type", "hex8"], message="--resume")
    refused(capsys, ["loop", "--run-dir", run, "--resume", "--board-type", "hex8"],
            message="keeps its settings")
    assert snapshot(run) == before


def test_resuming_a_copied_run_acts_on_the_copy(capsys, tmp_path, monkeypatch):
    import json
    import shutil

    from ringrift.loop.config import load_config
    from ringrift.loop.state import LoopState

    monkeypatch.chdir(tmp_path)
    original = _finished_run(tmp_path / "runs" / "a", "runs/a")  # saved relative to the cwd
    copy = tmp_path / "elsewhere" / "b"
    shutil.copytree(original, copy)
    before = snapshot(original)
    other_cwd = tmp_path / "other"
    other_cwd.mkdir()
    monkeypatch.chdir(other_cwd)  # resumed from another folder, by absolute path
    assert cli(["loop", "--run-dir", copy, "--resume", "--iterations", "1"]) == 0
    assert snapshot(original) == before
    assert json.loads((copy / "loop_config.json").read_text())["run_dir"] == str(copy)
    assert load_config(copy).run_dir == str(copy)
    state = LoopState.load(copy, saved_run_dir="runs/a")
    assert state.best_model == str(copy / "models" / "iter_000.pt")
    assert state.history[0]["train"]["model"] == state.best_model
    assert not (other_cwd / "runs").exists()
    capsys.readouterr()


@pytest.mark.parametrize("file,field,value,message", [
    ("loop_state.json", "iteration", "two", "iteration must be"),
    ("loop_state.json", "stage", "dance", "stage must be one of"),
    ("loop_state.json", "history", {"a": 1}, "history must be"),
    ("loop_state.json", "best_model", 5, "best_model must be"),
    ("loop_config.json", "iterations", "ten", "iterations must be int"),
    ("loop_config.json", "learning_rate", "fast", "learning_rate must be float"),
    ("loop_config.json", "eval_opponents", "random", "eval_opponents must be list"),
    ("loop_config.json", "sprt", "0,x", "sprt must be list"),
])
def test_corrupt_loop_files_are_one_line(capsys, tmp_path, file, field, value, message):
    import json

    run = _finished_run(tmp_path / "run", str(tmp_path / "run"))
    data = json.loads((run / file).read_text())
    data[field] = value
    (run / file).write_text(json.dumps(data))
    before = snapshot(run)
    refused(capsys, ["loop", "--run-dir", run, "--resume"], message=message)
    assert snapshot(run) == before


def test_a_loop_config_saved_with_the_sprt_as_text_still_loads(tmp_path):
    import json

    from ringrift.loop.config import load_config

    run = _finished_run(tmp_path / "run", str(tmp_path / "run"))
    data = json.loads((run / "loop_config.json").read_text())
    data["sprt"] = "0,35"  # the flag's text, as saved before the CLI parsed it (issue 17)
    (run / "loop_config.json").write_text(json.dumps(data))
    config = load_config(run)
    assert config.sprt == [0.0, 35.0] and config.gauntlet_config(1).sprt == (0.0, 35.0)


def test_loop_iterations_zero_is_an_error_not_ten(capsys, tmp_path):
    refused(capsys, ["loop", "--run-dir", tmp_path / "r", "--board-type", "square8",
                     "--iterations", "0"], message="--iterations")
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- train
def _train_argv(ws: Path, save: Path, *extra) -> list:
    return ["train", *BOARD, "--data-path", ws / "good.npz", "--channels", "8", "--blocks", "1",
            "--epochs", "2", "--batch-size", "64", "--save-path", save, "--no-progress",
            "--no-tensorboard", "--checkpoint-every", "1", *extra]


def test_a_nan_loss_stops_training_and_keeps_the_old_model(capsys, ws, monkeypatch):
    from ringrift.train.step import TrainStep

    save = ws / "best.pt"
    save.write_bytes(b"the good model")
    real_run, calls = TrainStep.run, []

    def run(self, batches, step, *more, **options):
        metrics = real_run(self, batches, step, *more, **options)
        calls.append(step)
        return {**metrics, "loss": float("nan")} if len(calls) >= 2 else metrics

    monkeypatch.setattr(TrainStep, "run", run)
    refused(capsys, _train_argv(ws, save, "--epochs", "1"),
            message="training loss became nan at step 2")
    assert save.read_bytes() == b"the good model"
    from ringrift.train.checkpoint import CheckpointManager, load_checkpoint

    saved = CheckpointManager(ws / "best_ckpt").checkpoints()
    assert saved, "the checkpoints of the finite steps are kept"
    import torch

    state = load_checkpoint(saved[-1])["model_state"]
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_train_output_and_init_weights_problems_are_found_before_training(capsys, ws,
                                                                          model_file):
    (ws / "afile").write_text("x")
    refused(capsys, _train_argv(ws, ws / "afile" / "m.pt"), message="is a file, not a folder")
    refused(capsys, _train_argv(ws, ws), message="is a folder")
    assert not list(ws.glob("*_ckpt"))
    import torch

    payload = torch.load(model_file, weights_only=True)
    name = next(k for k, v in payload["model_state"].items() if v.ndim == 4)
    payload["model_state"][name] = torch.zeros(3, 3, 3, 3)
    bad = ws / "wrong_shapes.pt"
    from ringrift.nn.model_file import save_model_file

    save_model_file(bad, payload)  # (a valid file with its sidecar: only the shapes are wrong)
    refused(capsys, _train_argv(ws, ws / "m.pt", "--init-weights", bad),
            message="weights do not fit")


# --------------------------------------------------------------------------- stored data
def _jsonl_of(ws: Path, tmp_path: Path) -> tuple[Path, str, int]:
    """The workspace's games as JSONL records, the second one's 4th move made illegal."""
    import json

    from ringrift.data.gamedb import GameDB
    from ringrift.data.jsonl import write_games_jsonl

    with GameDB(ws / "games.db", readonly=True) as db:
        records = list(db.iter_games())
    out = tmp_path / "games.jsonl"
    write_games_jsonl(out, records)
    lines = out.read_text().splitlines()
    bad = json.loads(lines[1])
    moves = bad["moves"]
    moves[3]["move"] = moves[0]["move"]  # (the opening placement, not legal there)
    lines[1] = json.dumps(bad)
    out.write_text("\n".join(lines) + "\n")
    return out, records[1].game_id, len(records)


def test_db_import_replays_before_storing(capsys, ws, tmp_path):
    from ringrift.data.gamedb import GameDB

    jsonl, bad_id, total = _jsonl_of(ws, tmp_path)
    db = tmp_path / "imported.db"
    assert cli(["db", "import", jsonl, "--db", db]) == 0
    out = capsys.readouterr().out
    assert bad_id in out and f"{total - 1} games added" in out
    with GameDB(db, readonly=True) as games:
        assert bad_id not in games.game_ids()
    assert cli(["db", "verify", db]) == 0
    refused(capsys, ["db", "import", jsonl, tmp_path / "missing.jsonl", "--db", db],
            message="no such file")
    refused(capsys, ["db", "import", ws / "games.db", "--db", tmp_path / "new.db"],
            message="a SQLite database, not JSONL")
    assert not (tmp_path / "new.db").exists()
    (tmp_path / "broken.jsonl").write_text('{"format": \n')
    refused(capsys, ["db", "import", tmp_path / "broken.jsonl", "--db", tmp_path / "new.db"],
            message="broken.jsonl")
    assert not list(tmp_path.glob("new.db*"))  # no empty database left behind


def test_readers_skip_a_game_whose_stored_json_is_corrupt(capsys, ws):
    with sqlite3.connect(ws / "games.db") as conn:
        bad_id = conn.execute("SELECT id FROM games LIMIT 1").fetchone()[0]
        conn.execute("UPDATE games SET initial_state = '{\"board\": 7' WHERE id = ?", (bad_id,))
    assert cli(["db", "verify", ws / "games.db"]) == 1
    captured = capsys.readouterr()
    assert bad_id in captured.out and "3 replay exactly" in captured.out
    assert "Traceback" not in captured.err
    assert cli(["db", "stats", ws / "games.db"]) == 0
    capsys.readouterr()
    assert cli(["export", "--db", ws / "games.db", *BOARD, "--output", ws / "y.npz"]) == 0
    captured = capsys.readouterr()
    assert bad_id in captured.out + captured.err


# --------------------------------------------------------------------------- checks agree
def test_a_gauntlet_with_nothing_to_play_never_passes(capsys, tmp_path):
    from ringrift.evaluate.engine_spec import EngineSpec
    from ringrift.evaluate.gauntlet import Gauntlet, GauntletConfig

    refused(capsys, ["gauntlet", *BOARD, "--engine", "random", "--name", "cand", "--opponents",
                     "previous", "--db", tmp_path / "e.db"], message="nothing to play")
    assert not (tmp_path / "e.db").exists()
    config = GauntletConfig(board_type="square8", num_players=2, games=2,
                            opponents=("previous",))
    result = Gauntlet(EngineSpec.build("random", None, "cand"), config).run(None)
    assert result.games == 0 and result.verdict == "no games" and not result.passed


# --------------------------------------------------------------------------- concurrency
def test_selfplay_with_the_same_seed_into_one_folder_stores_no_duplicates(capsys, tmp_path):
    from ringrift.data.gamedb import GameDB
    from ringrift.selfplay.output import GameSink
    from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game

    config = SelfplayConfig("square8", 2, engine="random", seed=7, max_moves=60)
    games = [play_selfplay_game(config, i) for i in range(3)]
    # two runs that started together: both number their games from 0
    first = GameSink(tmp_path, "db", GameSpec("square8", 2))
    second = GameSink(tmp_path, "db", GameSpec("square8", 2))
    assert [first.add(g) for g in games] == [True] * 3
    assert [second.add(g) for g in games[:2]] == [False, False]
    first.close()
    second.close()
    assert "same --seed" in capsys.readouterr().err
    with GameDB(tmp_path / "games.db", readonly=True) as db:
        assert db.count_games() == 3
    # a later run into the folder continues the numbering: new games, all stored
    assert cli(["selfplay", *BOARD, "--engine", "random", "--num-games", "2", "--seed", "7",
                "--max-moves", "60", "--output-dir", tmp_path, "--quiet"]) == 0
    with GameDB(tmp_path / "games.db", readonly=True) as db:
        assert db.count_games() == 5


@pytest.mark.parametrize("content,message", [
    ("[1, 2]", "JSON object of named profiles"),
    ('{"x": {"territory": "high"}}', "must be a finite number"),
    ('{"x": [1]}', "unknown weights"),
    ("{nope", "not valid JSON"),
])
def test_a_bad_heuristic_profile_file_is_one_line(capsys, tmp_path, content, message):
    profile = tmp_path / "profiles.json"
    profile.write_text(content)
    refused(capsys, ["selfplay", *BOARD, "--num-games", "1", "--output-dir", tmp_path / "out",
                     "--heuristic-profile-file", profile], message=message)
    assert not (tmp_path / "out").exists()


def test_models_register_refuses_what_is_not_a_model(capsys, tmp_path, model_file):
    import pickle

    registry = tmp_path / "reg" / "registry.db"
    files = {"empty.pt": b"", "random.pt": os.urandom(2048),
             "pickle.pt": pickle.dumps({"model_state": {}, "hook": print})}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        refused(capsys, ["models", "register", tmp_path / name, "--name", "x", "--registry",
                         registry, *BOARD], message="model")
    refused(capsys, ["models", "register", model_file, "--name", "x", "--registry", registry,
                     "--board-type", "hex8", "--num-players", "2"],
            message="the model is for board type square8, not --board-type hex8")
    refused(capsys, ["models", "register", model_file, "--name", "x", "--registry", registry,
                     "--board-type", "square8", "--num-players", "3"],
            message="not --num-players 3")
    assert not registry.exists()
    assert cli(["models", "register", model_file, "--name", "x", "--registry", registry,
                *BOARD]) == 0


# --------------------------------------------------------------------------- every command
def _commands() -> list[list[str]]:
    """Every (nested) subcommand of `ringrift`, found in the parser: new ones are covered."""
    found: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if path and not subs:
            found.append(path)
        for action in subs:
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) not in seen:  # (an alias names the same parser: once)
                    seen.add(id(sub))
                    walk(sub, [*path, name])

    walk(build_parser(), [])
    return found


COMMANDS = _commands()


def test_the_parser_lists_the_commands_we_know():
    names = {" ".join(c) for c in COMMANDS}
    assert {"selfplay", "export", "train", "loop", "db import", "models register",
            "gauntlet", "quality"} <= names


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_refuses_a_wrong_flag_in_one_line(capsys, command):
    with pytest.raises(SystemExit) as stop:
        main([*command, "--no-such-flag", "3"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "--no-such-flag" in err or "required" in err


@pytest.mark.parametrize("flag,make,message", [
    ("--output", lambda t: t / "afile" / "x.npz", "is a file, not a folder"),
    ("--output", lambda t: t, "is a folder"),
    ("--save-path", lambda t: t / "afile" / "m.pt", "is a file, not a folder"),
    ("--output-dir", lambda t: t / "afile", "is a file, not a folder"),
    ("--run-dir", lambda t: t / "afile" / "run", "is a file, not a folder"),
    ("--plot", lambda t: t, "is a folder"),
])
def test_wrong_output_paths_are_refused_before_any_work(capsys, tmp_path, flag, make,
                                                         message):
    (tmp_path / "afile").write_text("keep me")
    before = snapshot(tmp_path)
    argv_by_flag = {
        "--output": ["export", "--db", tmp_path / "none.db", *BOARD],
        "--save-path": ["train", *BOARD, "--data-path", tmp_path / "none.npz"],
        "--output-dir": ["selfplay", *BOARD, "--num-games", "1"],
        "--run-dir": ["loop", "--board-type", "square8"],
        "--plot": ["elo", *BOARD, "--results", tmp_path / "none.jsonl"],
    }
    refused(capsys, [*argv_by_flag[flag], flag, make(tmp_path)], message=message)
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder_is_refused(capsys, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        refused(capsys, ["selfplay", *BOARD, "--num-games", "1", "--output-dir", folder],
                message="not writable")
    finally:
        folder.chmod(0o755)


# --------------------------------------------------------------------------- corrupt files
def _damage_games_table(db: Path) -> None:
    """Overwrite the root page of the games table (the schema page stays readable), so the
    first query that lists games meets the damage, whatever the page layout."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # (every page in the main file)
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'games'"
                            ).fetchone()[0]
    assert root > 1
    with open(db, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\x13" * page_size)


@pytest.mark.parametrize("argv,code", [
    (["db", "verify", "DB"], 2),
    (["export", "--db", "DB", *BOARD, "--output", "OUT"], 2),
    (["quality", "--db", "DB"], 2),
])
def test_corrupt_database_pages_are_one_line(capsys, ws, argv, code):
    _damage_games_table(ws / "games.db")
    before = snapshot(ws)
    names = {"DB": ws / "games.db", "OUT": ws / "good.npz"}
    refused(capsys, [names.get(a, a) for a in argv], code=code,
            message="games.db: damaged database (database disk image is malformed)")
    assert snapshot(ws) == before


@pytest.mark.parametrize("damage,message", [
    (lambda a, m: a.__setitem__("policy_offsets", a["policy_offsets"][::-1].copy()),
     "policy_offsets must start at 0"),
    (lambda a, m: a.__setitem__("legal_offsets", a["legal_offsets"][:-3].copy()),
     "legal_offsets has shape"),
    (lambda a, m: m.update(in_channels="many"), "in_channels must be a non-negative integer"),
    (lambda a, m: m.pop("policy_size"), "lacks 'policy_size'"),
])
def test_malformed_npz_is_refused_by_train_and_scored_0_by_quality(capsys, ws, damage,
                                                                    message):
    from ringrift.data.npz_format import read_npz, write_npz

    arrays, meta = read_npz(ws / "good.npz")
    arrays = {k: v.copy() for k, v in arrays.items()}
    damage(arrays, meta)
    bad = ws / "bad.npz"
    write_npz(bad, arrays, meta)
    refused(capsys, ["train", *BOARD, "--data-path", bad, "--save-path", ws / "m.pt",
                     "--no-progress", "--no-tensorboard"], message=message)
    assert not (ws / "m.pt").exists()
    assert cli(["quality", "--npz", bad]) == 1
    out = capsys.readouterr().out
    assert "0/100" in out and message in out


def test_npz_metadata_that_is_not_an_object_is_one_line(capsys, ws):
    import numpy as np

    bad = ws / "list_meta.npz"
    with open(bad, "wb") as fh:
        np.savez(fh, metadata=np.asarray("[1, 2]"), features=np.zeros((1, 2), np.float32))
    for argv in (["quality", "--npz", bad],
                 ["train", *BOARD, "--data-path", bad, "--save-path", ws / "m.pt"]):
        refused(capsys, argv, message="metadata JSON is not an object")


@pytest.mark.parametrize("command", [["rules", "vectors"], ["rules", "replay"]])
def test_rules_commands_given_a_binary_file_are_one_line(capsys, tmp_path, command):
    binary = tmp_path / "x.json"
    binary.write_bytes(bytes(range(256)) * 8)
    refused(capsys, [*command, binary], message="cannot read")


# --------------------------------------------------------------------------- real processes
def test_a_write_killed_by_sigkill_leaves_a_temporary_the_next_export_removes(ws):
    import subprocess
    import sys

    target = ws / "good.npz"
    before = target.read_bytes()
    script = ("import os, signal, sys\n"
              "from ringrift.atomic import atomic_path\n"
              "with atomic_path(sys.argv[1], suffix='.npz') as tmp:\n"
              "    tmp.write_bytes(b'half an export')\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True)
    assert proc.returncode == -9
    leftovers = [p for p in ws.iterdir() if p.name.startswith(".good.npz.ringrift-tmp-")]
    assert len(leftovers) == 1 and target.read_bytes() == before
    assert cli(["export", "--db", ws / "games.db", *BOARD, "--output", target]) == 0
    assert not [p for p in ws.iterdir() if p.name.startswith(".good.npz.ringrift-tmp-")]
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask



@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only files")
def test_a_read_only_database_is_one_line(capsys, ws):
    (ws / "games.db").chmod(0o444)
    try:
        before = snapshot(ws)
        refused(capsys, ["selfplay", *BOARD, "--engine", "random", "--num-games", "1",
                         "--output-dir", ws])  # (SQLite's words: "readonly database")
        assert snapshot(ws) == before
    finally:
        (ws / "games.db").chmod(0o644)


def test_state_paths_are_rebased_only_under_the_saved_run_dir(tmp_path):
    from ringrift.loop.state import _rebase

    assert _rebase("runs/a/models/x.pt", "runs/a", str(tmp_path)) == str(tmp_path / "models/x.pt")
    assert _rebase("runs/ab/x.pt", "runs/a", "new") == "runs/ab/x.pt"  # a sibling, not inside
    assert _rebase({"k": ["heuristic", 3]}, "runs/a", "new") == {"k": ["heuristic", 3]}


def test_environment_failures_become_one_line():
    import sqlite3

    from ringrift.cli.main import _environment_problem

    oom = RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: "
                       "can't allocate memory: you tried to allocate 360000000000 bytes.")
    assert _environment_problem(oom).startswith("out of memory (335.3 GiB asked)")
    assert _environment_problem(MemoryError()).startswith("out of memory")
    assert _environment_problem(PermissionError(13, "Permission denied", "/x/y")) == \
        "/x/y: Permission denied"
    assert "malformed" in _environment_problem(
        sqlite3.DatabaseError("database disk image is malformed"))
    assert _environment_problem(BrokenPipeError(32, "Broken pipe", "x")) is None
    assert _environment_problem(RuntimeError("a bug")) is None  # bugs keep their traceback


def test_warnings_are_one_line(tmp_path):
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(b'{"format": "ringrift-game"')  # a line cut by a killed writer
    import subprocess
    import sys

    # (a real process: pytest records warnings in-process instead of printing them)
    proc = subprocess.run([sys.executable, "-m", "ringrift", "db", "import", str(torn), "--db",
                           str(tmp_path / "g.db")], capture_output=True, text=True)
    assert proc.returncode == 0
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: ") and "incomplete" in err[0]


def test_a_rerun_after_out_of_order_games_plays_new_games(tmp_path):
    from ringrift.data.gamedb import GameDB
    from ringrift.selfplay.output import GameSink
    from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game

    config = SelfplayConfig("square8", 2, engine="random", seed=5, max_moves=60)
    sink = GameSink(tmp_path, "db", GameSpec("square8", 2))
    for index in (0, 1, 3):  # a killed run with two workers: game 2 never finished
        assert sink.add(play_selfplay_game(config, index))
    assert sink.fresh_indices(config.game_seed, 3, 2) == [4, 5]  # (3 games stored)
    sink.close()
    assert cli(["selfplay", *BOARD, "--engine", "random", "--num-games", "2", "--seed", "5",
                "--max-moves", "60", "--output-dir", tmp_path, "--quiet"]) == 0
    with GameDB(tmp_path / "games.db", readonly=True) as db:
        seeds = [r.seed for r in db.iter_games()]
    assert len(seeds) == len(set(seeds)) == 5
