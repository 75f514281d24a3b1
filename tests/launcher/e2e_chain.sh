#!/usr/bin/env bash
# End-to-end chain on tiny generated data, as the README demo runs it: shard -> validate ->
# train (2 ranks) -> eval with MMR + a category constraint (2 ranks; exact, and ANN over an index
# built in-process) -> export -> recommend.
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

# ANN retrieval with the index built in-process (no --ann-index): every rank builds the same
# graph (one thread), so 2 ranks give 1 rank's lists; the weak graph's recall < 1 shows the lists
# come from it. An exhaustive IVF search (nprobe = nlist) gives exact retrieval's lists.
SAME="--data $T/data --checkpoint $T/run --split test --k 5,10 --candidates 50 --rerank mmr \
  --lambda 0.6 --min-categories 2"
WEAK="--retrieval ann --ann-kind hnsw --hnsw-m 4 --ef-construction 8 --ef-search 4"
$MPIRUN $DIVREC eval $SAME $WEAK --report "$T/weak2.json" --dump-lists "$T/weak2.jsonl" \
  > "$T/weak2.log"
$DIVREC eval $SAME $WEAK --comm local --threads 2 --batch-size 7 --report "$T/weak1.json" \
  --dump-lists "$T/weak1.jsonl" > "$T/weak1.log"
$MPIRUN $DIVREC eval $SAME --retrieval ann --ann-kind ivf --ivf-nlist 4 --nprobe 4 \
  --report "$T/ivf.json" --dump-lists "$T/ivf.jsonl" > "$T/ivf.log"
/usr/bin/python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
def lists(name):
    return {j["user"]: j["items"] for j in map(json.loads, open(f"{t}/{name}.jsonl"))}
def retrieval(name):
    return json.load(open(f"{t}/{name}.json"))["retrieval"]
for name in ["weak2", "weak1", "ivf"]:
    r = retrieval(name)
    assert r["used"] == "ann" and r["index"] == "built in-process", (name, r)
assert 0.2 < retrieval("weak2")["recall"] < 1, retrieval("weak2")
assert retrieval("weak1")["recall"] == retrieval("weak2")["recall"]
assert retrieval("ivf")["recall"] == 1, retrieval("ivf")
# The report names the search parameter of the kind that ran: the lists probed for IVF.
assert retrieval("ivf")["kind"] == "ivf-flat" and retrieval("ivf")["nprobe"] == 4, retrieval("ivf")
assert "ef_search" not in retrieval("ivf") and "nprobe" not in retrieval("weak2"), retrieval("weak2")
assert retrieval("weak2")["kind"] == "hnsw" and retrieval("weak2")["ef_search"] == 4
exact, weak2, weak1, ivf = lists("lists"), lists("weak2"), lists("weak1"), lists("ivf")
assert len(exact) > 100 and weak2 == weak1 and ivf == exact, len(exact)
assert weak2 != exact  # the weak graph changed some lists
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
