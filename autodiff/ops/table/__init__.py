"""The op table: every public tensor op declared once, with how to test it (PyTorch's OpInfo idea).

A row (``OpInfo``) names an op, says how to call it (the same ``call`` runs on ``autodiff``
and on ``torch``: most ops are spelled alike in both) and which inputs it takes
(``samples``: shapes including 0-d, broadcast, non-contiguous and zero-size ones, values
inside the op's domain and off its kinks). ``tests/test_op_table.py`` runs every row:
values, gradients and second derivatives against central differences in float64;
values, gradients and result dtypes against PyTorch when it is installed; special values
(NaN, inf) against PyTorch's policy. A test fails when a public op or Tensor method is
in no row, so a new op cannot skip the table.

Rows live in the modules beside this file, one per family of ops; ``ALL`` gathers them.

    OpInfo("log2", samples=unary_samples(0.1, 10))                  # x.log2() and autodiff.log2(x)
    OpInfo("clamp", samples=lambda rng: [Sample(arr(rng, (3,)), -1.0, 1.0)])
    OpInfo("outer", call=lambda lib, a, b: lib.outer(a, b), samples=...)
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np


class Sample:
    """One call's inputs: positional ``args`` and keyword ``kwargs``.

    numpy float arrays become float tensors (leaves that require grad in gradient tests),
    other numpy arrays integer/bool tensors; anything else (ints, tuples, floats, strings)
    is passed as it is. ``kind`` tags a sample: "plain", "zero" (zero-size: values and
    shapes only), "special" (NaN/inf: compared with PyTorch, no finite differences),
    "noncontiguous" (float arrays are given as transposed/strided views), "mixed" (dtypes mixed on
    purpose, e.g. an int tensor with a Python float: compared with PyTorch, no finite differences).
    """

    def __init__(self, *args, kind="plain", **kwargs):
        self.args, self.kwargs, self.kind = args, kwargs, kind

    def __repr__(self):
        shapes = [a.shape if isinstance(a, np.ndarray) else a for a in self.args]
        return f"Sample({self.kind}: {shapes} {self.kwargs or ''})"


@dataclass
class OpInfo:
    """One row of the table.

    name        the public name: ``autodiff.<name>`` (when ``function``) and ``Tensor.<name>``
                (when ``method``); also how the test ids read
    samples     ``samples(rng) -> [Sample]``: inputs inside the op's domain
    call        ``call(lib, *args, **kwargs)`` with ``lib`` the module (autodiff or torch);
                default: the function form ``lib.<name>`` and the method form both
    torch       False when PyTorch has no such op (or spells it too differently to compare)
    grad        False for ops with no gradient (comparisons, argmax, integer results)
    gradgrad    False where second derivatives are not supported (or PyTorch has none)
    dtypes      dtypes whose values and result dtypes are compared with PyTorch
    atol, rtol  tolerances against PyTorch in float32 (float64 uses 1e-10 / 1e-7 unless widened)
    grad_args   indices of the arguments to differentiate (default: every float array)
    aliases     other public names for the same op (``clip`` for ``clamp``): covered by this row
    inplace     the method ``<name>_`` exists too: tested (on a clone) wherever the result keeps the
                input's shape and dtype, and covered by this row
    """

    name: str
    samples: Callable
    call: Optional[Callable] = None
    method: bool = True
    function: bool = True
    torch: bool = True
    grad: bool = True
    gradgrad: bool = True
    dtypes: tuple = ("float32", "float64")
    atol: float = 1e-6
    rtol: float = 1e-5
    grad_args: Optional[tuple] = None
    aliases: tuple = ()
    notes: str = ""
    inplace: bool = False
    variants: list = field(default_factory=list)

    def __post_init__(self):
        """The ways to call the op: ``[(label, call)]``."""
        name = self.name
        if self.call is not None:
            self.variants = [("call", self.call)]
        else:
            if self.function:
                self.variants.append(("function", lambda lib, *a, **k: getattr(lib, name)(*a, **k)))
            if self.method:
                self.variants.append(("method", lambda lib, x, *a, **k: getattr(x, name)(*a, **k)))
        if self.inplace:
            self.variants.append(("inplace", _inplace_variant(name)))


def _inplace_variant(name):
    """``x.clone().<name>_(...)``, or the out-of-place result where PyTorch's in-place form
    must refuse (a result of another shape or dtype than x's)."""
    def call(lib, x, *args, **kwargs):
        out = getattr(x, name)(*args, **kwargs)
        if tuple(out.shape) != tuple(x.shape) or out.dtype != x.dtype:
            return out
        return getattr(x.clone(), name + "_")(*args, **kwargs)
    return call


# ---------------------------------------------------------------------- sample builders
def arr(rng, shape, lo=-2.0, hi=2.0, avoid=(), dtype=np.float64):
    """Uniform values in [lo, hi] of ``shape``, at least 1e-2 away from each value in ``avoid``
    (the op's kinks, where finite differences are meaningless)."""
    x = rng.uniform(lo, hi, size=shape)
    for kink in avoid:
        near = np.abs(x - kink) < 1e-2
        x[near] = kink + np.where(x[near] >= kink, 1e-2, -1e-2) * 3
    return x.astype(dtype)


SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5])


