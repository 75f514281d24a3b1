# shellcheck shell=bash
# Sourced by the slurm/*.sbatch scripts: run directory, the divrec executable, launching a step
# with preemption signals forwarded to its ranks, and requeueing a preempted training job.
# Every knob is an environment variable (sbatch exports the submitter's environment), so the same
# scripts run a 2-rank smoke test and a 64-GPU job. docs/cluster.md lists them.

divrec_log() { echo "[$(date +%H:%M:%S)] divrec-slurm: $*" >&2; }

# divrec_setup STAGE: DIVREC_HOME, DIVREC_BIN, RUN_DIR (RUN_ROOT/<job id>; a requeued job keeps
# its id, so it finds its own checkpoints), DATA, LAUNCH; installs the signal traps.
divrec_setup() {
  DIVREC_STAGE=$1
  : "${DIVREC_BIN:=$DIVREC_HOME/build/launcher/divrec}"
  [ -x "$DIVREC_BIN" ] || { divrec_log "no divrec executable at $DIVREC_BIN (set DIVREC_BIN)"; exit 2; }
  LAUNCH=$DIVREC_HOME/launcher/divrec-launch
  local job=${SLURM_JOB_ID:-local-$$}
  : "${RUN_ROOT:=${SLURM_SUBMIT_DIR:-$PWD}/runs}"
  : "${RUN_DIR:=$RUN_ROOT/$job}"
  : "${DATA:=$RUN_DIR/data}"
  : "${MAX_REQUEUES:=20}"
  export DIVREC_BIN RUN_ROOT RUN_DIR DATA
  mkdir -p "$RUN_DIR/logs"
  : "${DIVREC_PREEMPTED:=0}"
  DIVREC_STEP_PID=""
  trap 'divrec_on_signal USR1' USR1
  trap 'divrec_on_signal TERM' TERM
  divrec_log "$DIVREC_STAGE: job ${SLURM_JOB_ID:-none} (restart ${SLURM_RESTART_COUNT:-0})" \
    "on ${SLURM_JOB_NODELIST:-$(hostname)}, run dir $RUN_DIR, data $DATA"
}

# Slurm's warning (--signal=B:USR1@120), scancel --signal=USR1 --batch, or SIGTERM at preemption:
# tell the ranks (SIGUSR1 via srun/mpirun, which forward it); rank 0 checkpoints at the next step
# boundary and every rank exits 3. USR1 rather than TERM: mpirun answers TERM by killing ranks.
divrec_on_signal() {
  DIVREC_PREEMPTED=1
  if [ -n "$DIVREC_STEP_PID" ] && kill -0 "$DIVREC_STEP_PID" 2>/dev/null; then
    divrec_log "got SIG$1: forwarding SIGUSR1 to the step (pid $DIVREC_STEP_PID)"
    kill -USR1 "$DIVREC_STEP_PID" 2>/dev/null || true
  else
    divrec_log "got SIG$1 outside a step"
  fi
}

# divrec_run [LAUNCH-OPTIONS] -- DIVREC-ARGS: one job step through divrec-launch, in the
# background so the traps run while it does; returns its exit status.
divrec_run() {
  if ((DIVREC_PREEMPTED)); then
    divrec_log "preempted before the step started"
    return 3
  fi
  "$LAUNCH" "$@" &
  DIVREC_STEP_PID=$!
  local rc
  while :; do
    wait "$DIVREC_STEP_PID"
    rc=$?
    kill -0 "$DIVREC_STEP_PID" 2>/dev/null || break  # else: wait was cut short by a trap
  done
  wait "$DIVREC_STEP_PID" 2>/dev/null
  rc=$?  # bash keeps the exit status of a reaped background job
  DIVREC_STEP_PID=""
  return $rc
}

# divrec_opt FLAG VAR: "FLAG value" when the variable is set and not empty.
divrec_opt() {
  local v=${!2:-}
  [ -n "$v" ] && DIVREC_ARGS+=("$1" "$v")
  return 0
}

# divrec_launch_opts: divrec-launch options from RANKS / GPUS_PER_RANK.
divrec_launch_opts() {
  DIVREC_LAUNCH_OPTS=()
  [ -n "${RANKS:-}" ] && DIVREC_LAUNCH_OPTS+=(-n "$RANKS")
  [ -n "${GPUS_PER_RANK:-}" ] && [ "${GPUS_PER_RANK}" != 0 ] &&
    DIVREC_LAUNCH_OPTS+=(--gpus-per-rank "$GPUS_PER_RANK")
  return 0
}

