"""Blocked matrix products for float32/float64, with an optional fused bias and activation.

The shared dimension is walked in slices KC deep. For each slice, B is packed once into
column panels NR wide (in parallel), then (row block x column block) tasks run in parallel:
each packs its rows of A into panels MR tall and calls a micro-kernel that keeps an
MR x NR tile of C in registers for the whole slice (see `register_tile`). With AVX2 and
float32, its inner loop is 16 vector FMAs for 4 vector loads and 4 broadcasts, from L1.

The packing routines read A and B through a transpose flag, so `a.T @ g` and `g @ b.T` read
the arrays as stored. An F-contiguous input (like `a.T`) is read the same way; any other
strided input (like `a[::2]`) is copied to a contiguous array first, which costs O(n^2)
next to the product's O(n^3).
"""

import numba
import numpy as np
from numba import prange
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

from .. import _scalar as S
from .._checks import same_dtype
from ._jit import check_out, float_array, fmuladd, helper, kernel

KC = 256  # depth of a slice: a packed B panel (KC x NR) fills 32 KiB of L1
MC = 128  # most rows per task: its packed A (MC x KC) stays in L2
# Register tile (MR, NR) by itemsize: 16 (float32) or 24 (float64) AVX2 accumulators, with
# room left for the operands. At n=1024, float32 tiles (4, 32), (8, 16), (6, 16), (4, 24)
# measured alike; for float64, (6, 16) ran 78 GFLOP/s against 25-70 for (4, 32) and (8, 16),
# and (4, 16) is not vectorised at all (LLVM unrolls its column loop fully first).
# Numba's cache only notices edits to a kernel's own file: clear __pycache__ after edits
# to kernels/_scalar.py or _jit.py.
TILE_SHAPES = {4: (4, 32), 8: (6, 16)}


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


@helper
def _pack_a(a, trans_a, i0, i1, k0, kc, panel):
    """panel[k, r] = A[i0 + r, k0 + k] for k < kc, with zeros for rows at or past i1;
    A is a.T when trans_a. Reads follow the storage order of a."""
    rows = min(panel.shape[1], i1 - i0)
    if rows < panel.shape[1]:
        panel[:kc] = 0
    if trans_a:
        for k in range(kc):
            for r in range(rows):
                panel[k, r] = a[k0 + k, i0 + r]
    else:
        for r in range(rows):
            for k in range(kc):
                panel[k, r] = a[i0 + r, k0 + k]


@helper
def _pack_b(b, trans_b, k0, kc, j0, panel):
    """panel[k, j] = B[k0 + k, j0 + j] for k < kc, with zeros for columns past B's last;
    B is b.T when trans_b. Reads follow the storage order of b."""
    n = b.shape[0] if trans_b else b.shape[1]
    cols = min(panel.shape[1], n - j0)
    if cols < panel.shape[1]:
        panel[:kc] = 0
    if trans_b:
        for j in range(cols):
            for k in range(kc):
                panel[k, j] = b[j0 + j, k0 + k]
    else:
        for k in range(kc):
            for j in range(cols):
                panel[k, j] = b[k0 + k, j0 + j]


@helper
def _micro_kernel(a_panel, b_panel, kc, out, i0, j0, rows, cols):
    """out[i0:i0+rows, j0:j0+cols] += a_panel[:kc].T @ b_panel[:kc].

    The accumulator tile has constant shape, so LLVM unrolls the r loop, vectorises the
    j loop and keeps the tile in registers across the k loop.
    """
    acc = register_tile(out)
    tile_rows, tile_cols = acc.shape
    acc[:] = 0
    for k in range(kc):
        a = a_panel[k]
        b = b_panel[k]
        for j in range(tile_cols):
            bj = b[j]
            for r in range(tile_rows):
                acc[r, j] = fmuladd(a[r], bj, acc[r, j])
    for r in range(rows):
        for j in range(cols):
            out[i0 + r, j0 + j] += acc[r, j]


@helper
def _bias_activation(out, i0, i1, j0, j1, bias, has_bias, activation):
    """out[i, j] = act(out[i, j] + bias[j]) over one task's block."""
    for i in range(i0, i1):
        row = out[i]
        for j in range(j0, j1):
            v = row[j] + bias[j] if has_bias else row[j]
            row[j] = S.activate(v, activation)


