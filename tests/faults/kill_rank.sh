#!/usr/bin/env bash
# Fault (a): one rank is killed with SIGKILL mid-epoch under `mpirun -n 2`. The job must end
# with a failure status within 60 s (no rank left waiting in a collective forever), and the same
# command with --resume auto must then finish from the last checkpoint.
source "$(dirname "$0")/lib.sh"
make_data "$WORK/data"
RUN=$WORK/run
ARGS=(train --data "$WORK/data" --output "$RUN" "${TRAIN_SMALL[@]}" --epochs 1000 --max-steps 500
  --checkpoint-every 20 --collective-timeout 30 --resume auto)

start_bg "$WORK/run1.log" "${MPIRUN[@]}" "$DIVREC_BIN" "${ARGS[@]}"
job=$BG_PID
wait_for 180 "the first checkpoint" has_checkpoint "$RUN"
victim=$(rank_pid "$job" 1) || { cat "$WORK/run1.log"; fail "rank 1 not found under mpirun $job"; }
note "killing rank 1 (pid $victim) with SIGKILL after $(basename "$(checkpoints "$RUN" | tail -1)")"
kill -KILL "$victim"
wait_exit "$job" 60
cat "$WORK/run1.log" | tail -15
((EXIT_RC != 124)) || fail "the job was still running 60 s after rank 1 died (hang)"
((EXIT_RC != 0)) || fail "mpirun exited 0 although rank 1 was killed"
note "job ended with status $EXIT_RC ${EXIT_AFTER}s after the kill"
killed_rc=$EXIT_RC
[ -f "$RUN/checkpoints/ckpt-000000500.pt" ] && fail "training had already finished before the kill"

note "rerun with --resume auto"
start_bg "$WORK/run2.log" "${MPIRUN[@]}" "$DIVREC_BIN" "${ARGS[@]}"
wait_exit "$BG_PID" 240
tail -5 "$WORK/run2.log"
((EXIT_RC == 0)) || { cat "$WORK/run2.log"; fail "the resumed run exited $EXIT_RC"; }
grep -E "resume: from .*ckpt-[0-9]{9}\.pt" "$WORK/run2.log" || fail "no 'resume: from' line"
grep -q "resume: from .*ckpt-000000000" "$WORK/run2.log" && fail "resumed from step 0"
[ -f "$RUN/checkpoints/ckpt-000000500.pt" ] || fail "no final checkpoint at step 500"
echo "PASS: killed rank -> exit $killed_rc, resumed run finished"
