"""`import ringrift` stays light, and every public name resolves to its one implementation."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ringrift

SEED_NAMES = ("SelfplayConfig", "TrainConfig", "run_training_loop", "get_model_store",
              "CheckpointManager", "CheckpointType", "create_scheduler",
              "get_training_config_for_board", "get_model_version_for_board", "SelfplayRunner",
              "HeuristicSelfplayRunner", "GumbelMCTSSelfplayRunner", "DatabaseQualityChecker",
              "TrainingDataValidator", "UnifiedCheckpointManager", "GUMBEL_BUDGET_QUALITY")


def test_import_ringrift_loads_neither_torch_nor_the_pipeline():
    code = ("import sys, ringrift; print(sorted(m for m in sys.modules if m == 'torch' or "
            "m.startswith('ringrift.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(ringrift._API))
def test_every_public_name_resolves(name):
    value = getattr(ringrift, name)
    module, _, attribute = ringrift._API[name].partition(":")
    assert value is getattr(__import__(module, fromlist=[attribute]), attribute)
    assert name in dir(ringrift)


def test_seed_names_are_public_and_aliases_are_the_same_object():
    assert set(SEED_NAMES) <= set(ringrift.__all__)
    assert ringrift.UnifiedCheckpointManager is ringrift.CheckpointManager
    from ringrift.loop.runner import run_training_loop

    assert ringrift.run_training_loop is run_training_loop


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        ringrift.Nope  # noqa: B018
