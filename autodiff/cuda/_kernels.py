"""The CUDA kernels behind CudaArray, generated from small templates and compiled on first use.

Every kernel is described by a *spec*: a tuple of strings, ints and bools (the operation,
the dtypes, the number of dimensions ...). ``kernel(kind, spec)`` writes the kernel's
Python source for that spec, compiles it with ``numba.cuda.jit`` and caches it, so each
operation costs one compilation per combination of dtypes and dimensions, whatever the
shapes. Specs are plain data so that a test can rebuild and compile, for a real GPU, every
kernel the simulator ran (``tests/cuda``).

Arrays reach a kernel as a flat 1-D device buffer plus an element offset and one stride
per dimension (in elements), so views (transposes, slices with steps, broadcasts with
stride 0) need no copy. Each thread walks a grid-stride loop over the flat index of the
iteration shape and turns it into coordinates, then into each operand's position.

On Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1) kernels run as Python, a few threads
each (threads are what the simulator is slow at), and math goes through numpy so that
log(0) gives -inf as on a GPU rather than raising as Python's math module does.
"""
import math
import warnings

import numba
import numpy as np
from numba import cuda

from .devices import count

SIM = bool(numba.config.ENABLE_CUDASIM)

THREADS = 256           # threads per block on a GPU
MAX_BLOCKS = 4096       # grid-stride loops cover anything larger
SIM_THREADS, SIM_BLOCKS = 4, 2   # on the simulator: several threads and blocks, few of each

_RECORD = None          # when a set: (kind, spec, argument types) of every launch (tests)
_LAUNCHERS = {}


