"""CUDA tensors (sim_cases.py) on Numba's CUDA simulator, then every kernel they launched
compiled for a real GPU.

NUMBA_ENABLE_CUDASIM must be set before Numba is first imported, and this pytest process may
have imported Numba already (for the CPU kernels), so the cases run in a fresh interpreter.
The simulator runs kernels as Python, so it cannot see what only Numba's CUDA compiler sees
(typing errors, float32 kernels silently computing in float64): the cases record each
kernel's spec and argument types, and this test compiles each one for compute capability
7.5 down to LLVM IR, which needs no GPU, driver or CUDA toolkit. That step uses
``numba.cuda.compiler.compile_cuda``, which is not public API: if it moves, it is skipped.
"""
import json
import re
import types as pytypes
from pathlib import Path

import pytest

CASES = Path(__file__).with_name("sim_cases.py")
ROOT = Path(__file__).resolve().parents[2]
# computing in float64: conversions up, float64 arithmetic or comparisons, float64 calls
FLOAT64_WORK = re.compile(r"fpext float|= f(add|sub|mul|div|rem|cmp \w+) double|call double")


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def test_cuda_tensors_on_the_simulator_and_their_kernels_compile(tmp_path, monkeypatch,
                                                                   run_on_cuda_simulator):
    record = tmp_path / "kernels.json"
    run_on_cuda_simulator(CASES, timeout=900, AUTODIFF_CUDA_RECORD=str(record))

    launched = json.loads(record.read_text())
    assert len(launched) > 50          # every kind of kernel, in several dtypes and ranks
    numba = pytest.importorskip("numba")
    if numba.config.ENABLE_CUDASIM:
        pytest.skip("compiling for a GPU needs Numba's real CUDA target, not the simulator")
    compiler = pytest.importorskip("numba.cuda.compiler")
    dispatcher = pytest.importorskip("numba.cuda.dispatcher")
    if not hasattr(compiler, "compile_cuda") or not hasattr(dispatcher, "get_current_device"):
        pytest.skip("numba-cuda's internal compile API has changed")
    from numba import types

    from autodiff.cuda import _kernels
    # Numba asks the current device for its compute capability while compiling; a stand-in answers
    monkeypatch.setattr(dispatcher, "get_current_device",
                        lambda: pytypes.SimpleNamespace(compute_capability=(7, 5)))
    failures = []
    for kind, spec, codes in launched:
        spec = _tuples(spec)
        kernel = _kernels.kernel(kind, spec)
        try:
            compiled = compiler.compile_cuda(kernel.py_func, types.void,
                                             tuple(_kernels.numba_type(c) for c in codes), cc=(7, 5))
        except Exception as exc:  # noqa: BLE001  (report every kernel that fails, with its spec)
            failures.append(f"{kind} {spec}: {type(exc).__name__}: {str(exc)[:500]}")
            continue
        if "float64" not in json.dumps(spec):
            promoted = [line.strip() for line in compiled.library.get_llvm_str().splitlines()
                        if FLOAT64_WORK.search(line)]
            if promoted:
                failures.append(f"{kind} {spec} computes in float64: {promoted[:3]}")
    assert not failures, "\n".join(failures)
