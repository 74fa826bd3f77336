"""The continuous selfplay -> export -> train -> evaluate -> promote loop.

Names load lazily, so importing `ringrift.loop.config` (the CLI reads its defaults) does not
import the runner and its stages."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["DemoSettings", "LoopConfig", "run_training_loop"]
_WHERE = {"DemoSettings": "ringrift.loop.demo", "LoopConfig": "ringrift.loop.config",
          "run_training_loop": "ringrift.loop.runner"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'ringrift.loop' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
