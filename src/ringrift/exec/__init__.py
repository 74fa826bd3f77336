"""One executor for "play unit i of this job" (see `exec.executor`): local processes by default,
Ray actors across machines (`exec.ray_backend`); one GPU evaluator per machine
(`exec.gpu_evaluator`)."""

from ringrift.exec.executor import (
    BACKENDS,
    Executor,
    check_backend,
    check_batch_size,
    check_workers,
)

__all__ = ["BACKENDS", "Executor", "check_backend", "check_batch_size", "check_workers"]
