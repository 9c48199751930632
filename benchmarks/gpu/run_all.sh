#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: autodiff's CUDA tests on the hardware (no simulator), the
# MNIST-sized step and matmul against PyTorch CUDA, kernel launches per training step, and the
# layer-level GPU scripts that exist (LeNet, DDP). Each result goes to benchmarks/results/gpu-*.txt
# (and to $OUT when that is set). Usage: bash benchmarks/gpu/run_all.sh [section ...]
# sections: machine tests layer_tests launches bench lenet ddp (default: all)
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS=0   # tiny grids are on purpose (launch counts, small layers)
RESULTS=benchmarks/results
mkdir -p "$RESULTS"
SECTIONS=${*:-machine tests layer_tests launches bench lenet ddp}
status=0

run() {   # run NAME TIMEOUT COMMAND...: output to the terminal and to gpu-NAME.txt
    local name=$1 limit=$2; shift 2
    echo "=== $name: $*"
    { echo "# $* ($(date -u +%Y-%m-%dT%H:%MZ))"; timeout "$limit" "$@" 2>&1; echo "# exit status $?"; } \
        | tee "$RESULTS/gpu-$name.txt"
    grep -q "^# exit status 0$" "$RESULTS/gpu-$name.txt" || status=1
    [ -n "${OUT:-}" ] && cp "$RESULTS/gpu-$name.txt" "$OUT/"
}

for section in $SECTIONS; do
    case $section in
    machine) run machine 60 bash -c "nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader;
             $PY -c 'import sys, numpy, numba, torch; print(sys.version.split()[0], \"numpy\", numpy.__version__,
             \"numba\", numba.__version__, \"torch\", torch.__version__)'" ;;
    tests) run tests 300 env AUTODIFF_TEST_GPU=1 "$PY" -m pytest -q -p no:cacheprovider -o addopts="" \
             tests/cuda/sim_cases.py tests/cuda/backend_sim_cases.py ;;
    layer_tests) run layer_tests 300 env AUTODIFF_TEST_GPU=1 "$PY" -m pytest -q -p no:cacheprovider -o addopts="" \
             tests/cuda/cnn_sim_cases.py tests/cuda/seq_sim_cases.py ;;
    launches) run launches 120 "$PY" benchmarks/gpu/launches_per_step.py --sizes 784,256,128,10 --batch 128 ;;
    bench) run bench 300 "$PY" benchmarks/gpu/bench_gpu.py ;;
    lenet) [ -f benchmarks/gpu/lenet_cuda.py ] && run lenet 180 "$PY" benchmarks/gpu/lenet_cuda.py ;;
    ddp) [ -f benchmarks/gpu/ddp_cuda.sh ] && run ddp 180 bash benchmarks/gpu/ddp_cuda.sh ;;
    *) echo "unknown section $section"; status=1 ;;
    esac
done
exit $status
