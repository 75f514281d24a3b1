#!/usr/bin/env bash
# Slurm test (b): a training job is preempted mid-run (scancel --signal=USR1 --batch, what
# --signal=B:USR1@120 delivers before a time limit). The batch script must forward the signal,
# rank 0 checkpoints mid-epoch, the ranks exit 3, the job requeues itself (same id, same run
# dir), resumes from that checkpoint (log "resume: from ...") and finishes with exactly the
# parameters of an uninterrupted job: both exports' weights compared bit for bit with h5py.
source "$(dirname "$0")/lib.sh"
"$DIVREC_BIN" shard convert --format synthetic --users 300 --items "$ITEMS" --categories \
  "$CATEGORIES" --seed 3 --output "$WORK/data" --num-shards 2 >"$WORK/shard.log" 2>&1 ||
  { cat "$WORK/shard.log"; fail "shard convert"; }
# Enough steps that the job is still running when the signal arrives: on a quiet machine a step
# of this tiny model takes ~2 ms, and 600 steps ended before the scancel.
export DATA=$WORK/data RUN_ROOT=$WORK/runs EPOCHS=1000 MAX_STEPS=${PREEMPT_MAX_STEPS:-4000}
export CHECKPOINT_EVERY=20 TRAIN_ARGS="--eval-every 0 --final-test false --warmup-steps 5"
mkdir -p "$RUN_ROOT"
final=ckpt-$(printf %09d "$MAX_STEPS").pt

submit_train() {
  local id
  id=$(sbatch --parsable -n 2 -c 1 -o "$RUN_ROOT/train-%j.out" "$REPO/slurm/train.sbatch")
  JOBS+=("${id%%;*}")
  echo "${id%%;*}"
}

# 1. The reference: uninterrupted.
ref=$(submit_train)
note "reference job $ref"
wait_jobs 600 "$ref"
expect_completed "$ref" "reference train"
[ -f "$RUN_ROOT/$ref/checkpoints/$final" ] || fail "reference has no $final"

# 2. The same job, preempted once it has written a checkpoint (any: with --keep-last 3 the first
# ones are rotated away within milliseconds, so polling for ckpt-000000020.pt can miss it).
job=$(submit_train)
note "preempted job $job"
t0=$SECONDS
until compgen -G "$RUN_ROOT/$job/checkpoints/ckpt-*.pt" >/dev/null; do
  ((SECONDS - t0 < 300)) || fail "job $job wrote no checkpoint in 300 s"
  s=$(job_field "$job" JobState)
  [ "$s" = PENDING ] || [ "$s" = RUNNING ] || { cat "$RUN_ROOT/train-$job.out"; fail "job $job is $s"; }
  sleep 0.2
done
[ -f "$RUN_ROOT/$job/checkpoints/$final" ] && fail "job finished before it could be preempted"
scancel --signal=USR1 --batch "$job"
note "sent USR1 to the batch script of job $job"
wait_jobs 600 "$job"
log=$RUN_ROOT/train-$job.out
cat "$log"
expect_completed "$job" "preempted train"
restarts=$(job_field "$job" Restarts)
((restarts == 1)) || fail "job $job restarted $restarts times, expected 1"
grep -q "got SIGUSR1: forwarding SIGUSR1 to the step" "$log" || fail "the batch script did not forward USR1"
grep -E "preemption signal: checkpointing at epoch [0-9]+ batch [0-9]+ \(step [0-9]+\)" "$log" ||
  fail "rank 0 did not checkpoint on the signal"
grep -q "preempted with a checkpoint: requeueing job $job" "$log" || fail "the job did not requeue itself"
resume=$(grep -E -o "resume: from [^ ]*ckpt-[0-9]{9}\.pt" "$log" | tail -1)
[ -n "$resume" ] || fail "no 'resume: from' line after the requeue"
step=$((10#$(sed -E 's/.*ckpt-([0-9]{9})\.pt/\1/' <<<"$resume")))
note "$resume (step $step)"
((step >= 20 && step < MAX_STEPS)) || fail "resumed from step $step, expected 20 <= step < $MAX_STEPS"
case "$resume" in *"$RUN_ROOT/$job/"*) ;; *) fail "resumed from outside the job's run dir: $resume" ;; esac
[ -f "$RUN_ROOT/$job/checkpoints/$final" ] || fail "the resumed job has no $final"

# 3. Same final parameters: export both and compare the weights bit for bit.
for r in "$ref" "$job"; do
  "$DIVREC_BIN" export --checkpoint "$RUN_ROOT/$r/checkpoints/$final" --data "$DATA" \
    --output "$WORK/model-$r.h5" >"$WORK/export-$r.log" 2>&1 ||
    { cat "$WORK/export-$r.log"; fail "export of job $r"; }
done
/usr/bin/python3 "$(dirname "$0")/compare_weights.py" "$WORK/model-$ref.h5" "$WORK/model-$job.h5" ||
  fail "the resumed run's final weights differ from the uninterrupted run's"
# The training losses after the resume point match too (metrics.jsonl, rank 0).
python3 - "$RUN_ROOT/$ref/metrics.jsonl" "$RUN_ROOT/$job/metrics.jsonl" "$step" <<'PY' ||
import json, sys
def losses(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        if r.get("kind") == "train":
            out[r["step"]] = r["loss"]
    return out
ref, res, step = losses(sys.argv[1]), losses(sys.argv[2]), int(sys.argv[3])
# Windows that straddle the resume point average different steps; compare whole windows after it.
after = sorted(s for s in ref if s > step + 10)
assert after, "no logged steps after the resume point"
bad = [s for s in after if res.get(s) != ref[s]]
print(f"{len(after)} logged losses after step {step} compared")
assert not bad, f"losses differ at steps {bad[:5]}: {[(ref[s], res.get(s)) for s in bad[:5]]}"
PY
  fail "training losses after the resume differ"
echo "PASS: preempted at step $step, requeued, resumed, identical final weights"
