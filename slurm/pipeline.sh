#!/usr/bin/env bash
# Submits the whole job as a Slurm dependency chain: shard -> train -> eval -> export, each stage
# starting only when the previous one succeeded (afterok; a failed stage cancels the rest).
# Everything lands in RUN_ROOT/<first job id>/: data/, checkpoints/, report.json, model.h5 and
# logs/<stage>-<job id>.out. Preempted training requeues itself and resumes; the chain waits.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: slurm/pipeline.sh [--gpu] [--dry-run]
  --gpu      train/eval on GPUs (train-gpu.sbatch, eval-gpu.sbatch: one rank per GPU, NCCL)
  --dry-run  print the sbatch commands, submit nothing
environment (all optional):
  RUN_ROOT       where run directories go (default ./runs)
  DATA           an existing dataset directory: the shard stage is skipped
  RANKS          train/eval ranks (default 2; GPU: total GPUs, default 4)
  CPUS_PER_TASK  cores per rank (default: the scripts' #SBATCH value)
  GPUS_PER_RANK  GPUs per rank with --gpu (default 1)
  PARTITION, ACCOUNT, QOS, TIME_LIMIT (train), SBATCH_ARGS (added to every sbatch)
  stage knobs: SHARD_FORMAT SHARD_INPUT NUM_SHARDS USERS ITEMS CATEGORIES DATA_SEED SHARD_ARGS |
    EPOCHS MAX_STEPS BATCH_SIZE DIM LAYERS HEADS MAX_LEN LR SEED CHECKPOINT_EVERY
    COLLECTIVE_TIMEOUT TRAIN_ARGS | EVAL_SPLIT EVAL_K RERANK LAMBDA EVAL_ARGS | EXPORT_ARGS
  DIVREC_BIN     the divrec executable (default <repo>/build/launcher/divrec)
prints: one line per stage, then RUN_DIR=... and JOBS=shard,train,eval,export ids.
EOF
}

gpu=0 dry_run=0
for a in "$@"; do
  case "$a" in
    --gpu) gpu=1 ;;
    --dry-run) dry_run=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "pipeline.sh: unknown argument '$a'" >&2; usage >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DIVREC_HOME=${DIVREC_HOME:-$(cd "$here/.." && pwd)}
RUN_ROOT=${RUN_ROOT:-$PWD/runs}
mkdir -p "$RUN_ROOT"
RUN_ROOT=$(cd "$RUN_ROOT" && pwd)
export RUN_ROOT
unset RUN_DIR  # each stage derives it from RUN_ROOT and the first job's id
if ((gpu)); then
  export GPUS_PER_RANK=${GPUS_PER_RANK:-1} COMM=${COMM:-nccl}
  RANKS=${RANKS:-4}
  train_script=$here/train-gpu.sbatch eval_script=$here/eval-gpu.sbatch
else
  RANKS=${RANKS:-2}
  train_script=$here/train.sbatch eval_script=$here/eval.sbatch
fi
export RANKS

common=(--parsable --kill-on-invalid-dep=yes)
[ -n "${PARTITION:-}" ] && common+=("--partition=$PARTITION")
[ -n "${ACCOUNT:-}" ] && common+=("--account=$ACCOUNT")
[ -n "${QOS:-}" ] && common+=("--qos=$QOS")
# shellcheck disable=SC2206
[ -n "${SBATCH_ARGS:-}" ] && common+=(${SBATCH_ARGS})
par=("--ntasks=$RANKS")
[ -n "${CPUS_PER_TASK:-}" ] && par+=("--cpus-per-task=$CPUS_PER_TASK")
((gpu)) && par+=("--gpus-per-task=$GPUS_PER_RANK")

submitted=()
fake_id=1000
cleanup_on_error() {
  ((${#submitted[@]})) && ((dry_run == 0)) && scancel "${submitted[@]}" 2>/dev/null
  echo "pipeline.sh: submission failed; cancelled ${submitted[*]:-nothing}" >&2
}
trap cleanup_on_error ERR

# submit STAGE SCRIPT [sbatch options]: sets job_id (not in a subshell: `submitted` must grow).
job_id=""
submit() {
  local stage=$1 script=$2 out
  shift 2
  local cmd=(sbatch "${common[@]}" "$@" "$script")
  if ((dry_run)); then
    echo "$stage: ${cmd[*]}" >&2
    job_id=$((fake_id++))
  else
    out=$("${cmd[@]}")
    job_id=${out%%;*}
  fi
  submitted+=("$job_id")
}

# The first job is submitted held: its id names the run directory, and its log must point there
# before it starts.
if [ -n "${DATA:-}" ]; then
  DATA=$(cd "$DATA" && pwd)
  export DATA
  first_stage=train
  submit train "$train_script" --hold "${par[@]}" ${TIME_LIMIT:+--time=$TIME_LIMIT}
  first=$job_id
else
  first_stage=shard
  submit shard "$here/shard.sbatch" --hold
  first=$job_id
fi
run_dir=$RUN_ROOT/$first
((dry_run)) || mkdir -p "$run_dir/logs"
export DATA=${DATA:-$run_dir/data} RUN_DIR=$run_dir  # the later stages share the first's dir
log() { echo "--output=$run_dir/logs/$1-%j.out"; }
if ((dry_run == 0)); then
  scontrol update "jobid=$first" "StdOut=$run_dir/logs/$first_stage-%j.out"
fi
echo "$first_stage: job $first"

if [ "$first_stage" = shard ]; then
  submit train "$train_script" "--dependency=afterok:$first" "$(log train)" "${par[@]}" \
    ${TIME_LIMIT:+--time=$TIME_LIMIT}
  train=$job_id
  echo "train: job $train (after $first)"
else
  train=$first
fi
submit eval "$eval_script" "--dependency=afterok:$train" "$(log eval)" "${par[@]}"
eval_job=$job_id
echo "eval: job $eval_job (after $train)"
submit export "$here/export.sbatch" "--dependency=afterok:$eval_job" "$(log export)"
export_job=$job_id
echo "export: job $export_job (after $eval_job)"
((dry_run)) || scontrol release "$first"
trap - ERR
echo "RUN_DIR=$run_dir"
echo "JOBS=$(IFS=,; echo "${submitted[*]}")"
