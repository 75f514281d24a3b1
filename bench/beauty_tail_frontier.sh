#!/usr/bin/env bash
# The tail / overall frontier of issue 13's Beauty runs under popularity-fair re-ranking: each
# finished run of bench/beauty_text.sh (OUT_DIR/<variant>-seed<s>/eval.json) is re-evaluated with
# `divrec eval --fairness dual --exposure-groups popularity-bins` (two groups: the 20 % most
# popular items and the rest; P-MMF's dual multipliers, docs/diversity.md) at each exposure
# tolerance of TOLERANCES, and the plain lists (tolerance "none": the dual's pass 0) are the first
# point. SPLIT=valid sweeps the validation split (to choose a tolerance without the test split).
# Prints one JSON line per (variant, seed, tolerance), then a markdown table of the means over
# seeds.
# Usage: [VARIANTS="ids minilm"] [SEEDS="1 2 3"] [TOLERANCES=0.35,0.3,0.25,0.2,0.15]
#        [SPLIT=test|valid] bench/beauty_tail_frontier.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi_env.sh
OUT=${1:-out/beauty_text}
VARIANTS=${VARIANTS:-"ids minilm"}
SEEDS=${SEEDS:-"1 2 3"}
TOLERANCES=${TOLERANCES:-0.35,0.3,0.25,0.2,0.15}
SPLIT=${SPLIT:-test}
SUFFIX=$([ "$SPLIT" = test ] || echo "_$SPLIT")
DIVREC=${DIVREC:-./build/launcher/divrec}
MPIRUN="mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1"
[ -d "$OUT/data" ] || { echo "no $OUT/data: run bench/beauty_text.sh $OUT first" >&2; exit 2; }

for v in $VARIANTS; do
  for s in $SEEDS; do
    run="$OUT/$v-seed$s"
    [ -f "$run/eval.json" ] || { echo "skip $run: no eval.json (not trained)" >&2; continue; }
    report="$run/tail_frontier$SUFFIX.json"
    if [ ! -f "$report" ]; then
      $MPIRUN $DIVREC eval --data "$OUT/data" --checkpoint "$run" --split "$SPLIT" --k 10 \
        --threads 1 --fairness dual --exposure-groups popularity-bins --sweep "tolerance=$TOLERANCES" \
        --report "$report.tmp" > "$run.tail_frontier$SUFFIX.log" 2>&1
      mv "$report.tmp" "$report"
    fi
    /usr/bin/python3 - "$report" "$v" "$s" <<'PY'
import json, sys
keys = ("ndcg@10", "hr@10", "tail.ndcg@10", "tail.hr@10", "head.ndcg@10", "exposure_tvd@10")
report = json.load(open(sys.argv[1]))
plain = report["fairness"][0]["metrics_before"]  # the lists before any multiplier
rows = [("none", plain)] + [(r["value"], r["metrics"]) for r in report["sweep"]]
for tol, m in rows:
    print(json.dumps({"variant": sys.argv[2], "seed": int(sys.argv[3]), "tolerance": tol,
                      **{k: m.get(k) for k in keys}}))
PY
  done
done | tee "$OUT/tail_frontier$SUFFIX.jsonl"

/usr/bin/python3 - "$OUT/tail_frontier$SUFFIX.jsonl" <<'PY'
import json, sys
from collections import defaultdict
cells = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    cells[(r["variant"], str(r["tolerance"]))].append(r)
base = [r for (v, t), rs in cells.items() if v == "ids" and t == "none" for r in rs]
mean = lambda rs, k: sum(r[k] for r in rs) / len(rs)
keys = ["ndcg@10", "hr@10", "tail.ndcg@10", "tail.hr@10", "head.ndcg@10"]
print("| variant | exposure tolerance | seeds | " + " | ".join(keys) +
      " | exposure TVD@10 | overall vs plain ids | tail vs plain ids |")
print("|---|---|---|" + "---|" * len(keys) + "---|---|---|")
for (v, t), rs in cells.items():
    rel = lambda k: f"{100 * (mean(rs, k) / mean(base, k) - 1):+.1f} %" if base else ""
    tvds = [r["exposure_tvd@10"] for r in rs if r["exposure_tvd@10"] is not None]
    tvd = f"{sum(tvds) / len(tvds):.3f}" if tvds else ""  # the plain eval reports none
    print(f"| {v} | {t} | {len(rs)} | " + " | ".join(f"{mean(rs, k):.4f}" for k in keys) +
          f" | {tvd} | {rel('ndcg@10')} | {rel('tail.ndcg@10')} |")
PY
