#!/usr/bin/env bash
# Configures and builds divrec into ./build (ccache + one shared precompiled torch header keep
# rebuilds short). Usage: scripts/build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
# Paths relative to the checkout, so a fresh clone elsewhere reuses the cache; PCH-friendly.
export CCACHE_BASEDIR="$PWD"
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > build.cmake.log 2>&1 || {
  cat build.cmake.log; exit 1; }
cmake --build build -j "$(nproc)"
