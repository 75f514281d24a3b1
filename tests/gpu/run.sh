#!/usr/bin/env bash
# The GPU checks: builds divrec against the LibTorch it finds (scripts/build-cuda.sh) or takes
# prebuilt binaries from DIVREC_GPU_BUNDLE (tests/gpu/make-bundle.sh), then runs the NCCL,
# device-step and precision tests and short train + eval runs with --device cuda, and prints
# JSON lines (also in $GPU_OUT/gpu_results.jsonl). Skips (exit 0) where no GPU is visible.
# Usage: [GPU_OUT=DIR] [DIVREC_GPU_BUNDLE=DIR] [EPOCHS=3] tests/gpu/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
OUT=${GPU_OUT:-$(mktemp -d /tmp/divrec_gpu.XXXXXX)}
EPOCHS=${EPOCHS:-3}
mkdir -p "$OUT"
if ! command -v nvidia-smi > /dev/null || ! nvidia-smi -L > /dev/null 2>&1; then
  echo "tests/gpu/run.sh: no GPU visible (nvidia-smi finds none): GPU checks skipped"
  exit 0
fi
if [[ -n ${DIVREC_GPU_BUNDLE:-} ]]; then
  source "$DIVREC_GPU_BUNDLE/env.sh"
  DIVREC=$DIVREC_GPU_BUNDLE/bin/divrec
  test_bin() { echo "$DIVREC_GPU_BUNDLE/bin/$1"; }
else
  bash scripts/build-cuda.sh || { echo "tests/gpu/run.sh: the CUDA build failed" >&2; exit 1; }
  BUILD=${DIVREC_CUDA_BUILD:-build-cuda}
  DIVREC=$BUILD/launcher/divrec
  test_bin() { find "$BUILD/tests" -name "$1" -type f -perm -u+x -print -quit; }
fi
RESULTS=$OUT/gpu_results.jsonl
: > "$RESULTS"
emit() { tee -a "$RESULTS"; }
failed=()
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"

# 1. Tests (each skips itself where its part is missing; here none should).
for t in test_nccl_comm test_device_step test_device_scorer test_precision; do
  echo "== $t"
  "$(test_bin $t)" > "$OUT/$t.log" 2>&1
  rc=$?
  grep -E "^\[ +(OK|FAILED|SKIPPED) +\]|PASSED|FAILED TEST" "$OUT/$t.log"
  [[ $rc == 0 ]] || failed+=("$t")
  echo "{\"gpu\": \"test\", \"name\": \"$t\", \"rc\": $rc, \"skipped\": $(grep -c '\[  SKIPPED \]' "$OUT/$t.log")}" | emit
done

# 2. Train + eval on a Beauty-sized synthetic catalog (22,363 users, 12,101 items).
DATA=$OUT/data
"$DIVREC" shard convert --format synthetic --output "$DATA" --num-shards 4 --users 22363 \
  --items 12101 --mean-length 8.9 > "$OUT/convert.log" 2>&1 || failed+=(convert)
# train_run LABEL DEVICE PRECISION LOSS DIM [extra options]: the recipe's model shape.
train_run() {
  local label=$1 device=$2 precision=$3 loss=$4 dim=$5 run=$OUT/run-$1
  local t0
  t0=$(date +%s.%N)
  "$DIVREC" train --data "$DATA" --output "$run" --objective next-item --loss "$loss" \
    --batch-size 128 --max-len 50 --dim "$dim" --layers 2 --heads 2 --dropout 0.2 \
    --attn-dropout 0.2 --lr 1e-3 --warmup-steps 100 --log-every 25 --device "$device" \
    --precision "$precision" "${@:6}" > "$run.log" 2>&1
  local rc=$?
  [[ $rc == 0 ]] || { failed+=("train-$label"); tail -20 "$run.log"; }
  python3 - "$run" "$label" "$device" "$precision" "$loss" "$dim" "$rc" "$t0" <<'PY' | emit
import json, os, sys, time
run, label, device, precision, loss, dim, rc, t0 = sys.argv[1:9]
rows = []
if os.path.exists(run + "/metrics.jsonl"):
    rows = [json.loads(l) for l in open(run + "/metrics.jsonl") if l.strip()]
train = [r for r in rows if r.get("kind") == "train"][1:]  # the first window holds start-up
out = {"gpu": "train", "label": label, "device": device, "precision": precision, "loss": loss,
       "dim": int(dim), "rc": int(rc), "wall_s": round(time.time() - float(t0), 1)}
if train:
    out["seq_per_s"] = round(sum(r["seq_per_s"] for r in train) / len(train), 1)
    out["ms_per_step"] = round(sum(r["ms_per_step"] for r in train) / len(train), 2)
    out["final_loss"] = round(train[-1]["loss"], 4)
if os.path.exists(run + "/test_metrics.json"):
    t = json.load(open(run + "/test_metrics.json"))
    out.update({k: round(t[k], 4) for k in ("ndcg@10", "hr@10") if k in t})
print(json.dumps(out))
PY
}
train_run recipe-cuda-fp32 cuda fp32 full-ce 128 --epochs "$EPOCHS"
train_run recipe-cuda-bf16 cuda bf16 full-ce 128 --epochs "$EPOCHS"
train_run bce-cuda-fp32 cuda fp32 bce 64 --max-steps 300 --eval-every 0 --final-test false
train_run bce-cuda-bf16 cuda bf16 bce 64 --max-steps 300 --eval-every 0 --final-test false
train_run sparse-cuda-fp32 cuda fp32 sampled-softmax 64 --item-table sparse --max-steps 300 \
  --eval-every 0 --final-test false
