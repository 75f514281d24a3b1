#!/usr/bin/env bash
# The sparse, row-sharded item table across world sizes and faults: 2 ranks train with
# --embedding-sharding row (a checkpoint = ckpt-N.pt + one table shard file per rank); 3 ranks
# resume from it (the rows are re-sharded) and go on; then one table shard of the newest
# checkpoint is damaged: `--resume auto` must reject that checkpoint, say which shard and why,
# and resume from the previous one.
source "$(dirname "$0")/lib.sh"
make_data "$WORK/data" 400
RUN=$WORK/run
SPARSE=(--loss sampled-softmax --num-negatives 32 --in-batch-negatives 8 --embedding-sharding row)

# run_to RANKS MAX_STEPS LOG
run_to() {
  start_bg "$3" mpirun -n "$1" --bind-to none --oversubscribe "$DIVREC_BIN" train \
    --data "$WORK/data" --output "$RUN" "${TRAIN_SMALL[@]}" "${SPARSE[@]}" --epochs 100 \
    --max-steps "$2" --checkpoint-every 10 --keep-last 10 --resume auto
  wait_exit "$BG_PID" 300
  ((EXIT_RC == 0)) || { cat "$3"; fail "training to step $2 on $1 ranks exited $EXIT_RC"; }
}

run_to 2 20 "$WORK/a.log"
ls "$RUN/checkpoints/ckpt-000000020.pt.items-20.1-of-2" >/dev/null || fail "no 2-rank table shards"
run_to 3 30 "$WORK/b.log"
grep -E "resume: from .*ckpt-000000020\.pt" "$WORK/b.log" >/dev/null ||
  { cat "$WORK/b.log"; fail "3 ranks did not resume from the 2-rank checkpoint"; }
for s in 0 1 2; do
  [ -f "$RUN/checkpoints/ckpt-000000030.pt.items-30.$s-of-3" ] || fail "no 3-rank shard $s"
done
note "2 -> 3 ranks: resumed and checkpointed with 3 table shards"

shard=$RUN/checkpoints/ckpt-000000030.pt.items-30.1-of-3
size=$(stat -c %s "$shard")
printf '\377\377\377\377\377\377\377\377' | dd of="$shard" bs=1 seek=$((size / 2)) conv=notrunc status=none
run_to 2 40 "$WORK/c.log"
grep -F "ckpt-000000030.pt" "$WORK/c.log" | grep -i -E "unusable|corrupt|mismatch|invalid|shard" >/dev/null ||
  { cat "$WORK/c.log"; fail "no message that ckpt-000000030.pt's table shard is damaged"; }
grep -E "resume: from .*ckpt-000000020\.pt" "$WORK/c.log" >/dev/null ||
  { cat "$WORK/c.log"; fail "did not resume from ckpt-000000020.pt"; }
[ -f "$RUN/checkpoints/ckpt-000000040.pt" ] || fail "no checkpoint at step 40"
echo "PASS: 2 -> 3 ranks re-sharded; a damaged table shard made its checkpoint unusable"
