# Sourced by the scripts: lets Open MPI run as root (CI, containers) and oversubscribe 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# libgomp spin-waits by default; on shared/oversubscribed cores that halves throughput
# (docs/results.md, "Training throughput"). Read at library load, so it must be set here.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