# The same run with the table in host memory (rows copied per step): the device-table speed-up.
train_run sparse-hosttable-cuda-fp32 cuda fp32 sampled-softmax 64 --item-table sparse \
  --item-table-memory host --max-steps 300 --eval-every 0 --final-test false
# Row-wise sharded table in GPU memory (NCCL all-to-all, world 1 here), with validation, the
# final test (gather_full on the GPU) and its checkpoint shards written from the device.
train_run sparse-row-cuda-fp32 cuda fp32 sampled-softmax 64 --item-table sparse \
  --embedding-sharding row --epochs 1
train_run recipe-cpu-fp32 cpu fp32 full-ce 128 --max-steps 100 --eval-every 0 --final-test false \
  --threads "$(nproc)" --comm local

# 3. The Amazon Beauty recipe (bench/beauty_train.sh's options; one rank with the recipe's global
# batch of 2 x 64) in fp32 and bf16 on the GPU, when the data is there.
BEAUTY=${DIVREC_SHARED_DATA:-../shared/data}/amazon-beauty
if [[ -f $BEAUTY/Beauty.txt ]]; then
  "$DIVREC" shard convert --format amazon-s3rec --input "$BEAUTY" --output "$OUT/beauty" \
    --num-shards 4 > "$OUT/beauty-convert.log" 2>&1 || failed+=(beauty-convert)
  for prec in fp32 bf16; do
    t0=$(date +%s.%N)
    "$DIVREC" train --data "$OUT/beauty" --output "$OUT/beauty-$prec" --objective next-item \
      --loss full-ce --epochs "${BEAUTY_EPOCHS:-30}" --patience 5 --batch-size 128 --max-len 50 \
      --dim 128 --layers 2 --heads 2 --dropout 0.5 --attn-dropout 0.5 --lr 1e-3 \
      --warmup-steps 100 --decay constant --log-every 100 --device cuda --precision "$prec" \
      > "$OUT/beauty-$prec.log" 2>&1 || { failed+=("beauty-$prec"); tail -20 "$OUT/beauty-$prec.log"; }
    python3 - "$OUT/beauty-$prec" "$prec" "$t0" <<'PY' | emit
import json, os, sys, time
run, prec, t0 = sys.argv[1:4]
out = {"gpu": "beauty-recipe", "precision": prec, "wall_s": round(time.time() - float(t0), 1)}
if os.path.exists(run + "/test_metrics.json"):
    t = json.load(open(run + "/test_metrics.json"))
    out.update({k: round(t[k], 4) for k in ("ndcg@10", "hr@10", "sampled_ndcg@10") if k in t})
print(json.dumps(out))
PY
  done
else
  echo "tests/gpu/run.sh: no $BEAUTY: the Beauty recipe comparison is skipped"
fi

# 4. divrec eval of the checkpoint a GPU run wrote: on the CPU (the kernel serving uses) and with
# candidates on the GPU (fp32, bf16); NDCG@10 and users/s of each.
eval_run() {
  local label=$1 t0
  t0=$(date +%s.%N)
  "$DIVREC" eval --data "$DATA" --checkpoint "$OUT/run-recipe-cuda-fp32/checkpoints/best.pt" \
    --split test --k 10 --rerank mmr --lambda 0.5 --report "$OUT/eval-$label.json" "${@:2}" \
    > "$OUT/eval-$label.log" 2>&1
  local rc=$?
  [[ $rc == 0 ]] || { failed+=("eval-$label"); tail -20 "$OUT/eval-$label.log"; }
  python3 - "$OUT/eval-$label.json" "$label" "$rc" "$t0" <<'PY' | emit
import json, os, sys, time
path, label, rc, t0 = sys.argv[1:5]
out = {"gpu": "eval", "label": label, "rc": int(rc), "wall_s": round(time.time() - float(t0), 1)}
if os.path.exists(path):
    r = json.load(open(path))
    out["users"] = r["users"]
    out["users_per_s"] = round(r["users"] / max(r["seconds"], 1e-9), 1)
    out.update({k: round(r["metrics"][k], 4) for k in ("ndcg@10", "hr@10", "ild@10")
                if k in r["metrics"]})
print(json.dumps(out))
PY
}
eval_run cpu --device cpu --threads "$(nproc)" --comm local
eval_run cuda-fp32 --device cuda
eval_run cuda-bf16 --device cuda --precision bf16

if (( ${#failed[@]} )); then
  echo "tests/gpu/run.sh: FAILED: ${failed[*]} (logs in $OUT)"
  exit 1
fi
echo "tests/gpu/run.sh: all GPU checks passed (logs in $OUT)"
