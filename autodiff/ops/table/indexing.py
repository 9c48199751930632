"""Op table rows: indexing ops (see ``autodiff.ops.table``): ``x[key]`` of every kind of key,
``x[key] = value``, gather/scatter and the other ops that pick or place elements by index."""
import numpy as np

from . import OpInfo, Sample, arr

_ = slice(None)
_INT = np.int64


def _index(lib, x, key):
    return x[key]


def _index_put(lib, x, key, value):
    out = x * 1          # (a copy in the graph: an in-place change of a leaf is refused)
    out[key] = value
    return out


def _keys(rng):
    """x[key] for every kind of key: basic, integer arrays, masks, and mixes (PyTorch's rule)."""
    x = lambda *shape: arr(rng, shape)  # noqa: E731
    mask = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
    return [
        Sample(x(3, 4), 1), Sample(x(3, 4), (1, slice(0, 3, 2))), Sample(x(3, 4), (Ellipsis, None, -1)),
        Sample(x(2, 3, 4), (_, slice(1, None), 0)),
        Sample(x(3, 4), np.array([0, 2, 2], dtype=_INT)),                   # repeated rows accumulate
        Sample(x(3, 4), (np.array([[0, 1], [2, 2]], dtype=_INT), _)),
        Sample(x(3, 4), (np.array([0, 2], dtype=_INT), np.array([1, 3], dtype=_INT))),
        Sample(x(3, 4), mask), Sample(x(3, 4), (mask[:, 0], 1)), Sample(x(3, 4), x(3, 4) > 10),
        Sample(x(2, 3, 4), (0, _, np.array([0, 1], dtype=_INT))),           # PyTorch's (3, 2)
        Sample(x(2, 3, 4), (_, 0, np.array([0, 1], dtype=_INT))),
        Sample(x(2, 3, 4), (np.array([1, 0], dtype=_INT), _, 0)),
        Sample(x(2, 3, 4), (Ellipsis, 1, np.array([[0], [3]], dtype=_INT))),
        Sample(x(2, 3, 4), (1, None, slice(1, 3), np.array([0, 1], dtype=_INT))),
        Sample(x(2, 3, 4), (np.array([0, 1], dtype=_INT), 1, np.array([2, 3], dtype=_INT))),
        Sample(x(3, 4), (np.array([1, 0], dtype=_INT), slice(0, 3)), kind="noncontiguous"),
        Sample(x(2, 3), [], kind="zero"),
        Sample(np.zeros((0, 3)), (_, 1), kind="zero"),
        Sample(np.zeros((2, 3)), np.array([], dtype=_INT), kind="zero"),
    ]


def _puts(rng):
    """x[key] = value (a copy of x): value's gradient is x's gradient at key."""
    x = lambda *shape: arr(rng, shape)  # noqa: E731
    mask = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
    return [
        Sample(x(3, 4), 1, x(4)), Sample(x(3, 4), (_, slice(0, 4, 2)), x(3, 1)), Sample(x(3, 4), (0, 1), 2.5),
        Sample(x(3, 4), np.array([0, 2], dtype=_INT), x(2, 4)), Sample(x(3, 4), mask, x()),
        Sample(x(3, 4), mask, x(6)),
        Sample(x(2, 3, 4), (0, _, np.array([0, 1], dtype=_INT)), x(3, 2)),    # PyTorch's layout
        Sample(x(2, 3, 4), (np.array([1, 0], dtype=_INT), _, 2), x(2, 3)),
        Sample(x(2, 3, 4), (_, 1, np.array([0, 3], dtype=_INT)), x(2, 2)),
        Sample(x(3, 4), (_, 1), x(3), kind="noncontiguous"),
        Sample(np.zeros((0, 3)), (_, 1), np.zeros(0), kind="zero"),
    ]


_ROWS_IDX = np.array([[0, 3], [1, 1], [2, 0]], dtype=_INT)        # per row: where to gather
_UNIQUE_IDX = np.array([[3, 0], [1, 2], [0, 1]], dtype=_INT)      # no repeats: scatter is defined


def _gather(rng):
    x = lambda *shape: arr(rng, shape)  # noqa: E731
    return [
        Sample(x(3, 4), 1, _ROWS_IDX), Sample(x(3, 4), 0, np.array([[2, 0, 1, 1]], dtype=_INT)),
        Sample(x(3, 4), -1, _ROWS_IDX[:2]), Sample(x(2, 3, 4), 2, np.zeros((2, 3, 2), dtype=_INT)),
        Sample(x(3, 4), 1, _ROWS_IDX, kind="noncontiguous"),
        Sample(np.zeros((0, 3)), 1, np.zeros((0, 2), dtype=_INT), kind="zero"),
    ]


def _scatter(rng):
    x = lambda *shape: arr(rng, shape)  # noqa: E731
    return [
        Sample(x(3, 4), 1, _UNIQUE_IDX, x(3, 2)),
        Sample(x(3, 4), 0, np.array([[2, 0, 1, 1]], dtype=_INT), x(1, 4)), Sample(x(3, 4), 1, _UNIQUE_IDX, 2.5),
        Sample(x(3, 4), 1, _UNIQUE_IDX, x(3, 2), kind="noncontiguous"),
        Sample(np.zeros((0, 3)), 1, np.zeros((0, 2), dtype=_INT), np.zeros((0, 2)), kind="zero"),
    ]


