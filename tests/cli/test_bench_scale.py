"""`ringrift bench scale` end to end on a tiny size (local backend, one training process)."""

from __future__ import annotations

import json

import pytest

from ringrift.bench.scale import ScaleBenchSettings
from ringrift.cli.main import main
from ringrift.errors import ConfigError


def test_bench_scale_json(capsys):
    assert main(["bench", "scale", "--backends", "local", "--workers", "1", "--train-nproc",
                 "1", "--games", "2", "--train-samples", "64", "--batch-size", "16",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    [row] = result["selfplay"]
    assert (row["backend"], row["workers"], row["games"]) == ("local", 1, 2)
    assert row["games_per_s"] > 0 and row["ray_start_s"] is None
    [train] = result["training"]
    assert train["nproc"] == 1 and train["samples_per_s"] > 0, train
    assert (result["engine"], result["model_version"]) == ("heuristic", "v2")


@pytest.mark.parametrize("argv,message", [
    (["--workers", "1,x"], "--workers expects comma-separated counts, got '1,x'"),
    (["--backends", "local,,ray"], "--backends expects comma-separated names, got 'local,,ray'"),
    (["--workers", "2,0"], "--workers counts must be at least 1, got '2,0'"),
    (["--backends", "local,slurm"], "--backends expects backends among local, ray"),
    (["--train-nproc", "0"], "--train-nproc counts must be at least 1"),
])
def test_bench_scale_refuses_bad_lists(capsys, argv, message):
    assert main(["bench", "scale", *argv]) == 2
    assert capsys.readouterr().err.startswith(f"ringrift bench: error: {message}")


def test_the_settings_name_the_field():
    with pytest.raises(ConfigError) as info:
        ScaleBenchSettings(workers=()).validate()
    assert info.value.field == "workers"
