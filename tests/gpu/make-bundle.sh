#!/usr/bin/env bash
# Packs divrec executables of a CUDA build (scripts/build-cuda.sh) into a folder that runs on a
# GPU machine with the same pip torch but without HDF5/Boost/MPI/fmt/Faiss/BLAS: the executables,
# the shared libraries they need that such a machine lacks, the Open MPI runtime and an env.sh.
# Usage: tests/gpu/make-bundle.sh BUILD_DIR OUT_DIR [executable...]   (default: launcher/divrec)
set -euo pipefail
(( $# >= 2 )) || { sed -n 2,5p "$0" >&2; exit 2; }
BUILD=$1 OUT=$2
shift 2
(( $# )) || set -- launcher/divrec
mkdir -p "$OUT/bin" "$OUT/lib"
OUT=$(cd "$OUT" && pwd)

# Provided by the target: glibc, the compiler runtime, torch (with its libgomp), CUDA and NCCL.
skip_lib() {
  case "$1" in
    linux-vdso* | ld-linux* | libc.so* | libm.so* | libpthread* | libdl.so* | librt.so* | \
      libresolv* | libutil.so* | libstdc++* | libgcc_s* | libtorch* | libc10* | libshm* | \
      libgomp* | libcaffe2* | libcuda* | libcudart* | libcublas* | libcudnn* | libnvrtc* | \
      libnvJitLink* | libnccl* | libcufft* | libcurand* | libcusparse* | libcusolver* | \
      libnvToolsExt* | libnvshmem* | libcupti* | libcufile*) return 0 ;;
  esac
  return 1
}

# copy_deps FILE...: every library ldd resolves for FILE, minus the above, into $OUT/lib under
# its soname (the name the loader asks for). A library ldd cannot find is an error.
copy_deps() {
  local f line name path
  for f in "$@"; do
    while read -r line; do
      case "$line" in
        *"=> not found"*)
          name=${line%% *}
          skip_lib "$name" || { echo "make-bundle: $f needs $name, not found" >&2; exit 1; } ;;
        *"=> /"*)
          name=${line%% *}; path=${line#*=> }; path=${path%% (*}
          skip_lib "$name" || [[ -e $OUT/lib/$name ]] || cp -L "$path" "$OUT/lib/$name" ;;
      esac
    done < <(ldd "$f")
  done
}

for exe in "$@"; do
  src=$exe
  [[ -f $src ]] || src=$BUILD/$exe
  [[ -f $src && -x $src ]] || { echo "make-bundle: no executable $exe (in $BUILD)" >&2; exit 1; }
  cp "$src" "$OUT/bin/"
  strip --strip-debug "$OUT/bin/$(basename "$src")"
  copy_deps "$src"
done
strip --strip-debug "$OUT"/lib/*.so* 2>/dev/null || true

# Open MPI (Debian's 4.1) even for one rank: divrec calls MPI_Init, which dlopens its components
# and, as a singleton, starts orted. Debian's tree is relocatable through OPAL_PREFIX (Open MPI)
# and PMIX_INSTALL_PREFIX (PMIx), so the pieces keep their paths below $OUT/mpi and $OUT/pmix.
if [[ -e $OUT/lib/libmpi.so.40 ]]; then
  ompi=/usr/lib/x86_64-linux-gnu/openmpi/lib pmix=/usr/lib/x86_64-linux-gnu/pmix2
  mkdir -p "$OUT/mpi/bin" "$OUT/mpi/lib/x86_64-linux-gnu/openmpi/lib" "$OUT/mpi/share" \
    "$OUT/pmix/lib" "$OUT/pmix/share"
  cp -rL "$ompi/openmpi3" "$OUT/mpi/lib/x86_64-linux-gnu/openmpi/lib/"
  cp -rL /usr/share/openmpi "$OUT/mpi/share/"
  cp -L /usr/bin/orted "$OUT/mpi/bin/"
  cp -L /usr/bin/orterun "$OUT/mpi/bin/mpirun"
  cp -rL "$pmix/lib/pmix" "$OUT/pmix/lib/"
  cp -rL "$pmix/share/." "$OUT/pmix/share/"
  # A component whose own libraries are absent (verbs, UCX, libfabric...) is skipped at run time;
  # carry the libraries of those a single node uses (shared memory, TCP, self).
  copy_deps "$OUT/mpi/bin/orted" "$OUT/mpi/bin/mpirun" "$OUT/pmix/lib/pmix"/*.so
  for c in "$OUT"/mpi/lib/x86_64-linux-gnu/openmpi/lib/openmpi3/*.so; do
    copy_deps "$c" 2>/dev/null || true
  done
fi

cat > "$OUT/env.sh" <<'ENV'
# Source on the GPU machine: this bundle's libraries, then torch's and the nvidia wheels'.
B=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TORCH_DIR=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null)
[[ -n $TORCH_DIR ]] || echo "env.sh: python3 cannot import torch: torch's libraries not on the path" >&2
NV_LIBS=$(ls -d "$TORCH_DIR"/../nvidia/*/lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH="$B/lib:$TORCH_DIR/lib:${NV_LIBS}${LD_LIBRARY_PATH:-}"
export PATH="$B/bin:$B/mpi/bin:$PATH"
export OPAL_PREFIX="$B/mpi" PMIX_INSTALL_PREFIX="$B/pmix"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
ENV
echo "make-bundle: $OUT ($(du -sh "$OUT" | cut -f1)): $(ls "$OUT/bin" | tr '\n' ' ')" >&2