def _scatter_add(rng):
    x = lambda *shape: arr(rng, shape)  # noqa: E731
    return [
        Sample(x(3, 4), 1, _ROWS_IDX, x(3, 2)), Sample(x(3, 4), 0, np.array([[2, 0, 2, 2]], dtype=_INT), x(1, 4)),
        Sample(x(2, 3), -1, np.array([[0, 0, 0], [2, 1, 2]], dtype=_INT), x(2, 3)),
        Sample(x(3, 4), 1, _ROWS_IDX, x(3, 2), kind="noncontiguous"),
        Sample(np.zeros((0, 3)), 1, np.zeros((0, 2), dtype=_INT), np.zeros((0, 2)), kind="zero"),
    ]


def _index_select(rng):
    x = lambda *shape: arr(rng, shape)  # noqa: E731
    return [
        Sample(x(3, 4), 0, np.array([2, 0, 2], dtype=_INT)), Sample(x(3, 4), 1, np.array([3], dtype=_INT)),
        Sample(x(2, 3, 4), -1, np.array([0, 1, 1, 3], dtype=_INT)), Sample(x(3), 0, np.array(1, dtype=_INT)),
        Sample(x(3, 4), 1, np.array([1, 0], dtype=_INT), kind="noncontiguous"),
        Sample(x(3, 4), 0, np.array([], dtype=_INT), kind="zero"),
    ]


def _index_add(rng):
    x = lambda *shape: arr(rng, shape)  # noqa: E731
    return [
        Sample(x(3, 4), 0, np.array([0, 2, 0], dtype=_INT), x(3, 4)),
        Sample(x(3, 4), 1, np.array([3, 1], dtype=_INT), x(3, 2)),
        Sample(x(3, 4), 1, np.array([3, 1], dtype=_INT), x(3, 2), alpha=2.0),
        Sample(x(3, 4), 0, np.array([1], dtype=_INT), x(1, 4), kind="noncontiguous"),
        Sample(np.zeros((0, 3)), 1, np.array([0], dtype=_INT), np.zeros((0, 1)), kind="zero"),
    ]


def _take(rng):
    x = lambda *shape: arr(rng, shape)  # noqa: E731
    return [
        Sample(x(3, 4), np.array([[0, 5], [11, 5]], dtype=_INT)), Sample(x(3, 4), np.array(-1, dtype=_INT)),
        Sample(x(), np.array([0, 0], dtype=_INT)),
        Sample(x(3, 4), np.array([1, 4, 7], dtype=_INT), kind="noncontiguous"),
        Sample(x(3, 4), np.array([], dtype=_INT), kind="zero"),
    ]


_MASK = np.array([[True, False, True, False], [False, False, False, True], [True, True, False, False]])


def _masked_fill(rng):
    x = lambda *shape: arr(rng, shape)  # noqa: E731
    return [
        Sample(x(3, 4), _MASK, 0.5), Sample(x(3, 4), _MASK[0], -2.0), Sample(x(3, 4), _MASK, x()),
        Sample(x(3, 4), np.array(True), 1.0), Sample(x(3, 4), _MASK, float("-inf"), kind="special"),
        Sample(x(3, 4), _MASK, 0.5, kind="noncontiguous"),
        Sample(np.zeros((0, 4)), np.zeros((0, 4), dtype=bool), 1.0, kind="zero"),
    ]


def _masked_select(rng):
    x = lambda *shape: arr(rng, shape)  # noqa: E731
    return [
        Sample(x(3, 4), _MASK), Sample(x(3, 4), _MASK[1]), Sample(x(4), _MASK),
        Sample(x(3, 4), _MASK, kind="noncontiguous"),
        Sample(np.zeros((0, 4)), _MASK[0], kind="zero"),
    ]


def _in_place(name):
    """Call the in-place method on a copy of the first argument (leaves refuse in-place changes)."""
    def call(lib, x, *args, **kwargs):
        out = x * 1
        result = getattr(out, name)(*args, **kwargs)
        assert result is out
        return out
    return call


ROWS = [
    OpInfo("index", call=_index, samples=_keys, notes="x[key]: Tensor.__getitem__"),
    OpInfo("index_put", call=_index_put, samples=_puts, notes="x[key] = value: Tensor.__setitem__"),
    OpInfo("gather", samples=_gather),
    OpInfo("scatter", samples=_scatter),
    OpInfo("scatter_", call=_in_place("scatter_"), samples=_scatter),
    OpInfo("scatter_add", samples=_scatter_add),
    OpInfo("scatter_add_", call=_in_place("scatter_add_"), samples=_scatter_add),
    OpInfo("index_select", samples=_index_select),
    OpInfo("index_add", samples=_index_add),
    OpInfo("index_add_", call=_in_place("index_add_"), samples=_index_add),
    OpInfo("take", samples=_take),
    OpInfo("select", samples=lambda rng: [
        Sample(arr(rng, (3, 4)), 0, 1), Sample(arr(rng, (3, 4)), 1, -1), Sample(arr(rng, (2, 3, 4)), -2, 2),
        Sample(arr(rng, (3,)), 0, 0), Sample(arr(rng, (3, 4)), 1, 2, kind="noncontiguous"),
        Sample(np.zeros((0, 3)), 1, 1, kind="zero")]),
    OpInfo("masked_fill", samples=_masked_fill),
    OpInfo("masked_fill_", call=_in_place("masked_fill_"),
           samples=lambda rng: [s for s in _masked_fill(rng) if s.args[1].shape != ()]),
    OpInfo("masked_select", samples=_masked_select),
]
