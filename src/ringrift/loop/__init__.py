"""The continuous selfplay -> export -> train -> evaluate -> promote loop."""

from ringrift.loop.config import LoopConfig
from ringrift.loop.runner import run_training_loop

__all__ = ["LoopConfig", "run_training_loop"]
