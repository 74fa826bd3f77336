"""The executor's Ray backend on a local Ray instance started by the code (no address): selfplay
and a gauntlet with 2 actors give the same games and verdicts as the local backend.

Ray's start takes seconds: the module shares one instance (started by the first test that needs
it, shut down at the end)."""

from __future__ import annotations

import pytest

from ringrift.data.gamedb import GameDB
from ringrift.errors import UserError
from ringrift.evaluate.engine_spec import EngineSpec
from ringrift.evaluate.gauntlet import GauntletConfig, run_gauntlet
from ringrift.exec import Executor
from ringrift.selfplay.runner import SelfplayConfig
from ringrift.selfplay.workers import run_games
from tests.exec.helpers import by_index, heuristic_config

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # about a minute on 2 cores, most of it Ray's start


@pytest.fixture(scope="module", autouse=True)
def ray_instance():
    if ray.is_initialized():
        ray.shutdown()
    yield
    ray.shutdown()


def test_ray_selfplay_equals_local():
    config = heuristic_config(seed=11)
    local = by_index(run_games(config, range(4), 2))
    on_ray = by_index(run_games(config, range(4), 2, backend="ray"))
    assert ray.is_initialized()  # a local instance, started by the executor
    assert sorted(on_ray) == list(range(4))
    assert on_ray == local


def summary(result):
    return [(r.opponent, r.match.wins, r.match.draws, r.match.losses, r.verdict, r.games)
            for r in result.results], result.verdict


def stored(db_path):
    with GameDB(db_path, readonly=True) as db:
        return {r.game_id: (r.engines, r.seed, r.final_ranks, r.move_count, r.metadata)
                for r in db.iter_games()}


def test_ray_gauntlet_equals_local_and_stops_at_the_same_game(tmp_path):
    cand = EngineSpec.build("heuristic", name="cand")
    config = GauntletConfig("square8", 2, games=8, opponents=("random", "heuristic"),
                            thresholds={"random": 0.5, "heuristic": 0.6})
    runs = {}
    for backend in ("local", "ray"):
        with GameDB(tmp_path / f"{backend}.db") as db:
            runs[backend] = run_gauntlet(cand, config, db=db, workers=2, backend=backend)
    assert summary(runs["ray"]) == summary(runs["local"])
    assert any(r.early_stop for r in runs["local"].results)
    assert stored(tmp_path / "ray.db") == stored(tmp_path / "local.db")


def test_ray_exceptions_come_back_in_order():
    import math

    with Executor(2, backend="ray") as ex:
        results = ex.ordered(math.sqrt, [(k, x) for k, x in enumerate((4.0, -1.0, 9.0))])
        assert next(results) == (0, 2.0)
        with pytest.raises(ValueError, match="math domain"):
            next(results)


def test_the_daemon_on_ray_follows_a_promotion_without_a_restart(tmp_path):
    from ringrift.registry import ModelRegistry
    from ringrift.selfplay.daemon import DaemonConfig, run_daemon
    from tests.selfplay.test_daemon import empty_registry, promote, stored_games, tiny_model

    registry = empty_registry(tmp_path / "models" / "registry.db")
    v1 = promote(registry, tiny_model(tmp_path / "models", "v1.pt", seed=1))
    v2_file = tiny_model(tmp_path / "models", "v2.pt", seed=2)
    config = DaemonConfig(
        selfplay=SelfplayConfig(board_type="square8", num_players=2, engine="gumbel", seed=3,
                                max_moves=12),
        output_dir=tmp_path / "out", registry=registry, max_games=8, backend="ray")
    config.selfplay.options.simulations = 2
    config.selfplay.options.device = "cpu"
    lines: list[str] = []
    promoted: list[int] = []

    def after_game(record, stored):
        if stored == 2:
            promoted.append(promote(registry, v2_file))

    summary = run_daemon(config, log=lines.append, on_game=after_game)
    assert summary.games == 8
    assert any(line.startswith(f"picked up model square8_2p v2 (id {promoted[0]},")
               for line in lines)
    games = stored_games(tmp_path / "out" / "games.db")
    assert sorted(g.metadata["game_index"] for g in games) == list(range(8))
    ids = [g.metadata["model"]["registry_id"]
           for g in sorted(games, key=lambda g: g.metadata["game_index"])]
    # the units handed out before the promotion play v1, every later one v2
    assert ids[0] == v1 and ids[-1] == promoted[0]
    assert ids == sorted(ids)
    with ModelRegistry(registry) as reg:
        assert games[-1].metadata["model"]["sha256"] in (reg.get(v1).sha256,
                                                         reg.get(promoted[0]).sha256)


def test_ray_workers_share_their_nodes_evaluator_actor(tmp_path):
    from ringrift.ai.options import EngineOptions
    from ringrift.exec.gpu_evaluator import RayEvaluatorService
    from tests.selfplay.test_daemon import tiny_model

    model = str(tiny_model(tmp_path, "m.pt", seed=1))
    config = SelfplayConfig("square8", 2, engine="gumbel", seed=4, max_moves=20,
                            options=EngineOptions(model_path=model, simulations=4, threads=1,
                                                  device="cpu"))
    with RayEvaluatorService(model, batch_size=64, max_wait_s=0.005) as service:
        assert len(service.actors) == 1  # one node: one evaluator
        records = list(run_games(config, range(4), 2, batch_size=2, backend="ray",
                                 evaluator=service.handle))
    assert sorted(by_index(records)) == [0, 1, 2, 3]
    stats = service.stats
    assert stats.positions > 0 and stats.positions / stats.batches > 1


def test_a_bad_ray_address_is_a_user_error():
    ray.shutdown()
    with pytest.raises(UserError, match="^ray_address 127.0.0.1:1: no Ray cluster there"):
        list(run_games(heuristic_config(), range(1), 1, backend="ray", ray_address="127.0.0.1:1"))
