"""The shared network evaluator's batching defaults, in a module without numpy so the CLI can
read them when it builds its parser (the evaluator itself is in gpu_evaluator.py)."""

BATCH_SIZE = 256  # most positions per evaluator batch (scaled up on large GPUs)
MAX_WAIT_S = 0.002  # longest wait for a batch to fill
