"""Per-board training presets (the seed's `get_training_config_for_board` and
`get_model_version_for_board`), derived from measured figures by two stated rules.

The figures (MEASURED) are one training step (forward, backward, AdamW) of each architecture on
each board, two players, on this project's CPU machine, one torch thread, timed in process CPU
seconds (the machine was shared by many jobs; CPU time is what that leaves comparable), at two
batch sizes; the growth of peak resident memory between them gives the memory per sample.
`ringrift bench presets` measures them again (README "Python API", "Presets").

Rules:
- architecture: v3 only where a v3 sample costs at most V3_MAX_COST_RATIO times a v2 sample.
  Measured, v3 costs 5.1-6.1x v2 per sample on every board, so every preset is v2 (a GPU, not
  measured here, may change that: `--model-version v3` stays one flag away).
- batch size: the largest power of two up to MAX_BATCH whose activation memory (memory per
  sample x batch) fits in BATCH_MEMORY_MB; the big boards get smaller batches.
- learning rate: on a board with a sweep (MEASURED_LR: held-out loss after two epochs at the
  preset's architecture and batch, `bench/preset_lr_sweep.sh`), the rate with the lowest loss;
  elsewhere the swept boards' lower rate per sample times the board's batch (the linear scaling
  rule), since sweeps on the big boards were too slow for this machine.
The other knobs keep the TrainConfig/LoopConfig defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ringrift.errors import UserError
from ringrift.nn.architectures import PRESETS
from ringrift.rules.spec import BOARD_TYPES

# board -> architecture -> (training samples per CPU second at the larger batch measured, MB of
# peak memory per sample: the growth between the two batches over their difference)
# (the two architectures of ringrift.nn.architectures, fast and strong, in its order)
FAST, STRONG = PRESETS
MEASURED: dict[str, dict[str, tuple[float, float]]] = {
    "square8": {FAST: (209.4, 2.3), STRONG: (37.4, 8.7)},  # batches 16 and 64
    "hex8": {FAST: (159.3, 3.0), STRONG: (29.6, 10.3)},  # batches 16 and 64
    "square19": {FAST: (35.3, 12.7), STRONG: (5.8, 44.9)},  # v2: 16 and 64; v3: 4 and 16
    "hexagonal": {FAST: (18.5, 23.4), STRONG: (3.6, 78.6)},  # v2: 8 and 32; v3: 4 and 16
}
# board -> learning rate -> plain held-out loss (policy CE + value MSE) after 2 epochs from seed 0
# at the preset's architecture (v2) and batch (512), cosine decay: square8 2p on 600 heuristic
# games (26,441 positions; test 150 games), hex8 3p on 250 (15,489; test 80). Short runs favour
# large rates, which is also the regime of the loop's few epochs per iteration.
MEASURED_LR: dict[str, dict[float, float]] = {
    "square8": {5e-4: 2.8522, 1e-3: 2.8165, 2e-3: 2.8037, 4e-3: 2.7959, 8e-3: 2.7829,
                1.6e-2: 3.8378},  # 1.6e-2 diverged (value MSE 2.0)
    "hex8": {5e-4: 2.6389, 1e-3: 2.5517, 2e-3: 2.5221, 4e-3: 2.5135, 8e-3: 2.5168},
}
V3_MAX_COST_RATIO = 2.0
MAX_BATCH = 512
BATCH_MEMORY_MB = 2048.0


@dataclass(frozen=True)
class BoardPreset:
    board_type: str
    model_version: str
    batch_size: int
    learning_rate: float


def _model_version(board: str) -> str:
    fast_rate, strong_rate = MEASURED[board][FAST][0], MEASURED[board][STRONG][0]
    return STRONG if fast_rate <= V3_MAX_COST_RATIO * strong_rate else FAST


def _batch_size(board: str, version: str) -> int:
    per_sample_mb = MEASURED[board][version][1]
    batch = MAX_BATCH
    while batch > 1 and batch * per_sample_mb > BATCH_MEMORY_MB:
        batch //= 2
    return batch


def _learning_rate(board: str, batch: int) -> float:
    swept = MEASURED_LR.get(board)
    if swept:
        return min(swept, key=swept.__getitem__)
    # the lower rate per sample of the swept boards (at their preset batch), times this batch
    per_sample = [min(lrs, key=lrs.__getitem__) / _batch_size(b, _model_version(b))
                  for b, lrs in MEASURED_LR.items()]
    return min(per_sample) * batch


def preset_for_board(board_type: Any) -> BoardPreset:
    """The preset of a board (a name, or the seed's BoardType enum member)."""
    board = str(getattr(board_type, "value", board_type)).lower()
    if board not in BOARD_TYPES:
        raise UserError(f"unknown board type {board_type!r} (expected one of "
                        f"{', '.join(BOARD_TYPES)})")
    version = _model_version(board)
    batch = _batch_size(board, version)
    return BoardPreset(board_type=board, model_version=version, batch_size=batch,
                       learning_rate=_learning_rate(board, batch))


def get_model_version_for_board(board_type: Any) -> str:
    """The architecture the preset of this board trains (v2 on every board, measured)."""
    return preset_for_board(board_type).model_version
