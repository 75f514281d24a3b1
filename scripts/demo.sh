#!/usr/bin/env bash
# The demo command (README): installs what is missing, builds, then runs the whole chain on the
# bundled default — generated data -> shards -> train (2 MPI ranks) -> eval with a diversity
# re-ranker (2 ranks) -> export -> one `divrec recommend` call. Outputs under ./out/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
source scripts/mpi_env.sh
OUT=${DIVREC_DEMO_OUT:-out/demo}
DIVREC=./build/launcher/divrec
MPIRUN="mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1"
rm -rf "$OUT" && mkdir -p "$OUT"

echo "== 1. synthetic data -> HDF5 shards"
$DIVREC shard convert --format synthetic --users 2000 --items 800 --categories 12 --seed 7 \
  --output "$OUT/data" --num-shards 4
$DIVREC shard inspect "$OUT/data"
$DIVREC shard validate "$OUT/data"

echo "== 2. train on 2 MPI ranks (next-item, full softmax)"
$MPIRUN $DIVREC train --data "$OUT/data" --output "$OUT/run" --epochs 4 --batch-size 64 \
  --dim 48 --layers 2 --heads 2 --max-len 30 --lr 2e-3 --log-every 20 --threads 1

echo "== 3. evaluate on 2 ranks with MMR re-ranking and a category constraint"
$MPIRUN $DIVREC eval --data "$OUT/data" --checkpoint "$OUT/run" --split test --k 5,10,20 \
  --candidates 200 --rerank mmr --lambda 0.7 --min-categories 3 --report "$OUT/report.json"
echo "== 4. export the serving artifact"
$DIVREC export --checkpoint "$OUT/run" --data "$OUT/data" --output "$OUT/model.h5"
echo "== 5. one recommendation (DPP re-ranking)"
$DIVREC recommend --model "$OUT/model.h5" --history 1,2,3,4 --k 10 --rerank dpp --theta 0.5
echo "demo finished: outputs in $OUT"
