"""Numba decorators, an FMA intrinsic, and input checks for the CPU wrappers."""

import os

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from .._checks import float_dtype

# Threads: after a kernel, OpenMP's threads spin waiting for more work (by default for
# ~300,000 iterations) and fight numpy's BLAS threads for the two cores: an MNIST-sized
# step mixing BLAS with the parallel Adam kernel ran 4x slower. A short spin keeps the
# quick relaunch of a small kernel (6.5 us; sleeping threads, as in the workqueue layer
# or OMP_WAIT_POLICY=passive, take 80-130 us to wake) and lets BLAS have the cores
# (measured with benchmarks/bench_nn.py and bench_dispatch.py). It must be set before
# Numba loads libgomp, on the first parallel kernel; a value set by the user wins.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

# Entry points: parallel loops, cached on disk, IEEE semantics (no fast-math reordering), and
# numpy's error model: x / 0 gives inf or NaN as in numpy, where Python's model tests every
# division for zero to raise ZeroDivisionError, a branch that kept the sigmoid loop from
# vectorising (9.4 -> ~5 ms on 10M float32, kernels/cpu/_exp.py).
kernel = numba.njit(parallel=True, cache=True, fastmath=False, error_model="numpy")
# Helpers called from kernels: serial, inlined by LLVM into the caller.
helper = numba.njit(cache=True, fastmath=False, error_model="numpy")

@intrinsic
def fmuladd(typingctx, x, y, z):
    """x * y + z, fused where the CPU has FMA (LLVM's `llvm.fmuladd`).

    With fastmath off LLVM never fuses a multiply and an add by itself; asking for it here,
    in the matmul inner loop only, doubles that loop's peak. A fused result is rounded once
    instead of twice, so it is at least as accurate as the separate operations.
    """
    if not (isinstance(x, types.Float) and x == y == z):
        return None

    def codegen(context, builder, sig, args):
        ty = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fmuladd", [ty], ir.FunctionType(ty, [ty] * 3))
        return builder.call(fn, args)

    return x(x, y, z), codegen


def float_array(x, op, name):
    """`x` as a float32/float64 ndarray, or a TypeError naming the op and argument."""
    x = np.asarray(x)
    float_dtype(x, op, name)
    return x


def check_out(out, shape, dtype, op, *inputs):
    """An `out` array must be C-contiguous, of the result's shape and dtype, and must not
    overlap an input (kernels write it before they have finished reading the inputs)."""
    if out.shape != tuple(shape) or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"{op}: out must be a C-contiguous {dtype} array of shape "
                         f"{tuple(shape)}, got {out.dtype} {out.shape}"
                         f"{'' if out.flags.c_contiguous else ' (not contiguous)'}")
    if any(np.may_share_memory(out, x) for x in inputs):
        raise ValueError(f"{op}: out must not overlap an input")
