"""Hypothesis strategies and gradient checks, to property-test your own ops as autodiff does.

Needs ``hypothesis`` (a test dependency: ``pip install autodiff[test]``).

    from hypothesis import given
    from autodiff.testing import tensors, assert_gradients_match

    @given(x=tensors(shape=(3, 4)))
    def test_tanh(x):
        assert_gradients_match(lambda t: t.tanh(), x)

Every gradient is checked as a vector-Jacobian product with a random upstream
gradient, against central differences in float64.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from . import autograd
from .autograd.gradcheck import _outputs
from .tensor import Tensor

__all__ = ["tensors", "shapes", "broadcastable_shapes", "valid_dims", "index_expressions",
           "assert_gradients_match", "assert_gradgrad_match"]


# ---------------------------------------------------------------------- strategies
def shapes(min_dims=0, max_dims=4, min_side=1, max_side=4):
    """Array shapes: tuples of ``min_dims..max_dims`` sides in ``min_side..max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes, min_dims=0, max_dims=4, min_side=1, max_side=4, base_shape=()):
    """``num_shapes`` shapes that broadcast together: ``.input_shapes`` and ``.result_shape``."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, base_shape=base_shape,
                                             min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side)


def _elements(dtype, min_value, max_value):
    if dtype.kind == "f":
        return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                         width=8 * dtype.itemsize)
    if dtype.kind in "iu":
        return st.integers(int(np.ceil(min_value)), int(np.floor(max_value)))
    return st.booleans()


@st.composite
def tensors(draw, shape=None, dtype=np.float64, min_value=-10, max_value=10, requires_grad=True,
            contiguous=True):
    """Tensors with values in ``[min_value, max_value]``.

    ``shape``: a tuple, a strategy of shapes, or None (any ``shapes()``).
    ``contiguous``: True, False (a transpose or strided slice of a larger array
    whenever the shape allows one), or None (drawn).
    ``requires_grad`` applies to floating dtypes only.
    """
    if shape is None:
        shape = draw(shapes())
    elif isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    shape = tuple(shape)
    dtype = np.dtype(dtype)
    if contiguous is None:
        contiguous = draw(st.booleans())
    elements = _elements(dtype, min_value, max_value)
    if contiguous or len(shape) == 0:
        array = draw(hnp.arrays(dtype, shape, elements=elements))
    else:
        array = draw(_non_contiguous(dtype, shape, elements))
    t = Tensor._wrap(array)
    if requires_grad and dtype.kind == "f":
        t.requires_grad_(True)
    return t


@st.composite
def _non_contiguous(draw, dtype, shape, elements):
    """An array of ``shape`` that is a view of a larger array: transposed or sliced with steps."""
    wide = [i for i, n in enumerate(shape) if n > 1]
    if len(wide) >= 2 and draw(st.booleans()):
        order = draw(st.permutations(range(len(shape))))
        moved = [k for k, i in enumerate(order) if shape[i] > 1]
        if [order[k] for k in moved] == wide:   # swap two sides longer than 1
            order[moved[0]], order[moved[1]] = order[moved[1]], order[moved[0]]
        base = draw(hnp.arrays(dtype, tuple(shape[i] for i in order), elements=elements))
        return base.transpose(np.argsort(order))
    steps = draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape)))
    if wide and all(steps[i] == 1 for i in wide):
        steps[wide[-1]] = 2
    offsets = draw(st.lists(st.integers(0, 1), min_size=len(shape), max_size=len(shape)))
    base_shape = tuple(o + n * s for n, s, o in zip(shape, steps, offsets))
    base = draw(hnp.arrays(dtype, base_shape, elements=elements))
    return base[tuple(slice(o, o + n * s, s) for n, s, o in zip(shape, steps, offsets))]


def valid_dims(ndim, allow_none=True, allow_tuple=True):
    """A ``dim`` argument valid for a tensor of ``ndim`` dimensions: an int (negatives too),
    a tuple of distinct dims, or None (all)."""
    size = max(ndim, 1)
    one = st.integers(-size, size - 1)
    options = [one]
    if allow_tuple and ndim > 0:
        options.append(st.lists(one, max_size=ndim, unique_by=lambda d: d % size).map(tuple))
    if allow_none:
        options.append(st.none())
    return st.one_of(options)


@st.composite
def index_expressions(draw, shape):
    """An index valid for an array of ``shape``: ints, slices (with steps), None, Ellipsis,
    integer arrays (repeats included) or a boolean mask."""
    shape = tuple(shape)
    kinds = ["basic"]
    if shape:
        kinds += ["integer", "mask", "mixed"]
    kind = draw(st.sampled_from(kinds))
    if kind == "basic":
        return draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    if kind == "integer":
        return draw(hnp.integer_array_indices(shape, result_shape=shapes(1, 2, 1, 3)))
    if kind == "mask":
        ndim = draw(st.integers(1, len(shape)))
        return draw(hnp.arrays(np.bool_, shape[:ndim]))
    # an integer array along one dim, slices elsewhere
    dim = draw(st.integers(0, len(shape) - 1))
    n = shape[dim]
    rows = draw(hnp.arrays(np.intp, draw(shapes(1, 2, 1, 3)), elements=st.integers(-n, n - 1)))
    key = [draw(st.slices(m)) for m in shape]
    key[dim] = rows
    return tuple(key)


# ---------------------------------------------------------------------- gradient checks
def _as_float64_leaves(tensors):
    leaves = []
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"input {i} is a {type(x).__name__}, expected a Tensor")
        if x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"input {i} has dtype {x.dtype}; use float64 inputs, finite "
                            "differences are too coarse in lower precision")
        leaves.append(x.detach().requires_grad_(x.requires_grad))   # fresh leaf, same memory
    return leaves


def _upstreams(outputs, upstream, seed=0):
    if upstream is None:
        rng = np.random.default_rng(seed)
        return [Tensor._wrap(rng.standard_normal(o.shape).astype(o.dtype)) for o in outputs]
    upstream = upstream if isinstance(upstream, (list, tuple)) else [upstream]
    return [u if isinstance(u, Tensor) else Tensor._wrap(np.asarray(u, dtype=o.dtype))
            for u, o in zip(upstream, outputs)]


def assert_gradients_match(fn, *tensors, upstream=None, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check ``fn``'s backward against central differences, for every input that requires grad.

    ``fn`` takes the tensors and returns a tensor (or a tuple of tensors).
    ``upstream``: the gradient(s) flowing into the output(s); random normal when None.
    Also checks that forward and backward leave the inputs unchanged and that
    no two gradients share memory.
    """
    leaves = _as_float64_leaves(tensors)
    before = [x._data.copy() for x in leaves]
    outputs = _outputs(fn, leaves)
    upstreams = _upstreams(outputs, upstream)
    recorded = [(o, u) for o, u in zip(outputs, upstreams) if o.requires_grad]
    if recorded:
        autograd.backward([o for o, _ in recorded], [u for _, u in recorded])
    for i, (x, old) in enumerate(zip(leaves, before)):
        np.testing.assert_array_equal(x._data, old, err_msg=f"input {i} was changed in place")
    grads = [x.grad for x in leaves if x.requires_grad and x.grad is not None]
    for g in grads:
        others = [x._data for x in leaves] + [u._data for u in upstreams] + \
                 [h._data for h in grads if h is not g]
        assert not any(np.shares_memory(g._data, a) for a in others), \
            "a gradient shares memory with an input, the upstream gradient or another gradient"

    def value(arrays):
        probe = [Tensor._wrap(a).requires_grad_(x.requires_grad) for a, x in zip(arrays, leaves)]
        return [o._data.astype(np.float64) for o in _outputs(fn, probe)]

    for i, x in enumerate(leaves):
        if not x.requires_grad:
            continue
        numerical = np.zeros(x.shape)
        for j in np.ndindex(*x.shape):
            plus = [a.copy() for a in before]
            minus = [a.copy() for a in before]
            plus[i][j] += eps
            minus[i][j] -= eps
            numerical[j] = sum(float(((hi - lo) * u._data).sum())
                               for hi, lo, u in zip(value(plus), value(minus), upstreams)) / (2 * eps)
        analytical = np.zeros(x.shape) if x.grad is None else x.grad._data
        assert x.grad is None or (x.grad.shape == x.shape and x.grad.dtype == x.dtype), \
            f"gradient of input {i}: shape {tuple(x.grad.shape)} {x.grad.dtype}, " \
            f"expected {tuple(x.shape)} {x.dtype}"
        np.testing.assert_allclose(analytical, numerical, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i} (analytical vs numerical)")


def assert_gradgrad_match(fn, *tensors, upstream=None, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check second derivatives: the backward of ``fn``'s backward (``create_graph=True``)
    against central differences, with respect to the inputs and the upstream gradient."""
    leaves = _as_float64_leaves(tensors)
    outputs = _outputs(fn, leaves)
    upstreams = [u.detach().requires_grad_() for u in _upstreams(outputs, upstream, seed=1)]
    n = len(leaves)
    wanted = [i for i, x in enumerate(leaves) if x.requires_grad]

    def vjp(*args):
        xs, us = args[:n], args[n:]
        pairs = [(o, u) for o, u in zip(_outputs(fn, xs), us) if o.requires_grad]
        if not pairs:
            return tuple(xs[i] * 0 for i in wanted)
        grads = autograd.grad([o for o, _ in pairs], [xs[i] for i in wanted],
                              grad_outputs=[u for _, u in pairs], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else xs[i] * 0 for g, i in zip(grads, wanted))

    assert_gradients_match(vjp, *leaves, *upstreams, eps=eps, atol=atol, rtol=rtol)
