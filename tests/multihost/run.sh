#!/usr/bin/env bash
# Multi-host test on one machine: 2 (or 3) "hosts" made of network + UTS namespaces joined by a
# bridge, Open MPI over TCP only, launched by mpirun through an agent that enters a host's
# namespace instead of ssh. Runs the data-parallel equality gtest, then divrec train + eval.
set -euo pipefail

# Usage: bash tests/multihost/run.sh [BUILD_DIR]   (else $DIVREC_BUILD, else ./build)
#   MULTIHOST_HOSTS=2|3 (3 adds test_sparse_train_mpi on 3 ranks; train/eval use all hosts)
#   MULTIHOST_STEP_TIMEOUT (s, per mpirun), MULTIHOST_TOTAL_TIMEOUT (s), DIVREC_KEEP_WORK=1
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $* (the multi-host test needs root and network namespaces)"; exit $SKIP; }
note() { echo "[$(date +%H:%M:%S)] $*"; }

SKIP=77  # ctest SKIP_RETURN_CODE (tests/multihost/CMakeLists.txt)
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_ARG=${1:-${DIVREC_BUILD:-$REPO/build}}
BUILD=$(cd "$BUILD_ARG" 2>/dev/null && pwd) || fail "build dir '$BUILD_ARG' does not exist"
DIVREC=$BUILD/launcher/divrec
NHOSTS=${MULTIHOST_HOSTS:-2}
STEP_TIMEOUT=${MULTIHOST_STEP_TIMEOUT:-300}  # seconds per mpirun
# All steps together end before ctest's TIMEOUT (900 s), which kills with SIGKILL (no clean-up).
TOTAL_TIMEOUT=${MULTIHOST_TOTAL_TIMEOUT:-840}

[[ $NHOSTS == 2 || $NHOSTS == 3 ]] || fail "MULTIHOST_HOSTS must be 2 or 3, not '$NHOSTS'"
for b in "$DIVREC" "$BUILD/tests/trainer/test_train_mpi"; do
  [ -x "$b" ] || fail "$b is not built (pass the build dir as \$1 or DIVREC_BUILD)"
done
for tool in ip unshare mpirun timeout; do
  command -v "$tool" >/dev/null || skip "'$tool' is not installed"
done
((EUID == 0)) || skip "not running as root"

# shellcheck source=scripts/mpi_env.sh
source "$REPO/scripts/mpi_env.sh"
# One thread per rank: the hosts share this machine's cores, and results stay bit-stable.
export OMP_NUM_THREADS=1 DIVREC_THREADS=1

