# shellcheck shell=bash
# Sourced by the slurm tests: the local cluster's config (slurm/local-cluster, started by the
# ctest fixture), a scratch dir, and helpers that read job state with scontrol (this cluster has
# no accounting database, so no sacct; MinJobAge keeps finished jobs visible for an hour).
set -euo pipefail

: "${DIVREC_BIN:?set DIVREC_BIN to the divrec executable (ctest does)}"
: "${DIVREC_SLURM_DIR:=/tmp/divrec-slurm}"
export SLURM_CONF=${SLURM_CONF:-$DIVREC_SLURM_DIR/slurm.conf}
[ -f "$SLURM_CONF" ] || { echo "FAIL: no Slurm config at $SLURM_CONF (fixture slurm_cluster)"; exit 1; }
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export DIVREC_HOME=$REPO
WORK=$(mktemp -d "${TMPDIR:-/tmp}/divrec-slurm-test.XXXXXX")
JOBS=()
slurm_cleanup() {
  ((${#JOBS[@]})) && scancel "${JOBS[@]}" 2>/dev/null || true
  if [ "${DIVREC_KEEP_WORK:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap slurm_cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
note() { echo "[$(date +%H:%M:%S)] $*"; }

# job_field JOB FIELD: JobState, ExitCode, Restarts, Reason, StdOut ... of one job.
job_field() {
  scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | sed -n 1p
}

# wait_jobs TIMEOUT_S JOB...: until every job is in a final state (a requeued job is not).
wait_jobs() {
  local timeout=$1 t0=$SECONDS j s all_done
  shift
  while :; do
    all_done=1
    for j in "$@"; do
      s=$(job_field "$j" JobState)
      case "$s" in
        COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE) ;;
        *) all_done=0 ;;
      esac
    done
    ((all_done)) && return 0
    if ((SECONDS - t0 >= timeout)); then
      for j in "$@"; do echo "job $j: $(job_field "$j" JobState) $(job_field "$j" Reason)"; done
      squeue
      fail "jobs $* not finished after ${timeout}s"
    fi
    sleep 1
  done
}

# expect_completed JOB NAME: COMPLETED with exit code 0:0, else print its log and fail.
expect_completed() {
  local s e out
  s=$(job_field "$1" JobState)
  e=$(job_field "$1" ExitCode)
  if [ "$s" != COMPLETED ] || [ "$e" != 0:0 ]; then
    out=$(job_field "$1" StdOut)
    echo "---- $2 (job $1) log $out"
    cat "$out" 2>/dev/null || true
    fail "$2 job $1 ended $s with exit code $e"
  fi
  note "$2: job $1 COMPLETED 0:0"
}

# Small synthetic data and model: each stage takes seconds.
export USERS=${USERS:-200} ITEMS=${ITEMS:-100} CATEGORIES=${CATEGORIES:-5} DATA_SEED=3
export NUM_SHARDS=2 RANKS=2 CPUS_PER_TASK=1
export BATCH_SIZE=8 DIM=16 LAYERS=1 HEADS=2 MAX_LEN=16 LR=2e-3 LOG_EVERY=10
