#!/usr/bin/env bash
# The accuracy-diversity frontier of docs/results.md (issue 4) on Amazon Beauty: `divrec eval` of
# one checkpoint on the test split (lists of 10, top-200 candidates) with `none`, then a sweep per
# method (mmr, dpp, xquad, calibrated; cosine similarity of the model's item vectors), MMR with
# Jaccard similarity of category + attribute sets, and each method with the hard constraint
# "at least 8 categories in the 10" (--min-categories 8); prints per method the best setting
# within 5 % relative NDCG@10 loss (largest ILD@10 and category-coverage@10 gains).
# Usage: bench/beauty_frontier.sh DATA_DIR CHECKPOINT [OUT_DIR]   (e.g. out/beauty/data out/beauty/run)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi_env.sh
DATA=$1; CKPT=$2; OUT=${3:-out/frontier}
DIVREC=${DIVREC:-./build/launcher/divrec}
mkdir -p "$OUT"
ev() {  # ev NAME [options]
  local name=$1; shift
  local start=$SECONDS
  mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1 $DIVREC eval --data "$DATA" --checkpoint "$CKPT" \
    --split test --k 10 --candidates 200 --threads 1 --report "$OUT/$name.json" "$@" \
    > "$OUT/$name.log" 2>&1
  echo "{\"run\": \"$name\", \"seconds\": $((SECONDS - start))}"
}
ev none --rerank none
ev mmr --rerank mmr --sweep lambda=0.5,0.6,0.7,0.75,0.8,0.85,0.9,0.95 --plot false
ev dpp --rerank dpp --sweep theta=0.5,1,1.5,2,3,4,6,8,12 --plot false
ev xquad --rerank xquad --sweep lambda=0.05,0.1,0.2,0.3,0.4,0.5,0.6,0.8 --plot false
ev calibrated --rerank calibrated --sweep lambda=0.05,0.1,0.2,0.3,0.4,0.5,0.6,0.8 --plot false
ev mmr_jaccard --rerank mmr --similarity jaccard --sweep lambda=0.6,0.7,0.75,0.78,0.8,0.85,0.9 --plot false
ev mmr_mincat8 --rerank mmr --lambda 0.85 --min-categories 8
ev dpp_mincat8 --rerank dpp --theta 6 --min-categories 8
ev xquad_mincat8 --rerank xquad --lambda 0.3 --min-categories 8
ev calibrated_mincat8 --rerank calibrated --lambda 0.1 --min-categories 8
ev none_mincat8 --rerank none --min-categories 8
/usr/bin/python3 tools/frontier_table.py "$OUT"
