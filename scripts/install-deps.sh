#!/usr/bin/env bash
# Installs divrec's build and test dependencies from Debian 12 packages (as root), only when
# something is missing. docs/architecture.md says why each one is there.
set -euo pipefail

PACKAGES=(
  build-essential cmake ccache pkg-config git
  libtorch-dev libopenblas0-pthread          # model + autograd; OpenBLAS (30x faster GEMM than reference BLAS)
  libopenmpi-dev openmpi-bin                 # CPU collectives, control plane, mpirun
  libhdf5-dev hdf5-tools                     # shards, item table, serving artifact; h5dump
  libboost-program-options-dev               # CLI long options + INI --config
  libfmt-dev nlohmann-json3-dev              # formatting; JSON reports, manifests, HTTP bodies
  libcpp-httplib-dev                         # serving HTTP server
  libfaiss-dev                               # approximate top-k retrieval (HNSW, IVF-flat); static, OpenMP + BLAS
  libsentencepiece-dev sentencepiece         # item text: subword tokenizer (library + spm_train)
  libgtest-dev libbenchmark-dev              # tests, micro-benchmarks
  zlib1g-dev                                 # crc32 checksums
  libicu-dev                                 # Unicode tables for WordPiece (BERT/MiniLM) tokenization
  python3-torch python3-numpy python3-h5py python3-matplotlib  # independent references, plots
  python3-sentencepiece                      # tokenizer reference (test_item_text)
  clang-format
  clang-14 libclang-rt-14-dev                # fuzz/: libFuzzer + sanitizer runtimes (scripts/fuzz.sh)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "divrec: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
