#!/usr/bin/env bash
# Slurm test (a): slurm/pipeline.sh submitted for real on the local cluster with small synthetic
# data (2 ranks, 2 epochs). Every stage (shard -> train -> eval -> export) must complete with
# exit 0 in its own job, in dependency order, and leave its outputs under RUN_ROOT/<first id>/.
source "$(dirname "$0")/lib.sh"
export RUN_ROOT=$WORK/runs EPOCHS=2 EVAL_K=5,10 TRAIN_ARGS="--eval-users 100"
t0=$SECONDS
out=$("$REPO/slurm/pipeline.sh") || fail "pipeline.sh failed: $out"
echo "$out"
run_dir=$(sed -n 's/^RUN_DIR=//p' <<<"$out")
IFS=, read -r -a ids <<<"$(sed -n 's/^JOBS=//p' <<<"$out")"
JOBS=("${ids[@]}")
((${#ids[@]} == 4)) || fail "expected 4 jobs, got '${ids[*]}'"
[ "$run_dir" = "$RUN_ROOT/${ids[0]}" ] || fail "run dir $run_dir is not RUN_ROOT/<first job id>"
wait_jobs 900 "${ids[@]}"
names=(shard train eval export)
for i in 0 1 2 3; do expect_completed "${ids[$i]}" "${names[$i]}"; done
note "all stages finished in $((SECONDS - t0)) s"

# Dependency order: each stage started after the previous one ended.
for i in 1 2 3; do
  prev_end=$(job_field "${ids[$((i - 1))]}" EndTime)
  start=$(job_field "${ids[$i]}" StartTime)
  [[ "$start" > "$prev_end" || "$start" == "$prev_end" ]] ||
    fail "${names[$i]} started $start before ${names[$((i - 1))]} ended $prev_end"
  dep=$(scontrol show job "${ids[$i]}" | grep -o 'Dependency=[^ ]*')
  note "${names[$i]}: $dep, started $start"
done

# Outputs, all under the run directory.
for i in 0 1 2 3; do
  log=$run_dir/logs/${names[$i]}-${ids[$i]}.out
  [ -s "$log" ] || fail "no log $log"
  [ "$(job_field "${ids[$i]}" StdOut)" = "$log" ] || fail "job ${ids[$i]} logs to $(job_field "${ids[$i]}" StdOut)"
done
[ -d "$run_dir/data" ] || fail "no dataset in $run_dir/data"
ls "$run_dir"/checkpoints/ckpt-*.pt >/dev/null || fail "no checkpoints in $run_dir/checkpoints"
python3 - "$run_dir/report.json" <<'PY' || fail "report.json is missing or not a JSON object"
import json, sys
r = json.load(open(sys.argv[1]))
assert isinstance(r, dict) and r, "empty report"
print("report keys:", sorted(r)[:12])
PY
# A checksummed artifact: the 512-byte divrec header (docs/serving.md), then the HDF5 superblock.
od -An -c -N 8 "$run_dir/model.h5" | grep -q 'D   I   V   R   E   C   H   5' ||
  fail "model.h5 has no divrec checksum header"
od -An -c -j 512 -N 8 "$run_dir/model.h5" | grep -q 'H   D   F' ||
  fail "model.h5 is not an HDF5 file after its header"
grep -q "divrec-launch: .*exec srun .*--ntasks=2" "$run_dir/logs/train-${ids[1]}.out" ||
  fail "train did not run through srun with 2 tasks"
for i in 0 1 2 3; do
  grep -q "JobId=${ids[$i]} .*JobState=COMPLETED.*ExitCode=0:0" "$DIVREC_SLURM_DIR/log/jobcomp.log" ||
    fail "jobcomp record of job ${ids[$i]} is not COMPLETED 0:0"
done
echo "PASS: pipeline shard -> train -> eval -> export completed in $((SECONDS - t0)) s"
