"""`ringrift pbt`: explore within bounds, exploit copies weights and optimizer state, a tiny
run end to end (table, lineage plot, model store), resume after SIGKILL, bad input."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ringrift.cli.main import main
from ringrift.nn.models import sha256_file
from ringrift.rules.spec import GameSpec
from ringrift.train.checkpoint import load_checkpoint
from ringrift.tune.hparams import BOUNDS, perturb_hparams, sample_hparams
from ringrift.tune.pbt import (
    MatchPoolScorer,
    PBTSettings,
    PBTState,
    exploit_explore,
    member_name,
    run_pbt,
)
from tests.train.synth_npz import write_training_file


@pytest.fixture(autouse=True)
def _one_torch_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_training_file(tmp_path_factory.mktemp("d") / "d.npz", learnable=True,
                               n_games=8, moves_per_game=8, seed=3)


@pytest.fixture(scope="module")
def real_data(tmp_path_factory):
    """Exported positions of 3 random games (models trained on them can play)."""
    folder = tmp_path_factory.mktemp("real")
    assert main(["selfplay", "--board-type", "square8", "--num-players", "2", "--engine",
                 "random", "--num-games", "3", "--output-dir", str(folder), "--format", "npz",
                 "--quiet"]) == 0
    return folder / "selfplay.npz"


def test_explore_stays_within_bounds_and_moves_every_knob():
    rng = random.Random(0)
    for _ in range(200):
        hp = sample_hparams(rng)
        moved = perturb_hparams(hp, rng)
        for name, bound in BOUNDS.items():
            assert bound.low <= hp[name] <= bound.high
            assert bound.low <= moved[name] <= bound.high
            if bound.log:
                ratio = moved[name] / hp[name]
                assert (math.isclose(ratio, 0.8) or math.isclose(ratio, 1.2)
                        or moved[name] in (bound.low, bound.high))
            else:
                step = abs(moved[name] - hp[name]) / (bound.high - bound.low)
                assert math.isclose(step, 0.1) or moved[name] in (bound.low, bound.high)
    edge = {name: b.high for name, b in BOUNDS.items()}
    for _ in range(20):
        assert all(v <= BOUNDS[k].high for k, v in perturb_hparams(edge, rng).items())


def test_exploit_copies_the_top_quartile_into_the_bottom_quartile():
    rng = random.Random(1)
    members = [{"hparams": sample_hparams(rng)} for _ in range(8)]
    trained = {member_name(m): {"model": f"g0/m{m}.pt", "optimizer": f"g0/m{m}_opt.pt"}
               for m in range(8)}
    elo = {member_name(m): (float(e), e - 50.0, e + 50.0)
           for m, e in enumerate([10, 300, 50, -40, 200, 0, -100, 120])}
    nxt = exploit_explore(members, trained, elo, random.Random(2))
    top, bottom = {1, 4}, {3, 6}  # best two (300, 200), worst two (-40, -100)
    for m, member in enumerate(nxt):
        if m in bottom:
            p = member["parent"]
            assert p in top and member["explored"]
            assert member["init_model"] == f"g0/m{p}.pt"
            assert member["init_optimizer"] == f"g0/m{p}_opt.pt"
            assert member["hparams"] != members[p]["hparams"]
            assert all(BOUNDS[k].low <= v <= BOUNDS[k].high
                       for k, v in member["hparams"].items())
        else:
            assert member["parent"] == m and not member["explored"]
            assert member["init_model"] == f"g0/m{m}.pt"
            assert member["hparams"] == members[m]["hparams"]


class ScriptedScorer:
    """Member m01 always leads; records what it was asked to score."""

    def __init__(self):
        self.calls = []

    def __call__(self, models, generation):
        self.calls.append((generation, dict(models)))
        return {name: (100.0 * int(name[1:]), 100.0 * int(name[1:]) - 30,
                       100.0 * int(name[1:]) + 30) for name in models}


def _settings(tmp_path, data, **more):
    fields = {"run_dir": tmp_path / "pbt", "population_size": 2, "generations": 2,
              "steps_per_generation": 3, "batch_size": 16, "channels": 8, "blocks": 1,
              "registry": tmp_path / "registry.db", **more}
    return PBTSettings(board_type="square8", num_players=2, data_paths=[str(data)], **fields)


def test_a_tiny_run_copies_weights_and_optimizer_and_registers_the_lineage(tmp_path, data,
                                                                            capsys):
    from ringrift.registry import ModelRegistry

    scorer = ScriptedScorer()
    state = run_pbt(_settings(tmp_path, data), scorer=scorer, out=sys.stdout)
    out = capsys.readouterr().out
    assert [g for g, _ in scorer.calls] == [0, 1]
    assert len(state.rows) == 4 and state.generation == 2
    g0 = {r["member"]: r for r in state.rows if r["generation"] == 0}
    g1 = {r["member"]: r for r in state.rows if r["generation"] == 1}
    # m00 was worst in generation 0: it trained generation 1 from m01's weights and moments
    assert g1["m00"]["parent"] == "m01" and g1["m00"]["explored"]
    child = load_checkpoint(g1["m00"]["model"])["metadata"]
    assert child["parent_model"] == sha256_file(g0["m01"]["model"])
    assert child["train_config"]["init_optimizer"] == g0["m01"]["optimizer"]
    assert child["train_config"]["learning_rate"] == g1["m00"]["hparams"]["learning_rate"]
    assert g1["m00"]["hparams"] != g0["m01"]["hparams"]
    assert g1["m01"]["parent"] == "m01" and not g1["m01"]["explored"]
    assert load_checkpoint(g1["m01"]["model"])["metadata"]["parent_model"] == sha256_file(
        g0["m01"]["model"])
    assert all(r["steps"] == 3 for r in state.rows)  # a fixed number of steps per generation
    run = tmp_path / "pbt"
    assert (run / "lineage.png").stat().st_size > 5000
    table = (run / "generations.txt").read_text().splitlines()
    assert len(table) == 5 and "m01 (exploit)" in table[3] and "95% CI" in table[0]
    assert "best member: m01 of generation 1" in out
    with ModelRegistry(tmp_path / "registry.db") as reg:
        best = reg.get(state.registered[-1])
        chain = reg.lineage(best.id)
        assert str(best.stage) == "development" and best.name == "pbt_square8_2p"
        assert [e.path.resolve() for e in chain] == [Path(g1["m01"]["model"]).resolve(),
                                                    Path(g0["m01"]["model"]).resolve()]
    # run again: nothing left to train, nothing is scored again
    again = ScriptedScorer()
    run_pbt(_settings(tmp_path, data), scorer=again, out=sys.stdout)
    assert again.calls == []


def test_bad_input_is_one_line(tmp_path, data, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # (no data/training/ default file here)
    base = ["pbt", "--board-type", "square8", "--run-dir", str(tmp_path / "r"),
            "--no-register"]
    cases = [
        ([*base, "--data-path", str(data), "--population-size", "1"], "--population-size"),
        # checked before --db is read or exported
        ([*base, "--db", str(tmp_path / "none.db"), "--population-size", "1"], "--population-size"),
        ([*base, "--data-path", str(tmp_path / "none.npz")], "none.npz does not exist"),
        ([*base, "--db", str(tmp_path / "none.db")], "none.db does not exist"),
        ([*base, "--data-path", str(data), "--reference-pool", "nosuch"], "nosuch"),
        ([*base, "--data-path", str(data), "--ray-address", "auto"], "--ray-address"),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    # no data at all, and no default training file (the seed's line uses train's default)
    assert main(["pbt", "--board-type", "square8", "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--data-path not given" in err and err.count("\n") == 1
    # a run dir holding another run's state is refused
    run_pbt(_settings(tmp_path, data, generations=1), scorer=ScriptedScorer(), out=sys.stdout)
    with pytest.raises(Exception, match="another steps_per_generation"):
        run_pbt(_settings(tmp_path, data, steps_per_generation=4), scorer=ScriptedScorer(),
                out=sys.stdout)


@pytest.mark.slow
def test_match_pool_scorer_rates_members_against_the_reference(tmp_path, real_data):
    settings = _settings(tmp_path, real_data, generations=1, reference_pool=("random",),
                         games=2)
    state = run_pbt(settings, out=sys.stdout)
    rows = state.rows
    assert len(rows) == 2
    for r in rows:
        assert r["low"] < r["elo"] < r["high"] and math.isfinite(r["elo"])
    scorer = MatchPoolScorer(GameSpec("square8", 2), ("random",), 2)
    elo = scorer({r["member"]: Path(r["model"]) for r in rows}, 0)
    assert elo == {r["member"]: (r["elo"], r["low"], r["high"]) for r in rows}  # reproducible


@pytest.mark.slow
def test_a_killed_run_resumes_without_redoing_finished_work(tmp_path, real_data):
    run = tmp_path / "pbt"
    argv = ["pbt", "--board-type", "square8", "--num-players", "2", "--data-path",
            str(real_data), "--run-dir", str(run), "--population-size", "2",
            "--generations", "2", "--steps-per-generation", "3", "--batch-size", "16",
            "--channels", "8", "--blocks", "1", "--reference-pool", "random", "--games", "2",
            "--registry", str(tmp_path / "registry.db")]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "ringrift", *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_file = run / "pbt_state.json"
    deadline = time.time() + 180
    try:
        while time.time() < deadline:  # until generation 0 is scored and saved
            time.sleep(0.2)
            try:
                saved = json.loads(state_file.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            if saved["generation"] >= 1:
                break
        else:
            pytest.fail("generation 0 never finished")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    saved = PBTState.load(run)
    g0 = {r["member"]: sha256_file(r["model"]) for r in saved.rows if r["generation"] == 0}
    assert len(g0) == 2
    assert main(argv) == 0
    state = PBTState.load(run)
    assert state.generation == 2 and len(state.rows) == 4
    assert [r for r in state.rows if r["generation"] == 0] == [
        r for r in saved.rows if r["generation"] == 0]  # generation 0 was not redone
    assert {r["member"]: sha256_file(r["model"]) for r in state.rows
            if r["generation"] == 0} == g0
    assert state.registered
