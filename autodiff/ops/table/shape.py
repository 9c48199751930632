"""Op table rows: shape ops (see ``autodiff.ops.table``)."""
import numpy as np

from . import OpInfo, Sample, arr


def _s(shape, *args, kind="plain", **kwargs):
    """A sample builder: a float array of ``shape`` (non-contiguous for that kind), then ``args``."""
    return lambda rng: Sample(arr(rng, shape), *args, kind=kind, **kwargs)


def _many(*shapes, kind="plain", **kwargs):
    """A sample builder: one float array per shape (for cat, stack, meshgrid ...)."""
    return lambda rng: Sample(*[arr(rng, s) for s in shapes], kind=kind, **kwargs)


def _samples(*builders):
    return lambda rng: [b(rng) for b in builders]


def _zero(shape, *args, **kwargs):
    return lambda rng: Sample(np.zeros(shape), *args, kind="zero", **kwargs)


def _zeros(*shapes, **kwargs):
    return lambda rng: Sample(*[np.zeros(s) for s in shapes], kind="zero", **kwargs)


def _cat(lib, *tensors, dim=0):
    return lib.cat(list(tensors), dim)


def _concat(lib, *tensors, dim=0):
    return lib.concat(list(tensors), dim=dim)


def _stack(lib, *tensors, dim=0):
    return lib.stack(tensors, dim)


def _meshgrid(lib, *tensors, indexing="ij"):
    return lib.meshgrid(*tensors, indexing=indexing)


