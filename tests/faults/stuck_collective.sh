#!/usr/bin/env bash
# Fault (e): one rank stops (SIGSTOP) mid-epoch, so the other waits in an all-reduce. With
# --collective-timeout 5 the waiting rank's watchdog must abort the whole job, with a message
# naming the collective and the step, instead of hanging.
source "$(dirname "$0")/lib.sh"
make_data "$WORK/data"
RUN=$WORK/run
# Runs far longer than the test; the stop lands in a step (or a checkpoint, also watched).
start_bg "$WORK/run.log" "${MPIRUN[@]}" "$DIVREC_BIN" train --data "$WORK/data" --output "$RUN" \
  "${TRAIN_SMALL[@]}" --log-every 100000 --epochs 100000 --collective-timeout 5
job=$BG_PID
started() {
  kill -0 "$job" 2>/dev/null || { cat "$WORK/run.log"; fail "training ended before the stop"; }
  grep -q "^model:" "$WORK/run.log"
}
wait_for 120 "the model line" started
sleep 3  # into the step loop
victim=$(rank_pid "$job" 1) || { cat "$WORK/run.log"; fail "rank 1 already gone: training too short?"; }
kill -STOP "$victim"
note "stopped rank 1 (pid $victim)"
wait_exit "$job" 60
cat "$WORK/run.log" | tail -12
((EXIT_RC != 124)) || fail "the job was still running 60 s after rank 1 stopped (no watchdog abort)"
((EXIT_RC != 0)) || fail "exit 0 although a rank was stopped"
grep -E "collective '.*step [0-9]+' stuck for [0-9]+ s \(timeout 5 s\)" "$WORK/run.log" ||
  fail "no watchdog message naming the collective and its step"
((EXIT_AFTER <= 30)) || fail "aborted only after ${EXIT_AFTER}s with a 5 s timeout"
note "aborted with status $EXIT_RC ${EXIT_AFTER}s after the stop"
echo "PASS: a stuck collective aborted the job with the step named"
