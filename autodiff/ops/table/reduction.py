"""Op table rows: reductions, and the normalisations built on them (see ``autodiff.ops.table``)."""
import numpy as np

from . import SPECIALS, OpInfo, Sample, arr, reduction_samples


def _with(builder, extra):
    """``builder``'s samples followed by ``extra(rng)``'s."""
    return lambda rng: builder(rng) + extra(rng)


def _ties(rng):
    """Repeated extrema (gradients shared or sent to one index, as PyTorch does) and NaNs."""
    tied = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, -5.0, -5.0]])
    nan = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 0.0, -1.0, 1.0]])
    return [Sample(tied, kind="special"), Sample(tied, dim=1, kind="special"),
            Sample(nan, kind="special"), Sample(nan, dim=1, kind="special"), Sample(nan, dim=0, kind="special")]


def _extremum_samples(rng):
    """max/min: of everything, along one dim (values and indices), and against another tensor."""
    out = reduction_samples(dims=(None, 0, -1), zero=False)(rng)
    out += [Sample(np.zeros((0, 3)), dim=1, kind="zero"), Sample(np.zeros((0, 3)), dim=1, keepdim=True, kind="zero"),
            Sample(arr(rng, (2, 3)), arr(rng, (3,))),                      # elementwise, with a tensor
            Sample(arr(rng, (2, 3)), other=arr(rng, (2, 3)))]
    return out + _ties(rng)


def _variance_samples(rng):
    out = reduction_samples()(rng)
    out += [Sample(arr(rng, (3, 4)), dim=1, correction=0), Sample(arr(rng, (3, 4)), dim=0, unbiased=False),
            Sample(arr(rng, (3, 4)), correction=2, keepdim=True, dim=(0, 1)),
            # a constant slice: the gradient of std there is 0 (PyTorch), not NaN
            Sample(np.array([[1.5, 1.5, 1.5], [0.0, 1.0, 3.0]]), dim=1, kind="special"),
            Sample(np.ones(4), kind="special"),
            Sample(np.ones((2, 1)), dim=1, kind="special")]      # one element, correction 1: NaN
    return out


def _softmax_samples(rng):
    out = []
    for dim in (0, 1, -1):
        out.append(Sample(arr(rng, (2, 3, 4), -3, 3), dim=dim))
    out += [Sample(arr(rng, (5,), -3, 3), dim=0), Sample(arr(rng, (), -3, 3), dim=0),
            Sample(arr(rng, (3, 4), -3, 3), dim=1, kind="noncontiguous"),
            Sample(np.zeros((0, 3)), dim=1, kind="zero"), Sample(np.zeros((0, 3)), dim=0, kind="zero"),
            Sample(np.array([np.inf, 0.0, 1.0]), dim=0, kind="special"),
            Sample(np.array([-np.inf, 0.0, 1.0]), dim=0, kind="special"),
            Sample(np.array([-np.inf, -np.inf]), dim=0, kind="special"),
            Sample(np.array([[np.nan, 0.0], [1e4, -1e4]]), dim=1, kind="special")]
    return out


def _logsumexp_samples(rng):
    out = reduction_samples(-3, 3, dims=(0, -1, (0, 1)), zero=False, specials=False)(rng)
    # (logsumexp needs dim; the 0-d and non-contiguous samples above were made without one)
    out = [s if "dim" in s.kwargs else Sample(*s.args, dim=0, kind=s.kind, **s.kwargs) for s in out]
    out += [Sample(np.zeros((0, 3)), dim=0, kind="zero"), Sample(np.zeros((0, 3)), dim=1, kind="zero"),
            Sample(SPECIALS.copy(), dim=0, kind="special"),
            Sample(np.array([np.inf, 0.0]), dim=0, kind="special"),
            Sample(np.array([-np.inf, -np.inf]), dim=0, kind="special")]
    return out


def _arg_samples(rng):
    out = reduction_samples(dims=(None, 0, -1), zero=False)(rng)
    return out + [Sample(np.zeros((0, 3)), dim=1, kind="zero")] + _ties(rng)


def _close_samples(rng):
    a = arr(rng, (2, 3))
    return [Sample(a, a.copy()), Sample(a, a + 1e-9), Sample(a, a + 1e-3), Sample(a, a + 1e-3, rtol=1e-2),
            Sample(a, a[0]), Sample(SPECIALS.copy(), SPECIALS.copy(), kind="special"),
            Sample(SPECIALS.copy(), SPECIALS.copy(), equal_nan=True, kind="special")]


def _equal_samples(rng):
    a = arr(rng, (2, 3))
    return [Sample(a, a.copy()), Sample(a, a + 1e-9), Sample(a, a[:1].copy()), Sample(a, a.T.copy()),
            Sample(SPECIALS.copy(), SPECIALS.copy(), kind="special")]


ROWS = [
    OpInfo("sum", samples=_with(reduction_samples(), lambda rng: [Sample(np.arange(6).reshape(2, 3), dim=1,
                                                                         kind="mixed")]),
           dtypes=("float32", "float64", "int64", "int32")),
    OpInfo("mean", samples=reduction_samples()),
    OpInfo("var", samples=_variance_samples),
    OpInfo("std", samples=_variance_samples),
    OpInfo("max", samples=_extremum_samples, dtypes=("float32", "float64", "int64")),
    OpInfo("min", samples=_extremum_samples, dtypes=("float32", "float64", "int64")),
    OpInfo("amax", dtypes=("float32", "float64", "int64"), samples=_with(reduction_samples(zero=False),
                                 lambda rng: [Sample(np.zeros((0, 3)), dim=1, kind="zero")] + _ties(rng))),
    OpInfo("amin", dtypes=("float32", "float64", "int64"), samples=_with(reduction_samples(zero=False),
                                 lambda rng: [Sample(np.zeros((0, 3)), dim=1, kind="zero")] + _ties(rng))),
    OpInfo("argmax", samples=_arg_samples, grad=False, dtypes=("float32", "float64", "int64")),
    OpInfo("argmin", samples=_arg_samples, grad=False, dtypes=("float32", "float64", "int64")),
    OpInfo("logsumexp", samples=_logsumexp_samples, dtypes=("float32", "float64", "int64")),
    OpInfo("softmax", samples=_softmax_samples),
    OpInfo("log_softmax", samples=_softmax_samples),
    OpInfo("allclose", samples=_close_samples, grad=False),
    OpInfo("equal", samples=_equal_samples, grad=False),
]
