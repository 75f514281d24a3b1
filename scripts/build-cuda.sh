#!/usr/bin/env bash
# Builds divrec against PyPI's CUDA LibTorch 2.x (docs/cluster.md): a virtual environment with
# torch, its CMake prefix, the NCCL that torch ships (nvidia-nccl wheel) and /usr/local/cuda.
# Compiles and links without a GPU. Usage: scripts/build-cuda.sh [extra cmake args]
# Env: DIVREC_CUDA_VENV (.venv-cuda), DIVREC_CUDA_BUILD (build-cuda), DIVREC_TORCH_VERSION.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${DIVREC_CUDA_VENV:-$ROOT/.venv-cuda}"
BUILD="${DIVREC_CUDA_BUILD:-$ROOT/build-cuda}"
TORCH_VERSION="${DIVREC_TORCH_VERSION:-2.11.0}"
CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"

[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
PY="$VENV/bin/python"
# pip's torch is ~3 GB: install only when that exact version is not importable already.
have="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)"
if [[ "$have" != "$TORCH_VERSION" ]]; then
  "$PY" -m pip install --upgrade pip
  "$PY" -m pip install "torch==$TORCH_VERSION"
fi

TORCH_PREFIX="$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)"
# TorchConfig finds c10/kineto with find_library, which would pick Debian's /usr/lib libtorch
# first: the torch prefix itself goes on CMAKE_PREFIX_PATH too.
TORCH_DIR="$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)"
CXX11_ABI="$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null)"
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
NCCL_DIR="$SITE/nvidia/nccl"
# The wheel ships only the soname (libnccl.so.2), which find_library(nccl) does not match.
NCCL_LIB="$(ls "$NCCL_DIR"/lib/libnccl.so* 2>/dev/null | head -n 1 || true)"
[[ -f "$NCCL_DIR/include/nccl.h" && -n "$NCCL_LIB" ]] || {
  echo "build-cuda: no NCCL under $NCCL_DIR (is torch $TORCH_VERSION a CUDA build?)" >&2; exit 1; }
[[ -x "$CUDA_HOME/bin/nvcc" ]] || { echo "build-cuda: no nvcc under $CUDA_HOME" >&2; exit 1; }
[[ "$CXX11_ABI" == 1 ]] || echo "build-cuda: warning: torch built with the pre-C++11 ABI" >&2

export CCACHE_BASEDIR="$ROOT"
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
export PATH="$CUDA_HOME/bin:$PATH"
mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$TORCH_DIR" \
  -DCUDAToolkit_ROOT="$CUDA_HOME" -DCMAKE_CUDA_COMPILER="$CUDA_HOME/bin/nvcc" \
  -DTORCH_CUDA_ARCH_LIST="${DIVREC_TORCH_CUDA_ARCH:-9.0}" \
  -DNCCL_INCLUDE_DIR="$NCCL_DIR/include" -DNCCL_LIBRARY="$NCCL_LIB" \
  -DDIVREC_WITH_NCCL=ON "$@" > "$BUILD/cmake.log" 2>&1 || { cat "$BUILD/cmake.log"; exit 1; }
cmake --build "$BUILD" -j "${DIVREC_JOBS:-$(nproc)}"