def grid(n):
    """(blocks, threads) for a grid-stride loop over n items; on a GPU the number of blocks is
    a power of two, so that each kernel has few launch configurations."""
    if SIM:
        threads = max(1, min(n, SIM_THREADS))
        return max(1, min(-(-n // threads), SIM_BLOCKS)), threads
    blocks = 1
    while blocks * THREADS < n and blocks < MAX_BLOCKS:
        blocks *= 2
    return blocks, THREADS


def launch(kind, spec, n, *args):
    """Run kernel(kind, spec) over n items (nothing when n == 0)."""
    if n <= 0:
        return
    if _RECORD is not None:
        _RECORD.add((kind, spec, tuple(_type_code(a) for a in args)))
    blocks, threads = grid(n)
    key = (kind, spec, blocks, threads)
    launcher = _LAUNCHERS.get(key)
    if launcher is None:
        launcher = _LAUNCHERS[key] = configure(kernel(kind, spec), blocks, threads)
    count("launches")
    launcher(*args)


def configure(k, blocks, threads):
    """``k[blocks, threads]`` without Numba's low-occupancy warning: small tensors make small
    grids on purpose."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Grid size")
        return k[blocks, threads]


# ---------------------------------------------------------------------- math
def _quiet(f):
    """A numpy function that returns inf/nan silently, for the simulator's threads
    (numpy's error state is per thread, so ``np.errstate`` around a launch does not reach them)."""
    def call(*args):
        with np.errstate(all="ignore"):
            return f(*args)
    return call


def _sim_erf(x):
    return type(x)(math.erf(x))


_MATH = {  # name in the kernel source: (on a GPU, on the simulator)
    "_exp": (math.exp, np.exp), "_expm1": (math.expm1, np.expm1),
    "_log": (math.log, np.log), "_log1p": (math.log1p, np.log1p),
    "_log2": (math.log2, np.log2), "_log10": (math.log10, np.log10),
    "_sqrt": (math.sqrt, np.sqrt),
    "_sin": (math.sin, np.sin), "_cos": (math.cos, np.cos), "_tan": (math.tan, np.tan),
    "_asin": (math.asin, np.arcsin), "_acos": (math.acos, np.arccos), "_atan": (math.atan, np.arctan),
    "_atan2": (math.atan2, np.arctan2),
    "_sinh": (math.sinh, np.sinh), "_cosh": (math.cosh, np.cosh), "_tanh": (math.tanh, np.tanh),
    "_erf": (math.erf, _sim_erf),
    "_isnan": (math.isnan, np.isnan), "_isinf": (math.isinf, np.isinf),
    "_isfinite": (math.isfinite, np.isfinite),
}


def _math_names():
    if SIM:
        return {name: _quiet(sim) for name, (_, sim) in _MATH.items()}
    return {name: real for name, (real, _) in _MATH.items()}


def _unary(call):
    return [f"r = {call}(v0)"]


_MAXIMUM = ["r = v0 if (v0 >= v1 or v0 != v0) else v1"]    # nan wins, as numpy's
_MINIMUM = ["r = v0 if (v0 <= v1 or v0 != v0) else v1"]
_LOGADDEXP = [
    "if v0 == v1:",
    "    r = v0 + LOG2",
    "else:",
    "    d = v0 - v1",
    "    if d > ZERO:",
    "        r = v0 + _log1p(_exp(-d))",
    "    elif d <= ZERO:",
    "        r = v1 + _log1p(_exp(d))",
    "    else:",
    "        r = d",
]

# each body computes r from the operands v0, v1 ... already in the loop's dtype;
# ZERO, ONE, LOG2 are constants of that dtype
BODIES = {
    "add": ["r = v0 + v1"], "subtract": ["r = v0 - v1"], "multiply": ["r = v0 * v1"],
    "divide": ["r = v0 / v1"], "true_divide": ["r = v0 / v1"],
    "floor_divide": ["r = v0 // v1"], "remainder": ["r = v0 % v1"], "power": ["r = v0 ** v1"],
    "negative": ["r = -v0"], "positive": ["r = v0"], "absolute": ["r = abs(v0)"],
    "square": ["r = v0 * v0"], "reciprocal": ["r = ONE / v0"],
    "sign": ["r = ONE if v0 > ZERO else (-ONE if v0 < ZERO else ZERO)"],   # 0 at NaN, as PyTorch
    "exp": _unary("_exp"), "expm1": _unary("_expm1"), "log": _unary("_log"),
    "log1p": _unary("_log1p"), "log2": _unary("_log2"), "log10": _unary("_log10"),
    "sqrt": _unary("_sqrt"), "sin": _unary("_sin"), "cos": _unary("_cos"), "tan": _unary("_tan"),
    "arcsin": _unary("_asin"), "arccos": _unary("_acos"), "arctan": _unary("_atan"),
    "sinh": _unary("_sinh"), "cosh": _unary("_cosh"), "tanh": _unary("_tanh"), "erf": _unary("_erf"),
    "arctan2": ["r = _atan2(v0, v1)"],
    "isnan": _unary("_isnan"), "isinf": _unary("_isinf"), "isfinite": _unary("_isfinite"),
    "maximum": _MAXIMUM, "minimum": _MINIMUM,
    "fmax": ["r = v0 if (v0 >= v1 or v1 != v1) else v1"],
    "fmin": ["r = v0 if (v0 <= v1 or v1 != v1) else v1"],
    "logaddexp": _LOGADDEXP,
    "greater": ["r = v0 > v1"], "greater_equal": ["r = v0 >= v1"], "less": ["r = v0 < v1"],
    "less_equal": ["r = v0 <= v1"], "equal": ["r = v0 == v1"], "not_equal": ["r = v0 != v1"],
    "logical_and": ["r = (v0 != ZERO) and (v1 != ZERO)"],
    "logical_or": ["r = (v0 != ZERO) or (v1 != ZERO)"],
    "logical_xor": ["r = (v0 != ZERO) != (v1 != ZERO)"],
    "logical_not": ["r = v0 == ZERO"],
    "bitwise_and": ["r = v0 & v1"], "bitwise_or": ["r = v0 | v1"], "bitwise_xor": ["r = v0 ^ v1"],
    "invert": ["r = ~v0"],
    # internal operations (not numpy ufuncs)
    "copy": ["r = v0"],
    "where": ["r = v1 if v0 else v2"],
    "clip": ["t = v0 if (v0 >= v1 or v0 != v0) else v1",
             "r = t if (t <= v2 or t != t) else v2"],
    "isclose": ["if v0 == v1:",           # v2 = rtol, v3 = atol, v4 = equal_nan
                "    r = True",
                "elif v0 != v0 or v1 != v1:",
                "    r = v4 and v0 != v0 and v1 != v1",
                "else:",
                "    r = abs(v0 - v1) <= v3 + v2 * abs(v1)"],
}
# numpy's bool loops: + is or, * is and, ~ is not
BOOL_BODIES = {"add": ["r = v0 or v1"], "multiply": ["r = v0 and v1"],
               "maximum": ["r = v0 or v1"], "minimum": ["r = v0 and v1"],
               "invert": ["r = not v0"], "absolute": ["r = v0"]}


def _constants(dtype):
    dtype = np.dtype(dtype)
    names = {"ZERO": dtype.type(0), "ONE": dtype.type(1)}
    if dtype.kind == "f":
        names["LOG2"] = dtype.type(math.log(2.0))
    return names


def _cast_name(names, target, source, label):
    """Source text that converts a value of dtype ``source`` to ``target`` ('{}' is the value)."""
    target, source = np.dtype(target), np.dtype(source)
    if target == source:
        return "{}"
    if target == np.bool_:
        names[label] = source.type(0)
        return "({} != " + label + ")"
    names[label] = target.type if SIM else numba.from_dtype(target)
    return label + "({})"


# ---------------------------------------------------------------------- source builders
def _decompose(index, shape, ndim, prefix, indent):
    """Lines turning the flat ``index`` into coordinates {prefix}0 .. over ``shape``."""
    pad = " " * indent
    if ndim == 1:
        return [f"{pad}{prefix}0 = {index}"]
    lines = [f"{pad}q_ = {index}"]
    for d in range(ndim - 1, 0, -1):
        lines.append(f"{pad}{prefix}{d} = q_ % {shape}[{d}]")
        lines.append(f"{pad}q_ = q_ // {shape}[{d}]")
    lines.append(f"{pad}{prefix}0 = q_")
    return lines


def _position(base, strides, ndim, prefix):
    return " + ".join([base] + [f"{prefix}{d} * {strides}[{d}]" for d in range(ndim)])


def _strided_source(ndim, arrays, scalars, body):
    """A kernel over an iteration shape of ``ndim`` dims; each array operand ``a`` comes as
    (a, a_o, a_s) and gets its position ``p_a``; ``body`` runs once per element."""
    params = ["n", "shape"]
    for a in arrays:
        params += [a, f"{a}_o", f"{a}_s"]
    params += list(scalars)
    lines = [f"def kernel({', '.join(params)}):",
             "    for i in range(cuda.grid(1), n, cuda.gridsize(1)):"]
    lines += _decompose("i", "shape", ndim, "c", 8)
    for a in arrays:
        lines.append(f"        p_{a} = {_position(a + '_o', a + '_s', ndim, 'c')}")
    if SIM:   # numpy scalars on the simulator: x / 0 is inf, quietly, as on a GPU
        lines.append("        with _np.errstate(all='ignore'):")
        body = ["    " + line for line in body]
    lines += ["        " + line for line in body]
    return "\n".join(lines) + "\n"


def _compile(source, names):
    namespace = {"cuda": cuda, "_np": np}
    namespace.update(_math_names())
    namespace.update(names)
    exec(compile(source, "<autodiff.cuda kernel>", "exec"), namespace)  # noqa: S102
    fn = namespace["kernel"]
    fn.__autodiff_source__ = source
    return cuda.jit(fn)


# ---------------------------------------------------------------------- kernel kinds
def _elementwise(spec):
    """out = op(x0, x1 ...), with numpy's casts; an optional mask (ufunc's where=) skips elements.

    spec: (op, kinds ('a' array / 's' scalar per input), source dtypes, loop input dtypes,
    loop output dtype, out dtype, ndim, masked)."""
    op, kinds, sources, loops, loop_out, out_dtype, ndim, masked = spec
    names = _constants(loops[-1])
    arrays, scalars, lines = ["out"], [], []
    for i, (kind, source, loop) in enumerate(zip(kinds, sources, loops)):
        if kind == "a":
            arrays.append(f"x{i}")
            cast = _cast_name(names, loop, source, f"CAST{i}")
            lines.append(f"v{i} = " + cast.format(f"x{i}[p_x{i}]"))
        else:
            scalars.append(f"s{i}")
            lines.append(f"v{i} = s{i}")
    bool_loop = all(np.dtype(t) == np.bool_ for t in loops)
    lines += (BOOL_BODIES.get(op) if bool_loop and op in BOOL_BODIES else BODIES[op])
    lines.append("out[p_out] = " + _cast_name(names, out_dtype, loop_out, "OCAST").format("r"))
    if masked:
        arrays.append("m")
        lines = ["if m[p_m]:"] + ["    " + line for line in lines]
    return _compile(_strided_source(ndim, arrays, scalars, lines), names)


def _gather(spec):
    """out = x[p_x + off[p_off]]: advanced indexing (off: the indexed dims' offsets).
    spec: (dtype, ndim)."""
    _, ndim = spec
    return _compile(_strided_source(ndim, ["out", "x", "off"], [],
                                    ["out[p_out] = x[p_x + off[p_off]]"]), {})


def _scatter(spec):
    """x[p_x + off[p_off]] = v (or += atomically): assignment to advanced indices.
    spec: (x dtype, value dtype, ndim, accumulate)."""
    dtype, value_dtype, ndim, accumulate = spec
    names = {}
    value = _cast_name(names, dtype, value_dtype, "CAST").format("v[p_v]")
    if accumulate:
        line = f"cuda.atomic.add(x, p_x + off[p_off], {value})"
    else:
        line = f"x[p_x + off[p_off]] = {value}"
    return _compile(_strided_source(ndim, ["x", "off", "v"], [], [line]), names)


def _offsets(spec):
    """off = sum_j wrap(idx_j) * stride_j: the position of each advanced index (negative
    indices count from the end). spec: (index dtypes, ndim)."""
    dtypes, ndim = spec
    k = len(dtypes)
    names, terms = {}, []
    lines = []
    for j, dt in enumerate(dtypes):
        cast = _cast_name(names, np.int64, dt, f"CAST{j}")
        lines.append(f"v{j} = " + cast.format(f"i{j}[p_i{j}]"))
        lines.append(f"if v{j} < 0:")
        lines.append(f"    v{j} += d{j}")
        terms.append(f"v{j} * t{j}")
    lines.append("off[p_off] = " + " + ".join(terms))
    arrays = ["off"] + [f"i{j}" for j in range(k)]
    scalars = [f"d{j}" for j in range(k)] + [f"t{j}" for j in range(k)]
    return _compile(_strided_source(ndim, arrays, scalars, lines), names)


def _along(spec):
    """take_along_axis (out = x[.. idx ..]) or put_along_axis (x[.. idx ..] = v) along one axis.
    spec: (x dtype, index dtype, value dtype, ndim, put)."""
    dtype, index_dtype, value_dtype, ndim, put = spec
    names = {}
    lines = ["j = " + _cast_name(names, np.int64, index_dtype, "ICAST").format("idx[p_idx]"),
             "if j < 0:",
             "    j += axis_len"]
    if put:
        value = _cast_name(names, dtype, value_dtype, "CAST").format("v[p_v]")
        lines.append(f"x[p_x + j * axis_stride] = {value}")
        arrays = ["x", "idx", "v"]
    else:
        lines.append("out[p_out] = x[p_x + j * axis_stride]")
        arrays = ["out", "x", "idx"]
    return _compile(_strided_source(ndim, arrays, ["axis_len", "axis_stride"], lines), names)


_REDUCE = {   # op: (initial value, combine lines); acc is in the accumulator dtype
    "sum": ("ZERO", ["acc = acc + v"]),
    "prod": ("ONE", ["acc = acc * v"]),
    "max": ("LOWEST", ["if acc == acc and (v > acc or v != v):", "    acc = v"]),   # nan sticks
    "min": ("HIGHEST", ["if acc == acc and (v < acc or v != v):", "    acc = v"]),
    "all": ("TRUE", ["acc = acc and v"]),
    "any": ("FALSE", ["acc = acc or v"]),
}


def _reduce(spec):
    """out[w] = reduction over a chunk of the reduced elements of one kept element.
    spec: (op, x dtype, accumulator dtype, out dtype, kept ndim, reduced ndim)."""
    op, dtype, acc_dtype, out_dtype, kdim, rdim = spec
    acc_dtype = np.dtype(acc_dtype)
    names = _constants(acc_dtype)
    if acc_dtype.kind == "f":
        names["LOWEST"], names["HIGHEST"] = acc_dtype.type(-np.inf), acc_dtype.type(np.inf)
    elif acc_dtype.kind in "iu":
        info = np.iinfo(acc_dtype)
        names["LOWEST"], names["HIGHEST"] = acc_dtype.type(info.min), acc_dtype.type(info.max)
    else:
        names["LOWEST"], names["HIGHEST"] = np.bool_(False), np.bool_(True)
    names["TRUE"], names["FALSE"] = True, False
    init, combine = _REDUCE[op]
    value = _cast_name(names, acc_dtype, dtype, "CAST").format("x[p]")
    lines = ["def kernel(nw, nchunk, clen, nr, kshape, rshape, out, x, x_o, x_ks, x_rs):",
             "    for w in range(cuda.grid(1), nw, cuda.gridsize(1)):",
             "        j = w // nchunk",
             "        t0 = (w - j * nchunk) * clen",
             "        t1 = min(nr, t0 + clen)"]
    lines += _decompose("j", "kshape", kdim, "k", 8)
    lines.append(f"        base = {_position('x_o', 'x_ks', kdim, 'k')}")
    lines.append(f"        acc = {init}")
    lines.append("        for t in range(t0, t1):")
    lines += _decompose("t", "rshape", rdim, "r", 12)
    lines.append(f"            p = {_position('base', 'x_rs', rdim, 'r')}")
    lines.append(f"            v = {value}")
    lines += ["            " + line for line in combine]
    lines.append("        out[w] = " + _cast_name(names, out_dtype, acc_dtype, "OCAST").format("acc"))
    return _compile("\n".join(lines) + "\n", names)


def _argreduce(spec):
    """out[j] = index of the max (min) along one axis; the first one wins ties, and a nan wins.
    spec: (op 'argmax'/'argmin', dtype, kept ndim)."""
    op, _, kdim = spec
    better = ">" if op == "argmax" else "<"
    lines = ["def kernel(nk, nr, kshape, out, x, x_o, x_ks, x_r):",
             "    for j in range(cuda.grid(1), nk, cuda.gridsize(1)):"]
    lines += _decompose("j", "kshape", kdim, "k", 8)
    lines += [f"        base = {_position('x_o', 'x_ks', kdim, 'k')}",
              "        best = x[base]",
              "        at = 0",
              "        for t in range(1, nr):",
              "            v = x[base + t * x_r]",
              f"            if best == best and (v {better} best or v != v):",
              "                best = v",
              "                at = t",
              "        out[j] = at"]
    return _compile("\n".join(lines) + "\n", {})


def _matmul(spec):
    """out[b, i, j] = sum_k a[b, i, k] * b[b, k, j], one thread per output element, any strides
    (batch dims broadcast with stride 0). spec: (a dtype, b dtype, loop dtype, batch ndim)."""
    a_dtype, b_dtype, loop, bdim = spec
    names = _constants(loop)
    ca = _cast_name(names, loop, a_dtype, "CASTA").format("a[pa + k * a_c]")
    cb = _cast_name(names, loop, b_dtype, "CASTB").format("b[pb + k * b_r]")
    lines = ["def kernel(total, m, n, kk, bshape, out, a, a_o, a_bs, a_r, a_c, b, b_o, b_bs, b_r, b_c):",
             "    for w in range(cuda.grid(1), total, cuda.gridsize(1)):",
             "        j = w % n",
             "        q = w // n",
             "        i = q % m",
             "        q = q // m"]
    lines += _decompose("q", "bshape", bdim, "e", 8)
    lines += [f"        pa = {_position('a_o + i * a_r', 'a_bs', bdim, 'e')}",
              f"        pb = {_position('b_o + j * b_c', 'b_bs', bdim, 'e')}",
              "        acc = ZERO",
              "        for k in range(kk):",
              f"            acc += {ca} * {cb}",
              "        out[w] = acc"]
    return _compile("\n".join(lines) + "\n", names)


BUILDERS = {"elementwise": _elementwise, "gather": _gather, "scatter": _scatter,
            "offsets": _offsets, "along": _along, "reduce": _reduce, "argreduce": _argreduce,
            "matmul": _matmul}
_CACHE = {}


def kernel(kind, spec):
    """The compiled kernel for (kind, spec), built on first use."""
    key = (kind, spec)
    k = _CACHE.get(key)
    if k is None:
        k = _CACHE[key] = BUILDERS[kind](spec)
    return k


# ---------------------------------------------------------------------- argument types (tests)
def _type_code(arg):
    """A short text for an argument's Numba type: 'A:float32' (1-D C array), 'i' (int64),
    'T3' (a 3-tuple of int64), 'S:float32' (a scalar), 'b' (bool)."""
    if isinstance(arg, (bool, np.bool_)):
        return "b"
    if isinstance(arg, (int, np.integer)) and not isinstance(arg, np.generic):
        return "i"
    if isinstance(arg, tuple):
        return f"T{len(arg)}"
    if isinstance(arg, np.generic):
        return f"S:{arg.dtype.name}"
    return f"A:{np.dtype(arg.dtype).name}"


def numba_type(code):
    """The Numba type for a ``_type_code``."""
    from numba import types
    if code == "b":
        return types.boolean
    if code == "i":
        return types.int64
    if code.startswith("T"):
        return types.UniTuple(types.int64, int(code[1:]))
    kind, name = code.split(":")
    scalar = numba.from_dtype(np.dtype(name))
    return scalar if kind == "S" else types.Array(scalar, 1, "C")