# The training stage (train.sbatch, train-gpu.sbatch). Exit 0: done; a preempted run (exit 3)
# requeues this same job, which resumes from RUN_DIR/checkpoints (--resume auto).
divrec_train_stage() {
  divrec_setup train
  DIVREC_ARGS=(train --data "$DATA" --output "$RUN_DIR" --resume auto)
  divrec_opt --epochs EPOCHS
  divrec_opt --max-steps MAX_STEPS
  divrec_opt --batch-size BATCH_SIZE
  divrec_opt --max-len MAX_LEN
  divrec_opt --dim DIM
  divrec_opt --layers LAYERS
  divrec_opt --heads HEADS
  divrec_opt --lr LR
  divrec_opt --seed SEED
  divrec_opt --objective OBJECTIVE
  divrec_opt --loss LOSS
  divrec_opt --checkpoint-every CHECKPOINT_EVERY
  divrec_opt --collective-timeout COLLECTIVE_TIMEOUT
  divrec_opt --log-every LOG_EVERY
  divrec_opt --device DEVICE
  divrec_opt --precision PRECISION
  divrec_opt --comm COMM
  # shellcheck disable=SC2206
  [ -n "${TRAIN_ARGS:-}" ] && DIVREC_ARGS+=(${TRAIN_ARGS})
  divrec_launch_opts
  divrec_run "${DIVREC_LAUNCH_OPTS[@]}" -- "${DIVREC_ARGS[@]}"
  local rc=$?
  if ((rc == 0)); then
    divrec_log "train: finished"
    return 0
  fi
  # 3: preempted, checkpoint written. After a forwarded signal, a rank may also be killed by
  # srun --kill-on-bad-exit while the others exit 3: requeue anyway, --resume auto takes the
  # newest valid checkpoint.
  if ((rc == 3 || (DIVREC_PREEMPTED && rc > 128))); then
    divrec_requeue
    return 3
  fi
  divrec_log "train: failed with exit status $rc (no requeue; fix and resubmit: --resume auto" \
    "continues from $RUN_DIR/checkpoints)"
  return $rc
}

# Puts this job back in the queue (same id, same environment, same run dir). The requeue ends
# this script; MAX_REQUEUES bounds a job that is preempted forever.
divrec_requeue() {
  local restarts=${SLURM_RESTART_COUNT:-0}
  if [ -z "${SLURM_JOB_ID:-}" ]; then
    divrec_log "preempted with a checkpoint; not in Slurm, so rerun the same command to resume"
    return
  fi
  if ((restarts >= MAX_REQUEUES)); then
    divrec_log "preempted $restarts times (MAX_REQUEUES=$MAX_REQUEUES): not requeueing; " \
      "resubmit with RUN_DIR=$RUN_DIR to resume"
    return
  fi
  divrec_log "preempted with a checkpoint: requeueing job $SLURM_JOB_ID (restart $((restarts + 1)))"
  trap - USR1 TERM
  if scontrol requeue "$SLURM_JOB_ID"; then
    sleep 300 &  # slurmctld now ends this script; do not exit first with a failure status
    wait $!
  else
    divrec_log "scontrol requeue failed (is JobRequeue/--requeue allowed on this cluster?)"
  fi
}

divrec_eval_stage() {
  divrec_setup eval
  DIVREC_ARGS=(eval --data "$DATA" --checkpoint "$RUN_DIR" --split "${EVAL_SPLIT:-test}"
    --report "${REPORT:-$RUN_DIR/report.json}")
  divrec_opt --k EVAL_K
  divrec_opt --rerank RERANK
  divrec_opt --lambda LAMBDA
  divrec_opt --comm COMM
  # shellcheck disable=SC2206
  [ -n "${EVAL_ARGS:-}" ] && DIVREC_ARGS+=(${EVAL_ARGS})
  divrec_launch_opts
  divrec_run "${DIVREC_LAUNCH_OPTS[@]}" -- "${DIVREC_ARGS[@]}"
}

divrec_export_stage() {
  divrec_setup export
  DIVREC_ARGS=(export --checkpoint "$RUN_DIR" --data "$DATA" --output "${MODEL:-$RUN_DIR/model.h5}")
  # shellcheck disable=SC2206
  [ -n "${EXPORT_ARGS:-}" ] && DIVREC_ARGS+=(${EXPORT_ARGS})
  divrec_run -n 1 -- "${DIVREC_ARGS[@]}"
}

divrec_shard_stage() {
  divrec_setup shard
  local format=${SHARD_FORMAT:-synthetic}
  DIVREC_ARGS=(shard convert --format "$format" --output "$DATA" --num-shards "${NUM_SHARDS:-4}")
  divrec_opt --input SHARD_INPUT
  if [ "$format" = synthetic ]; then
    divrec_opt --users USERS
    divrec_opt --items ITEMS
    divrec_opt --categories CATEGORIES
    divrec_opt --seed DATA_SEED
  fi
  # shellcheck disable=SC2206
  [ -n "${SHARD_ARGS:-}" ] && DIVREC_ARGS+=(${SHARD_ARGS})
  divrec_run -n 1 -- "${DIVREC_ARGS[@]}" || return $?
  divrec_run -n 1 -- shard validate "$DATA"
}
