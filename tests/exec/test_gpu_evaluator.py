"""The shared network evaluator (exec.gpu_evaluator) on the CPU, the same code path as on CUDA:
two selfplay workers send their leaves to one service that batches them; batch auto-scaling from
the GPU's kind and memory, and its environment switches."""

from __future__ import annotations

import pytest

from ringrift.ai.options import EngineOptions
from ringrift.errors import UserError
from ringrift.exec.gpu_evaluator import EvaluatorService
from ringrift.exec.gpu_scaling import GpuScalingConfig, scaled_batch_size
from ringrift.selfplay.runner import SelfplayConfig
from ringrift.selfplay.workers import run_games
from tests.ai.conftest import tiny_model  # noqa: F401
from tests.exec.helpers import by_index


def gumbel_config(model: str) -> SelfplayConfig:
    return SelfplayConfig("square8", 2, engine="gumbel", seed=4, max_moves=30,
                          options=EngineOptions(model_path=model, simulations=4, threads=1,
                                                root_noise=True))


@pytest.mark.slow
def test_two_workers_share_one_evaluator_service(tiny_model):  # noqa: F811
    config = gumbel_config(tiny_model)
    with EvaluatorService(tiny_model, clients=2, device="cpu", batch_size=64,
                          max_wait_s=0.005) as service:
        records = list(run_games(config, range(4), 2, batch_size=2, evaluator=service.handle))
    stats = service.stats
    played = by_index(records)
    assert sorted(played) == [0, 1, 2, 3]
    assert all(r.moves and any(m.policy for m in r.moves) for r in records)
    # every leaf went to the service, in batches gathered over games (and workers)
    assert stats.positions > 0 and stats.batches > 0
    assert stats.positions / stats.batches > 1
    assert stats.requests >= stats.batches


@pytest.mark.slow
def test_one_worker_uses_the_service_in_this_process(tiny_model):  # noqa: F811
    config = gumbel_config(tiny_model)
    with EvaluatorService(tiny_model, clients=1, device="cpu", batch_size=8) as service:
        records = list(run_games(config, range(2), 1, batch_size=2, evaluator=service.handle))
    from ringrift.ai.model_cache import forget_model

    forget_model(tiny_model)
    assert len(records) == 2 and service.stats.positions > 0


def test_the_service_is_for_the_local_backend(tiny_model):  # noqa: F811
    with pytest.raises(UserError, match="^evaluator serves backend local, the workers run on backend ray"):
        list(run_games(gumbel_config(tiny_model), range(1), 2, backend="ray",
                       evaluator=object()))


def test_batch_scaling_by_gpu_kind_memory_and_switches(monkeypatch):
    monkeypatch.delenv("RINGRIFT_AUTO_BATCH_SCALE", raising=False)
    small = 1024  # bytes per position: memory never binds
    assert scaled_batch_size(256, gpu_name="NVIDIA GH200 480GB", total_memory_gb=96,
                             position_bytes=small) == 4096
    assert scaled_batch_size(256, gpu_name="NVIDIA H100 80GB HBM3", total_memory_gb=80,
                             position_bytes=small) == 2048
    assert scaled_batch_size(256, gpu_name="NVIDIA H200", total_memory_gb=141,
                             position_bytes=small) == 2048
    assert scaled_batch_size(256, gpu_name="NVIDIA A100-SXM4-40GB", total_memory_gb=40,
                             position_bytes=small) == 1024
    assert scaled_batch_size(256, gpu_name="Tesla T4", total_memory_gb=16,
                             position_bytes=small) == 256
    assert scaled_batch_size(256, gpu_name=None, total_memory_gb=None,
                             position_bytes=small) == 256  # no CUDA
    # memory less the reserve caps it: (10 - 8) GB / 1 MB per position = 2048
    assert scaled_batch_size(256, gpu_name="NVIDIA GH200", total_memory_gb=10,
                             position_bytes=1024 ** 2) == 2048
    assert scaled_batch_size(256, gpu_name="NVIDIA GH200", total_memory_gb=10,
                             position_bytes=1024 ** 2,
                             config=GpuScalingConfig(reserved_memory_gb=9.5)) == 512
    monkeypatch.setenv("RINGRIFT_AUTO_BATCH_SCALE", "0")
    assert scaled_batch_size(256, gpu_name="NVIDIA GH200", total_memory_gb=96,
                             position_bytes=small) == 256


def test_disable_gpu_datagen_keeps_the_service_on_the_cpu(tiny_model, monkeypatch):  # noqa: F811
    monkeypatch.setenv("RINGRIFT_DISABLE_GPU_DATAGEN", "1")
    with EvaluatorService(tiny_model, clients=1, device="auto") as service:
        assert service.handle.device == "cpu"
    with pytest.raises(UserError, match="^gpu_batch_size must be at least 1, got 0"):
        EvaluatorService(tiny_model, clients=1, batch_size=0)
