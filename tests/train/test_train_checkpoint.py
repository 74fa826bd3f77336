import io
import json
import random

import numpy as np
import pytest
import torch

from ringrift.errors import UserError
from ringrift.nn.models import build_model, load_model, make_config, sidecar_path
from ringrift.rules.spec import GameSpec
from ringrift.train.checkpoint import (
    CheckpointManager,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
    sha256_file,
)


def tiny_payload(step=0):
    torch.manual_seed(step)
    cfg = make_config("v2", GameSpec("square8", 2), in_channels=3, num_globals=2, policy_planes=1,
                      scalar_actions=1, channels=8, blocks=1)
    model = build_model(cfg)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.randn(2, 3, 8, 8), torch.randn(2, 2)).value.sum().backward()
    opt.step()
    return {"metadata": {"architecture": "v2", "model_config": cfg.to_dict(), "step": step},
            "model_state": model.state_dict(), "optimizer_state": opt.state_dict(),
            "rng_state": capture_rng_state(), "step": step, "best_val_loss": float("inf"),
            "data_cursor": {"epoch": 1, "group": 3}}


def test_round_trip_weights_only_and_sidecar(tmp_path):
    path = tmp_path / "ck.pt"
    payload = tiny_payload()
    sha = save_checkpoint(path, payload)
    side = json.loads(sidecar_path(path).read_text())
    assert side["sha256"] == sha == sha256_file(path)
    assert side["metadata"]["step"] == 0
    raw = torch.load(path, weights_only=True)  # plain data only
    assert raw["format"] == "ringrift-model" and raw["format_version"] == 1
    loaded = load_checkpoint(path)
    for k, v in payload["model_state"].items():
        assert torch.equal(loaded["model_state"][k], v)
    assert loaded["optimizer_state"]["state"][0]["step"] == payload["optimizer_state"][
        "state"][0]["step"]
    assert loaded["data_cursor"] == {"epoch": 1, "group": 3}
    model, meta = load_model(path)
    assert meta["architecture"] == "v2" and model.config.channels == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.pt", "ck.pt.json"]  # no temps


def test_tamper_missing_sidecar_and_corruption_detected(tmp_path):
    path = tmp_path / "ck.pt"
    save_checkpoint(path, tiny_payload())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="SHA-256 mismatch"):
        load_checkpoint(path)
    # A corrupt file whose sidecar was (re)written to match still fails cleanly.
    path.write_bytes(b"garbage")
    sidecar_path(path).write_text(json.dumps({"sha256": sha256_file(path), "metadata": {}}))
    with pytest.raises(UserError, match="not a loadable model file"):
        load_checkpoint(path)
    sidecar_path(path).write_text("{broken")
    with pytest.raises(UserError, match="unreadable sidecar"):
        load_checkpoint(path)
    sidecar_path(path).unlink()
    with pytest.raises(UserError, match="missing SHA-256 sidecar"):
        load_checkpoint(path)
    with pytest.raises(UserError, match="no such model file"):
        load_checkpoint(tmp_path / "nothing.pt")
    other = tmp_path / "other.pt"
    torch.save({"hello": torch.zeros(1)}, other)
    sidecar_path(other).write_text(json.dumps({"sha256": sha256_file(other)}))
    with pytest.raises(UserError, match="not a ringrift-model file"):
        load_checkpoint(other)


def test_manager_keeps_last_n_plus_best_and_skips_broken(tmp_path):
    manager = CheckpointManager(tmp_path / "ck", keep_last=2)
    manager.save_best(tiny_payload(1), 1)
    for step in (2, 4, 6):
        manager.save(tiny_payload(step), "regular", step)
    manager.save(tiny_payload(6), "epoch", 6)
    names = sorted(p.name for p in (tmp_path / "ck").iterdir())
    assert names == ["best_000000001.pt", "best_000000001.pt.json",
                     "step_000000006_epoch.pt", "step_000000006_epoch.pt.json",
                     "step_000000006_regular.pt", "step_000000006_regular.pt.json"]
    path, payload = manager.latest()
    assert path.name == "step_000000006_epoch.pt" and payload["step"] == 6
    manager.save_best(tiny_payload(6), 6)
    assert manager.best_path().name == "best_000000006.pt" and manager.best_step() == 6
    assert not (tmp_path / "ck" / "best_000000001.pt").exists()
    assert [p.name for p in manager.checkpoints(6)] == ["step_000000006_regular.pt",
                                                        "step_000000006_epoch.pt"]
    assert manager.checkpoints(4) == [] and len(manager.checkpoints()) == 2
    # The newest checkpoint is damaged: latest() falls back to the previous one.
    newest = tmp_path / "ck" / "step_000000006_epoch.pt"
    newest.write_bytes(newest.read_bytes()[:100])
    warnings = io.StringIO()
    path, _ = manager.latest(log=warnings)
    assert path.name == "step_000000006_regular.pt"
    assert "step_000000006_epoch.pt" in warnings.getvalue()
    # Leftover temporaries of a killed writer are removed.
    (tmp_path / "ck" / ".step_000000008_regular.pt.abc.tmp").write_bytes(b"x")
    (tmp_path / "ck" / "step_000000001_regular.pt.json").write_text("{}")  # orphan sidecar
    manager.cleanup_temporaries()
    names = {p.name for p in (tmp_path / "ck").iterdir()}
    assert not any(n.endswith(".tmp") for n in names)
    assert "step_000000001_regular.pt.json" not in names
    assert "step_000000006_regular.pt.json" in names
    assert CheckpointManager(tmp_path / "empty").latest() is None
    assert CheckpointManager(tmp_path / "empty").best_step() is None


def test_rng_state_round_trip(tmp_path):
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    state = capture_rng_state()
    path = tmp_path / "rng.pt"
    save_checkpoint(path, {"metadata": {}, "model_state": {}, "rng_state": state})
    expected = (torch.rand(3), np.random.rand(3), random.random())
    restore_rng_state(load_checkpoint(path)["rng_state"])
    assert torch.equal(torch.rand(3), expected[0])
    np.testing.assert_array_equal(np.random.rand(3), expected[1])
    assert random.random() == expected[2]
