#!/usr/bin/env bash
# Issue 21's A/Bs inside the training loop, at equal compute, over several seeds.
# usage: bench/issue21_loop_ab.sh WORKDIR [SEEDS] [ARMS]
#   SEEDS default "1 2"; ARMS default "base per aux hard curriculum" (also: reverse, a reverse
#   curriculum: games start 0.5, then 0.25, then 0.0 of the way through earlier games, at full
#   difficulty); BOARD=hex8 PLAYERS=3 for another configuration (default square8 2p).
# Every arm runs the same loop (square8 2p, a v2 network of 32 channels x 3 blocks, 4 iterations:
# heuristic bootstrap until a model is promoted, then gumbel selfplay) with a fixed training
# budget per iteration (--samples-per-epoch x --training-epochs), so the arms take the same number
# of optimizer steps; only the feature differs. The loop's held-out test set (--test-games, the
# same games for every arm of a seed) gives test loss and policy accuracy; strength is the
# gauntlet with search (gumbel) against the heuristic player, and at the end each arm's last model
# plays the base arm's last model of the same seed head to head (summarize with
# bench/issue21_loop_summary.py).
set -euo pipefail
W=${1:?workdir}
SEEDS=${2:-"1 2"}
ARMS=${3:-"base per aux hard curriculum"}
R=${RINGRIFT:-ringrift}
mkdir -p "$W"
cat > "$W/curriculum.json" <<'JSON'
{"stages": [{"difficulty": 0.5, "advance_win_rate": 0.2, "opponent": "heuristic"},
            {"difficulty": 0.75, "advance_win_rate": 0.35, "opponent": "heuristic"},
            {"difficulty": 1.0, "advance_win_rate": 1.0, "opponent": "heuristic"}]}
JSON
cat > "$W/reverse.json" <<'JSON'
{"stages": [{"difficulty": 1.0, "start_fraction": 0.5, "advance_win_rate": 0.2, "opponent": "heuristic"},
            {"difficulty": 1.0, "start_fraction": 0.25, "advance_win_rate": 0.35, "opponent": "heuristic"},
            {"difficulty": 1.0, "start_fraction": 0.0, "advance_win_rate": 1.0, "opponent": "heuristic"}]}
JSON
GAME=(--board-type "${BOARD:-square8}" --num-players "${PLAYERS:-2}")
COMMON=("${GAME[@]}" --iterations 4 --bootstrap-engine heuristic
        --bootstrap-games 150 --engine gumbel --selfplay-games 48 --mcts-simulations 16
        --training-epochs 2 --samples-per-epoch 8192 --learning-rate 2e-3 --batch-size 256
        --model-version v2 --channels 32 --blocks 3 --eval-engine gumbel --eval-mcts-simulations 16 --eval-games 40
        --eval-opponents heuristic --test-games 100 --workers ${WORKERS:-1})
flags() {
  case $1 in
    base) ;;
    per) echo --prioritized-replay --per-alpha 0.6 --per-beta "0.4->1.0" ;;
    aux) echo --ownership-weight 0.5 --game-length-weight 0.25 ;;
    hard) echo --hard-positions 0.1 ;;
    curriculum) echo --curriculum "$W/curriculum.json" ;;
    reverse) echo --curriculum "$W/reverse.json" ;;
    *) echo "unknown arm $1" >&2; exit 2 ;;
  esac
}
for s in $SEEDS; do
  for a in $ARMS; do
    d="$W/$a-s$s"
    [ -f "$d/done" ] && continue
    start=$(date +%s)
    # shellcheck disable=SC2046
    $R loop "${COMMON[@]}" --seed "$s" --run-dir "$d" $(flags "$a") > "$W/$a-s$s.log" 2>&1
    echo $(( $(date +%s) - start )) > "$d/done"
    echo "$a seed $s: $(cat "$d/done") s"
  done
done
# Strength of each arm's last model, with search, over games that all count (no early stop):
# against the heuristic player, and head to head against the base arm of the same seed.
G=${FINAL_GAMES:-60}
mkdir -p "$W/final"
last_model() { ls "$W/$1"/models/iter_*.pt | sort | tail -1; }
for s in $SEEDS; do
  for a in $ARMS; do
    out="$W/final/$a-s$s-heuristic.json"
    [ -f "$out" ] || $R match "${GAME[@]}" --candidate gumbel \
        --model "$(last_model "$a-s$s")" --mcts-simulations 16 --opponent heuristic \
        --games "$G" --seed 77 --json > "$out"
    [ "$a" = base ] && continue
    # (arms run by parallel invocations: head to head only once the base loop has finished)
    [ -f "$W/base-s$s/done" ] || { echo "$a seed $s: base not finished, no head to head yet"; continue; }
    out="$W/final/$a-s$s-base.json"
    [ -f "$out" ] || $R match "${GAME[@]}" --candidate gumbel \
        --model "$(last_model "$a-s$s")" --mcts-simulations 16 --opponent gumbel \
        --opponent-model "$(last_model "base-s$s")" --opponent-mcts-simulations 16 \
        --games "$G" --seed 78 --json > "$out"
  done
done
${PYTHON:-python} "$(dirname "$0")/issue21_loop_summary.py" "$W"
