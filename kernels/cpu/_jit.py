"""Numba decorators, an FMA intrinsic, and input checks for the CPU wrappers."""

import os

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from .._checks import float_dtype

# Threads: with the default OpenMP layer, Numba's threads keep spinning after a kernel and
# fight numpy's BLAS threads for the cores; an MNIST-sized training step mixing BLAS with
# a parallel Adam kernel ran 4x slower. The workqueue layer's threads sleep instead
# (benchmarks/bench_nn.py). A NUMBA_THREADING_LAYER set by the user still wins.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

# Entry points: parallel loops, cached on disk, IEEE semantics (no fast-math reordering).
kernel = numba.njit(parallel=True, cache=True, fastmath=False)
# Helpers called from kernels: serial, inlined by LLVM into the caller.
helper = numba.njit(cache=True, fastmath=False)

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
