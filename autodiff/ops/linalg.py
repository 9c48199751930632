"""Matrix products: matmul (1-D, 2-D, batched, broadcast-batched) and the fused linear layer."""
import numpy as np

from ..autograd.function import Op
from .. import backends
from ..backends import CPU
from .promotion import check_same_dtype


def check_matmul_shapes(op, a_shape, b_shape):
    """Raise the error PyTorch users expect, naming both shapes, before numpy does."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"{op}: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(a_shape)} and {tuple(b_shape)}")
    inner_a = a_shape[-1]
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if inner_a != inner_b:
        raise ValueError(f"{op}: cannot multiply {tuple(a_shape)} by {tuple(b_shape)}: "
                         f"inner sizes {inner_a} and {inner_b} differ")
    if len(a_shape) > 2 and len(b_shape) > 2:
        try:
            np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
        except ValueError:
            raise ValueError(f"{op}: batch dimensions of {tuple(a_shape)} and {tuple(b_shape)} "
                             "cannot be broadcast together") from None


class MatMul(Op):
    op_name = "matmul"

    @staticmethod
    def forward(ctx, a, b):
        if a.dtype is not b.dtype and a.dtype != b.dtype:
            check_same_dtype("matmul", a, b)       # (PyTorch never promotes a matrix product)
        ctx.save_for_backward(a, b)
        try:
            if a.ndim == 2 and b.ndim == 2:
                return (CPU if type(a) is np.ndarray else backends.of(a)).matmul(a, b)
            return np.matmul(a, b)
        except ValueError:
            check_matmul_shapes("matmul", a.shape, b.shape)   # says which shapes, and why
            raise

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:          # dot product
            return (grad * b if need_a else None), (grad * a if need_b else None)
        if a.ndim == 1:                          # (k,) @ (..., k, m) -> (..., m)
            dmath = ctx.math
            grad_a = dmath.squeeze(dmath.expand_dims(grad, -2) @ b.mT, -2) if need_a else None
            grad_b = dmath.expand_dims(a, -1) * dmath.expand_dims(grad, -2) if need_b else None
            return grad_a, grad_b
        if b.ndim == 1:                          # (..., n, k) @ (k,) -> (..., n)
            dmath = ctx.math
            grad_a = dmath.expand_dims(grad, -1) * b if need_a else None
            grad_b = dmath.squeeze(a.mT @ dmath.expand_dims(grad, -1), -1) if need_b else None
            return grad_a, grad_b
        if a.ndim == 2 and b.ndim == 2:
            backend = CPU if type(grad) is np.ndarray else backends.of(grad)
            if backend is not None:
                return (backend.matmul_nt(grad, b) if need_a else None), \
                    (backend.matmul_tn(a, grad) if need_b else None)
        # batch dimensions that were broadcast are summed back by the engine
        return (grad @ b.mT if need_a else None), (a.mT @ grad if need_b else None)


class Linear(Op):
    """``x @ weight.T + bias`` as one node: the layer every MLP is made of."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: cannot multiply input {tuple(x.shape)} by weight.T of "
                             f"weight {tuple(weight.shape)}: expected input features "
                             f"{weight.shape[1] if weight.ndim == 2 else '?'}, got {x.shape[-1] if x.ndim else 'a scalar'}")
        dtype = weight.dtype                 # (one dtype is one object: `is` decides at once)
        if x.dtype is not dtype or (bias is not None and bias.dtype is not dtype):
            check_same_dtype("linear", x, weight)
            if bias is not None:
                check_same_dtype("linear", bias, weight)
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias of shape {tuple(bias.shape)} does not match weight "
                             f"{tuple(weight.shape)}: expected ({weight.shape[0]},)")
        ctx.save_for_backward(x, weight)
        backend = CPU if type(x) is np.ndarray else backends.of(x)
        if x.ndim == 2:
            return backend.linear(x, weight, bias)
        if x.ndim == 1:
            return backend.linear(x.reshape(1, -1), weight, bias).reshape(weight.shape[0])
        # one (N*L, in) product: numpy's matmul runs one GEMM per leading index (2x slower)
        out = backend.linear(x.reshape(-1, x.shape[-1]), weight, bias)
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        backend = CPU if type(grad) is np.ndarray else backends.of(grad)
        if backend is not None:
            if grad.ndim == 2:
                return backend.linear_backward(grad, x, weight, need_x, need_w, need_b)
            grad_x, grad_w, grad_b = backend.linear_backward(
                grad.reshape(-1, grad.shape[-1]), x.reshape(-1, x.shape[-1]), weight, need_x, need_w,
                need_b)
            return (None if grad_x is None else grad_x.reshape(tuple(x.shape))), grad_w, grad_b
        # create_graph: the same products, recorded on tensors
        grad_x = None
        if need_x:
            grad_x = grad @ weight if grad.ndim <= 2 else \
                (grad.reshape(-1, grad.shape[-1]) @ weight).reshape(tuple(x.shape))
        grad_w = None
        if need_w:
            if x.ndim == 2:
                grad_w = grad.mT @ x
            else:
                grad_w = grad.reshape(-1, grad.shape[-1]).mT @ x.reshape(-1, x.shape[-1])
        grad_b = None
        if need_b:   # summed over every row (the engine would do it too, more slowly)
            grad_b = ctx.math.sum(grad if grad.ndim == 2 else grad.reshape(-1, grad.shape[-1]), 0)
        return grad_x, grad_w, grad_b