# Namespaces and bridge of an earlier run that was killed (SIGKILL skips the trap): its pid
# is gone, so nothing of it is still in use.
for ns in $(ip netns list 2>/dev/null | grep -o '^divrec-mh[0-9]*-h[0-9]*' || true); do
  pid=${ns#divrec-mh}
  pid=${pid%-h*}
  kill -0 "$pid" 2>/dev/null && continue
  echo "removing $ns, left by the killed run $pid"
  # Its processes: those in the namespace, and its mpirun (named by its work dir's pid tag).
  for p in $(ip netns pids "$ns" 2>/dev/null || true) \
    $(pgrep -f "/divrec-multihost-$pid\." || true); do
    kill -KILL "$p" 2>/dev/null || true
  done
  ip netns del "$ns" 2>/dev/null || true
  for p in 1 2 3; do ip link del "mh${pid}v$p" 2>/dev/null || true; done
  ip link del "mhbr$pid" 2>/dev/null || true
  rm -rf "${TMPDIR:-/tmp}/divrec-multihost-$pid".*
done

# Names carry the pid so that concurrent runs do not collide; so does the subnet (10.77.X.0/24,
# the first X from the pid that no interface or route here uses yet).
TAG=$$
BRIDGE=mhbr$TAG
NS=() VETH=() HOSTIP=() HOSTNAMES=()
octet=
for ((i = 0; i < 200; i++)); do
  x=$(((TAG + i) % 200 + 20))
  if ! ip -4 addr show | grep "inet 10\.77\.$x\." >/dev/null &&
    ! ip -4 route show | grep "^10\.77\.$x\." >/dev/null; then
    octet=$x
    break
  fi
done
[ -n "$octet" ] || fail "no free 10.77.X.0/24 subnet"
SUBNET=10.77.$octet.0/24
HEAD_IP=10.77.$octet.1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/divrec-multihost-$TAG.XXXXXX")
# Open MPI's session dirs and the ranks' TMPDIR: what a killed run leaves there goes with $WORK.
mkdir "$WORK/tmp"

# tree_pids PID: PID and everything it started (a step: subshell, timeout, mpirun, agents).
tree_pids() {
  local c
  echo "$1"
  for c in $(pgrep -P "$1" 2>/dev/null || true); do tree_pids "$c"; done
}
# any_alive PID...: one of them still runs (a zombie is done: only its parent's wait is missing).
any_alive() {
  local p st
  for p in "$@"; do
    st=$(ps -o stat= -p "$p" 2>/dev/null) || continue
    [[ $st == Z* ]] || return 0
  done
  return 1
}
STEP_PID=
cleanup() {
  local rc=$? ns p i tree
  trap - EXIT INT TERM
  # Interrupted during a step (INT/TERM): TERM lets mpirun stop its daemons and ranks; whatever
  # of the tree (listed before any of it dies and is re-parented) is left after 5 s gets KILL.
  if [ -n "$STEP_PID" ]; then
    mapfile -t tree < <(tree_pids "$STEP_PID")
    for p in "${tree[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for ((i = 0; i < 50; i++)); do
      any_alive "${tree[@]}" || break
      sleep 0.1
    done
    for p in "${tree[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  fi
  for ns in "${NS[@]}"; do
    # Anything still running inside our namespaces (a timed-out rank or orted) dies with it.
    for p in $(ip netns pids "$ns" 2>/dev/null || true); do
      kill -KILL "$p" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
  done
  for p in "${VETH[@]}"; do ip link del "$p" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
  if [ "${DIVREC_KEEP_WORK:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the hosts ----------------------------------------------------------------------------
T0=$SECONDS
ip link add "$BRIDGE" type bridge 2>"$WORK/ip.err" ||
  skip "cannot create a bridge: $(cat "$WORK/ip.err")"
ip addr add "$HEAD_IP/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
for ((h = 1; h <= NHOSTS; h++)); do
  ns=divrec-mh$TAG-h$h
  ip netns add "$ns" 2>"$WORK/ip.err" ||
    skip "cannot create network namespace $ns: $(cat "$WORK/ip.err")"
  NS+=("$ns")
  VETH+=("mh${TAG}v$h")
  ip link add "mh${TAG}v$h" type veth peer name "mh${TAG}p$h" 2>"$WORK/ip.err" ||
    skip "cannot create a veth pair: $(cat "$WORK/ip.err")"
  ip link set "mh${TAG}v$h" master "$BRIDGE" up
  ip link set "mh${TAG}p$h" netns "$ns"
  ip -n "$ns" link set "mh${TAG}p$h" name eth0
  ip -n "$ns" addr add "10.77.$octet.$((h + 1))/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  HOSTIP+=("10.77.$octet.$((h + 1))")
  HOSTNAMES+=("mh$TAG-h$h")
done

# The launch agent: mpirun calls it like ssh ("AGENT [opts] HOST COMMAND..."); it runs the
# command (orted) in that host's network namespace under a new UTS namespace with its hostname.
AGENT=$WORK/netns-agent
# shellcheck disable=SC2016  # the agent's own variables, expanded when it runs
{
  echo '#!/bin/sh'
  echo 'while [ "${1#-}" != "$1" ]; do shift; done  # ssh-style options: none apply'
  echo 'host=$1; shift'
  echo 'case "$host" in'
  for ((h = 0; h < NHOSTS; h++)); do
    echo "  ${HOSTIP[h]}|${HOSTNAMES[h]}) ns=${NS[h]}; name=${HOSTNAMES[h]} ;;"
  done
  echo '  *) echo "netns-agent: unknown host $host" >&2; exit 255 ;;'
  echo 'esac'
  echo 'exec ip netns exec "$ns" unshare --uts sh -c "hostname $name && $*"'
} >"$AGENT"
chmod +x "$AGENT"

# Every host reaches every other one (and the head, where mpirun runs) over the bridge (checked
# where ping is installed; else the first mpirun below is the check).
command -v ping >/dev/null && for ((h = 0; h < NHOSTS; h++)); do
  for ip in "$HEAD_IP" "${HOSTIP[@]}"; do
    ip netns exec "${NS[h]}" ping -c 1 -W 2 "$ip" >/dev/null 2>&1 ||
      fail "host ${HOSTNAMES[h]} cannot reach $ip over the bridge $BRIDGE"
  done
done
note "$NHOSTS hosts on $SUBNET (${HOSTIP[*]}), head $HEAD_IP on $BRIDGE," \
  "set up in $((SECONDS - T0)) s"

# mpirun NP CMD...: one rank per host on the first NP hosts, TCP only, over the bridge subnet.
hostlist() {
  local h out=
  for ((h = 0; h < $1; h++)); do out+="${out:+,}${HOSTIP[h]}:1"; done
  echo "$out"
}
mh_mpirun() {
  local np=$1 limit=$((TOTAL_TIMEOUT - (SECONDS - T0)))
  shift
  ((limit > STEP_TIMEOUT)) && limit=$STEP_TIMEOUT
  ((limit > 0)) || return 124
  timeout --kill-after=10 "$limit" mpirun -n "$np" --host "$(hostlist "$np")" \
    --bind-to none --mca btl tcp,self --mca btl_tcp_if_include "$SUBNET" \
    --mca oob_tcp_if_include "$SUBNET" --mca plm_rsh_agent "$AGENT" \
    --mca plm_rsh_no_tree_spawn 1 --mca orte_tmpdir_base "$WORK/tmp" \
    -x OMP_NUM_THREADS -x DIVREC_THREADS -x TMPDIR="$WORK/tmp" "$@"
}
# step NAME NP CMD...: runs one multi-host job, its output in $WORK/NAME.log, shown on failure.
step() {
  local name=$1 np=$2 t0=$SECONDS rc=0
  shift 2
  # In the background and waited for, so that INT/TERM interrupt the wait and clean up at once.
  (cd "$REPO" && mh_mpirun "$np" "$@") >"$WORK/$name.log" 2>&1 &
  STEP_PID=$!
  wait "$STEP_PID" || rc=$?
  STEP_PID=
  if ((rc != 0)); then
    cat "$WORK/$name.log"
    ((rc == 124 || rc == 137)) &&
      fail "$name: timed out (${STEP_TIMEOUT} s a step, ${TOTAL_TIMEOUT} s in all)"
    fail "$name: exited $rc"
  fi
  note "$name: ok on $np ranks in $((SECONDS - t0)) s"
}
# Bytes delivered into the hosts through their veths: the ranks' traffic really crosses them.
bytes_into_hosts() {
  local v n=0
  for v in "${VETH[@]}"; do n=$((n + $(cat "/sys/class/net/$v/statistics/tx_bytes"))); done
  echo "$n"
}

# --- 1. each rank runs on its own host ------------------------------------------------------
# shellcheck disable=SC2016  # expanded by each rank
step hostname "$NHOSTS" sh -c 'echo "rank $OMPI_COMM_WORLD_RANK on $(hostname)"'
mapfile -t seen < <(grep -o 'rank [0-9]* on .*' "$WORK/hostname.log" | sort)
printf '  %s\n' "${seen[@]}"
((${#seen[@]} == NHOSTS)) || { cat "$WORK/hostname.log"; fail "expected $NHOSTS rank lines"; }
distinct=$(printf '%s\n' "${seen[@]}" | awk '{print $4}' | sort -u)
(($(wc -l <<<"$distinct") == NHOSTS)) || fail "ranks share a hostname: ${seen[*]}"
grep -qx "$(hostname)" <<<"$distinct" && fail "a rank reports this machine's own hostname"
for ((h = 0; h < NHOSTS; h++)); do
  grep -qx "${HOSTNAMES[h]}" <<<"$distinct" || fail "no rank on host ${HOSTNAMES[h]}"
done

# --- 2. data-parallel equality (2 ranks of batch B == 1 rank of batch 2B), resume --------------
b0=$(bytes_into_hosts)
step test_train_mpi 2 "$BUILD/tests/trainer/test_train_mpi" --gtest_color=no
grep -q "^\[  PASSED  \] 2 tests" "$WORK/test_train_mpi.log" ||
  { cat "$WORK/test_train_mpi.log"; fail "test_train_mpi: not every test passed"; }
note "  $(grep -c '^\[       OK \]' "$WORK/test_train_mpi.log") tests passed," \
  "$(($(bytes_into_hosts) - b0)) bytes through the veths"
if ((NHOSTS == 3)) && [ -x "$BUILD/tests/trainer/test_sparse_train_mpi" ]; then
  step test_sparse_train_mpi 3 "$BUILD/tests/trainer/test_sparse_train_mpi" --gtest_color=no
  grep -q "^\[  PASSED  \]" "$WORK/test_sparse_train_mpi.log" ||
    { cat "$WORK/test_sparse_train_mpi.log"; fail "test_sparse_train_mpi: no PASSED line"; }
fi

# --- 3. a short divrec train, then eval of its checkpoint -----------------------------------
"$DIVREC" shard convert --format synthetic --output "$WORK/data" --users 400 --items 300 \
  --num-shards 2 >"$WORK/shard.log" 2>&1 || { cat "$WORK/shard.log"; fail "shard convert failed"; }
step train "$NHOSTS" "$DIVREC" train --data "$WORK/data" --output "$WORK/run" --epochs 2 \
  --batch-size 32 --dim 16 --layers 1 --heads 2 --max-len 16 --lr 2e-3 --threads 1 \
  --device cpu --comm mpi
for want in "divrec train: $NHOSTS rank(s), mpi backend" "epoch 2/2:" "2 epochs in"; do
  grep -qF "$want" "$WORK/train.log" || { cat "$WORK/train.log"; fail "train: no line '$want'"; }
done
[ -f "$WORK/run/checkpoints/best.pt" ] || { ls -lR "$WORK/run"; fail "train wrote no best.pt"; }
note "  $(grep -m1 '^test (best.pt)' "$WORK/train.log" | cut -c1-60)"
step eval "$NHOSTS" "$DIVREC" eval --data "$WORK/data" --checkpoint "$WORK/run" --split test \
  --k 5,10 --rerank mmr --lambda 0.7 --device cpu --comm mpi --report "$WORK/report.json"
[ -s "$WORK/report.json" ] || { cat "$WORK/eval.log"; fail "eval wrote no report"; }
# Every user is evaluated once across the ranks, and the metrics are real numbers.
python3 - "$WORK/report.json" "$NHOSTS" <<'PY' || fail "eval report check failed"
import json, math, sys
r = json.load(open(sys.argv[1]))
assert r["ranks"] == int(sys.argv[2]), f"report ranks {r['ranks']}"
assert r["users"] == 400, f"report users {r['users']}, expected 400"
v = r["metrics"]["ndcg@10"]
assert math.isfinite(v) and 0 < v <= 1, f"ndcg@10 = {v}"
print(f"  eval: {r['users']} users on {r['ranks']} ranks, ndcg@10 {v:.4f}")
PY

note "PASS: multi-host test on $NHOSTS namespaced hosts in $((SECONDS - T0)) s"
