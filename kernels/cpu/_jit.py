"""Numba decorators, two small LLVM intrinsics, and input checks for the CPU wrappers."""

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

# Entry points: parallel loops, cached on disk, IEEE semantics (no fast-math reordering).
kernel = numba.njit(parallel=True, cache=True, fastmath=False)
# Helpers called from kernels: serial, inlined by LLVM into the caller.
helper = numba.njit(cache=True, fastmath=False)

FLOATS = (np.float32, np.float64)

# Shape of the matmul micro-kernel's accumulator tile, by itemsize: 16 AVX2 registers of
# float32, leaving room for the operands.
TILE_SHAPES = {4: (4, 32), 8: (4, 16)}


@intrinsic
def fmuladd(typingctx, x, y, z):
    """x * y + z, fused where the CPU has FMA (LLVM's `llvm.fmuladd`).

    With fastmath off LLVM never fuses a multiply and an add by itself; asking for it here,
    in the matmul inner loop only, doubles that loop's peak. Fused or not, each result is
    correctly rounded at least once, so it is as accurate as the separate operations.
    """
    if not (isinstance(x, types.Float) and x == y == z):
        return None

    def codegen(context, builder, sig, args):
        ty = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fmuladd", [ty], ir.FunctionType(ty, [ty] * 3))
        return builder.call(fn, args)

    return x(x, y, z), codegen


@intrinsic
def register_tile(typingctx, like):
    """A TILE_SHAPES[itemsize] array of like's dtype, on the stack; contents undefined.

    A fixed-size stack buffer that never escapes and is indexed by loops of constant
    length is promoted by LLVM to registers: that keeps the micro-kernel's C tile out of
    memory across the whole k loop.
    """
    dtype = like.dtype
    rows, cols = TILE_SHAPES[dtype.bitwidth // 8]
    tile_type = types.Array(dtype, 2, "C")

    def codegen(context, builder, sig, args):
        item_type = context.get_data_type(dtype)
        itemsize = context.get_abi_sizeof(item_type)
        intp = context.get_value_type(types.intp)
        tile = make_array(tile_type)(context, builder)
        populate_array(tile, data=cgutils.alloca_once(builder, item_type, size=rows * cols),
                       shape=[intp(rows), intp(cols)],
                       strides=[intp(cols * itemsize), intp(itemsize)],
                       itemsize=intp(itemsize), meminfo=None)
        return tile._getvalue()

    return tile_type(like), codegen


def float_array(x, op, name):
    """`x` as a float32/float64 ndarray, or a TypeError naming the op and argument."""
    x = np.asarray(x)
    if x.dtype not in FLOATS:
        raise TypeError(f"{op}: {name} must be float32 or float64, got {x.dtype}")
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
