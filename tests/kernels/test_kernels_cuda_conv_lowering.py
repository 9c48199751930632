"""The convolution and pooling CUDA kernels (kernels/cuda/_conv.py) type-check and lower to
LLVM IR for a real GPU, float32 kernels computing in float32 (see test_kernels_cuda_lowering.py
for how, and why the simulator cannot show it)."""
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

from kernels.cuda import _conv  # noqa: E402

FLOAT64_WORK = re.compile(r"fpext float|= f(add|sub|mul|div|rem|cmp \w+) double|call double")


def signatures(f):
    vec, i = f[::1], types.int64
    return {
        "_im2col": (vec, vec) + (i,) * 13 + (f,),
        "_col2im": (vec, vec) + (i,) * 12 + (f,),
        "_max_pool2d_indices": (vec, types.int64[::1]) + (i,) * 12,
    }


@pytest.fixture(autouse=True)
def stand_in_device(monkeypatch):
    device = pytypes.SimpleNamespace(compute_capability=(7, 5))
    monkeypatch.setattr(cuda_dispatcher, "get_current_device", lambda: device)


@pytest.mark.parametrize("dtype", [types.float32, types.float64])
@pytest.mark.parametrize("name", sorted(signatures(types.float32)))
def test_conv_kernel_lowers_and_float32_stays_float32(name, dtype):
    kernel = getattr(_conv, name)
    result = compiler.compile_cuda(kernel.py_func, types.void, signatures(dtype)[name], cc=(7, 5))
    ir = result.library.get_llvm_str()
    assert "define" in ir
    if dtype == types.float32:
        promoted = [line.strip() for line in ir.splitlines() if FLOAT64_WORK.search(line)]
        assert not promoted, promoted[:5]