def unary_samples(lo=-2.0, hi=2.0, avoid=(), specials=True, **kwargs):
    """Samples for an elementwise op of one tensor: 0-d, 1-d, 2-d, non-contiguous, zero-size,
    and the special values (NaN, +-inf, +-0) when ``specials``."""
    def samples(rng):
        out = [Sample(arr(rng, shape, lo, hi, avoid), **kwargs) for shape in [(), (4,), (2, 3)]]
        out.append(Sample(arr(rng, (3, 4), lo, hi, avoid), kind="noncontiguous", **kwargs))
        out.append(Sample(np.zeros((0, 3)), kind="zero", **kwargs))
        if specials:
            out.append(Sample(SPECIALS.copy(), kind="special", **kwargs))
        return out
    return samples


def binary_samples(lo=-2.0, hi=2.0, lo_b=None, hi_b=None, avoid=(), specials=True, scalars=True, **kwargs):
    """Samples for an elementwise op of two tensors: equal and broadcast shapes, 0-d with n-d,
    non-contiguous, zero-size, a Python number as the second operand (when ``scalars``), and
    every pair of special values (when ``specials``)."""
    lo_b = lo if lo_b is None else lo_b
    hi_b = hi if hi_b is None else hi_b

    def samples(rng):
        pairs = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2))]
        out = [Sample(arr(rng, a, lo, hi, avoid), arr(rng, b, lo_b, hi_b, avoid), **kwargs) for a, b in pairs]
        out.append(Sample(arr(rng, (3, 4), lo, hi, avoid), arr(rng, (3, 4), lo_b, hi_b, avoid),
                          kind="noncontiguous", **kwargs))
        out.append(Sample(np.zeros((0, 3)), np.ones((3,)), kind="zero", **kwargs))
        if scalars:
            out.append(Sample(arr(rng, (2, 3), lo, hi, avoid), float(arr(rng, (), lo_b, hi_b, avoid)), **kwargs))
        if specials:
            a, b = np.meshgrid(SPECIALS, SPECIALS)
            out.append(Sample(a.ravel().copy(), b.ravel().copy(), kind="special", **kwargs))
        return out
    return samples


def reduction_samples(lo=-2.0, hi=2.0, dims=(None, 0, -1, (0, 1)), keepdim=True, zero=True, specials=True, **kwargs):
    """Samples for a reduction over ``dim=``: each dim (and keepdim=True), 0-d, non-contiguous,
    zero-size (reduced over a non-empty dim) and special values."""
    def samples(rng):
        out = []
        for d in dims:
            kw = dict(kwargs) if d is None else dict(kwargs, dim=d)
            out.append(Sample(arr(rng, (2, 3, 4), lo, hi), **kw))
            if keepdim and d is not None:
                out.append(Sample(arr(rng, (2, 3), lo, hi), keepdim=True, **kw))
        out.append(Sample(arr(rng, (), lo, hi), **kwargs))
        out.append(Sample(arr(rng, (3, 4), lo, hi), kind="noncontiguous", **kwargs))
        if zero:
            out.append(Sample(np.zeros((0, 3)), dim=1, kind="zero", **kwargs))
        if specials:
            out.append(Sample(SPECIALS.copy(), kind="special", **kwargs))
        return out
    return samples


def rows():
    """Every row of the table (the row modules are imported here, on first use)."""
    from . import elementwise, reduction as reductions, shape, indexing, linalg, nn, conv, recurrent, random
    from . import ordering
    table = []
    for module in (elementwise, reductions, shape, indexing, linalg, ordering, nn, conv, recurrent, random):
        table.extend(module.ROWS)
    names = [r.name for r in table]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"op table: rows named more than once: {duplicated}")
    return table
