"""Elementwise operations: forward on numpy arrays, derivative right below it.

A derivative uses Python operators and ``ctx.math`` (numpy-named functions), so
the same formula runs on arrays or, under create_graph, on tensors.
Broadcasting is not handled here: the engine sums each gradient back to its
input's shape (see ``autodiff.autograd.function``). The activations run on the backend of
their array's device (``autodiff.backends``: numpy or a Numba kernel on the CPU, one fused
kernel on CUDA); under create_graph their derivative is the formula on tensors.
"""
import math
from numbers import Number as _Number

import numpy as np

from .. import backends
from ..backends import CPU
from ..autograd.function import Op
from ..cuda.devices import DeviceArray
from .promotion import common, common_all, to_float
from .derivative_math import sign

_ARRAYS = (np.ndarray, DeviceArray)


def _same_float_kind(a, b):
    """True in the common cases where numpy already computes in PyTorch's dtype (arrays of one
    dtype, or a float array and a Python float): ``common`` need not look. (Add, Sub and Mul
    test the first case inline before calling this: -15 bytecodes a call, seven a lecture step.)"""
    tb = type(b)
    return type(a) is np.ndarray and ((tb is np.ndarray and a.dtype is b.dtype)
                                      or (tb is float and a.dtype.kind == "f"))


class Add(Op):
    @staticmethod
    def forward(ctx, a, b):
        if (type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype is not b.dtype) \
                and not _same_float_kind(a, b):
            a, b = common(a, b, "add")
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Op):
    @staticmethod
    def forward(ctx, a, b):
        if (type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype is not b.dtype) \
                and not _same_float_kind(a, b):
            a, b = common(a, b, "sub")
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if (type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype is not b.dtype) \
                and not _same_float_kind(a, b):
            a, b = common(a, b, "mul")
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b = common(a, b, "div")
        if (a if isinstance(a, _ARRAYS) else b).dtype.kind not in "fc":
            a, b = to_float(a), to_float(b)     # true division of integers: the default float dtype
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)


class Pow(Op):
    @staticmethod
    def forward(ctx, a, b):
        ca, cb = common(a, b, "pow")
        out = ca ** cb
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        """b a^(b-1) and a^b log(a), with PyTorch's zeros where those read 0 * inf:
        at b == 0 for the base (so x**0, and x**1 twice, have finite derivatives at 0; with
        a tensor b only where a is 0 or NaN too, which keeps d/db of the base's gradient exact),
        and at a == 0 with b >= 0 for the exponent."""
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        dmath = ctx.math
        grad_a = grad_b = None
        if need_a:
            if isinstance(b, _Number):
                grad_a = grad * 0 if b == 0 else grad * b * a ** (b - 1)
            else:
                grad_a = grad * dmath.where((b == 0) & ((a == 0) | (a != a)), 0, b * a ** (b - 1))
        if need_b:
            if isinstance(a, _Number):      # a constant base: log(a) is a number
                if a == 0:
                    grad_b = grad * dmath.where(b >= 0, 0, out * -math.inf)
                else:
                    grad_b = grad * out * float(np.log(np.float64(a)))
            else:
                grad_b = grad * dmath.where((a == 0) & (b >= 0), 0, out * dmath.log(a))
        return grad_a, grad_b


