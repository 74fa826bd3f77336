"""RingRift: rules engine and AlphaZero-style training pipeline.

The public Python API (README "Python API") under the upstream training module's names:

    from ringrift import SelfplayConfig, SelfplayRunner, TrainConfig, run_training_loop

Names are resolved lazily (module `__getattr__`), so `import ringrift` and `ringrift --help`
stay fast: torch and the rest load only when a name that needs them is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> "module:attribute" (one implementation each; seed names are thin aliases)
_API: dict[str, str] = {
    # selfplay
    "SelfplayConfig": "ringrift.selfplay.runner:SelfplayConfig",
    "SelfplayRunner": "ringrift.selfplay.session:SelfplayRunner",
    "SelfplaySummary": "ringrift.selfplay.session:SelfplaySummary",
    "HeuristicSelfplayRunner": "ringrift.selfplay.session:HeuristicSelfplayRunner",
    "GumbelMCTSSelfplayRunner": "ringrift.selfplay.session:GumbelMCTSSelfplayRunner",
    "create_scheduler": "ringrift.selfplay.temperature:create_scheduler",
    "GUMBEL_BUDGET_THROUGHPUT": "ringrift.ai.search.gumbel:THROUGHPUT",
    "GUMBEL_BUDGET_STANDARD": "ringrift.ai.search.gumbel:STANDARD",
    "GUMBEL_BUDGET_QUALITY": "ringrift.ai.search.gumbel:QUALITY",
    "GUMBEL_BUDGET_ULTIMATE": "ringrift.ai.search.gumbel:ULTIMATE",
    # training
    "TrainConfig": "ringrift.loop.training_config:TrainingLoopConfig",
    "run_training_loop": "ringrift.loop.runner:run_training_loop",
    "get_training_config_for_board": "ringrift.loop.training_config:get_training_config_for_board",
    "get_model_version_for_board": "ringrift.train.presets:get_model_version_for_board",
    "CheckpointManager": "ringrift.train.checkpoint:CheckpointManager",
    "UnifiedCheckpointManager": "ringrift.train.checkpoint:CheckpointManager",
    "CheckpointType": "ringrift.train.checkpoint:CheckpointType",
    # learning from better data (curriculum, online learning)
    "CurriculumManager": "ringrift.loop.curriculum:CurriculumManager",
    "create_online_learner": "ringrift.ai.online_learner:create_online_learner",
    # model store
    "get_model_store": "ringrift.registry.store:get_model_store",
    "ModelRegistry": "ringrift.registry.store:ModelRegistry",
    # data quality
    "DatabaseQualityChecker": "ringrift.data.quality_checkers:DatabaseQualityChecker",
    "TrainingDataValidator": "ringrift.data.quality_checkers:TrainingDataValidator",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'ringrift' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
