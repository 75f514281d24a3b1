#!/usr/bin/env bash
# Serving == evaluation on real data (issue 5): `divrec eval --dump-lists` on the Beauty test
# split under mpirun -n 2, `divrec export` with the same settings, `divrec recommend --input`
# replaying every dumped history; counts users whose list (items, order, reasons) differs and the
# largest relative score difference. Settings default to MMR + a category constraint.
# Usage: bench/beauty_consistency.sh DATA_DIR CHECKPOINT [OUT_DIR] [-- settings...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi_env.sh
DATA=$1; CKPT=$2; OUT=${3:-out/consistency}
shift $(( $# >= 3 ? 3 : 2 ))
[[ ${1:-} == -- ]] && shift
SETTINGS=("$@")
(( ${#SETTINGS[@]} )) || SETTINGS=(--rerank mmr --lambda 0.9 --min-categories 3)
DIVREC=${DIVREC:-./build/launcher/divrec}
# EVAL_EXTRA: eval-only options, e.g. "--fairness dual --exposure-tolerance 0.15"; with
# --fairness the export then carries the fitted policy (--fairness-policy eval.json).
read -r -a EVAL_EXTRA <<< "${EVAL_EXTRA:-}"
EXPORT_EXTRA=()
[[ " ${EVAL_EXTRA[*]-} " == *" --fairness "* ]] && EXPORT_EXTRA=(--fairness-policy "$OUT/eval.json")
mkdir -p "$OUT"
mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1 $DIVREC eval --data "$DATA" --checkpoint "$CKPT" \
  --split test --k 10 --candidates 200 --threads 1 --report "$OUT/eval.json" \
  --dump-lists "$OUT/lists.jsonl" "${SETTINGS[@]}" ${EVAL_EXTRA[@]+"${EVAL_EXTRA[@]}"} \
  > "$OUT/eval.log" 2>&1
$DIVREC export --checkpoint "$CKPT" --data "$DATA" --output "$OUT/model.h5" --k 10 \
  --candidates 200 "${SETTINGS[@]}" ${EXPORT_EXTRA[@]+"${EXPORT_EXTRA[@]}"} > "$OUT/export.log" 2>&1
/usr/bin/python3 -c '
import json, sys
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        out.write(json.dumps({"history": json.loads(line)["history"]}) + "\n")
' "$OUT/lists.jsonl" "$OUT/requests.jsonl"
start=$SECONDS
$DIVREC recommend --model "$OUT/model.h5" --input "$OUT/requests.jsonl" --output "$OUT/out.jsonl" \
  --threads 2 > "$OUT/recommend.log" 2>&1
secs=$((SECONDS - start))
/usr/bin/python3 - "$OUT/lists.jsonl" "$OUT/out.jsonl" "$secs" <<'PY'
import json, sys
want = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
assert len(want) == len(got), (len(want), len(got))
diff, bit_equal, worst = 0, 0, 0.0
for w, g in zip(want, got):
    items = [x["item"] for x in g["items"]]
    reasons = [x["reason"] for x in g["items"]]
    scores = [x["score"] for x in g["items"]]
    same = items == w["items"] and reasons == w["reasons"]
    if same:
        rel = max((abs(a - b) / max(1.0, abs(b)) for a, b in zip(scores, w["scores"])), default=0)
        worst = max(worst, rel)
        bit_equal += scores == w["scores"]
    diff += not same
print(json.dumps({"users": len(want), "different_lists": diff, "bit_equal_scores": bit_equal,
                  "max_rel_score_diff": worst, "recommend_seconds": int(sys.argv[3])}))
PY
