"""Model files, sidecars and digests: one module (ringrift.nn.model_file)."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

from ringrift.errors import UserError
from ringrift.nn import model_file


def test_save_load_round_trip_and_sidecar(tmp_path):
    path = tmp_path / "m.pt"
    meta = {"board_type": "hex8", "num_players": 3, "architecture": "v2", "encoder_version": 4}
    sha = model_file.save_model_file(path, {"metadata": meta, "model_state": {"w": torch.ones(2)}})
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest() == model_file.sha256_file(path)
    assert model_file.read_sidecar(path) == {"sha256": sha, "metadata": meta}
    info = model_file.sidecar_info(path)
    assert (info.sha256, info.board_type, info.num_players, info.architecture,
            info.encoder_version) == (sha, "hex8", 3, "v2", "4")
    payload = model_file.load_model_file(path)
    assert payload["format"] == model_file.FORMAT and payload["metadata"] == meta
    assert torch.equal(payload["model_state"]["w"], torch.ones(2))


def test_sidecar_problems_are_one_line_errors(tmp_path):
    path = tmp_path / "m.pt"
    path.write_bytes(b"not a model")
    assert model_file.sidecar_info(path) is None  # the registry accepts a file without one
    with pytest.raises(UserError, match="missing SHA-256 sidecar"):
        model_file.read_sidecar(path)
    model_file.sidecar_path(path).write_text("{broken")
    with pytest.raises(UserError, match="sidecar .*m.pt.json is not readable JSON"):
        model_file.sidecar_info(path)
    with pytest.raises(UserError, match="unreadable sidecar"):
        model_file.read_sidecar(path)
    model_file.sidecar_path(path).write_text(json.dumps({"metadata": {"num_players": "two"}}))
    with pytest.raises(UserError, match="'num_players' must be an integer"):
        model_file.sidecar_info(path)
    with pytest.raises(UserError, match="no sha256 field"):
        model_file.load_model_file(path)
