#!/usr/bin/env bash
# Issue 13's Beauty table: item text and MiniLM title vectors against item ids only, with the
# recipe's settings (bench/beauty_train.sh) and SEEDS seeds each. Test metrics of each run's best.pt
# come from `divrec eval` (exact, full catalog): overall and on the cold / tail / head slices.
#   ids     id + category + attribute features (the recipe)
#   text    + the title's bag of SentencePiece subwords (--use-text)
#   minilm  + all-MiniLM-L6-v2 title vectors as content (divrec encode-items, 384-d)
#   both    text + minilm
# Needs .venv-text (tools/text/setup-venv.sh) for the MiniLM export. Prints one JSON line per run,
# then a markdown table of the means over seeds.
# Cold start: COLD_ITEMS=0.05 holds out 5 % of the items (`shard convert --cold-items`; eval's
# `cold` slice), TRAIN_EXTRA adds train options to every run (e.g. "--zero-cold-ids true
# --item-id-dropout 0.2"). A popularity baseline scores cold items 0 (no train interactions), so
# its cold-slice HR@10 is 0 by construction.
# ENCODE_EXTRA adds encode-items options, e.g. "--pca 64 --whiten" (UniSRec-style whitened PCA of
# the MiniLM vectors: docs/results.md's best overall row).
# Usage: [EPOCHS=20] [SEEDS="1 2 3"] [DIM=128] [VARIANTS="ids text minilm both"] [COLD_ITEMS=0]
#        [TRAIN_EXTRA=...] [ENCODE_EXTRA=...] bench/beauty_text.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi_env.sh
OUT=${1:-out/beauty_text}
EPOCHS=${EPOCHS:-20}
SEEDS=${SEEDS:-"1 2 3"}
DIM=${DIM:-128}
VARIANTS=${VARIANTS:-"ids text minilm both"}
DIVREC=${DIVREC:-./build/launcher/divrec}
DATA=${DIVREC_SHARED_DATA:-../shared/data}/amazon-beauty
TITLES=$DATA/Beauty_item_titles.tsv
[ -f "$TITLES" ] || { echo "no $TITLES: nothing to do"; exit 0; }
MPIRUN="mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1"
mkdir -p "$OUT"

# Data: converted with the titles (version 0), then MiniLM vectors as content (version 1).
if [ ! -f "$OUT/data/items-v0001.h5" ]; then
  rm -rf "$OUT/data"
  $DIVREC shard convert --format amazon-s3rec --input "$DATA" --output "$OUT/data" \
    --num-shards 4 --item-text "$TITLES" --text-vocab-size 4000 --max-text-tokens 32 \
    --cold-items "${COLD_ITEMS:-0}"
  bash tools/text/setup-venv.sh
  [ -f "$OUT/minilm/encoder.pt" ] ||
    .venv-text/bin/python tools/text/export_text_encoder.py --output "$OUT/minilm"
  start=$(date +%s)
  $MPIRUN $DIVREC encode-items --data "$OUT/data" --encoder "$OUT/minilm/encoder.pt" \
    --text "$TITLES" --tokenizer "$OUT/minilm/vocab.txt" --name all-MiniLM-L6-v2 --threads 1 \
    ${ENCODE_EXTRA:-} | tee "$OUT/encode.log"
  echo "encode-items wall seconds: $(( $(date +%s) - start ))" | tee -a "$OUT/encode.log"
fi

for v in $VARIANTS; do
  case $v in
    ids) opts="--use-text false --use-content false" ;;
    text) opts="--use-text true --use-content false" ;;
    minilm) opts="--use-text false --use-content true" ;;
    both) opts="--use-text true --use-content true" ;;
    *) echo "unknown variant '$v'" >&2; exit 2 ;;
  esac
  for s in $SEEDS; do
    run="$OUT/$v-seed$s"
    start=$(date +%s)
    if [ ! -f "$run/eval.json" ]; then
      # shellcheck disable=SC2086
      $MPIRUN $DIVREC train --data "$OUT/data" --output "$run" --objective next-item \
        --loss full-ce --epochs "$EPOCHS" --patience 5 --batch-size 64 --max-len 50 --dim "$DIM" \
        --layers 2 --heads 2 --dropout 0.5 --attn-dropout 0.5 --lr 1e-3 --warmup-steps 100 \
        --decay constant --threads 1 --log-every 1000 --seed "$s" $opts ${TRAIN_EXTRA:-} \
        > "$run.train.log" 2>&1
      $MPIRUN $DIVREC eval --data "$OUT/data" --checkpoint "$run" --k 10 --threads 1 \
        --report "$run/eval.json" > "$run.eval.log" 2>&1
    fi
    /usr/bin/python3 - "$run/eval.json" "$v" "$s" "$(( $(date +%s) - start ))" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
out = {"variant": sys.argv[2], "seed": int(sys.argv[3]), "seconds": int(sys.argv[4])}
for k in ("ndcg@10", "hr@10", "tail.ndcg@10", "tail.hr@10", "head.ndcg@10", "cold.hr@10",
          "cold.ndcg@10", "tail.users", "head.users", "cold.users"):
    out[k] = m.get(k)
print(json.dumps(out))
PY
  done
done | tee "$OUT/runs.jsonl"

/usr/bin/python3 - "$OUT/runs.jsonl" <<'PY'
import json, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[r["variant"]].append(r)
keys = ["ndcg@10", "hr@10", "tail.ndcg@10", "tail.hr@10", "head.ndcg@10", "cold.hr@10"]
base = runs.get("ids")
mean = lambda rs, k: sum(r[k] or 0 for r in rs) / max(1, len(rs))
print("| variant | seeds | " + " | ".join(keys) + " | tail NDCG@10 vs ids | overall vs ids |")
print("|---|---|" + "---|" * len(keys) + "---|---|")
for v, rs in runs.items():
    row = [f"{mean(rs, k):.4f}" for k in keys]
    rel = lambda k: f"{100 * (mean(rs, k) / mean(base, k) - 1):+.1f} %" if base else ""
    print(f"| {v} | {len(rs)} | " + " | ".join(row) + f" | {rel('tail.ndcg@10')} | {rel('ndcg@10')} |")
PY