# ---------------------------------------------------------------------- einsum
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse_einsum(equation, shapes):
    """``equation`` in explicit form with letters only: ([subscripts of each operand], output).

    An ellipsis becomes letters of its own; without ``->`` the output is the ellipsis
    followed by the letters used once, in alphabetical order (numpy's and PyTorch's rule).
    """
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} names {len(ins)} operands, "
                         f"but {len(shapes)} were given")
    free = [c for c in _LETTERS if c not in eq]
    widths = [len(shape) - (len(s) - 3) for s, shape in zip(ins, shapes) if "..." in s]
    ellipsis = "".join(free[:max(widths, default=0)])
    subscripts = []
    for s, shape in zip(ins, shapes):
        if "..." in s:
            n = len(shape) - (len(s) - 3)
            s = s.replace("...", ellipsis[len(ellipsis) - n:] if n else "")
        if len(s) != len(shape) or not all(c in _LETTERS for c in s):
            raise ValueError(f"einsum: subscripts {s!r} do not fit an operand of shape {tuple(shape)} "
                             f"in {equation!r}")
        subscripts.append(s)
    if arrow:
        out = out.replace("...", ellipsis)
    else:
        used = "".join(subscripts)
        out = ellipsis + "".join(sorted(c for c in set(used) if used.count(c) == 1 and c not in ellipsis))
    return subscripts, out


def einsum_gradient_spec(subscripts, out, i, sizes):
    """How to compute operand ``i``'s gradient with one more einsum:
    (equation, [extra constant operands]); the equation takes the output gradient, the
    other operands, then the constants. A letter repeated in operand i (a diagonal) pairs
    with a fresh letter through an identity matrix; a letter summed only in operand i
    comes from a vector of ones."""
    target = subscripts[i]
    others = [s for j, s in enumerate(subscripts) if j != i]
    free = iter(c for c in _LETTERS if c not in "".join(subscripts) + out)
    seen, letters, extra_specs, constants = [], [], [], []
    for c in target:
        if c in seen:
            fresh = next(free)
            letters.append(fresh)
            extra_specs.append(c + fresh)
            constants.append(np.eye(sizes[c]))
        else:
            seen.append(c)
            letters.append(c)
    available = set(out + "".join(others))
    for c in seen:
        if c not in available:
            extra_specs.append(c)
            constants.append(np.ones(sizes[c]))
    equation = ",".join([out] + others + extra_specs) + "->" + "".join(letters)
    return equation, constants


class Einsum(Op):
    """Einstein summation; each operand's gradient is another einsum (of the output's
    gradient with the other operands), so derivatives of any order follow."""

    array_backward = False

    @staticmethod
    def forward(ctx, equation, *operands):
        subscripts, out = parse_einsum(equation, [o.shape for o in operands])
        sizes = {}
        for s, o in zip(subscripts, operands):
            for c, n in zip(s, o.shape):
                if sizes.setdefault(c, n) != n:
                    raise ValueError(f"einsum: subscript {c!r} has size {n} in one operand and "
                                     f"{sizes[c]} in another ({equation!r}, shapes "
                                     f"{', '.join(str(tuple(o.shape)) for o in operands)})")
        ctx.subscripts, ctx.out, ctx.sizes = subscripts, out, sizes
        ctx.save_for_backward(*operands)
        return np.einsum(",".join(subscripts) + "->" + out, *operands, optimize=len(operands) > 2)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        grads = [None]
        for i, need in enumerate(ctx.needs_input_grad[1:]):
            if not need:
                grads.append(None)
                continue
            equation, constants = einsum_gradient_spec(ctx.subscripts, ctx.out, i, ctx.sizes)
            others = [o for j, o in enumerate(operands) if j != i]
            constants = [c.astype(grad.dtype) for c in constants]
            grads.append(Einsum.apply(equation, grad, *others, *constants))
        return tuple(grads)


# ---------------------------------------------------------------------- vector norms
class Norm(Op):
    """The p-norm over ``dims`` (None: every element): p = 2 (and 'fro'), inf, -inf, 0, or any
    other number. At a zero norm the gradient is 0, as in PyTorch; ties of the inf-norm
    share the gradient evenly."""

    array_backward = False

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        ctx.p, ctx.dims, ctx.keepdim, ctx.shape = p, dims, keepdim, x.shape
        a = np.abs(x)
        if p == 2:
            out = np.sqrt(np.add.reduce(a * a, axis=dims, keepdims=keepdim))
        elif p == np.inf:
            out = a.max(axis=dims, keepdims=keepdim, initial=0)
        elif p == -np.inf:
            out = a.min(axis=dims, keepdims=keepdim)
        elif p == 0:
            out = np.add.reduce(a != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
        elif p == 1:
            out = np.add.reduce(a, axis=dims, keepdims=keepdim)
        else:
            out = np.add.reduce(a ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
        out = np.asarray(out, dtype=x.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        from ..tensor import Tensor, where
        x, out = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return Tensor._wrap(np.zeros_like(x._data))
        if not ctx.keepdim:
            kept = tuple(1 if ctx.dims is None or i in ctx.dims else n for i, n in enumerate(ctx.shape))
            grad, out = grad.reshape(kept), out.reshape(kept)
        sign = x.sign()
        if p == 1:
            return grad * sign
        if p in (np.inf, -np.inf):
            hits = (x.abs() == out).to(x.dtype)
            count = hits.sum(ctx.dims, keepdim=True)
            return grad * sign * hits / count
        safe = where(out == 0, 1.0, out)
        if p == 2:
            return grad * x / safe
        scale = x.abs() ** (p - 1) / safe ** (p - 1)
        return grad * sign * where(x == 0, 0.0, scale)
