#!/usr/bin/env bash
# Issue 21's A/Bs at equal compute, sized for a shared 2-core CPU (the README's table).
# usage: bench/issue21_ab.sh WORKDIR   (expects WORKDIR/train.npz and WORKDIR/test.npz, exported
# from heuristic games: see the README section "Learning from better data")
# Every arm trains the same small v2 network for the same number of steps (EPOCHS x
# SAMPLES samples) from the same seed; the held-out test set is scored with the plain training
# loss (policy CE + value MSE, no auxiliary terms), so the arms compare directly.
set -euo pipefail
W=${1:?workdir}
R=${RINGRIFT:-ringrift}
B=${BOARD:-square8}
P=${PLAYERS:-2}
PY=${PYTHON:-python}
ARCH=(--channels 32 --blocks 3 --batch-size 128 --learning-rate 2e-3 --no-progress
      --no-tensorboard --seed 0)
# one epoch of SAMPLES drawn samples, no validation split (the test set is the yardstick;
# validating every epoch would cost as much as training at this size)
STEPS=(--epochs ${EPOCHS:-1} --samples-per-epoch ${SAMPLES:-6144} --val-split 0)
train() { local name=$1; shift; rm -rf "$W/$name"*; $R train --board-type "$B" --num-players "$P" \
    --save-path "$W/$name.pt" "${ARCH[@]}" "${STEPS[@]}" "$@" | tail -1; }
score() { $PY "$(dirname "$0")/score_test_set.py" "$W/test.npz" "$@"; }
train uniform --data-path "$W/train.npz"
train per --data-path "$W/train.npz" --prioritized-replay --per-alpha 0.6 --per-beta "0.4->1.0"
train aux --data-path "$W/train.npz" --ownership-weight 0.5 --game-length-weight 0.25
# hard positions: one more stage from the uniform model, on the data alone or the data plus its
# hardest 10% (mined with that model), same steps
$R mine --model "$W/uniform.pt" --data-path "$W/train.npz" --output "$W/hard.npz" \
    --fraction 0.1 --by both
train cont_plain --data-path "$W/train.npz" --init-weights "$W/uniform.pt"
train cont_hard --data-path "$W/train.npz" "$W/hard.npz" --init-weights "$W/uniform.pt"
score "$W"/uniform.pt "$W"/per.pt "$W"/aux.pt "$W"/cont_plain.pt "$W"/cont_hard.pt
# strength: each network alone (policy-only, argmax) against the heuristic player, and the
# arms head to head
G=${MATCH_GAMES:-40}
for m in uniform per aux cont_plain cont_hard; do
  echo "$m vs heuristic: $($R match --board-type "$B" --num-players "$P" --candidate policy-only \
      --model "$W/$m.pt" --opponent heuristic --games "$G" --json)"
done
# head to head with --temperature 0.5 (two argmax players would replay the same 2 games)
for pair in "per uniform" "aux uniform" "cont_hard cont_plain"; do
  set -- $pair
  echo "$1 vs $2: $($R match --board-type "$B" --num-players "$P" --candidate policy-only --model "$W/$1.pt" \
      --opponent policy-only --opponent-model "$W/$2.pt" --temperature 0.5 --games 40 --json)"
done
# online learning: the online engine (gumbel over a network that learns after every game)
# against the same search over its frozen starting network
S=${ONLINE_SIMS:-8}
echo "online vs frozen: $($R match --board-type "$B" --num-players "$P" --candidate "online:$W/uniform.pt" \
    --mcts-simulations "$S" --opponent gumbel --opponent-model "$W/uniform.pt" \
    --opponent-mcts-simulations "$S" --games "${ONLINE_GAMES:-$G}" --json)"
