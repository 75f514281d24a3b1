# shellcheck shell=bash disable=SC2034
# Sourced by the fault-injection tests (tests/faults/*.sh): the divrec binary, a scratch dir
# that is removed afterwards, a small synthetic dataset, and helpers to start/observe/stop a
# 2-rank mpirun job without ever leaving a process behind.
set -euo pipefail

: "${DIVREC_BIN:?set DIVREC_BIN to the divrec executable (ctest does)}"
[ -x "$DIVREC_BIN" ] || { echo "FAIL: $DIVREC_BIN is not executable"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
# One thread per rank: the tests run beside others on 2 cores, and results stay bit-stable.
export OMP_NUM_THREADS=1 DIVREC_THREADS=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/divrec-fault.XXXXXX")
BG_PIDS=()
MOUNTS=()
fault_cleanup() {
  local p m
  for p in "${BG_PIDS[@]}"; do
    # mpirun and its ranks (children): SIGCONT first, a stopped rank ignores the rest.
    for c in $(pgrep -P "$p" 2>/dev/null || true); do kill -CONT "$c" 2>/dev/null || true; kill -KILL "$c" 2>/dev/null || true; done
    kill -KILL "$p" 2>/dev/null || true
  done
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  if [ "${DIVREC_KEEP_WORK:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap fault_cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
note() { echo "[$(date +%H:%M:%S)] $*"; }

MPIRUN=(mpirun -n 2 --bind-to none)

# make_data DIR [USERS]: a small synthetic dataset (2 shards).
make_data() {
  "$DIVREC_BIN" shard convert --format synthetic --users "${2:-300}" --items 120 --categories 6 \
    --seed 5 --output "$1" --num-shards 2 >"$WORK/shard.log" 2>&1 ||
    { cat "$WORK/shard.log"; fail "shard convert failed"; }
}

# Small model, many short steps: long enough to interrupt mid-epoch, seconds in total.
TRAIN_SMALL=(--batch-size 8 --dim 16 --layers 1 --heads 2 --max-len 16 --lr 2e-3
  --eval-every 0 --final-test false --warmup-steps 5)

# start_bg LOG CMD...: runs CMD in the background (own output file), sets BG_PID.
start_bg() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# wait_for TIMEOUT_S DESCRIPTION CMD...: polls CMD every 0.1 s.
wait_for() {
  local timeout=$1 what=$2 t0=$SECONDS
  shift 2
  until "$@"; do
    ((SECONDS - t0 < timeout)) || fail "timed out after ${timeout}s waiting for $what"
    sleep 0.1
  done
}

# wait_exit PID TIMEOUT_S: waits for a background job; sets EXIT_RC and EXIT_AFTER (seconds).
wait_exit() {
  local pid=$1 timeout=$2 t0=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS - t0 >= timeout)); then
      EXIT_RC=124
      EXIT_AFTER=$((SECONDS - t0))
      return 0
    fi
    sleep 0.2
  done
  set +e
  wait "$pid"
  EXIT_RC=$?
  set -e
  EXIT_AFTER=$((SECONDS - t0))
}

# rank_pid MPIRUN_PID RANK: the pid of that rank (mpirun's child with OMPI_COMM_WORLD_RANK).
rank_pid() {
  local c
  for c in $(pgrep -P "$1" 2>/dev/null || true); do
    if tr '\0' '\n' <"/proc/$c/environ" 2>/dev/null | grep -x "OMPI_COMM_WORLD_RANK=$2" >/dev/null; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

checkpoints() { ls "$1"/checkpoints/ckpt-*.pt 2>/dev/null | sort; }
has_checkpoint() { [ -n "$(checkpoints "$1")" ]; }
count_checkpoints() { checkpoints "$1" | wc -l; }
