#!/usr/bin/env bash
# Fault (c): the newest checkpoint is damaged (bytes flipped in the middle, or the file cut
# short). `--resume auto` must detect it by its checksum/footer, say which file and why, and
# resume from the previous checkpoint; the run then finishes.
source "$(dirname "$0")/lib.sh"
make_data "$WORK/data"

# run_to RUN MAX_STEPS LOG: 2 ranks, a checkpoint every 10 steps, keep them all.
run_to() {
  start_bg "$3" "${MPIRUN[@]}" "$DIVREC_BIN" train --data "$WORK/data" --output "$1" \
    "${TRAIN_SMALL[@]}" --epochs 100 --max-steps "$2" --checkpoint-every 10 --keep-last 10 \
    --resume auto
  wait_exit "$BG_PID" 240
  ((EXIT_RC == 0)) || { cat "$3"; fail "training to step $2 exited $EXIT_RC"; }
}

for damage in flip truncate; do
  RUN=$WORK/run-$damage
  run_to "$RUN" 30 "$WORK/$damage-1.log"
  newest=$RUN/checkpoints/ckpt-000000030.pt
  previous=$RUN/checkpoints/ckpt-000000020.pt
  [ -f "$newest" ] && [ -f "$previous" ] || { ls -l "$RUN/checkpoints"; fail "missing checkpoints"; }
  size=$(stat -c %s "$newest")
  if [ "$damage" = flip ]; then
    # Invert 16 bytes in the middle of the payload: same size, valid footer, wrong CRC.
    off=$((size / 2))
    head -c 16 /dev/zero | tr '\0' '\377' >"$WORK/ff"
    dd if="$newest" of="$WORK/orig" bs=1 skip=$off count=16 status=none
    python3 -c "import sys; a=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(bytes(b ^ 0xFF for b in a))" "$WORK/orig" "$WORK/flipped"
    dd if="$WORK/flipped" of="$newest" bs=1 seek=$off conv=notrunc status=none
    cmp -s "$WORK/orig" "$WORK/flipped" && fail "the flip changed nothing"
  else
    truncate -s $((size * 2 / 3)) "$newest"
  fi
  note "$damage: damaged $(basename "$newest") ($size bytes)"
  run_to "$RUN" 40 "$WORK/$damage-2.log"
  grep -F "ckpt-000000030.pt" "$WORK/$damage-2.log" | grep -i -E "unusable|corrupt|mismatch|invalid" ||
    { cat "$WORK/$damage-2.log"; fail "$damage: no message that ckpt-000000030.pt is damaged"; }
  grep -E "resume: from .*ckpt-000000020\.pt" "$WORK/$damage-2.log" ||
    { cat "$WORK/$damage-2.log"; fail "$damage: did not resume from ckpt-000000020.pt"; }
  [ -f "$RUN/checkpoints/ckpt-000000040.pt" ] || fail "$damage: no checkpoint at step 40"
done
echo "PASS: damaged newest checkpoints were detected and the previous ones used"
