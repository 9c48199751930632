"""Tensor methods and ``autodiff.<name>`` functions for the shape, indexing, linear-algebra,
sorting, scan and statistics ops of PyTorch's API (narrow, gather, scatter, sort, topk,
cumsum, einsum, norm, unique, histc ...), one module per family: ``indexing``, ``linalg``,
``ordering`` (scans, sorting, counting), ``shape``; ``_args`` holds the argument checks.

Each function only checks its arguments (PyTorch's errors, naming the op and the argument)
and picks the op: most of these ops move values around, so they are the indexing ops of
``autodiff/ops/shape.py`` with an index array built here (gather, sort, roll, repeat ...)
and get their gradients from them; the others are ``Op``s of their own in
``autodiff/ops/`` (scan.py, linalg.py's Einsum and Norm, shape.py's Triangle and MaskedFill).
In-place forms (``scatter_``, ``masked_fill_`` ...) go through ``Tensor._inplace``.

``install()`` puts the methods on ``Tensor``; ``FUNCTIONS`` lists the names exported as
``autodiff.<name>``.
"""
from .indexing import (  # noqa: F401
    along_dim_key, gather, scatter, scatter_add, index_select, index_add, select, take, narrow, masked_fill,
    masked_select)
from .indexing import _index_add_, _masked_fill_, _scatter_, _scatter_add_
from .linalg import (  # noqa: F401
    tril, triu, diagonal, diag, trace, dot, mv, bmm, outer, addmm, einsum, norm, dist, inner, tensordot,
    kron, cdist, tril_indices, triu_indices)
from .linalg import fill_diagonal_
from .linalg import _triangle_
from .ordering import (  # noqa: F401
    cumsum, cumprod, prod, sort, argsort, topk, kthvalue, median, mode, aminmax, all, any,
    count_nonzero, nonzero, unique, bincount, histc, histogram, quantile, sort_result, topk_result,
    kthvalue_result, median_result, mode_result, aminmax_result, histogram_result)
from .shape import (  # noqa: F401
    flip, roll, repeat, tile, repeat_interleave, meshgrid, cartesian_prod, hstack, vstack, dstack,
    column_stack, movedim, swapaxes, unflatten, nelement)
from ..tensor import Tensor

# ---------------------------------------------------------------------- Tensor methods
# the functions above whose first argument is the tensor; each is also Tensor.<name>
METHODS = """
    gather scatter scatter_add index_select index_add select take narrow masked_fill masked_select
    tril triu diagonal diag trace dot mv bmm outer addmm norm dist cumsum cumprod prod
    sort argsort topk kthvalue median mode aminmax flip roll repeat tile repeat_interleave
    all any count_nonzero nonzero unique bincount histc histogram nelement
    movedim swapaxes unflatten inner kron quantile
""".split()

ALIASES = {"moveaxis": "movedim", "swapdims": "swapaxes"}     # other PyTorch names, methods and functions

# the ``autodiff.<name>`` functions (repeat and nelement are methods only, as in PyTorch)
FUNCTIONS = [n for n in METHODS if n not in ("repeat", "nelement")] + list(ALIASES) + [
    "einsum", "meshgrid", "cartesian_prod", "hstack", "vstack", "dstack", "column_stack",
    "tensordot", "cdist", "tril_indices", "triu_indices"]

IN_PLACE = {
    "scatter_": _scatter_, "scatter_add_": _scatter_add_, "index_add_": _index_add_,
    "masked_fill_": _masked_fill_, "fill_diagonal_": fill_diagonal_,
    "tril_": _triangle_("tril_", False), "triu_": _triangle_("triu_", True),
}


def _method(function):
    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)
    method.__name__, method.__doc__ = function.__name__, function.__doc__
    return method


def install():
    """Put the methods on ``Tensor`` (called once, by ``autodiff/__init__.py``)."""
    for name in METHODS:
        setattr(Tensor, name, _method(globals()[name]))
    for alias, name in ALIASES.items():
        setattr(Tensor, alias, getattr(Tensor, name))
    for name, method in IN_PLACE.items():
        setattr(Tensor, name, method)


moveaxis, swapdims = movedim, swapaxes