ROWS = [
    OpInfo("reshape", samples=_samples(
        _s((2, 3), (3, 2)), _s((2, 3), (-1,)), _s((), (1, 1)), _s((4,), (2, 2)),
        _s((3, 4), (4, 3), kind="noncontiguous"), _zero((0, 3), (3, 0)), _zero((2, 0), (-1,)))),
    OpInfo("view", function=False, samples=_samples(
        _s((2, 3), (3, 2)), _s((2, 3), (-1,)), _s((), (1,)), _s((2, 3, 4), 6, 4), _zero((0, 3), (3, 0))),
        notes="no non-contiguous sample: view of a transposed tensor raises, as in PyTorch"),
    OpInfo("flatten", samples=_samples(
        _s((2, 3, 4)), _s((2, 3, 4), 1), _s((2, 3, 4), 0, 1), _s((2, 3, 4), -2, -1), _s(()),
        _s((3, 4), kind="noncontiguous"), _zero((0, 3)), _zero((0, 3), 1), _zero((2, 0, 3), 1))),
    OpInfo("squeeze", samples=_samples(
        _s((2, 1, 3)), _s((2, 1, 3), 1), _s((2, 1, 3), 0), _s((1, 3, 1), (0, 2)), _s((1,)), _s(()),
        _s((3, 1), kind="noncontiguous"), _zero((0, 1), 1))),
    OpInfo("unsqueeze", samples=_samples(
        _s((2, 3), 0), _s((2, 3), -1), _s((2, 3), 1), _s((), 0), _s((3, 4), 1, kind="noncontiguous"),
        _zero((0, 3), 1))),
    OpInfo("transpose", samples=_samples(
        _s((2, 3, 4), 0, 2), _s((2, 3), 1, -2), _s((2, 3), 1, 1), _s((3, 4), 0, 1, kind="noncontiguous"),
        _zero((0, 3), 0, 1))),
    OpInfo("permute", samples=_samples(
        _s((2, 3, 4), (2, 0, 1)), _s((2, 3), (-1, 0)), _s((), ()), _s((3, 4), (1, 0), kind="noncontiguous"),
        _zero((0, 3), (1, 0)))),
    OpInfo("t", samples=_samples(_s((2, 3)), _s((3,)), _s(()), _s((3, 4), kind="noncontiguous"),
                                 _zero((0, 3)))),
    OpInfo("expand", function=False, samples=_samples(
        _s((3, 1), 3, 4), _s((3,), 2, 3), _s((3, 1), -1, 4), _s((), 2), _s((3, 1), (2, 3, 5)),
        _s((3, 1), 3, 4, kind="noncontiguous"), _zero((0, 1), 0, 3))),
    OpInfo("broadcast_to", samples=_samples(
        _s((3, 1), (2, 3, 4)), _s((), (2,)), _s((3, 1), (3, 2), kind="noncontiguous"), _zero((1, 3), (0, 3)))),
    OpInfo("split", samples=_samples(
        _s((5, 3), 2), _s((5, 3), [2, 3]), _s((3, 5), 2, 1), _s((3, 5), [1, 0, 4], 1), _s((4,), 4),
        _s((3, 4), 2, kind="noncontiguous"), _zero((0, 3), 2), _zero((0, 3), [0, 0]), _zero((3, 0), 1, 1))),
    OpInfo("chunk", samples=_samples(
        _s((5, 3), 2), _s((5, 3), 3), _s((5,), 4), _s((3, 5), 2, 1), _s((3, 4), 2, kind="noncontiguous"),
        _zero((0, 3), 2), _zero((3, 0), 3, 1))),
    OpInfo("unbind", samples=_samples(
        _s((3, 2)), _s((3, 2), 1), _s((2, 3, 4), -1), _s((3, 4), 1, kind="noncontiguous"), _zero((0, 3)),
        _zero((2, 0), 0))),
    OpInfo("cat", call=_cat, samples=_samples(
        _many((2, 3), (1, 3)), _many((2, 3), (2, 1), dim=1), _many((2,), (3,), (1,)), _many((2, 3), (2, 3), dim=-1),
        _many((3, 4), (3, 4), kind="noncontiguous"), _zeros((0, 3), (2, 3)), _zeros((0,), (0,)))),
    OpInfo("concat", call=_concat, samples=_samples(_many((2, 3), (1, 3)), _many((2, 3), (2, 1), dim=1))),
    OpInfo("stack", call=_stack, samples=_samples(
        _many((2, 3), (2, 3)), _many((2, 3), (2, 3), dim=1), _many((), ()), _many((3,), (3,), (3,), dim=-1),
        _many((3, 4), (3, 4), kind="noncontiguous"), _zeros((0, 3), (0, 3)))),
    OpInfo("narrow", samples=_samples(
        _s((4, 3), 0, 1, 2), _s((4, 3), 1, -2, 2), _s((4, 3), 0, 4, 0), _s((3, 4), 1, 0, 3, kind="noncontiguous"),
        _zero((0, 3), 1, 1, 1))),
    OpInfo("flip", samples=_samples(
        _s((2, 3), (0,)), _s((2, 3, 4), (0, 2)), _s((2, 3), [1]), _s((), ()), _s((3, 4), (1,), kind="noncontiguous"),
        _zero((0, 3), (0, 1)))),
    OpInfo("roll", samples=_samples(
        _s((2, 3), 1), _s((2, 3), -1, 1), _s((2, 3, 4), (1, 2), (0, 2)), _s((4,), 5, 0),
        _s((3, 4), 2, 1, kind="noncontiguous"), _zero((0, 3), 1, 0))),
    OpInfo("repeat", function=False, samples=_samples(
        _s((2, 3), 2, 1), _s((2, 3), 2, 1, 3), _s((3,), (2, 2)), _s((), 3), _s((2, 3), 0, 1),
        _s((3, 4), 1, 2, kind="noncontiguous"), _zero((0, 3), 2, 2))),
    OpInfo("tile", samples=_samples(
        _s((2, 3), (2,)), _s((2, 3), (2, 1, 3)), _s((3,), (2, 2)), _s((3, 4), (1, 2), kind="noncontiguous"),
        _zero((0, 3), (2,)))),
    OpInfo("repeat_interleave", samples=_samples(
        _s((2, 3), 2), _s((2, 3), 2, 0), _s((2, 3), np.array([1, 0, 2]), 1), _s((3,), np.array([2, 1, 3])),
        _s((3, 4), 2, 1, kind="noncontiguous"), _zero((0, 3), 2, 0))),
    OpInfo("hstack", method=False, call=lambda lib, *ts: lib.hstack(ts), samples=_samples(
        _many((2, 3), (2, 1)), _many((2,), (3,)), _many((), (2,)), _many((2, 2, 1), (2, 1, 1)),
        _many((3, 4), (3, 4), kind="noncontiguous"), _zeros((0,), (2,)))),
    OpInfo("vstack", method=False, call=lambda lib, *ts: lib.vstack(ts), samples=_samples(
        _many((2, 3), (1, 3)), _many((3,), (3,)), _many((3,), (2, 3)), _many((), ()),
        _many((3, 4), (3, 4), kind="noncontiguous"), _zeros((0, 3), (3,)))),
    OpInfo("dstack", method=False, call=lambda lib, *ts: lib.dstack(ts), samples=_samples(
        _many((2, 3), (2, 3)), _many((3,), (3,)), _many((2, 3, 1), (2, 3)), _many((3, 4), (3, 4), kind="noncontiguous"))),
    OpInfo("column_stack", method=False, call=lambda lib, *ts: lib.column_stack(ts), samples=_samples(
        _many((3,), (3, 2)), _many((3,), (3,)), _many((), ()), _many((3, 4), (3, 4), kind="noncontiguous"))),
    OpInfo("movedim", aliases=("moveaxis",), samples=_samples(
        _s((2, 3, 4), 0, 2), _s((2, 3, 4), (0, 1), (2, 0)), _s((2, 3, 4), -1, 0), _s((2, 3), 1, 1), _s((), 0, 0),
        _s((3, 4), 0, 1, kind="noncontiguous"), _zero((0, 3), 0, 1))),
    OpInfo("swapaxes", aliases=("swapdims",), samples=_samples(
        _s((2, 3, 4), 0, 2), _s((2, 3), -1, 0), _s((3, 4), 0, 1, kind="noncontiguous"), _zero((0, 3), 0, 1))),
    OpInfo("unflatten", samples=_samples(
        _s((2, 6), 1, (2, 3)), _s((6, 2), 0, (-1, 2)), _s((2, 3), -1, (3, 1)), _s((4,), 0, (2, 2)),
        _s((3, 4), 1, (2, 2), kind="noncontiguous"), _zero((0, 4), 1, (2, 2)))),
    OpInfo("meshgrid", method=False, call=_meshgrid, samples=_samples(
        _many((3,), (2,)), _many((3,), (2,), indexing="xy"), _many((2,), (3,), (4,)), _many((3,), (4,), indexing="xy"),
        _many((3,)), _zeros((0,), (2,)))),
    OpInfo("cartesian_prod", method=False, samples=_samples(
        _many((3,), (2,)), _many((2,), (2,), (3,)), _many((3,)), _zeros((0,), (2,)))),
]
