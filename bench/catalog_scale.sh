#!/usr/bin/env bash
# Catalog-scale training benchmark: the cost of one sampled-softmax step as the catalog grows
# from 10 k to 10 M items, for the replicated and the row-wise sharded sparse item table.
# Data sets (made here when missing, under $DATA_ROOT) share their users and per-user lengths:
# only the catalog differs, and every item is observed (--cover-items). Each run: mpirun -n 2,
# 1 thread per rank, dim 64, 2 blocks, batch 128 per rank, 256 shared negatives, WARMUP + STEPS
# steps logged one by one; medians over the steps after warm-up.
# Prints one JSON line per (items, sharding):
#   {"items", "sharding", "ms_per_step", "seq_per_s", "unique_rows_per_step",
#    "comm_bytes_per_step", "peak_rss_mb_per_rank", "rank_imbalance", ...}
# ms_per_step is the slower rank's step time; rank_imbalance = slowest / mean rank step time;
# comm_bytes_per_step = sparse row-exchange bytes + dense all-reduce bytes sent by rank 0;
# peak_rss_mb_per_rank = the largest resident memory logged during the training steps.
# Env: ITEMS ("10000 100000 1000000 10000000"), MODES ("replicated row"; "dense" adds the
# whole-catalog step for comparison), USERS (600000),
# MEAN_LENGTH (20), WARMUP (5), STEPS (20), DATA_ROOT (/tmp/divrec_catalog_scale), BUILD_DIR,
# REPLICATED_MAX_ITEMS (2000000: replicated above this is skipped with a reason: the table and
# its Adam moments, rows x dim x 12 bytes, would be held by every rank).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
DIVREC=${DIVREC:-$BUILD_DIR/launcher/divrec}
ITEMS=${ITEMS:-"10000 100000 1000000 10000000"}
MODES=${MODES:-"replicated row"}
USERS=${USERS:-600000}
MEAN_LENGTH=${MEAN_LENGTH:-20}
WARMUP=${WARMUP:-5}
STEPS=${STEPS:-20}
DATA_ROOT=${DATA_ROOT:-/tmp/divrec_catalog_scale}
REPLICATED_MAX_ITEMS=${REPLICATED_MAX_ITEMS:-2000000}
[[ -x $DIVREC ]] || { echo "catalog_scale: $DIVREC is not built (set BUILD_DIR)" >&2; exit 1; }
source scripts/mpi_env.sh
mkdir -p "$DATA_ROOT"

for n in $ITEMS; do
  data=$DATA_ROOT/items-$n
  if [[ ! -f $data/manifest.h5 ]]; then
    echo "catalog_scale: making $data ($USERS users, $n items, every item observed)" >&2
    "$DIVREC" shard convert --format synthetic --output "$data" --users "$USERS" --items "$n" \
      --mean-length "$MEAN_LENGTH" --categories 100 --attributes 200 --content-dim 0 \
      --cover-items --num-shards 8 --seed 7 > "$DATA_ROOT/convert-$n.log" 2>&1 || {
        tail -5 "$DATA_ROOT/convert-$n.log" >&2; exit 1; }
  fi
  for mode in $MODES; do
    if [[ $mode != row && $n -gt $REPLICATED_MAX_ITEMS ]]; then
      printf '{"items": %d, "sharding": "%s", "skipped": "every rank would hold %d rows x 64 dims x 12 bytes (table + lazy-Adam moments) = %s GB; use row sharding"}\n' \
        "$n" "$mode" "$n" "$(python3 -c "print(round($n * 64 * 12 / 1e9, 1))")"
      continue
    fi
    run=$DATA_ROOT/run-$n-$mode
    rm -rf "$run"
    # "dense" (optional mode): the whole-catalog step of before, for comparison.
    table_args=(--item-table sparse --embedding-sharding "$mode")
    [[ $mode == dense ]] && table_args=(--item-table dense --embedding-sharding replicated)
    mpirun -n 2 --bind-to none "$DIVREC" train --data "$data" --output "$run" \
      --loss sampled-softmax --num-negatives 256 "${table_args[@]}" \
      --dim 64 --layers 2 --heads 2 --max-len 50 --batch-size 128 --threads 1 \
      --max-steps $((WARMUP + STEPS)) --log-every 1 --eval-every 0 --final-test false \
      --keep-last 1 > "$run.log" 2>&1 || { tail -20 "$run.log" >&2; exit 1; }
    python3 - "$run/metrics.jsonl" "$n" "$mode" "$WARMUP" <<'PY'
import json, statistics, sys
path, items, mode, warmup = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rows = [json.loads(l) for l in open(path)]
steps = [r for r in rows if r.get("kind") == "train"][warmup:]
res = [r for r in rows if r.get("kind") == "resources"]
med = lambda xs: statistics.median(xs)
slow = [max(r["rank_ms_per_step"]) for r in steps]
imb = [max(r["rank_ms_per_step"]) / (sum(r["rank_ms_per_step"]) / len(r["rank_ms_per_step"])) for r in steps]
print(json.dumps({
    "items": items, "sharding": mode,
    "ms_per_step": round(med(slow), 2),
    "seq_per_s": round(med([r["seq_per_s"] for r in steps]), 1),
    "unique_rows_per_step": round(med([r["unique_rows_per_step"] for r in steps]), 1),
    "comm_bytes_per_step": round(med([r["sparse_bytes_per_step"] + r["dense_bytes_per_step"] for r in steps])),
    "sparse_bytes_per_step": round(med([r["sparse_bytes_per_step"] for r in steps])),
    "dense_bytes_per_step": round(med([r["dense_bytes_per_step"] for r in steps])),
    # Training-phase peak (resident memory logged with every step), and the whole run's peak
    # (which includes writing the final checkpoint's table shards).
    "peak_rss_mb_per_rank": [round(max(r["rank_rss_mb"][k] for r in steps))
                             for k in range(len(steps[0]["rank_rss_mb"]))],
    "run_peak_rss_mb_per_rank": [round(x) for x in res[-1]["peak_rss_mb"]] if res else None,
    "rank_imbalance": round(med(imb), 3),
    "steps_measured": len(steps),
}))
PY
  done
done
