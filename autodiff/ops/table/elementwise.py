"""Op table rows: elementwise ops (see ``autodiff.ops.table``).

Rows with integer or bool ``dtypes`` check PyTorch's result dtypes (true division and float
math of integers give the default float dtype); samples that mix a float tensor with an
integer one, or an integer tensor with a Python float, check the promotion rule
(``autodiff/ops/promotion.py``).
"""
import numpy as np

from . import SPECIALS, OpInfo, Sample, arr, binary_samples, unary_samples

INTS = ("int64", "int32")
ALL_REAL = ("float32", "float64", "int64", "int32")


def _is_autodiff(lib):
    return lib.__name__ == "autodiff"


def functional(name, *args):
    """Call ``name`` as the Tensor method, the autodiff function and ``nn.functional`` (autodiff),
    and as ``torch.nn.functional.<name>`` three times (PyTorch has no method of that name)."""
    def call(lib, x):
        if _is_autodiff(lib):
            return getattr(x, name)(*args), getattr(lib, name)(x, *args), getattr(lib.nn.functional, name)(x, *args)
        return tuple(getattr(lib.nn.functional, name)(x, *args) for _ in range(3))
    return call


def mixed_samples(lo=-2.0, hi=2.0, avoid=(), scalars=True):
    """A float tensor with an int64 one (each side), and an int64 tensor with a Python float
    and a Python int (when ``scalars``): the promotion rule's cases that involve no other
    float dtype."""
    def samples(rng):
        ints = np.array([1, 2, 3], dtype=np.int64)
        out = [Sample(arr(rng, (2, 3), lo, hi, avoid), ints),
               Sample(ints, arr(rng, (2, 3), lo, hi, avoid), kind="mixed")]
        if scalars:
            out += [Sample(ints, 0.5, kind="mixed"), Sample(ints, 2, kind="mixed")]
        return out
    return samples


def joined(*builders):
    """The samples of several builders, one after another."""
    return lambda rng: [s for b in builders for s in b(rng)]


def bool_samples(rng):
    a, b = rng.random((2, 8)) < 0.5
    return [Sample(a, b, kind="mixed"), Sample(a[:3], b[:1], kind="mixed")]


def comparison(name):
    return OpInfo(name, samples=joined(binary_samples(), mixed_samples()), grad=False, dtypes=ALL_REAL)


def _clamp_samples(rng):
    x = arr(rng, (2, 3), avoid=(-0.5, 0.7))
    return [
        Sample(x, -0.5, 0.7), Sample(x, min=-0.5), Sample(x, max=0.7), Sample(x, 0.7, -0.5),
        Sample(x, arr(rng, (2, 3), -1, 0, avoid=x.ravel()), arr(rng, (3,), 0, 1)),   # tensor bounds
        Sample(x, min=arr(rng, (3,), -1, 1, avoid=x.ravel())),
        Sample(x, max=arr(rng, (2, 1), -1, 1, avoid=x.ravel())),
        Sample(arr(rng, (3, 4)), -0.5, 0.7, kind="noncontiguous"),
        Sample(np.zeros((0, 3)), -1.0, 1.0, kind="zero"),
        Sample(SPECIALS.copy(), -0.5, 0.7, kind="special"),
        Sample(np.array([1, 2, 3]), 0.5, 2.5, kind="mixed"),        # int clamped by floats: float32
        Sample(np.array([1, 2, 3]), min=2, kind="mixed"),
    ]


def _where_samples(rng):
    cond = rng.random((2, 3)) < 0.5
    return [
        Sample(cond, arr(rng, (2, 3)), arr(rng, (2, 3))),
        Sample(cond, arr(rng, (3,)), arr(rng, (2, 1))),
        Sample(cond, arr(rng, (2, 3)), 0.5),
        Sample(cond, arr(rng, (2, 3)), arr(rng, (2, 3)), kind="noncontiguous"),
        Sample(np.zeros((0, 3), bool), np.zeros((0, 3)), 1.0, kind="zero"),
        Sample(cond, np.arange(6).reshape(2, 3), 0.5, kind="mixed"),           # int, 0.5: float32
        Sample(cond, np.arange(6).reshape(2, 3), arr(rng, (2, 3))),
    ]


