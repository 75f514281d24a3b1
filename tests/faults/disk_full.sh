#!/usr/bin/env bash
# Fault (d): the disk fills up while a checkpoint is written. The write must fail cleanly: an
# error naming the checkpoint, no half-written checkpoint left behind, the previous checkpoint
# byte-for-byte intact, and a later run resumes from it.
# The run directory lives on a small tmpfs (mount works as root here); where mounting is not
# allowed, RLIMIT_FSIZE (ulimit -f, SIGXFSZ ignored so write() returns EFBIG) stands in.
source "$(dirname "$0")/lib.sh"
make_data "$WORK/data"
# Checkpoints at the --max-steps stop and at each epoch end (18 steps): 10, then 18 (fails).
train() {  # train RUN MAX_STEPS LOG
  "${MPIRUN[@]}" "$DIVREC_BIN" train --data "$WORK/data" --output "$1" "${TRAIN_SMALL[@]}" \
    --epochs 100 --max-steps "$2" --keep-last 3 --resume auto >"$3" 2>&1
}

# Size of one checkpoint of this model (a first run on the normal disk).
train "$WORK/probe" 10 "$WORK/probe.log" || { cat "$WORK/probe.log"; fail "probe run failed"; }
ckpt_size=$(stat -c %s "$WORK/probe/checkpoints/ckpt-000000010.pt")
note "one checkpoint is $ckpt_size bytes"

RUN=$WORK/small/run
mkdir -p "$WORK/small"
mode=tmpfs
# Room for config + metrics + one checkpoint + half of the next one.
fs_kb=$(((ckpt_size * 3 / 2) / 1024 + 16))
if [ "${DIVREC_FAULT_NO_MOUNT:-0}" != 1 ] &&
  mount -t tmpfs -o size=${fs_kb}k divrec-fault "$WORK/small" 2>/dev/null; then
  MOUNTS+=("$WORK/small")
  note "tmpfs of ${fs_kb} KiB on $WORK/small"
  limit() { "$@"; }
else
  mode="ulimit"
  note "mount not permitted: RLIMIT_FSIZE instead"
  # Only the ranks get the limit (mpirun's own PMIx files are larger than it).
  printf '#!/bin/sh\ntrap "" XFSZ\nulimit -f %d\nexec "%s" "$@"\n' $(((ckpt_size / 2) / 512)) \
    "$DIVREC_BIN" >"$WORK/divrec-limited"
  chmod +x "$WORK/divrec-limited"
  limit() { (DIVREC_BIN=$WORK/divrec-limited; "$@"); }
fi
train "$RUN" 10 "$WORK/first.log" || { cat "$WORK/first.log"; fail "first run (to step 10) failed"; }
good=$RUN/checkpoints/ckpt-000000010.pt
sum_before=$(sha256sum <"$good")
set +e
limit train "$RUN" 30 "$WORK/full.log"
rc=$?
set -e
tail -8 "$WORK/full.log"
((rc != 0)) || fail "training exited 0 although the checkpoint could not be written ($mode)"
[ -f "$good" ] || { ls -la "$RUN/checkpoints"; fail "the previous checkpoint is gone"; }
[ "$(sha256sum <"$good")" = "$sum_before" ] || fail "ckpt-000000010.pt changed"
# The next checkpoint (step 18, the epoch end) must not exist, nor any temp file.
others=$(ls -A "$RUN/checkpoints" | grep -v -x -F ckpt-000000010.pt || true)
[ -z "$others" ] || fail "files besides ckpt-000000010.pt in checkpoints/ after the failed write: $others"
grep -E "ERROR: .*writing checkpoint '[^']*ckpt-000000018\.pt' failed" "$WORK/full.log" |
  grep -i -E "no space left|too large" || fail "no error naming the checkpoint and the cause"

# Space again: the same command resumes from step 10 and finishes.
if [ "$mode" = tmpfs ]; then
  cp -a "$RUN" "$WORK/run-moved"
  RUN=$WORK/run-moved
fi
train "$RUN" 30 "$WORK/after.log" || { cat "$WORK/after.log"; fail "rerun with space failed"; }
grep -E "resume: from .*ckpt-000000010\.pt" "$WORK/after.log" || fail "rerun did not resume from step 10"
[ -f "$RUN/checkpoints/ckpt-000000030.pt" ] || fail "rerun did not reach step 30"
echo "PASS ($mode): a full disk left the previous checkpoint intact and resumable"
