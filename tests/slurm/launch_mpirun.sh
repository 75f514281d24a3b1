#!/usr/bin/env bash
# divrec-launch for real on this machine (no Slurm): mpirun -n 2 with the flags it picks must
# start 2 ranks, each seeing the thread variables it set (a stub script stands in for divrec).
set -euo pipefail
LAUNCH=$(cd "$(dirname "$0")/../.." && pwd)/launcher/divrec-launch
unset SLURM_JOB_ID SLURM_STEP_ID SLURM_PROCID
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
printf '#!/bin/sh\necho "rank=$OMPI_COMM_WORLD_RANK/$OMPI_COMM_WORLD_SIZE threads=$OMP_NUM_THREADS,$DIVREC_THREADS args=$*"\n' >"$WORK/stub"
chmod +x "$WORK/stub"
t=$(($(nproc) / 2))
((t >= 1)) || t=1
out=$(DIVREC_BIN=$WORK/stub timeout 60 "$LAUNCH" -n 2 -- train --x "a b" 2>&1)
echo "$out"
grep -q "^divrec-launch: exec mpirun -n 2 " <<<"$out" || { echo "FAIL: not launched with mpirun -n 2"; exit 1; }
for r in 0 1; do
  grep -q -x "rank=$r/2 threads=$t,$t args=train --x a b" <<<"$out" || { echo "FAIL: rank $r line"; exit 1; }
done
echo "PASS"
