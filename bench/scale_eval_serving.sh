#!/usr/bin/env bash
# Catalog-scale evaluation and serving with the blocked exact scoring kernel
# (trainer/model/score_kernel.h), for each catalog size in ITEMS and precision in PRECISIONS.
# Random models of the right shape (dim DIM, 2 blocks, max_len 50) on synthetic catalogs.
# Prints one JSON line per measurement:
#   {"stage": "eval", "items", "users_per_s_per_rank", "precision", ...}   (bench_eval: one
#     rank, one thread, EVAL_USERS users, re-ranker EVAL_METHOD, top-200 -> 20)
#   {"stage": "serve", "items", "retrieval": "exact|ann", "p50_ms", "p99_ms", "recall_at_200",
#    "load_s", "rss_mb", ...}   (bench_serving --items: dpp, k = 10, one core; fresh process;
#    ann: an index built beside the artifact as `divrec export --retrieval ann` does -- HNSW
#    M HNSW_M / efConstruction EF_CONSTRUCTION searched with each EF_SEARCH, or IVF-flat
#    (nlist 4 sqrt(I)) searched with each NPROBE (0: divrec's default, sqrt(nlist) lists; the JSON
#    gives the lists probed) -- candidates re-scored exactly; recall_at_200
#    against a double-precision exact top 200)
#   {"stage": ..., "items", "skipped": REASON} when a catalog would not fit in memory.
# Env: ITEMS ("12101 1000000 10000000"), PRECISIONS ("fp32 bf16"), RETRIEVALS ("exact ann";
# ann serves fp32), ANN_KIND (auto: hnsw below IVF_MIN_ITEMS = 1000000 items, ivf from there
# on, as `divrec export --ann-kind auto`; or hnsw / ivf), HNSW_M (16), EF_CONSTRUCTION (100),
# EF_SEARCH ("384 512"), NPROBE ("0 96"),
# ANN_MIN_ITEMS (100000: smaller catalogs serve exact only), DIM (64), EVAL_USERS (1000),
# EVAL_METHOD (none), SERVE_SECONDS (10), BUILD_DIR (build), WORK (/tmp/divrec_scale_bench),
# ANN_CANDIDATES (200: ANN fetches max(this, 200) + |history| before the exact re-score),
# MEM_FRACTION (0.6: skip when items x dim x 4 bytes x 4 copies -- item-id table, item vectors,
# score table, and the bench's data and index headroom -- exceeds this share of MemAvailable).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
ITEMS=${ITEMS:-"12101 1000000 10000000"}
PRECISIONS=${PRECISIONS:-"fp32 bf16"}
RETRIEVALS=${RETRIEVALS:-"exact ann"}
HNSW_M=${HNSW_M:-16}
EF_CONSTRUCTION=${EF_CONSTRUCTION:-100}
EF_SEARCH=${EF_SEARCH:-"384 512"}
ANN_KIND=${ANN_KIND:-auto}
IVF_MIN_ITEMS=${IVF_MIN_ITEMS:-1000000}
NPROBE=${NPROBE:-"0 96"}
ANN_MIN_ITEMS=${ANN_MIN_ITEMS:-100000}
DIM=${DIM:-64}
EVAL_USERS=${EVAL_USERS:-1000}
EVAL_METHOD=${EVAL_METHOD:-none}
SERVE_SECONDS=${SERVE_SECONDS:-10}
WORK=${WORK:-/tmp/divrec_scale_bench}
ANN_CANDIDATES=${ANN_CANDIDATES:-200}
MEM_FRACTION=${MEM_FRACTION:-0.6}
for b in bench_eval bench_serving; do
  [[ -x $BUILD_DIR/bench/$b ]] || { echo "scale_eval_serving: $BUILD_DIR/bench/$b is not built" >&2; exit 1; }
done
avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)

for n in $ITEMS; do
  need_gb=$(python3 -c "print(round($n * $DIM * 4 * 4 / 1e9, 1))")
  if python3 -c "import sys; sys.exit(0 if $n * $DIM * 4 * 4 > $MEM_FRACTION * $avail_kb * 1024 else 1)"; then
    for stage in eval serve; do
      printf '{"stage": "%s", "items": %d, "skipped": "needs ~%s GB (%d items x %d dims x 4 B x 4 copies), over %s of the %s GB available"}\n' \
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
  if [[ " $RETRIEVALS " == *" exact "* ]]; then
    for p in $PRECISIONS; do
      "$BUILD_DIR/bench/bench_serving" --items "$n" --workdir "$dir" --precision "$p" \
        --seconds "$SERVE_SECONDS" --requests 2000
    done
  fi
  if [[ " $RETRIEVALS " == *" ann "* ]] && (( n >= ANN_MIN_ITEMS )); then
    kind=$ANN_KIND
    [[ $kind == auto ]] && kind=$( (( n >= IVF_MIN_ITEMS )) && echo ivf || echo hnsw)
    "$BUILD_DIR/bench/bench_serving" --items "$n" --workdir "$dir" --prepare 1 --retrieval ann \
      --ann-kind "$kind" --hnsw-m "$HNSW_M" --ef-construction "$EF_CONSTRUCTION"
    if [[ $kind == ivf ]]; then settings=$NPROBE; flag=--nprobe; else settings=$EF_SEARCH; flag=--ef-search; fi
    for v in $settings; do
      "$BUILD_DIR/bench/bench_serving" --items "$n" --workdir "$dir" --precision fp32 \
        --retrieval ann "$flag" "$v" --ann-candidates "$ANN_CANDIDATES" \
        --seconds "$SERVE_SECONDS" --requests 2000
    done
  fi
  rm -rf "$dir"
done
