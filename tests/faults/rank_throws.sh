#!/usr/bin/env bash
# Fault (b): one rank hits bad data and throws; the job must abort promptly with that rank's
# message. Rank 1 alone gets a copy of the dataset whose shard 1 is truncated (mpirun MPMD:
# `-n 1 divrec ... : -n 1 divrec ...`), so only rank 1 fails while rank 0 goes on to the first
# collective and waits there until the abort brings it down.
source "$(dirname "$0")/lib.sh"
make_data "$WORK/data"
cp -r "$WORK/data" "$WORK/bad"
shard=$(printf "%s\n" "$WORK/bad"/shard-*.h5 | sort | tail -1)
[ -n "$shard" ] || fail "no shard file in $WORK/bad"
truncate -s $(($(stat -c %s "$shard") / 2)) "$shard"
note "truncated $shard to half its size"

common=(train --output "$WORK/run" "${TRAIN_SMALL[@]}" --epochs 2 --collective-timeout 60)
start_bg "$WORK/run.log" mpirun --bind-to none -n 1 "$DIVREC_BIN" "${common[@]}" --data "$WORK/data" \
  : -n 1 "$DIVREC_BIN" "${common[@]}" --data "$WORK/bad"
wait_exit "$BG_PID" 60
cat "$WORK/run.log" | tail -20
((EXIT_RC != 124)) || fail "the job was still running 60 s after rank 1 failed (hang)"
((EXIT_RC != 0)) || fail "exit 0 with a truncated shard on rank 1"
# The message comes from rank 1 and names the broken file.
grep -F "[1/2] ERROR:" "$WORK/run.log" | grep -F "$(basename "$shard")" ||
  fail "no error line from rank 1 naming $(basename "$shard")"
note "job aborted with status $EXIT_RC after ${EXIT_AFTER}s"
echo "PASS: rank 1's bad data aborted the job with its message"
