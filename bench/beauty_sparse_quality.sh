#!/usr/bin/env bash
# Does the catalog-scale path cost quality? Amazon Beauty, sampled softmax (256 shared
# negatives), the ablation's settings (dim 64, batch 64 per rank, 2 ranks, EPOCHS epochs): the
# whole-catalog path (--item-table dense: every item encoded each step, AdamW on the dense id
# table) against the touched-items path (--item-table sparse: only touched rows, lazy Adam), and
# optionally the sparse path with in-batch negatives, for SEEDS seeds each. Prints one JSON line
# per run and a summary line per variant (mean, min, max test NDCG@10 / HR@10 of best.pt) and
# the sparse/dense ratio of mean test NDCG@10.
# Usage: [EPOCHS=8] [SEEDS="1 2 3"] [VARIANTS="dense sparse"] bench/beauty_sparse_quality.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi_env.sh
OUT=${1:-out/sparse_quality}
EPOCHS=${EPOCHS:-8}
SEEDS=${SEEDS:-"1 2 3"}
VARIANTS=${VARIANTS:-"dense sparse"}
DIVREC=${DIVREC:-./build/launcher/divrec}
DATA=${DIVREC_SHARED_DATA:-../shared/data}/amazon-beauty
[ -d "$DATA" ] || { echo "no $DATA: nothing to do"; exit 0; }
mkdir -p "$OUT"
[ -f "$OUT/data/manifest.h5" ] || $DIVREC shard convert --format amazon-s3rec --input "$DATA" \
  --output "$OUT/data" --num-shards 4 >/dev/null

: > "$OUT/runs.jsonl"
for v in $VARIANTS; do
  case $v in
    dense) args=(--item-table dense) ;;
    sparse) args=(--item-table sparse --sparse-optimizer lazy-adam) ;;
    sparse-inbatch) args=(--item-table sparse --sparse-optimizer lazy-adam --in-batch-negatives 64) ;;
    sparse-adagrad) args=(--item-table sparse --sparse-optimizer rowwise-adagrad) ;;
    *) echo "unknown variant '$v'" >&2; exit 2 ;;
  esac
  for seed in $SEEDS; do
    run=$OUT/$v-seed$seed
    start=$(date +%s)
    mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1 $DIVREC train --data "$OUT/data" \
      --output "$run" --epochs "$EPOCHS" --patience 5 --batch-size 64 --max-len 50 \
      --dim 64 --layers 2 --heads 2 --dropout 0.5 --attn-dropout 0.5 --lr 1e-3 \
      --warmup-steps 100 --decay constant --threads 1 --log-every 1000 --seed "$seed" \
      --objective next-item --loss sampled-softmax --num-negatives 256 "${args[@]}" \
      > "$run.log" 2>&1
    secs=$(( $(date +%s) - start ))
    python3 -c "
import json; t = json.load(open('$run/test_metrics.json'))
print(json.dumps({'variant': '$v', 'seed': $seed, 'seconds': $secs, 'ndcg@10': t['ndcg@10'], 'hr@10': t['hr@10']}))" | tee -a "$OUT/runs.jsonl"
  done
done
python3 - "$OUT/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in runs: by.setdefault(r["variant"], []).append(r)
mean = {}
for v, rs in by.items():
    n = [r["ndcg@10"] for r in rs]; h = [r["hr@10"] for r in rs]
    mean[v] = statistics.mean(n)
    print(json.dumps({"variant": v, "seeds": len(rs), "ndcg@10_mean": round(mean[v], 4),
                      "ndcg@10_min": round(min(n), 4), "ndcg@10_max": round(max(n), 4),
                      "hr@10_mean": round(statistics.mean(h), 4),
                      "seconds_mean": round(statistics.mean(r["seconds"] for r in rs))}))
for v in mean:
    if v != "dense" and "dense" in mean:
        print(json.dumps({"variant": v, "ndcg@10_ratio_to_dense": round(mean[v] / mean["dense"], 4)}))
PY
