"""Shared-memory tiled matrix product.

Each block computes a TILE x TILE tile of the result. It walks the shared dimension one
tile at a time: every thread loads one element of A's tile and one of B's into shared
memory (zero past the edges, so sizes need not be multiples of TILE), the block
synchronises, each thread accumulates its dot-product slice, and the block synchronises
again before the next load overwrites the tiles.
"""

from numba import cuda

from .._checks import same_dtype
from ._common import TILE, check_out, device_float, launch, transposed


@cuda.jit
def _matmul_tiled(a, b, bias, has_bias, out):
    """out = a @ b (+ bias[col] on every row when has_bias: the linear layer in one launch)."""
    tile_a = cuda.shared.array((TILE, TILE), dtype=a.dtype)
    tile_b = cuda.shared.array((TILE, TILE), dtype=b.dtype)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    m, depth = a.shape
    n = b.shape[1]
    zero = a.dtype.type(0)
    acc = zero
    for k0 in range(0, depth, TILE):
        tile_a[ty, tx] = a[row, k0 + tx] if row < m and k0 + tx < depth else zero
        tile_b[ty, tx] = b[k0 + ty, col] if k0 + ty < depth and col < n else zero
        cuda.syncthreads()  # both tiles loaded
        for k in range(TILE):
            acc += tile_a[ty, k] * tile_b[k, tx]
        cuda.syncthreads()  # all threads done reading before the next load
    if row < m and col < n:
        out[row, col] = acc + bias[col] if has_bias else acc


def _product(op, names, a, b, trans_a, trans_b, out, bias=None):
    """Check, then launch the tiled kernel on (a.T if trans_a else a) @ (b.T if trans_b else b);
    transposes are views, so nothing is copied."""
    device_float(a, op, names[0])
    device_float(b, op, names[1])
    same_dtype(op, **{names[0]: a, names[1]: b})
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"{op}: expected 2-D arrays, got {a.ndim}-D and {b.ndim}-D")
    left = transposed(a) if trans_a else a
    right = transposed(b) if trans_b else b
    if left.shape[1] != right.shape[0]:
        raise ValueError(f"{op}: mat1 and mat2 shapes cannot be multiplied "
                         f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    m, n = left.shape[0], right.shape[1]
    if bias is not None:
        device_float(bias, op, "bias")
        same_dtype(op, **{names[0]: a, "bias": bias})
        if bias.shape != (n,):
            raise ValueError(f"{op}: bias must have shape ({n},), got {bias.shape}")
    out = check_out(op, out, (m, n), a.dtype)
    if m and n:
        grid = (-(-n // TILE), -(-m // TILE))
        launch(_matmul_tiled, grid, (TILE, TILE), left, right,
               right[0] if bias is None else bias, bias is not None, out)  # (a placeholder row)
    return out


def matmul(a, b, out=None):
    """a @ b for 2-D float device arrays of one dtype."""
    return _product("matmul", ("a", "b"), a, b, False, False, out)


def matmul_tn(a, g, out=None):
    """a.T @ g (a: K x M, g: K x N), reading a through a transposed view."""
    return _product("matmul_tn", ("a", "g"), a, g, True, False, out)


def matmul_nt(g, b, out=None, bias=None):
    """g @ b.T (g: M x K, b: N x K), reading b through a transposed view; plus ``bias`` (N,) on
    every row when given (x @ w.T + b, PyTorch's linear layer, in one launch)."""
    return _product("matmul_nt", ("g", "b"), g, b, False, True, out, bias)