def _lerp_samples(rng):
    return [
        Sample(arr(rng, (2, 3)), arr(rng, (2, 3)), 0.3),
        Sample(arr(rng, (2, 3)), arr(rng, (2, 3)), 0.8),
        Sample(arr(rng, (2, 3)), arr(rng, (3,)), arr(rng, (2, 3), -0.5, 1.5)),
        Sample(arr(rng, (3, 4)), arr(rng, (3, 4)), arr(rng, (3, 4)), kind="noncontiguous"),
        Sample(np.zeros((0, 3)), np.ones((3,)), 0.5, kind="zero"),
        Sample(SPECIALS.copy(), np.ones(8), 0.25, kind="special"),
    ]


def _isclose_samples(rng):
    a = arr(rng, (2, 4))
    b = a + rng.choice([0.0, 1e-9, 1e-6, 1e-3], size=a.shape)
    return [Sample(a, b), Sample(a, b, rtol=1e-3, atol=0.0), Sample(a, a[0]),
            Sample(SPECIALS.copy(), SPECIALS.copy(), kind="special"),
            Sample(SPECIALS.copy(), SPECIALS.copy(), equal_nan=True, kind="special")]


def _nan_to_num_samples(rng):
    return [Sample(arr(rng, (2, 3))), Sample(SPECIALS.copy(), kind="special"),
            Sample(SPECIALS.copy(), nan=1.5, posinf=9.0, neginf=-9.0, kind="special"),
            Sample(SPECIALS.copy(), 2.0, kind="special"), Sample(np.zeros((0, 3)), kind="zero")]


def _round_samples(rng):
    halves = (-1.5, -0.5, 0.5, 1.5)
    return [*unary_samples(avoid=halves)(rng),
            Sample(arr(rng, (2, 3), -20, 20, avoid=np.arange(-19.75, 20, 0.5)), decimals=0),
            Sample(np.array([0.125, 2.5, -0.5, 1.05, 3.14159, 123.456]), decimals=2, kind="special"),
            Sample(np.array([15.0, 25.0, -1234.5, 0.4]), decimals=-1, kind="special")]


def _shift_samples(rng):
    a = rng.integers(-40, 40, (2, 3))
    return [Sample(a, rng.integers(0, 5, (2, 3)), kind="mixed"), Sample(a, 3, kind="mixed"),
            Sample(a.astype(np.int32), np.int64(2) * np.ones(3, np.int64), kind="mixed")]


def _bitwise(name, op):
    """``name`` as function, method and Python operator ``op`` (None: no operator)."""
    def call(lib, a, b):
        out = [getattr(lib, name)(a, b), getattr(a, name)(b)]
        if op is not None:
            out.append(op(a, b))
        return tuple(out)
    return OpInfo(name, call=call, samples=joined(binary_samples(specials=False, scalars=False), bool_samples),
                  grad=False, dtypes=INTS + ("bool",), inplace=True)


def _rounded_div_samples(rng):
    return (binary_samples(-3, 3, 0.5, 2.0, avoid=(0,), specials=False)(rng) + mixed_samples(0.5, 2.0)(rng)
            + [Sample(np.array([-7, 7, -6, 5]), np.array([2, -2, 4, 5]), kind="mixed")])


def _operator(fn):
    return lambda lib, a, b: fn(a, b)


