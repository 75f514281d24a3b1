#!/usr/bin/env bash
# The Amazon Beauty recipe of docs/results.md: convert ../shared/data/amazon-beauty, train with
# mpirun -n 2 (full-softmax next-item SASRec-style transformer with category/attribute
# features), then report full-catalog and 99-sampled test metrics of best.pt.
# Usage: [EPOCHS=30] [LOG_EVERY=100] bench/beauty_train.sh [OUT_DIR] [extra divrec train options]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi_env.sh
OUT=${1:-out/beauty}; shift || true
DIVREC=${DIVREC:-./build/launcher/divrec}
DATA=${DIVREC_SHARED_DATA:-../shared/data}/amazon-beauty
[ -d "$DATA" ] || { echo "no $DATA: nothing to do"; exit 0; }
mkdir -p "$OUT"
[ -f "$OUT/data/manifest.h5" ] || $DIVREC shard convert --format amazon-s3rec --input "$DATA" \
  --output "$OUT/data" --num-shards 4
start=$(date +%s)
mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1 $DIVREC train --data "$OUT/data" \
  --output "$OUT/run" --objective next-item --loss full-ce --epochs "${EPOCHS:-30}" --patience 5 \
  --batch-size 64 --max-len 50 --dim 128 --layers 2 --heads 2 --dropout 0.5 --attn-dropout 0.5 \
  --lr 1e-3 --warmup-steps 100 --decay constant --threads 1 --log-every "${LOG_EVERY:-100}" "$@"
echo "wall seconds: $(( $(date +%s) - start ))"
cat "$OUT/run/test_metrics.json"
