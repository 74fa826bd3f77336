#!/usr/bin/env bash
# Learning rates for a board's training preset, compared at equal steps: the preset's
# architecture and batch size (ringrift.train.presets), EPOCHS epochs over WORKDIR/train.npz from
# seed 0 with a cosine decay, then the plain loss on WORKDIR/test.npz (held-out games).
# usage: bench/preset_lr_sweep.sh WORKDIR BOARD PLAYERS   (LRS="5e-4 1e-3 2e-3 4e-3" EPOCHS=2)
set -euo pipefail
W=${1:?workdir}
B=${2:?board}
P=${3:?players}
R=${RINGRIFT:-ringrift}
PY=${PYTHON:-python}
read -r VERSION BATCH < <($PY -c "from ringrift.train.presets import preset_for_board as p; \
x = p('$B'); print(x.model_version, x.batch_size)")
models=()
for lr in ${LRS:-5e-4 1e-3 2e-3 4e-3}; do
  out="$W/$B-lr$lr.pt"
  [ -f "$out" ] || $R train --board-type "$B" --num-players "$P" --data-path "$W/train.npz" \
      --save-path "$out" --model-version "$VERSION" --batch-size "$BATCH" --learning-rate "$lr" \
      --epochs "${EPOCHS:-2}" --val-split 0 --seed 0 --no-progress --no-tensorboard | tail -1
  models+=("$out")
done
echo "$B: $VERSION, batch $BATCH, ${EPOCHS:-2} epochs"
$PY "$(dirname "$0")/score_test_set.py" "$W/test.npz" "${models[@]}"
