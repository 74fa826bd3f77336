"""The executor's local backend: order, early stops, exceptions, a killed worker replaced with its
job played once more (every index exactly once), and selfplay through it equal to one process."""

from __future__ import annotations

import math
import os
import signal
import time

import pytest

from ringrift.errors import UserError
from ringrift.exec import Executor, check_backend
from ringrift.selfplay.workers import play_selfplay_unit, run_games, selfplay_units
from tests.exec.helpers import by_index, heuristic_config


def test_unordered_yields_every_job_once_as_it_finishes():
    with Executor(2) as ex:
        jobs = [(k, delay) for k, delay in enumerate((0.4, 0.0, 0.0, None, 0.0))]
        keys = [k for k, _ in ex.unordered(time.sleep, jobs)]
    assert sorted(keys) == [0, 1, 2, 3, 4]
    assert keys[-1] == 0  # the slow first job comes out last


def test_ordered_raises_at_the_failing_jobs_turn():
    with Executor(2) as ex:
        results = ex.ordered(math.sqrt, [(k, x) for k, x in enumerate((4.0, -1.0, 9.0))])
        assert next(results) == (0, 2.0)
        with pytest.raises(ValueError, match="math domain"):
            next(results)


def test_a_killed_worker_loses_only_its_job_which_is_played_once_more():
    config = heuristic_config()
    units = list(selfplay_units(config, range(6), 1))
    records = []
    lost: list[str] = []
    with Executor(2, on_lost=lost.append) as ex:
        stream = ex.unordered(play_selfplay_unit, units)
        first = next(stream)
        records += first[1]
        # both workers are playing now (the next jobs went out before the first result came)
        os.kill(ex._backend.pids()[0], signal.SIGKILL)
        for _, unit_records in stream:
            records += unit_records
        assert ex.lost_jobs == 1
        assert len(lost) == 1 and lost[0].reason == "killed by SIGKILL"
        assert len(ex._backend.pids()) == 2  # replaced
    played = by_index(records)
    assert sorted(played) == list(range(6))
    # the replayed game is the game a single process plays
    assert played == by_index(run_games(config, range(6), 1))


def test_selfplay_with_two_workers_and_batches_equals_one_process():
    config = heuristic_config()
    one = by_index(run_games(config, range(5), 1))
    assert by_index(run_games(config, range(5), 2, batch_size=2)) == one


def test_backend_flags_are_checked():
    with pytest.raises(UserError, match="^backend must be one of local, ray, got 'slurm'"):
        check_backend("slurm")
    with pytest.raises(UserError, match="^ray_address is only for the ray backend"):
        check_backend("local", "auto")
    with pytest.raises(UserError, match="^workers must be at least 1, got 0"):
        Executor(0)
