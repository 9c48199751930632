"""Every CUDA kernel type-checks and lowers to LLVM IR for a real GPU, with no GPU here.

The simulator runs kernels as Python, so it cannot see what only Numba's CUDA compiler
sees: typing errors, and float32 kernels silently computing in float64 (a bare `0` in a
comparison promotes it), which costs a lot on GPUs. Each kernel is compiled for compute
capability 7.5 down to LLVM IR, which needs no driver and no CUDA toolkit (PTX would).
Numba looks up the current device's compute capability while compiling device functions;
a stand-in device answers that. This uses `numba.cuda.compiler.compile_cuda`, which is not
public API: if it moves, the test skips rather than fails.
"""
import re
import types as pytypes

import pytest

numba = pytest.importorskip("numba")
if numba.config.ENABLE_CUDASIM:
    pytest.skip("needs Numba's real CUDA target, not the simulator", allow_module_level=True)
compiler = pytest.importorskip("numba.cuda.compiler")
cuda_dispatcher = pytest.importorskip("numba.cuda.dispatcher")
if not hasattr(compiler, "compile_cuda") or not hasattr(cuda_dispatcher, "get_current_device"):
    pytest.skip("numba-cuda's internal compile API has changed", allow_module_level=True)

from numba import types  # noqa: E402

from kernels.cuda import _elementwise, _matmul, _optim, _recurrent, _reduce  # noqa: E402

MODULES = (_elementwise, _matmul, _optim, _reduce, _recurrent)
# Computing in float64: conversions up, float64 arithmetic or comparisons, float64 calls.
FLOAT64_WORK = re.compile(r"fpext float|= f(add|sub|mul|div|rem|cmp \w+) double|call double")


def signatures(f):
    """Argument types of every kernel for element type f (flat views are C-contiguous 1-D)."""
    vec, mat, any2 = f[::1], f[:, ::1], types.Array(f, 2, "A")
    idx, flag, code = types.int64[::1], types.boolean, types.int64
    unary, binary = (vec, vec), (vec, vec, vec)
    return {
        "_matmul_tiled": (any2, any2, types.Array(f, 1, "A"), flag, mat),
        "_relu": unary, "_relu_backward": binary,
        "_leaky_relu": (vec, f, vec), "_leaky_relu_backward": (vec, vec, f, vec),
        "_sigmoid": unary, "_sigmoid_backward": binary,
        "_tanh": unary, "_tanh_backward": binary,
        "_hardtanh": (vec, f, f, vec), "_hardtanh_backward": (vec, vec, f, f, vec),
        "_gelu": unary, "_gelu_backward": binary,
        "_softplus": (vec, f, f, vec), "_softplus_backward": (vec, vec, f, f, vec),
        "_bias_add": (any2, vec, any2),
        "_sum_blocks": (vec, vec), "_column_sums": (mat, vec), "_row_sums": (mat, vec),
        "_softmax_rows": (mat, flag, idx, code, mat, vec),
        "_loss_total": (vec, idx, code, flag, vec, vec),
        "_nll_rows": (mat, idx, code, vec), "_nll_backward": (idx, code, vec, flag, vec, flag, mat),
        "_cross_entropy_backward": (mat, idx, code, vec, flag, vec, flag, mat),
        "_sgd": (vec, vec, vec, f, f, f, flag),
        "_adam": (vec, vec, vec, vec, f, f, f, f, f, flag, f, f),
        "_rmsprop": (vec,) * 5 + (f,) * 5 + (flag,), "_adagrad": (vec, vec, vec, f, f, f),
        "_lstm_cell_forward": (mat,) * 6, "_lstm_cell_backward": (mat,) * 7,
    }


def all_kernels():
    """(name, dispatcher) for every @cuda.jit kernel (not device function) in the modules."""
    found = {}
    for module in MODULES:
        for name, value in vars(module).items():
            options = getattr(value, "targetoptions", None)
            if hasattr(value, "py_func") and options is not None and not options.get("device"):
                found[name] = value
    return sorted(found.items())


@pytest.fixture(autouse=True)
def stand_in_device(monkeypatch):
    device = pytypes.SimpleNamespace(compute_capability=(7, 5))
    monkeypatch.setattr(cuda_dispatcher, "get_current_device", lambda: device)


def test_every_kernel_has_a_signature_here():
    assert {name for name, _ in all_kernels()} == set(signatures(types.float32))


@pytest.mark.parametrize("dtype", [types.float32, types.float64])
@pytest.mark.parametrize("name,kernel", all_kernels())
def test_kernel_lowers_and_float32_stays_float32(name, kernel, dtype):
    result = compiler.compile_cuda(kernel.py_func, types.void, signatures(dtype)[name], cc=(7, 5))
    ir = result.library.get_llvm_str()
    assert "define" in ir
    if dtype == types.float32:
        promoted = [line.strip() for line in ir.splitlines() if FLOAT64_WORK.search(line)]
        assert not promoted, promoted[:5]