class Neg(Op):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Abs(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * ctx.math.sign(x)      # (PyTorch's sign: 0 at NaN)


class Sign(Op):
    """-1, 0 or 1 (0 at NaN, as PyTorch); a zero gradient."""

    @staticmethod
    def forward(ctx, x):
        return x.copy() if x.dtype == np.bool_ else sign(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class Exp(Op):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * out


class Log(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / x


class Log1p(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x + 1)


class Sqrt(Op):
    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad / (out * 2)


class Rsqrt(Op):
    @staticmethod
    def forward(ctx, x):
        out = 1 / np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * (out * out * out) * -0.5


class Sin(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * ctx.math.cos(x)


class Cos(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -grad * ctx.math.sin(x)


class Tanh(Op):
    @staticmethod
    def forward(ctx, x):
        backend = CPU if type(x) is np.ndarray else backends.of(x)
        out = backend.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        backend = CPU if type(grad) is np.ndarray else backends.of(grad)
        if backend is not None:
            return backend.tanh_backward(grad, out)
        return grad * (1 - out * out)         # create_graph: recorded on tensors


class Sigmoid(Op):
    @staticmethod
    def forward(ctx, x):
        backend = CPU if type(x) is np.ndarray else backends.of(x)
        out = backend.sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        backend = CPU if type(grad) is np.ndarray else backends.of(grad)
        if backend is not None:
            return backend.sigmoid_backward(grad, out)
        return grad * out * (1 - out)


class Relu(Op):
    op_name = "relu"

    @staticmethod
    def forward(ctx, x):
        backend = CPU if type(x) is np.ndarray else backends.of(x)
        out = backend.relu(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        backend = CPU if type(grad) is np.ndarray else backends.of(grad)
        if backend is not None:
            return backend.relu_backward(grad, out)
        # create_graph: the gradient passes where out != 0, NaN included, and is selected, not
        # multiplied (an inf gradient where out == 0 gives 0), as in PyTorch
        return ctx.math.where(out != 0, grad, 0.0)


class LeakyRelu(Op):
    op_name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        backend = CPU if type(x) is np.ndarray else backends.of(x)
        return backend.leaky_relu(x, negative_slope)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        backend = CPU if type(grad) is np.ndarray else backends.of(grad)
        if backend is not None:
            return backend.leaky_relu_backward(grad, x, ctx.negative_slope)
        return ctx.math.where(x > 0, grad, grad * ctx.negative_slope)


class Hardtanh(Op):
    @staticmethod
    def forward(ctx, x, min_val, max_val):
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        backend = CPU if type(x) is np.ndarray else backends.of(x)
        return backend.hardtanh(x, min_val, max_val)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        lo, hi = ctx.bounds
        backend = CPU if type(grad) is np.ndarray else backends.of(grad)
        if backend is not None:
            return backend.hardtanh_backward(grad, x, lo, hi)
        return grad * ~((x <= lo) | (x >= hi))      # (NaN passes the gradient, as in PyTorch)


class Softplus(Op):
    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        backend = CPU if type(x) is np.ndarray else backends.of(x)
        return backend.softplus(x, beta, threshold)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        backend = CPU if type(grad) is np.ndarray else backends.of(grad)
        if backend is not None:
            return backend.softplus_backward(grad, x, ctx.beta, ctx.threshold)
        scaled = x * ctx.beta
        return grad * ctx.math.where(scaled > ctx.threshold, 1.0, ctx.math.sigmoid(scaled))   # linear above threshold


class Clamp(Op):
    """min(max(x, lo), hi), as PyTorch: a bound above the other wins (the result is hi),
    and the gradient goes to whichever of x, lo, hi the result is (bounds may be tensors)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        if hi is None:                  # (np.clip costs ~1 us more on small arrays)
            if type(lo) is not int or type(x) is not np.ndarray or x.dtype.kind != "f":
                x, lo = common(x, lo, "clamp")     # (clamp(min=0) of a float array needs no cast)
            return np.maximum(x, lo)
        if lo is None:
            x, hi = common(x, hi, "clamp")
            return np.minimum(x, hi)
        (x, lo, hi), _ = common_all(x, lo, hi, op="clamp")
        return np.minimum(np.maximum(x, lo), hi)

    @staticmethod
    def backward(ctx, grad):
        x, lo, hi = ctx.saved_tensors
        if hi is None and (type(lo) is int or type(lo) is float):     # (the common case: a number below)
            return grad * (x >= lo)
        need_x, need_lo, need_hi = ctx.needs_input_grad
        if hi is None:
            return (grad * (x >= lo) if need_x else None), (grad * (x < lo) if need_lo else None), None
        if lo is None:
            return (grad * (x <= hi) if need_x else None), None, (grad * (x > hi) if need_hi else None)
        grad_x = grad * ((x >= lo) & (x <= hi)) if need_x else None
        grad_lo = grad * ((x < lo) & (lo <= hi)) if need_lo else None
        grad_hi = grad * ((x > hi) | (lo > hi)) if need_hi else None
        return grad_x, grad_lo, grad_hi


class Maximum(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b = common(a, b, "maximum")
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        """Ties split the gradient evenly; a NaN (which wins) passes the whole of it to both."""
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        tie = (a == b) * 0.5
        return (grad * (1 - (a < b) - tie) if need_a else None), (grad * (1 - (a > b) - tie) if need_b else None)


class Minimum(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b = common(a, b, "minimum")
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        tie = (a == b) * 0.5
        return (grad * (1 - (a > b) - tie) if need_a else None), (grad * (1 - (a < b) - tie) if need_b else None)


class Where(Op):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        a, b = common(a, b, "where")
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        condition, = ctx.saved_tensors
        _, need_a, need_b = ctx.needs_input_grad
        grad_a = ctx.math.where(condition, grad, 0) if need_a else None
        grad_b = ctx.math.where(condition, 0, grad) if need_b else None
        return None, grad_a, grad_b


class Cast(Op):
    """Change of floating dtype; the engine casts the gradient back."""

    op_name = "to"

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


# ---------------------------------------------------------------------- more math (PyTorch parity)
LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI, SQRT_PI_OVER_2 = 2 / math.sqrt(math.pi), math.sqrt(math.pi) / 2


class Log2(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * LN2)


class Log10(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * LN10)


class Exp2(Op):
    @staticmethod
    def forward(ctx, x):
        out = np.exp2(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * out * LN2


class Expm1(Op):
    @staticmethod
    def forward(ctx, x):
        out = np.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * (out + 1)


class Reciprocal(Op):
    @staticmethod
    def forward(ctx, x):
        out = np.reciprocal(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return -grad * out * out


class Rounding(Op):
    """floor, ceil, trunc and round (to ``decimals``): piecewise constant, so a zero gradient
    (as PyTorch's); integer tensors come back unchanged."""

    op_name = "round"
    FUNCTIONS = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc}

    @staticmethod
    def forward(ctx, x, kind, decimals):
        if x.dtype.kind not in "fc":
            return x.copy()
        if kind == "round":
            if decimals == 0:
                return np.rint(x)
            scale = x.dtype.type(10.0 ** abs(decimals))   # as PyTorch: round(x * 10^d) / 10^d
            return np.rint(x * scale) / scale if decimals > 0 else np.rint(x / scale) * scale
        return Rounding.FUNCTIONS[kind](x)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, None, None


class Frac(Op):
    @staticmethod
    def forward(ctx, x):
        return x - np.trunc(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Fmod(Op):
    """a - trunc(a / b) * b, with the sign of a (C's fmod); d/db = -trunc(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b = common(a, b, "fmod")
        _check_integer_divisor("fmod", a, b)
        return np.fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad if need_a else None), (-grad * ctx.math.trunc(a / b) if need_b else None)


class Remainder(Op):
    """a - floor(a / b) * b, with the sign of b (Python's %); d/db = -floor(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = common(a, b, "remainder")
        _check_integer_divisor("remainder", a, b)
        quotient, out = np.divmod(a, b)       # (Python's floor division: -1 // inf is -1)
        ctx.save_for_backward(quotient)       # (piecewise constant: a constant under create_graph too)
        return out

    @staticmethod
    def backward(ctx, grad):
        quotient, = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad if need_a else None), (-grad * quotient if need_b else None)


def _check_integer_divisor(op, a, b):
    """Integer division by zero raises, as in PyTorch (numpy would return 0 with a warning)."""
    if np.asarray(b).dtype.kind in "iub" and not np.all(b):
        raise ZeroDivisionError(f"{op}: integer division by zero")


def erf(x):
    from .nn import erf as _erf       # scipy's when importable, else math.erf per element
    return _erf(x)


def erfinv(x):
    """The inverse error function: scipy's when importable, else ``_erfinv_newton``."""
    try:
        from scipy.special import erfinv as scipy_erfinv
    except ImportError:                # pragma: no cover - depends on the environment
        return _erfinv_newton(np.asarray(x))
    return scipy_erfinv(x)


def _erfinv_newton(x):
    """erfinv by Newton's method on erf from a first guess (the series' first term in the
    middle, the tail's asymptote near +-1): to ~1e-11 on (-1, 1) in float64."""
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1 - x64) * (1 + x64))
        y = np.where(w < 5, x64 * SQRT_PI_OVER_2, np.sign(x64) * np.sqrt(w - 1.0))
    with np.errstate(all="ignore"):
        for _ in range(60):
            step = (erf(y) - x64) / (TWO_OVER_SQRT_PI * np.exp(-y * y))
            y = np.where(np.isfinite(step), y - step, y)
        y = np.where(x64 == 1, np.inf, np.where(x64 == -1, -np.inf, np.where(np.abs(x64) > 1, np.nan, y)))
    return y.astype(x.dtype)


class Erf(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * TWO_OVER_SQRT_PI * ctx.math.exp(-(x * x))


class Erfinv(Op):
    @staticmethod
    def forward(ctx, x):
        out = erfinv(x).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * SQRT_PI_OVER_2 * ctx.math.exp(out * out)


class Tan(Op):
    @staticmethod
    def forward(ctx, x):
        out = np.tan(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * (out * out + 1)


class Asin(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (1 - x * x) ** 0.5


class Acos(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -grad / (1 - x * x) ** 0.5


class Atan(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * x + 1)


class Atan2(Op):
    """The angle of the point (b, a): d/da = b / (a² + b²), d/db = -a / (a² + b²)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b = common(a, b, "atan2")
        return np.arctan2(to_float(a), to_float(b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        norm = a * a + b * b
        scale = ctx.math.where(norm == 0, 0, grad / norm)    # (0 at the origin, as PyTorch)
        return (scale * b if need_a else None), (-scale * a if need_b else None)


class Sinh(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * ctx.math.cosh(x)


class Cosh(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * ctx.math.sinh(x)


class Asinh(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * x + 1) ** 0.5


class Acosh(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * x - 1) ** 0.5


class Atanh(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (1 - x * x)


class Lerp(Op):
    """start + weight * (end - start), computed from the nearer end as PyTorch does
    (exact at weight 0 and 1); ``weight`` a number or a tensor."""

    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        (start, end, weight), _ = common_all(start, end, weight, op="lerp")
        diff = end - start
        near_start = np.abs(weight) < 0.5
        return np.where(near_start, start + weight * diff, end - diff * (1 - weight))

    @staticmethod
    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        need_start, need_end, need_weight = ctx.needs_input_grad
        return ((grad * (1 - weight) if need_start else None), (grad * weight if need_end else None),
                (grad * (end - start) if need_weight else None))


class NanToNum(Op):
    """NaN, +inf and -inf replaced by numbers; the gradient passes where x was finite."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(np.isfinite(x))
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        finite, = ctx.saved_tensors
        return grad * finite, None, None, None


class RoundedDiv(Op):
    """a / b rounded toward -inf ("floor": Python's //) or toward 0 ("trunc"); integers stay
    integers. Piecewise constant: a zero gradient, as PyTorch's."""

    op_name = "div"

    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        a, b = common(a, b, "div")
        _check_integer_divisor("div", a, b)
        if rounding_mode == "floor":
            return np.floor_divide(a, b)
        if (a if isinstance(a, _ARRAYS) else b).dtype.kind in "fc":
            return np.trunc(a / b)
        quotient, remainder = np.divmod(a, b)        # integers: floor, then toward 0 where signs differ
        return quotient + ((remainder != 0) & ((quotient < 0))).astype(quotient.dtype)

    @staticmethod
    def backward(ctx, grad):
        zero = grad * 0
        return zero, zero, None