ROWS = [
    # ---- arithmetic
    OpInfo("add", inplace=True, samples=joined(binary_samples(), mixed_samples()), dtypes=ALL_REAL + ("bool",)),
    OpInfo("sub", inplace=True, samples=joined(binary_samples(), mixed_samples()), dtypes=ALL_REAL, aliases=("subtract",)),
    OpInfo("mul", inplace=True, samples=joined(binary_samples(), mixed_samples()), dtypes=ALL_REAL + ("bool",),
           aliases=("multiply",)),
    OpInfo("div", inplace=True, samples=joined(binary_samples(avoid=(0,)), mixed_samples(avoid=(0,))), dtypes=ALL_REAL,
           aliases=("divide", "true_divide")),
    OpInfo("pow", inplace=True, samples=joined(binary_samples(0.5, 2.0, -2.0, 2.0),
                                 lambda rng: [Sample(np.array([0.0, 0.0, 2.0]), 0.0, kind="special"),
                                              Sample(np.array([0.0, 1.5]), np.array([0.0, 2.0]), kind="special"),
                                              Sample(np.array([1, 2, 3]), 0.5, kind="mixed"),
                                              Sample(np.array([1, 2, 3]), 2, kind="mixed")])),
    OpInfo("operators", call=lambda lib, a, b: (a + b, a - b, a * b, a / b, b - a, b / a, -a),
           samples=joined(binary_samples(avoid=(0,)), mixed_samples(avoid=(0,))), method=False, function=False,
           notes="+ - * / and unary - as Python operators, both ways round"),
    OpInfo("neg", inplace=True, samples=unary_samples(), dtypes=ALL_REAL, aliases=("negative",)),
    OpInfo("abs", inplace=True, aliases=("absolute",), samples=unary_samples(avoid=(0,)), dtypes=ALL_REAL),
    OpInfo("sign", inplace=True, samples=unary_samples(), dtypes=ALL_REAL + ("bool",)),
    OpInfo("square", inplace=True, samples=unary_samples(), dtypes=ALL_REAL + ("bool",)),
    OpInfo("reciprocal", inplace=True, samples=unary_samples(avoid=(0,)), dtypes=ALL_REAL),
    OpInfo("fmod", inplace=True, samples=joined(binary_samples(-3, 3, 0.5, 2.0), mixed_samples(0.5, 2.0)),
           notes="the remainder of trunc division: sign of the dividend"),
    OpInfo("remainder", inplace=True, samples=joined(binary_samples(-3, 3, 0.5, 2.0), mixed_samples(0.5, 2.0)),
           notes="the remainder of floor division: sign of the divisor"),
    OpInfo("floor_divide", inplace=True, call=lambda lib, a, b: (lib.floor_divide(a, b), a.floor_divide(b), a // b),
           samples=lambda rng: _rounded_div_samples(rng), grad=False, dtypes=ALL_REAL,
           notes="PyTorch refuses to differentiate floor_divide; autodiff gives it div(rounding_mode)'s zero gradient"),
    OpInfo("div_rounding_mode", method=False, function=False,
           call=lambda lib, a, b: (lib.div(a, b, rounding_mode="floor"), a.div(b, rounding_mode="trunc"),
                                   lib.divide(a, b, rounding_mode="trunc"), a.divide(b, rounding_mode="floor")),
           samples=lambda rng: _rounded_div_samples(rng), dtypes=ALL_REAL,
           notes="div's rounding modes: the quotient is piecewise constant, a zero gradient"),
    OpInfo("modulo", call=_operator(lambda a, b: a % b), samples=binary_samples(-3, 3, 0.5, 2.0),
           method=False, function=False, notes="the % operator: remainder"),
    OpInfo("lerp", inplace=True, samples=_lerp_samples),
    # ---- exponentials, logarithms, powers
    OpInfo("exp", inplace=True, samples=unary_samples(-3, 3), dtypes=ALL_REAL),
    OpInfo("exp2", inplace=True, samples=unary_samples(-3, 3), dtypes=ALL_REAL),
    OpInfo("expm1", inplace=True, samples=unary_samples(-3, 3), dtypes=ALL_REAL),
    OpInfo("log", inplace=True, samples=unary_samples(0.1, 3), dtypes=ALL_REAL),
    OpInfo("log2", inplace=True, samples=unary_samples(0.1, 3), dtypes=ALL_REAL),
    OpInfo("log10", inplace=True, samples=unary_samples(0.1, 3), dtypes=ALL_REAL),
    OpInfo("log1p", inplace=True, samples=unary_samples(-0.9, 3), dtypes=ALL_REAL),
    OpInfo("sqrt", inplace=True, samples=unary_samples(0.1, 3), dtypes=ALL_REAL),
    OpInfo("rsqrt", inplace=True, samples=unary_samples(0.1, 3), dtypes=ALL_REAL),
    # ---- trigonometric and hyperbolic
    OpInfo("sin", inplace=True, samples=unary_samples(-3, 3), dtypes=ALL_REAL),
    OpInfo("cos", inplace=True, samples=unary_samples(-3, 3), dtypes=ALL_REAL),
    OpInfo("tan", inplace=True, samples=unary_samples(-1.2, 1.2), dtypes=ALL_REAL),
    OpInfo("asin", inplace=True, samples=unary_samples(-0.9, 0.9), aliases=("arcsin",)),
    OpInfo("acos", inplace=True, samples=unary_samples(-0.9, 0.9), aliases=("arccos",)),
    OpInfo("atan", inplace=True, samples=unary_samples(-3, 3), dtypes=ALL_REAL, aliases=("arctan",)),
    OpInfo("atan2", inplace=True, samples=joined(binary_samples(avoid=(0,), scalars=False), mixed_samples(avoid=(0,), scalars=False)),
           dtypes=ALL_REAL,
           aliases=("arctan2",)),
    OpInfo("sinh", inplace=True, samples=unary_samples(-3, 3), dtypes=ALL_REAL),
    OpInfo("cosh", inplace=True, samples=unary_samples(-3, 3), dtypes=ALL_REAL),
    OpInfo("tanh", inplace=True, samples=unary_samples(-3, 3), dtypes=ALL_REAL),
    OpInfo("asinh", samples=unary_samples(-3, 3), dtypes=ALL_REAL, aliases=("arcsinh", "asinh_", "arcsinh_"),
           notes="asinh_ is tested in test_elementwise_parity.py: PyTorch has no derivative for the in-place form"),
    OpInfo("acosh", samples=unary_samples(1.1, 3), aliases=("arccosh", "acosh_", "arccosh_"),
           notes="acosh_ is tested in test_elementwise_parity.py: PyTorch has no derivative for the in-place form"),
    OpInfo("atanh", samples=unary_samples(-0.9, 0.9), aliases=("arctanh", "atanh_", "arctanh_"),
           notes="atanh_ is tested in test_elementwise_parity.py: PyTorch has no derivative for the in-place form"),
    OpInfo("erf", inplace=True, samples=unary_samples(-2.5, 2.5), dtypes=ALL_REAL),
    OpInfo("erfinv", inplace=True, samples=unary_samples(-0.9, 0.9), atol=1e-5),
    # ---- activations
    OpInfo("sigmoid", inplace=True, samples=unary_samples(-4, 4), dtypes=ALL_REAL),
    OpInfo("relu", inplace=True, samples=unary_samples(avoid=(0,)), dtypes=ALL_REAL),
    OpInfo("leaky_relu", call=functional("leaky_relu", 0.1), samples=unary_samples(avoid=(0,))),
    OpInfo("hardtanh", call=functional("hardtanh", -0.5, 0.8),
           samples=joined(unary_samples(avoid=(-0.5, 0.8), specials=False),
                          lambda rng: [Sample(SPECIALS[1:].copy(), kind="special")]),
           notes="no NaN sample: PyTorch's gradient at NaN is the upstream one in float32, 0 in float64 "
                 "(autodiff passes it in both)"),
    OpInfo("softplus", call=functional("softplus", 2.0, 3.0), samples=unary_samples(-3, 3, avoid=(1.5,))),
    # ---- rounding (zero gradients)
    OpInfo("floor", inplace=True, samples=unary_samples(avoid=(-2, -1, 0, 1, 2)), dtypes=ALL_REAL),
    OpInfo("ceil", inplace=True, samples=unary_samples(avoid=(-2, -1, 0, 1, 2)), dtypes=ALL_REAL),
    OpInfo("trunc", inplace=True, samples=unary_samples(avoid=(-2, -1, 0, 1, 2)), dtypes=ALL_REAL, aliases=("fix",)),
    OpInfo("round", inplace=True, samples=_round_samples),
    OpInfo("frac", inplace=True, samples=unary_samples(avoid=(-2, -1, 0, 1, 2))),
    # ---- bounds, extrema, selection
    OpInfo("clamp", inplace=True, samples=_clamp_samples, aliases=("clip",)),
    OpInfo("maximum", samples=joined(binary_samples(scalars=False), mixed_samples(scalars=False)), dtypes=ALL_REAL),
    OpInfo("minimum", samples=joined(binary_samples(scalars=False), mixed_samples(scalars=False)), dtypes=ALL_REAL),
    OpInfo("where", call=lambda lib, c, a, b: (lib.where(c, a, b), a.where(c, b)), samples=_where_samples),
    OpInfo("nan_to_num", inplace=True, samples=_nan_to_num_samples),
    # ---- tests of values and comparisons (bool results)
    OpInfo("isnan", samples=unary_samples(), grad=False, dtypes=ALL_REAL),
    OpInfo("isfinite", samples=unary_samples(), grad=False, dtypes=ALL_REAL),
    OpInfo("isinf", samples=unary_samples(), grad=False, dtypes=ALL_REAL),
    OpInfo("isposinf", samples=unary_samples(), grad=False, dtypes=ALL_REAL),
    OpInfo("isneginf", samples=unary_samples(), grad=False, dtypes=ALL_REAL),
    OpInfo("isclose", samples=_isclose_samples, grad=False),
    comparison("eq"), comparison("ne"), comparison("lt"), comparison("le"), comparison("gt"), comparison("ge"),
    OpInfo("comparison_operators",
           call=lambda lib, a, b: (a == b, a != b, a < b, a <= b, a > b, a >= b, b < a, b >= a),
           samples=joined(binary_samples(), mixed_samples()), grad=False, dtypes=ALL_REAL,
           method=False, function=False, notes="== != < <= > >= as Python operators, both ways round"),
    # ---- logical (any dtype) and bitwise (integers and bools)
    OpInfo("logical_not", samples=unary_samples(), grad=False, dtypes=ALL_REAL + ("bool",)),
    OpInfo("logical_and", inplace=True, samples=joined(binary_samples(scalars=False), bool_samples), grad=False,
           dtypes=ALL_REAL + ("bool",)),
    OpInfo("logical_or", inplace=True, samples=joined(binary_samples(scalars=False), bool_samples), grad=False,
           dtypes=ALL_REAL + ("bool",)),
    OpInfo("logical_xor", inplace=True, samples=joined(binary_samples(scalars=False), bool_samples), grad=False,
           dtypes=ALL_REAL + ("bool",)),
    _bitwise("bitwise_and", lambda a, b: a & b),
    _bitwise("bitwise_or", lambda a, b: a | b),
    _bitwise("bitwise_xor", lambda a, b: a ^ b),
    OpInfo("bitwise_not", inplace=True, call=lambda lib, x: (lib.bitwise_not(x), x.bitwise_not(), ~x),
           samples=unary_samples(specials=False), grad=False, dtypes=INTS + ("bool",)),
    OpInfo("bitwise_left_shift", inplace=True, call=lambda lib, a, b: (lib.bitwise_left_shift(a, b), a.bitwise_left_shift(b),
                                                         a << b),
           samples=_shift_samples, grad=False, dtypes=INTS),
    OpInfo("bitwise_right_shift", inplace=True, call=lambda lib, a, b: (lib.bitwise_right_shift(a, b),
                                                          a.bitwise_right_shift(b), a >> b),
           samples=_shift_samples, grad=False, dtypes=INTS),
]


def _overwrite_samples(rng):
    """A destination and what overwrites it: equal and broadcast shapes, special values in
    the destination (which must not leak into the result), zero-size."""
    out = [Sample(arr(rng, a), arr(rng, b)) for a, b in [((3,), (3,)), ((2, 3), (3,)), ((2, 3), ())]]
    out.append(Sample(arr(rng, (3, 4)), arr(rng, (3, 4)), kind="noncontiguous"))
    out.append(Sample(SPECIALS.copy(), arr(rng, (8,)), kind="special"))
    out.append(Sample(np.zeros((0, 3)), np.ones((3,)), kind="zero"))
    return out


def _fill_samples(rng):
    out = [Sample(arr(rng, shape), value) for shape, value in [((3,), 2.5), ((2, 3), -1.0), ((), 0.5)]]
    out.append(Sample(arr(rng, (2, 3)), arr(rng, ())))        # a 0-d tensor value: gradient flows to it
    out.append(Sample(SPECIALS.copy(), 1.5, kind="special"))
    return out


# ---- overwriting in place: the result never depends on the values overwritten (fill_/zero_/copy_
# of a clone, so that the leaf itself stays unchanged; the gradient to the old values is zero)
ROWS += [
    OpInfo("fill_", call=lambda lib, x, value: x.clone().fill_(value), samples=_fill_samples),
    OpInfo("zero_", call=lambda lib, x: x.clone().zero_(), samples=unary_samples()),
    OpInfo("copy_", call=lambda lib, x, src: x.clone().copy_(src), samples=_overwrite_samples),
]
