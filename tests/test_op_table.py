"""Every row of the op table (``autodiff.ops.table``), checked the same way:

- values, gradients and result dtypes against PyTorch (when installed), special values included;
- gradients against central differences in float64, contiguous and non-contiguous inputs;
- second derivatives against central differences where the row supports them;
- and the table covers every public op and Tensor method.
"""
import zlib

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops.table import rows
from autodiff.testing import assert_gradgrad_match, assert_gradients_match

try:
    import torch
except ImportError:       # the PyTorch comparisons skip; the rest still runs
    torch = None

ROWS = rows()
# special values (NaN, inf, division by 0) make numpy warn by design: the values are what is checked
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _samples(row):
    return row.samples(np.random.default_rng(zlib.crc32(row.name.encode())))


def _cases(want=lambda row, sample: True):
    out = []
    for row in ROWS:
        for label, call in row.variants:
            for k, sample in enumerate(_samples(row)):
                if want(row, sample):
                    out.append(pytest.param(row, call, sample, id=f"{row.name}-{label}-{k}-{sample.kind}"))
    return out


# ---------------------------------------------------------------------- converting samples
def _noncontiguous(a):
    """The same values as a strided view of a larger array."""
    if a.ndim == 0:
        return a
    big = np.zeros(tuple(2 * n for n in a.shape), dtype=a.dtype)
    view = big[(slice(None, None, 2),) * a.ndim]
    view[...] = a
    return view


def _cast(a, dtype):
    if dtype.kind in "iu":
        return np.asarray(np.round(a * 2)).astype(dtype)    # (np.round of a 0-d array gives a scalar)
    if dtype.kind == "b":
        return np.asarray(a > 0)
    return a.astype(dtype)


def _leaves(args):
    """The float arrays inside ``args`` (nested lists/tuples too), in order."""
    found = []
    for a in args:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            found.append(a)
        elif isinstance(a, (list, tuple)):
            found.extend(_leaves(a))
    return found


def _rebuild(args, leaves):
    """``args`` with each float array replaced by the next of ``leaves``."""
    leaves = iter(leaves)

    def walk(value):
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            return next(leaves)
        if isinstance(value, (list, tuple)):
            return type(value)(walk(v) for v in value)
        return value
    return [walk(a) for a in args]


def _other(lib, a):
    """A non-float array as a tensor of ``lib``; anything else as it is."""
    if isinstance(a, np.ndarray):
        return ad.tensor(a) if lib is ad else torch.from_numpy(a.copy())
    if isinstance(a, (list, tuple)):
        return type(a)(_other(lib, v) for v in a)
    return a


def _outputs(result):
    """The tensors of an op's result, flattened (values/indices pairs, lists of pieces)."""
    if isinstance(result, (list, tuple)):
        return [t for r in result for t in _outputs(r)]
    return [result]


def _run(lib, row, call, sample, dtype, requires_grad):
    """Call the op on ``lib`` tensors made from the sample; returns (leaves, outputs)."""
    dtype = np.dtype(dtype)
    arrays = [_cast(a, dtype) for a in _leaves(sample.args)]
    if sample.kind == "noncontiguous" and lib is ad:
        arrays = [_noncontiguous(a) for a in arrays]
    wanted = requires_grad and dtype.kind == "f"
    grad_args = row.grad_args
    if lib is ad:
        leaves = [ad.tensor(a).requires_grad_(wanted and (grad_args is None or i in grad_args))
                  for i, a in enumerate(arrays)]
    else:
        leaves = [torch.from_numpy(a.copy()).requires_grad_(wanted and (grad_args is None or i in grad_args))
                  for i, a in enumerate(arrays)]
    args = [_other(lib, a) for a in _rebuild(sample.args, leaves)]
    kwargs = {k: _other(lib, v) for k, v in sample.kwargs.items()}
    return leaves, _outputs(call(lib, *args, **kwargs))


def _numpy(t):
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().numpy()
    if isinstance(t, ad.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def _dtype_name(t):
    if torch is not None and isinstance(t, torch.Tensor):
        return str(t.dtype).replace("torch.", "")
    if isinstance(t, ad.Tensor):
        return str(t.dtype).replace("autodiff.", "")
    return type(t).__name__


def _tolerance(row, dtype):
    if np.dtype(dtype) == np.float64:
        return dict(atol=row.atol * 1e-4, rtol=row.rtol * 1e-2)
    return dict(atol=row.atol, rtol=row.rtol)


def _upstream(outputs, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(_numpy(o))) for o in outputs]


