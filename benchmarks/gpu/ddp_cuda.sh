#!/usr/bin/env bash
# DistributedDataParallel and the collectives on 'cuda' tensors, on a real GPU: two ranks
# (mpiexec -n 2) sharing one GPU, each staging its tensors through host memory.
#
#   bash benchmarks/gpu/ddp_cuda.sh            # needs numba-cuda, mpi4py and mpich
#
# Checks, and prints as it goes:
#  1. every collective (all_reduce/reduce with each ReduceOp, broadcast, all_gather, gather,
#     scatter, the async forms, object collectives) gives the right values on cuda tensors
#     of float64/float32/int64/int32/uint8/bool;
#  2. DDP on 2 ranks with batch 4 each equals one process on batch 8 after 20 steps
#     (float64 on the GPU, max difference below 1e-10), for SGD with momentum and Adam,
#     with and without no_sync() accumulation, with several buckets and with one.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
"$PYTHON" - <<'PY'
import autodiff, numba
from numba import cuda
assert autodiff.cuda.is_available(), "no CUDA GPU visible to numba"
print("GPU:", autodiff.cuda.get_device_name(), "| numba", numba.__version__)
PY
echo "== 1. collectives on cuda tensors, 2 ranks"
"$PYTHON" -m autodiff.distributed.run -n 2 tests/distributed/ranks/collectives.py cuda
echo "== 2. DDP on cuda tensors: 2 ranks x batch 4 == 1 process x batch 8 (20 steps, float64)"
"$PYTHON" -m autodiff.distributed.run -n 2 tests/distributed/ranks/ddp_equivalence.py cuda
echo "ddp_cuda.sh: all checks passed"