@kernel
def _gemm(a, trans_a, b, trans_b, out, bias, has_bias, activation, mr, nr, row_block, col_block):
    """out = act(A @ B + bias), A = a.T if trans_a else a, B likewise; a, b C-contiguous.

    (mr, nr) is the register tile's shape; row_block is a multiple of mr, col_block of nr.
    """
    m, n = out.shape
    depth = a.shape[0] if trans_a else a.shape[1]
    n_panels = (n + nr - 1) // nr
    b_packed = np.empty((n_panels, KC, nr), out.dtype)
    row_blocks = (m + row_block - 1) // row_block
    col_blocks = (n + col_block - 1) // col_block
    # A zero-depth product still runs one (empty) slice, which zeroes out and adds bias.
    for k0 in range(0, max(depth, 1), KC):
        kc = min(KC, depth - k0)
        for q in prange(n_panels):
            _pack_b(b, trans_b, k0, kc, q * nr, b_packed[q])
        for task in prange(row_blocks * col_blocks):
            i0 = (task // col_blocks) * row_block
            i1 = min(i0 + row_block, m)
            j0 = (task % col_blocks) * col_block
            j1 = min(j0 + col_block, n)
            if k0 == 0:
                out[i0:i1, j0:j1] = 0
            a_packed = np.empty(((i1 - i0 + mr - 1) // mr, KC, mr), out.dtype)
            for p in range(a_packed.shape[0]):
                _pack_a(a, trans_a, i0 + p * mr, i1, k0, kc, a_packed[p])
            for q in range(j0 // nr, (j1 + nr - 1) // nr):
                for p in range(a_packed.shape[0]):
                    i = i0 + p * mr
                    _micro_kernel(a_packed[p], b_packed[q], kc, out, i, q * nr,
                                  min(mr, i1 - i), min(nr, n - q * nr))
            if k0 + KC >= depth and (has_bias or activation != 0):
                _bias_activation(out, i0, i1, j0, j1, bias, has_bias, activation)


def _operand(x):
    """(array, transposed) with array C-contiguous and x == (array.T if transposed else array)."""
    if x.flags.c_contiguous:
        return x, False
    if x.flags.f_contiguous:
        return x.T, True
    return np.ascontiguousarray(x), False


def _cdiv(x, y):
    return -(-x // y)


def _blocks(m, n, mr, nr):
    """Task shape: row blocks (multiples of mr) of at most about MC rows, one per thread or
    more; columns are split (in multiples of nr) only when there are too few row blocks to
    keep the threads busy."""
    threads = numba.get_num_threads()
    row_block = mr * _cdiv(min(MC, _cdiv(m, threads)), mr)
    col_groups = min(_cdiv(n, nr), _cdiv(2 * threads, _cdiv(m, row_block)))
    col_block = nr * _cdiv(_cdiv(n, max(col_groups, 1)), nr)
    return row_block, col_block


def gemm(a, b, out=None, bias=None, activation=None, op="matmul"):
    """act(a @ b + bias) for checked 2-D float arrays of one dtype; any strides.

    `op` names the public function in error messages.
    """
    if activation not in S.ACTIVATION_CODES:
        raise ValueError(f"{op}: activation must be one of {list(S.ACTIVATION_CODES)}, "
                         f"got {activation!r}")
    m, n = a.shape[0], b.shape[1]
    if out is None:
        out = np.empty((m, n), a.dtype)
    else:
        check_out(out, (m, n), a.dtype, op, a, b)
    if bias is None:
        bias_array = np.empty(0, a.dtype)
    else:
        bias_array = np.ascontiguousarray(float_array(bias, op, "bias"))
        same_dtype(op, a=a, bias=bias_array)
        if bias_array.shape != (n,):
            raise ValueError(f"{op}: bias must have shape ({n},), got {bias_array.shape}")
    if m == 0 or n == 0:
        return out
    a_arr, trans_a = _operand(a)
    b_arr, trans_b = _operand(b)
    mr, nr = TILE_SHAPES[a.itemsize]
    _gemm(a_arr, trans_a, b_arr, trans_b, out, bias_array, bias is not None,
          S.ACTIVATION_CODES[activation], mr, nr, *_blocks(m, n, mr, nr))
    return out


def _check_pair(op, a, b, names, compatible):
    """Float arrays of one dtype, 2-D, of compatible shapes; else an error naming op and shapes."""
    a = float_array(a, op, names[0])
    b = float_array(b, op, names[1])
    same_dtype(op, **{names[0]: a, names[1]: b})
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"{op}: expected 2-D arrays, got {a.ndim}-D and {b.ndim}-D")
    if not compatible(a.shape, b.shape):
        raise ValueError(f"{op}: mat1 and mat2 shapes cannot be multiplied "
                         f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    return a, b


def matmul(a, b, out=None):
    """a @ b for 2-D float32/float64 arrays of one dtype, any strides."""
    a, b = _check_pair("matmul", a, b, ("a", "b"), lambda s, t: s[1] == t[0])
    return gemm(a, b, out, op="matmul")


def matmul_tn(a, g, out=None):
    """a.T @ g, reading a as stored (a: K x M, g: K x N; result M x N)."""
    a, g = _check_pair("matmul_tn", a, g, ("a", "g"), lambda s, t: s[0] == t[0])
    return gemm(a.T, g, out, op="matmul_tn")


def matmul_nt(g, b, out=None):
    """g @ b.T, reading b as stored (g: M x K, b: N x K; result M x N)."""
    g, b = _check_pair("matmul_nt", g, b, ("g", "b"), lambda s, t: s[1] == t[1])
    return gemm(g, b.T, out, op="matmul_nt")
