"""Hostile and careless input to every command: one line on stderr, exit 2 (or 1 where
documented), no traceback, and files that existed before are byte-identical afterwards."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from ringrift.cli.main import main

BOARD = ["--board-type", "square8", "--num-players", "2"]


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder` (hidden ones too)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


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
