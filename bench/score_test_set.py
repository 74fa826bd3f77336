"""Score model files on a held-out training-array file with the plain loss (policy CE + value
MSE, no auxiliary terms), so models trained with different options compare directly.

usage: python bench/score_test_set.py TEST.npz MODEL.pt [MODEL.pt ...]
"""

from __future__ import annotations

import sys

import numpy as np

from ringrift.nn.losses import LossWeights
from ringrift.nn.models import load_model
from ringrift.rules.spec import GameSpec
from ringrift.train.dataset import BatchBuilder, load_training_data
from ringrift.train.step import evaluate


def main(test: str, paths: list[str]) -> None:
    for path in paths:
        model, meta = load_model(path)
        data = load_training_data([test], GameSpec(meta["board_type"], meta["num_players"]))
        m = evaluate(model, BatchBuilder(data), np.arange(len(data)), 512, LossWeights())
        print(f"{path}: test loss {m['loss']:.4f}  policy acc {m['policy_accuracy']:.4f}  "
              f"value mse {m['value_mse']:.4f}  ({len(data)} positions)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
