#!/usr/bin/env bash
# launcher/divrec-launch --dry-run in faked environments: which launcher, which flags, threads
# per rank and GPU/NCCL variables it picks on a workstation, inside a Slurm allocation (with and
# without an srun PMIx plugin), with GPUs, and inside a job step. nproc, srun and nvidia-smi are
# replaced by stubs on PATH, the SLURM_* variables are set by hand.
set -euo pipefail
LAUNCH=$(cd "$(dirname "$0")/../.." && pwd)/launcher/divrec-launch
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STUBS=$WORK/bin
mkdir -p "$STUBS"
printf '#!/bin/sh\necho "${FAKE_NPROC:-8}"\n' >"$STUBS/nproc"
printf '#!/bin/sh\n[ "$1" = --mpi=list ] && printf "MPI plugin types are...\\n\\t%%s\\n" ${FAKE_SRUN_MPI:-none}\n' >"$STUBS/srun"
# The fake nvidia-smi pauses between lines, as a real one may: a reader that stops at the first
# line (grep -q under pipefail) then fails the launcher's pipeline with SIGPIPE every time.
printf '#!/bin/sh\n[ -n "$FAKE_GPUS" ] || exit 9\ni=0; while [ $i -lt "$FAKE_GPUS" ]; do echo "GPU $i: Fake (UUID: GPU-$i)"; i=$((i+1)); sleep 0.2; done\n' >"$STUBS/nvidia-smi"
printf '#!/bin/sh\nexit 0\n' >"$STUBS/mpirun"
chmod +x "$STUBS"/*
fails=0
pass=0

# run_case NAME EXPECTED_REGEX... -- ENV=VALUE... -- LAUNCH-ARGS: every regex must match the
# printed exec/env lines; regexes starting with ! must not.
run_case() {
  local name=$1 out
  shift
  local expect=()
  while [ "$1" != -- ]; do expect+=("$1"); shift; done
  shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  out=$(env -i PATH="$STUBS:/usr/bin:/bin" HOME=/tmp DIVREC_BIN=/opt/divrec "${envs[@]}" \
    bash "$LAUNCH" --dry-run "$@" 2>&1) || { echo "FAIL $name: exit $?"; echo "$out"; fails=$((fails + 1)); return; }
  local e ok=1
  for e in "${expect[@]}"; do
    if [[ $e == !* ]]; then
      grep -qE -- "${e:1}" <<<"$out" && { echo "FAIL $name: unexpected /${e:1}/"; ok=0; }
    else
      grep -qE -- "$e" <<<"$out" || { echo "FAIL $name: missing /$e/"; ok=0; }
    fi
  done
  if ((ok)); then pass=$((pass + 1)); echo "ok   $name"; else fails=$((fails + 1)); echo "$out"; fi
}

# Workstation, root, 8 cores, 2 ranks: mpirun with binding, 4 threads each.
run_case workstation \
  'exec mpirun -n 2 --allow-run-as-root --map-by slot:PE=4 --bind-to core -x OMP_NUM_THREADS -x DIVREC_THREADS /opt/divrec train --data d$' \
  'env OMP_NUM_THREADS=4 DIVREC_THREADS=4$' '!NCCL' '!--oversubscribe' \
  -- FAKE_NPROC=8 -- -n 2 -- train --data d
# More ranks than cores: oversubscribe, no binding, 1 thread.
run_case oversubscribed \
  'exec mpirun -n 3 --allow-run-as-root --oversubscribe --bind-to none ' 'DIVREC_THREADS=1' \
  -- FAKE_NPROC=2 -- -n 3 -- train
# Explicit --bind none and a user's DIVREC_THREADS.
run_case bind-none 'exec mpirun -n 2 --allow-run-as-root --bind-to none ' 'OMP_NUM_THREADS=3 DIVREC_THREADS=3' \
  -- FAKE_NPROC=8 DIVREC_THREADS=3 -- -n 2 --bind none -- eval
# Slurm allocation with PMIx: srun, ranks from SLURM_NTASKS, CPUs from the allocation.
run_case slurm-srun \
  'exec srun --ntasks=4 --cpus-per-task=3 --mpi=pmix --kill-on-bad-exit=1 --cpu-bind=cores /opt/divrec train$' \
  'slurm job 42 \(1 node' 'DIVREC_THREADS=3' '!mpirun' \
  -- SLURM_JOB_ID=42 SLURM_NTASKS=4 SLURM_JOB_NUM_NODES=1 SLURM_CPUS_ON_NODE=12 FAKE_SRUN_MPI=pmix -- -- train
# -c given to sbatch wins over the division.
run_case slurm-cpus-per-task 'exec srun --ntasks=2 --cpus-per-task=5 ' 'DIVREC_THREADS=5' \
  -- SLURM_JOB_ID=7 SLURM_NTASKS=2 SLURM_CPUS_ON_NODE=16 SLURM_CPUS_PER_TASK=5 FAKE_SRUN_MPI=pmix -- -- train
# Only PMI2 in srun.
run_case slurm-pmi2 'exec srun --ntasks=2 .*--mpi=pmi2 ' \
  -- SLURM_JOB_ID=7 SLURM_NTASKS=2 SLURM_CPUS_ON_NODE=2 FAKE_SRUN_MPI=pmi2 -- -- train
# No PMI plugin in srun: mpirun on the allocation (no --oversubscribe inside Slurm).
run_case slurm-mpirun 'exec mpirun -n 2 --allow-run-as-root --map-by slot:PE=1 --bind-to core ' \
  '!srun' '!oversubscribe' \
  -- SLURM_JOB_ID=7 SLURM_NTASKS=2 SLURM_CPUS_ON_NODE=2 FAKE_SRUN_MPI=none -- -- train
# GPUs across 2 nodes: --gpus-per-task, NCCL variables, threads = 32 CPUs / 4 ranks per node.
run_case slurm-gpu \
  'exec srun --ntasks=8 --cpus-per-task=8 --mpi=pmix --kill-on-bad-exit=1 --cpu-bind=cores --gpus-per-task=1 /opt/divrec train --comm nccl$' \
  'NCCL_DEBUG=WARN NCCL_ASYNC_ERROR_HANDLING=1 TORCH_NCCL_ASYNC_ERROR_HANDLING=1 CUDA_DEVICE_MAX_CONNECTIONS=1' \
  -- SLURM_JOB_ID=9 SLURM_NTASKS=8 SLURM_JOB_NUM_NODES=2 SLURM_CPUS_ON_NODE=32 FAKE_SRUN_MPI=pmix -- --gpus-per-rank 1 -- train --comm nccl
# GPUs visible on a workstation (nvidia-smi): NCCL env exported to ranks with -x, NCCL_DEBUG kept.
run_case workstation-gpu '-x NCCL_DEBUG -x NCCL_ASYNC_ERROR_HANDLING' 'NCCL_DEBUG=INFO' \
  '-x NCCL_SOCKET_IFNAME' \
  -- FAKE_NPROC=16 FAKE_GPUS=2 NCCL_DEBUG=INFO NCCL_SOCKET_IFNAME=eth0 -- -n 2 -- train
# CUDA_VISIBLE_DEVICES=-1 hides GPUs: no NCCL variables.
run_case cuda-hidden '!NCCL' -- FAKE_NPROC=4 FAKE_GPUS=2 CUDA_VISIBLE_DEVICES=-1 -- -n 2 -- train
# CUDA_VISIBLE_DEVICES naming GPUs counts even without nvidia-smi.
run_case cuda-visible 'NCCL_DEBUG=WARN' -- FAKE_NPROC=4 CUDA_VISIBLE_DEVICES=0,1 -- -n 2 -- train
# Already a task of a step: divrec directly, no nested launcher.
run_case in-step 'exec /opt/divrec train$' '!srun' '!mpirun' \
  -- SLURM_JOB_ID=7 SLURM_STEP_ID=0 SLURM_PROCID=1 SLURM_NTASKS=2 SLURM_CPUS_ON_NODE=4 -- -- train

# Argument errors.
for bad in "-n 0 -- train" "-n x -- train" "--bind weird -- train" "--launcher pbs -- train" "-n 2"; do
  # shellcheck disable=SC2086
  if env -i PATH="$STUBS:/usr/bin:/bin" DIVREC_BIN=/opt/divrec bash "$LAUNCH" --dry-run $bad >/dev/null 2>&1; then
    echo "FAIL args '$bad' accepted"; fails=$((fails + 1))
  else
    pass=$((pass + 1)); echo "ok   rejects '$bad'"
  fi
done
bash "$LAUNCH" --help | grep -- '--gpus-per-rank' >/dev/null || { echo "FAIL --help"; fails=$((fails + 1)); }
echo "$pass passed, $fails failed"
((fails == 0))
