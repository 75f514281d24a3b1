#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds, runs every ctest label
# (unit, mpi, data, slurm). Real-data tests skip cleanly when ../shared/data is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
source scripts/mpi_env.sh
ctest --test-dir build --output-on-failure -j 2 --timeout 900 "$@"
