#!/usr/bin/env bash
# Catalog-scale evaluation and serving with the blocked exact scoring kernel
# (trainer/model/score_kernel.h), for each catalog size in ITEMS and precision in PRECISIONS.
# Random models of the right shape (dim DIM, 2 blocks, max_len 50) on synthetic catalogs.
# Prints one JSON line per measurement:
#   {"stage": "eval", "items", "users_per_s_per_rank", "precision", ...}   (bench_eval: one
#     rank, one thread, EVAL_USERS users, re-ranker EVAL_METHOD, top-200 -> 20)
#   {"stage": "serve", "items", "retrieval": "exact", "p50_ms", "p99_ms", "recall_at_200",
#    "load_s", "rss_mb", ...}   (bench_serving --items: dpp, k = 10, one core; fresh process)
#   {"stage": ..., "items", "skipped": REASON} when a catalog would not fit in memory.
# Env: ITEMS ("12101 1000000 10000000"), PRECISIONS ("fp32 bf16"), DIM (64), EVAL_USERS (1000),
# EVAL_METHOD (none), SERVE_SECONDS (10), BUILD_DIR (build), WORK (/tmp/divrec_scale_bench),
# MEM_FRACTION (0.6: skip when items x dim x 4 bytes x 6 copies -- model table, item vectors,
# artifact copy, score table, cosine table, data -- exceeds this share of MemAvailable).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
ITEMS=${ITEMS:-"12101 1000000 10000000"}
PRECISIONS=${PRECISIONS:-"fp32 bf16"}
DIM=${DIM:-64}
EVAL_USERS=${EVAL_USERS:-1000}
EVAL_METHOD=${EVAL_METHOD:-none}
SERVE_SECONDS=${SERVE_SECONDS:-10}
WORK=${WORK:-/tmp/divrec_scale_bench}
MEM_FRACTION=${MEM_FRACTION:-0.6}
for b in bench_eval bench_serving; do
  [[ -x $BUILD_DIR/bench/$b ]] || { echo "scale_eval_serving: $BUILD_DIR/bench/$b is not built" >&2; exit 1; }
done
avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)

for n in $ITEMS; do
  need_gb=$(python3 -c "print(round($n * $DIM * 4 * 6 / 1e9, 1))")
  if python3 -c "import sys; sys.exit(0 if $n * $DIM * 4 * 6 > $MEM_FRACTION * $avail_kb * 1024 else 1)"; then
    for stage in eval serve; do
      printf '{"stage": "%s", "items": %d, "skipped": "needs ~%s GB (%d items x %d dims x 4 B x 6 copies), over %s of the %s GB available"}\n' \
        "$stage" "$n" "$need_gb" "$n" "$DIM" "$MEM_FRACTION" "$((avail_kb / 1048576))"
    done
    continue
  fi
  for p in $PRECISIONS; do
    "$BUILD_DIR/bench/bench_eval" --users "$EVAL_USERS" --items "$n" --dim "$DIM" --threads 1 \
      --methods "$EVAL_METHOD" --precision "$p"
  done
  dir=$WORK/serve-$n
  "$BUILD_DIR/bench/bench_serving" --items "$n" --workdir "$dir" --prepare 1
  for p in $PRECISIONS; do
    "$BUILD_DIR/bench/bench_serving" --items "$n" --workdir "$dir" --precision "$p" \
      --seconds "$SERVE_SECONDS" --requests 2000
  done
  rm -rf "$dir"
done
