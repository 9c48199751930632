"""Op table rows: sorting, selection, scans, products and counting (see ``autodiff.ops.table``)."""
import numpy as np

from . import SPECIALS, OpInfo, Sample, arr

_TIES = np.array([[1.0, 2.0, 1.0, 3.0], [2.0, 2.0, 0.5, 0.5], [0.0, -1.0, -1.0, 0.0]])


def _distinct(rng, shape):
    """Values far enough apart that a small step never reorders them (for finite differences)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.25 + rng.uniform(0, 0.05, n) - n / 8).reshape(shape)


def _sorting(*cases, ties=True, specials=True):
    """``cases``: (shape, args, kwargs) of distinct values; plus ties, NaN/inf, non-contiguous, zero-size."""
    def samples(rng):
        out = [Sample(_distinct(rng, shape), *args, **kwargs) for shape, args, kwargs in cases]
        shape, args, kwargs = cases[0]
        out.append(Sample(_distinct(rng, (3, 4)), *args, kind="noncontiguous", **kwargs))
        if ties:
            out.append(Sample(_TIES.copy(), *args, kind="special", **kwargs))
        if specials:
            out.append(Sample(SPECIALS.copy(), kind="special"))
        return out
    return samples


def _scan(rng):
    out = [Sample(arr(rng, (3, 4)), 0), Sample(arr(rng, (3, 4)), 1), Sample(arr(rng, (2, 3, 4)), -1),
           Sample(arr(rng, ()), 0), Sample(arr(rng, (3, 4)), 1, kind="noncontiguous"),
           Sample(np.zeros((0, 3)), 1, kind="zero"), Sample(SPECIALS.copy(), 0, kind="special"),
           Sample(np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 2.0]]), 1, kind="special")]
    return out


def _prod(rng):
    x = lambda *shape: np.asarray(arr(rng, shape, 0.5, 1.5) * rng.choice([-1, 1], size=shape))  # noqa: E731
    return [Sample(x(3, 4)), Sample(x(3, 4), 1), Sample(x(3, 4), 0, True), Sample(x(2, 3, 4), -1),
            Sample(x()), Sample(x(3, 4), 1, keepdim=True), Sample(x(3, 4), 1, kind="noncontiguous"),
            Sample(np.zeros((0, 3)), 1, kind="zero"), Sample(np.zeros((0, 3)), kind="zero"),
            Sample(np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [2.0, -1.0, 0.5]]), 1, kind="special"),
            Sample(np.array([1.5, 0.0, 2.0, -1.0]), kind="special"),
            Sample(SPECIALS.copy(), kind="special")]


def _counts(*cases):
    """Samples for the counting ops (no gradient): plain cases, the special values, zero-size."""
    def samples(rng):
        out = [Sample(np.asarray(np.round(arr(rng, shape))), *args, **kwargs) for shape, args, kwargs in cases]
        out.append(Sample(SPECIALS.copy(), kind="special"))
        out.append(Sample(np.zeros((0, 3)), kind="zero"))
        return out
    return samples


_DIMS = (((3, 4), (), {}), ((3, 4), (0,), {}), ((2, 3, 4), (1, True), {}), ((), (), {}),
         ((3, 4), (), {"dim": -1}))


def _histogram(rng):
    x = arr(rng, (20,))
    return [Sample(x, 5), Sample(x, 4, range=(-1.0, 1.0)),
            Sample(x, 4, density=True), Sample(x, np.array([-2.0, -0.5, 0.0, 2.0])),
            Sample(arr(rng, (3, 4)), 4, kind="noncontiguous")]


ROWS = [
    OpInfo("sort", samples=_sorting(((3, 4), (), {}), ((3, 4), (0,), {}), ((3, 4), (1, True), {}),
                                    ((4,), (), {"descending": True}), ((), (), {}),
                                    ((2, 3, 4), (), {"dim": 1, "stable": True}))),
    OpInfo("argsort", grad=False, samples=_sorting(((3, 4), (), {}), ((3, 4), (0,), {}),
                                                   ((3, 4), (1, True), {}), ((4,), (), {"descending": True}))),
    OpInfo("topk", samples=_sorting(((3, 4), (2,), {}), ((3, 4), (1, 0), {}), ((3, 4), (3, 1, False), {}),
                                    ((5,), (5,), {}), ((3, 4), (0,), {}), specials=False)),
    OpInfo("kthvalue", samples=_sorting(((3, 4), (2,), {}), ((3, 4), (1, 0), {}), ((3, 4), (3, 1, True), {}),
                                        ((5,), (5,), {}), ((), (1,), {}), ((3, 4), (2,), {"keepdims": True}),
                                        ties=False, specials=False)),
    OpInfo("median", samples=_sorting(((3, 4), (), {}), ((3, 5), (1,), {}), ((3, 4), (0, True), {}),
                                      ((5,), (), {}), ((), (), {}), ((2, 3, 4), (-1,), {}), ties=False),
           notes="the lower median; ties pick an index PyTorch does not document, so no tied sample"),
    OpInfo("mode", samples=_sorting(((3, 4), (), {}), ((3, 4), (0,), {}), ((3, 4), (1, True), {}),
                                    ((), (), {}), specials=False)),
    OpInfo("cumsum", samples=_scan),
    OpInfo("cumprod", samples=_scan),
    OpInfo("prod", samples=_prod),
    OpInfo("aminmax", method=True, samples=lambda rng: [
        Sample(_distinct(rng, (3, 4))), Sample(_distinct(rng, (3, 4)), dim=1),
        Sample(_distinct(rng, (3, 4)), dim=0, keepdim=True), Sample(_distinct(rng, ())),
        Sample(_distinct(rng, (3, 4)), dim=-1, kind="noncontiguous"),
        Sample(np.zeros((0, 3)), dim=1, kind="zero"), Sample(SPECIALS[1:].copy(), kind="special")]),
    OpInfo("all", grad=False, dtypes=("float32", "int64", "bool"), samples=_counts(*_DIMS)),
    OpInfo("any", grad=False, dtypes=("float32", "int64", "bool"), samples=_counts(*_DIMS)),
    OpInfo("count_nonzero", grad=False, dtypes=("float32", "int64", "bool"), samples=_counts(
        ((3, 4), (), {}), ((3, 4), (0,), {}), ((2, 3, 4), ((0, 2),), {}), ((), (), {}))),
    OpInfo("nonzero", grad=False, dtypes=("float32", "int64", "bool"), samples=_counts(
        ((3, 4), (), {}), ((2, 3, 4), (), {}), ((3, 4), (), {"as_tuple": True}), ((5,), (), {"as_tuple": True}))),
    OpInfo("unique", grad=False, dtypes=("float32", "int64"), samples=_counts(
        ((3, 4), (), {}), ((12,), (), {"return_inverse": True}), ((3, 4), (), {"return_counts": True}),
        ((3, 4), (True, True, True), {}), ((3, 4), (), {"return_inverse": True, "dim": 0}))),
    OpInfo("bincount", grad=False, dtypes=("float32",), samples=lambda rng: [
        Sample(np.array([0, 1, 1, 3, 1])), Sample(np.array([2, 0]), minlength=5),
        Sample(np.array([0, 1, 1, 3]), arr(rng, (4,))), Sample(np.array([], dtype=np.int64), kind="zero")]),
    OpInfo("histc", grad=False, samples=lambda rng: [
        Sample(arr(rng, (20,))), Sample(arr(rng, (3, 4)), 4), Sample(arr(rng, (20,)), 5, -1, 1),
        Sample(arr(rng, (20,)), bins=3, min=-3, max=3), Sample(np.ones(4), 3), Sample(arr(rng, (3, 4)), 4, kind="noncontiguous"),
        Sample(np.zeros((0,)), 4, 0, 1, kind="zero")]),
    OpInfo("histogram", grad=False, samples=_histogram),
    OpInfo("quantile", samples=lambda rng: [
        Sample(_distinct(rng, (3, 5)), 0.3), Sample(_distinct(rng, (3, 5)), np.array([0.1, 0.5, 1.0]), 1, True),
        Sample(_distinct(rng, (3, 5)), 0.75, 0), Sample(_distinct(rng, (3, 5)), 0.4, 1, interpolation="midpoint"),
        Sample(_distinct(rng, (3, 5)), 0.4, 1, interpolation="lower"),
        Sample(_distinct(rng, (3, 5)), 0.6, 1, interpolation="nearest"),
        Sample(_distinct(rng, (3, 5)), np.array([0.2, 0.9]), keepdim=True),
        Sample(_distinct(rng, ()), 0.5), Sample(_distinct(rng, (3, 4)), 0.5, 1, kind="noncontiguous"),
        Sample(np.array([[1.0, np.nan, 3.0], [2.0, 0.0, 1.0]]), 0.5, 1, kind="special")],
        grad_args=(0,), notes="q as an array sample is a float leaf too: only input is differentiated"),
    OpInfo("nelement", function=False, grad=False, samples=lambda rng: [
        Sample(arr(rng, (3, 4))), Sample(arr(rng, ())), Sample(np.zeros((0, 3)), kind="zero")]),
]
