#!/usr/bin/env bash
# Hostile-client benchmark (docs/results.md, "Hardening"): makes a small artifact (synthetic data,
# 1 epoch), starts `divrec serve` on a loopback port, runs bench/hostile_http against it and
# prints its JSON line. Usage: bench/hostile_http.sh [BUILD_DIR] [hostile_http options...]
# Server options come from SERVE_ARGS (default: 16 threads, 1 s read timeout, 1 s idle timeout).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
shift || true
DIVREC=$B/launcher/divrec
HOSTILE=$B/bench/hostile_http
T=$(mktemp -d /tmp/divrec_hostile.XXXXXX)
SERVER=
cleanup() { [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
source scripts/mpi_env.sh
$DIVREC shard convert --format synthetic --users 400 --items 300 --categories 8 --seed 5 \
  --output "$T/data" --num-shards 1 > "$T/shard.log"
$DIVREC train --data "$T/data" --output "$T/run" --epochs 1 --batch-size 32 --dim 32 \
  --layers 1 --heads 1 --max-len 20 --threads 1 > "$T/train.log"
$DIVREC export --checkpoint "$T/run" --data "$T/data" --output "$T/model.h5" > "$T/export.log"
# shellcheck disable=SC2086
$DIVREC serve --model "$T/model.h5" --host 127.0.0.1 --port 0 \
  ${SERVE_ARGS:---threads 16 --read-timeout-ms 1000 --idle-timeout 1} > "$T/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
  PORT=$(sed -n 's|.*on http://127.0.0.1:\([0-9]*\).*|\1|p' "$T/serve.log" | sed -n 1p)
  [[ -n $PORT ]] && break
  sleep 0.2
done
[[ -n ${PORT:-} ]] || { cat "$T/serve.log"; exit 1; }
$HOSTILE --port "$PORT" --server-pid "$SERVER" --items 300 "$@"
kill -0 "$SERVER"  # still alive