# ---------------------------------------------------------------------- against PyTorch
@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("row, call, sample", _cases(lambda row, sample: row.torch))
def test_matches_pytorch(row, call, sample):
    """Values, shapes, result dtypes and (for float inputs) gradients equal PyTorch's."""
    for dtype in row.dtypes:
        differentiable = row.grad and np.dtype(dtype).kind == "f"
        ours_in, ours = _run(ad, row, call, sample, dtype, differentiable)
        theirs_in, theirs = _run(torch, row, call, sample, dtype, differentiable)
        tol = _tolerance(row, dtype)
        assert len(ours) == len(theirs), f"{row.name}: {len(ours)} outputs, PyTorch gives {len(theirs)}"
        for k, (o, t) in enumerate(zip(ours, theirs)):
            assert tuple(np.shape(_numpy(o))) == tuple(np.shape(_numpy(t))), \
                f"{row.name} ({dtype}) output {k}: shape {np.shape(_numpy(o))}, PyTorch {tuple(t.shape)}"
            assert _dtype_name(o) == _dtype_name(t), \
                f"{row.name} ({dtype}) output {k}: dtype {_dtype_name(o)}, PyTorch {_dtype_name(t)}"
            np.testing.assert_allclose(_numpy(o), _numpy(t), equal_nan=True, **tol,
                                       err_msg=f"{row.name} ({dtype}) output {k} differs from PyTorch")
        if not differentiable:
            continue
        pairs = [(o, t) for o, t in zip(ours, theirs)
                 if isinstance(o, ad.Tensor) and o.requires_grad and t.requires_grad]
        if not pairs:
            continue
        ups = _upstream([o for o, _ in pairs])
        ad.autograd.backward([o for o, _ in pairs], [ad.tensor(u.astype(dtype)) for u in ups])
        torch.autograd.backward([t for _, t in pairs], [torch.from_numpy(u.astype(dtype)) for u in ups])
        for k, (x, y) in enumerate(zip(ours_in, theirs_in)):
            gx = None if x.grad is None else _numpy(x.grad)
            gy = None if y.grad is None else _numpy(y.grad)
            if gy is None:
                assert gx is None or not np.any(gx), f"{row.name}: input {k} has a gradient, PyTorch has none"
                continue
            assert gx is not None, f"{row.name} ({dtype}): input {k} has no gradient, PyTorch has one"
            np.testing.assert_allclose(gx, gy, equal_nan=True, **tol,
                                       err_msg=f"{row.name} ({dtype}): gradient of input {k} differs from PyTorch")


# ---------------------------------------------------------------------- against finite differences
def _differentiable(row, sample):
    return row.grad and sample.kind in ("plain", "noncontiguous") and _leaves(sample.args)


def _as_function(row, call, sample):
    """(fn of the float leaves, the leaves as float64 tensors) for the gradient checks."""
    arrays = _leaves(sample.args)
    if sample.kind == "noncontiguous":
        arrays = [_noncontiguous(a) for a in arrays]
    leaves = [ad.tensor(a).requires_grad_(row.grad_args is None or i in row.grad_args)
              for i, a in enumerate(arrays)]

    def fn(*tensors):
        args = [_other(ad, a) for a in _rebuild(sample.args, tensors)]
        kwargs = {k: _other(ad, v) for k, v in sample.kwargs.items()}
        outs = [o for o in _outputs(call(ad, *args, **kwargs))
                if isinstance(o, ad.Tensor) and o.dtype.kind == "f"]
        return tuple(outs) if len(outs) != 1 else outs[0]
    return fn, leaves


@pytest.mark.parametrize("row, call, sample", _cases(_differentiable))
def test_gradients_match_finite_differences(row, call, sample):
    fn, leaves = _as_function(row, call, sample)
    assert_gradients_match(fn, *leaves)


@pytest.mark.parametrize("row, call, sample",
                         _cases(lambda row, sample: row.gradgrad and sample.kind == "plain"
                                and _differentiable(row, sample)))
def test_second_derivatives_match_finite_differences(row, call, sample):
    fn, leaves = _as_function(row, call, sample)
    assert_gradgrad_match(fn, *leaves)


# ---------------------------------------------------------------------- coverage
# Public names that are not tensor ops (attributes, conversions, autograd and device plumbing),
# so they have no row.
NOT_OPS = set("""
    shape size dtype ndim dim numel device is_cuda is_leaf requires_grad requires_grad_ data name
    numpy item tolist to float double half long int bool type cpu cuda detach detach_ clone
    contiguous is_contiguous backward retain_grad retains_grad register_hook grad grad_fn
    register_post_accumulate_grad_hook
    T mT view_as reshape_as expand_as sum_to_size
    Tensor Scalar Function tensor grad gradcheck gradgradcheck no_grad enable_grad set_grad_enabled
""".split())


def _public_tensor_methods():
    return {n for n in dir(ad.Tensor) if not n.startswith("_")}


def _covered():
    names = set()
    for row in ROWS:
        names.add(row.name)
        names.update(row.aliases)
        if row.inplace:
            names.update(n + "_" for n in (row.name, *row.aliases))
    return names


def test_every_row_is_callable_as_declared():
    for row in ROWS:
        if row.function and row.call is None:
            assert callable(getattr(ad, row.name, None)), f"op table: autodiff.{row.name} does not exist"
        if row.method and row.call is None:
            assert callable(getattr(ad.Tensor, row.name, None)), f"op table: Tensor.{row.name} does not exist"


def test_every_public_op_is_in_the_table():
    """Every public Tensor method and every ``autodiff.<op>`` function has a row (or is an alias,
    or an in-place form, of one), unless it is no op at all."""
    exempt = _covered() | NOT_OPS
    missing = sorted(_public_tensor_methods() - exempt)
    assert not missing, f"public Tensor methods with no op-table row: {missing}"
    missing = sorted(set(ad.__all__) - exempt)
    assert not missing, f"public autodiff functions with no op-table row: {missing}"
