#!/usr/bin/env bash
# The ablation table of docs/results.md on Amazon Beauty: a cheaper version of the recipe of
# bench/beauty_train.sh (dim 64 instead of 128, so six runs fit in ~25 minutes) with one thing
# changed at a time, every run at the same epoch budget; test metrics of each run's best.pt (by
# validation NDCG@10). Prints one JSON line per variant, then a markdown table.
#   full-ce        the base (id + category + attribute features, full softmax)
#   bce            SASRec's loss: one uniform negative per position
#   sampled        sampled softmax, 256 shared popularity^0.75 negatives, log-Q corrected
#   full-ce-ids    item ids only (no category / attribute features)
#   pretrain+ft    masked-item pre-training (same epochs), then the recipe with --init-from
# Usage: [EPOCHS=8] [VARIANTS="full-ce bce ..."] bench/beauty_ablation.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi_env.sh
OUT=${1:-out/ablation}
EPOCHS=${EPOCHS:-8}
VARIANTS=${VARIANTS:-"full-ce bce sampled full-ce-ids pretrain+ft"}
DIVREC=${DIVREC:-./build/launcher/divrec}
DATA=${DIVREC_SHARED_DATA:-../shared/data}/amazon-beauty
[ -d "$DATA" ] || { echo "no $DATA: nothing to do"; exit 0; }
mkdir -p "$OUT"
[ -f "$OUT/data/manifest.h5" ] || $DIVREC shard convert --format amazon-s3rec --input "$DATA" \
  --output "$OUT/data" --num-shards 4 >/dev/null

train() {  # train RUN_NAME [extra options]: the recipe, then "$@"
  local run=$1; shift
  mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1 $DIVREC train --data "$OUT/data" \
    --output "$OUT/$run" --epochs "$EPOCHS" --patience 5 --batch-size 64 --max-len 50 \
    --dim 64 --layers 2 --heads 2 --dropout 0.5 --attn-dropout 0.5 --lr 1e-3 \
    --warmup-steps 100 --decay constant --threads 1 --log-every 1000 "$@" > "$OUT/$run.log" 2>&1
}

rows=()
for v in $VARIANTS; do
  start=$(date +%s)
  case $v in
    full-ce) train "$v" --objective next-item --loss full-ce ;;
    bce) train "$v" --objective next-item --loss bce ;;
    sampled) train "$v" --objective next-item --loss sampled-softmax --num-negatives 256 ;;
    full-ce-ids) train "$v" --objective next-item --loss full-ce --use-category false \
      --use-attributes false ;;
    pretrain+ft)
      train pretrain --objective masked-item --loss full-ce --mask-prob 0.2
      train "$v" --objective next-item --loss full-ce --init-from "$OUT/pretrain" ;;
    *) echo "unknown variant '$v'" >&2; exit 2 ;;
  esac
  secs=$(( $(date +%s) - start ))
  row=$(/usr/bin/python3 - "$OUT/$v" "$v" "$secs" <<'PY'
import json, sys
run, name, secs = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = json.load(open(run + "/test_metrics.json"))
best = [json.loads(l) for l in open(run + "/metrics.jsonl") if '"valid"' in l]
b = max(best, key=lambda r: r["ndcg@10"])
out = {"variant": name, "seconds": secs, "best_epoch": b["epoch"], "valid_ndcg@10": b["ndcg@10"]}
out.update({k: t[k] for k in ("ndcg@10", "hr@10", "ndcg@20", "hr@20", "sampled_ndcg@10",
                              "sampled_hr@10")})
print(json.dumps(out))
PY
)
  echo "$row"
  rows+=("$row")
done
printf '%s\n' "${rows[@]}" | /usr/bin/python3 -c '
import json, sys
print("| variant | test NDCG@10 | HR@10 | NDCG@20 | HR@20 | 99-neg NDCG@10 | 99-neg HR@10 | best epoch | wall s |")
print("|---|---|---|---|---|---|---|---|---|")
for l in sys.stdin:
    r = json.loads(l)
    print("| {variant} | {n10:.4f} | {h10:.4f} | {n20:.4f} | {h20:.4f} | {s_n:.4f} | {s_h:.4f} | {best_epoch} | {seconds} |".format(
        n10=r["ndcg@10"], h10=r["hr@10"], n20=r["ndcg@20"], h20=r["hr@20"],
        s_n=r["sampled_ndcg@10"], s_h=r["sampled_hr@10"], **r))
'
