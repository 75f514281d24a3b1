#!/usr/bin/env bash
# End-to-end chain on tiny generated data, as the README demo runs it: shard -> validate ->
# train (2 ranks) -> eval with MMR + a category constraint (2 ranks) -> export -> recommend.
# Checks each stage's output, not just exit codes. Usage: e2e_chain.sh PATH/TO/divrec
set -euo pipefail
DIVREC=$1
source "$(dirname "$0")/../../scripts/mpi_env.sh"
T=$(mktemp -d /tmp/divrec_e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
MPIRUN="mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1"

$DIVREC shard convert --format synthetic --users 300 --items 150 --categories 6 --seed 5 \
  --output "$T/data" --num-shards 3
$DIVREC shard validate "$T/data"
$DIVREC shard inspect "$T/data" --json > "$T/inspect.json"
/usr/bin/python3 - "$T/inspect.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["users"] > 250 and j["items"] > 100, j
PY

$MPIRUN $DIVREC train --data "$T/data" --output "$T/run" --epochs 2 --batch-size 16 --dim 16 \
  --layers 1 --heads 1 --max-len 12 --threads 1 --log-every 5 > "$T/train.log"
grep -q "test (best.pt)" "$T/train.log"
test -f "$T/run/checkpoints/best.pt"
test -f "$T/run/config.ini"
grep -q '"kind": *"train"\|"kind":"train"' "$T/run/metrics.jsonl"

$MPIRUN $DIVREC eval --data "$T/data" --checkpoint "$T/run" --split test --k 5,10 \
  --candidates 50 --rerank mmr --lambda 0.6 --min-categories 2 --report "$T/report.json" \
  --dump-lists "$T/lists.jsonl" > "$T/eval.log"
/usr/bin/python3 - "$T/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["metrics"]
for key in ["ndcg@10", "hr@10", "ild@10", "category_coverage@10", "catalog_coverage@10", "gini@10"]:
    assert key in m, key
assert r["ranks"] == 2, r["ranks"]
assert 0 <= m["ndcg@10"] <= 1 and 0 <= m["gini@10"] <= 1
PY

$DIVREC export --checkpoint "$T/run" --data "$T/data" --output "$T/model.h5"
$DIVREC recommend --model "$T/model.h5" --history 1,2,3 --k 5 --rerank dpp --theta 0.5 \
  > "$T/rec.json"
/usr/bin/python3 - "$T/rec.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r["items"]) == 5, r
PY
echo "e2e chain OK"
