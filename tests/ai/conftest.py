"""Shared fixtures of the player and search tests."""

from __future__ import annotations

import pytest

from ringrift.cli.main import main


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """A tiny v2 square8 2p model trained for one epoch on 3 random games (path as str); one
    per test session, shared read-only by the modules that play it."""
    folder = tmp_path_factory.mktemp("m")
    assert main(["selfplay", "--board-type", "square8", "--num-players", "2", "--engine",
                 "random", "--num-games", "3", "--output-dir", str(folder), "--format", "npz",
                 "--quiet"]) == 0
    model = folder / "tiny.pt"
    assert main(["train", "--board-type", "square8", "--num-players", "2", "--data-path",
                 str(folder / "selfplay.npz"), "--model-version", "v2", "--channels", "8",
                 "--blocks", "1", "--epochs", "1", "--batch-size", "64", "--save-path",
                 str(model), "--no-progress", "--no-tensorboard"]) == 0
    return str(model)
