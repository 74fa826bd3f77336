"""The model files a process plays, loaded once: network evaluators and NNUE value functions.

Players sharing an Evaluator share its leaf batches, so every engine gets its network here.
"""

from __future__ import annotations

from typing import Any

from ringrift.errors import UserError
from ringrift.rules.spec import GameSpec

_EVALUATORS: dict[tuple[str, str | None, bool], Any] = {}
_NNUE_VALUES: dict[str, Any] = {}
# model file -> an evaluator served by another process (exec.gpu_evaluator): every player of
# that file in this process sends its leaves there, whatever device/precision it asks for
_SHARED: dict[str, Any] = {}


def share_evaluator(path: str, evaluator: Any) -> None:
    """Play model file `path` through `evaluator` in this process (the GPU evaluator)."""
    _SHARED[path] = evaluator


def load_evaluator(path: str, device: str | None = None, amp: bool = False):
    """One Evaluator per (model file, device, precision) per process."""
    if path in _SHARED:
        return _SHARED[path]
    key = (path, device, amp)
    if key not in _EVALUATORS:
        from ringrift.nn.inference import Evaluator

        _EVALUATORS[key] = Evaluator.from_checkpoint(path, device=device, amp=amp)
    return _EVALUATORS[key]


def load_nnue_value(path: str):
    """One NNUE value function per model file per process."""
    if path not in _NNUE_VALUES:
        from ringrift.ai.search.nnue_search import NNUEValue

        _NNUE_VALUES[path] = NNUEValue.from_file(path)
    return _NNUE_VALUES[path]


def forget_model(path: str) -> None:
    """Drop a model file from this process's model caches (a long-running process that
    switches models, like the selfplay daemon, would otherwise keep every one)."""
    for key in [k for k in _EVALUATORS if k[0] == path]:
        del _EVALUATORS[key]
    _NNUE_VALUES.pop(path, None)
    _SHARED.pop(path, None)


def check_model_fits(path: str, metadata: dict, spec: GameSpec) -> None:
    """UserError unless the model file was made for this board and player count."""
    if (metadata.get("board_type"), metadata.get("num_players")) != (spec.board_type,
                                                                     spec.num_players):
        raise UserError(f"{path} is a {metadata.get('board_type')} "
                        f"{metadata.get('num_players')}-player model, not {spec}")
