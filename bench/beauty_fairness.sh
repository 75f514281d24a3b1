#!/usr/bin/env bash
# Fair exposure on real data (issue 14): `divrec eval --fairness dual` under mpirun -n 2 with a
# tolerance sweep for relevance, MMR and DPP, once with category groups (catalog-share target,
# uniform weights: exposure_tvd@10 is category_exposure_tvd@10) and once with popularity bins
# (head = 20 % most popular items, catalog target 0.2 / 0.8). Writes OUT/{category,popularity}.
# {json,csv,png} and OUT/summary.md: per method the tightest tolerance within 5 % relative NDCG@10
# of plain relevance ranking, against plain relevance. docs/results.md quotes the summary.
# Usage: bench/beauty_fairness.sh DATA_DIR CHECKPOINT [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi_env.sh
DATA=$1; CKPT=$2; OUT=${3:-out/fairness}
DIVREC=${DIVREC:-./build/launcher/divrec}
METHODS=${METHODS:-none,mmr,dpp}
mkdir -p "$OUT"
run() {  # name groups tolerances
  mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1 $DIVREC eval --data "$DATA" --checkpoint "$CKPT" \
    --split test --k 5,10,20 --candidates 200 --threads 1 --lambda 0.85 --theta 6 \
    --fairness dual --exposure-groups "$2" --exposure-target catalog --exposure-weights uniform \
    --fairness-passes 30 --sweep "tolerance=$3" --sweep-methods "$METHODS" \
    --report "$OUT/$1.json" > "$OUT/$1.log" 2>&1
}
# ONLY=category|popularity reruns one sweep (the other's CSV must exist).
[[ ${ONLY:-category} == category ]] && run category category 1,0.3,0.25,0.2,0.18,0.16,0.14,0.12,0.1
[[ ${ONLY:-popularity} == popularity ]] && run popularity popularity-bins 1,0.5,0.4,0.35,0.3,0.28,0.26,0.24,0.2
/usr/bin/python3 tools/fairness_summary.py "$OUT/category.csv" "$OUT/popularity.csv" \
  > "$OUT/summary.md"
cat "$OUT/summary.md"
