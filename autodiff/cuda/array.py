"""CudaArray: an N-d array in GPU memory with the part of numpy's array protocol the ops use.

autodiff's ops are numpy code (``np.exp(x)``, ``a @ b``, ``x.sum(axis=1, keepdims=True)``,
``np.where``, indexing ...). A CudaArray answers that code on the GPU: numpy hands every
ufunc call to ``__array_ufunc__`` and every numpy function to ``__array_function__``, and
the methods and operators mirror ndarray's. So an op's forward and derivative run
unchanged on a CUDA tensor, each step one kernel from ``autodiff.cuda._kernels``.

The array modules import one way only (no cycle):

    _core          the class, layout, copies, views, operators, elementwise ufuncs
    _reductions    sum, prod, mean, max, min, all, any, argmax/argmin          (uses _core)
    _linalg        matmul, dot                                                   (uses _core)
    _indexing      basic and advanced indexing, nonzero, ufunc.at   (_core, _reductions)
    _functions     numpy's functions: the __array_function__ table       (all of the above)
    array          this module: the methods that reach the layers above _core

Import CudaArray from here (``autodiff.cuda.array``): the class is complete once this module
has run.
"""
import types

import numpy as np

from . import _functions as _fn, _indexing as _idx, _linalg as _la, _reductions as _red
from ._core import (CPU, CUDA0, CudaArray, _c_strides, _call_ufunc, _check_ufunc_options,  # noqa: F401
                    _copy_into, _defer, _elementwise, _is_scalar, _scalar_of, _value_operand, mismatch)
# (_c_strides: for autodiff.ops.recurrent, which builds CudaArrays on kernels.cuda's results)


class _Protocol:
    """CudaArray's methods that use the modules above ``_core`` (copied onto the class below)."""

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, key):
        parts, advanced = _idx._expand_key(key, self)
        if not advanced:
            return _idx._basic_view(self, parts)
        return _idx._advanced_get(self, parts)

    def __setitem__(self, key, value):
        if isinstance(key, CudaArray) and key.dtype == np.bool_ and key.ndim and \
                self.shape[:key.ndim] == key.shape and _is_scalar(value):
            mask = key.reshape(key.shape + (1,) * (self.ndim - key.ndim))   # no sync: a masked fill
            _elementwise("copy", [_scalar_of(value, self.dtype)], (self.dtype,), self.dtype,
                         out=self, where=mask)
            return
        parts, advanced = _idx._expand_key(key, self)
        if not advanced:
            _copy_into(_idx._basic_view(self, parts), _value_operand(value, upload=True))
            return
        _idx._advanced_set(self, parts, value, accumulate=False)

    # ------------------------------------------------------------------ numpy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.pop("out", None)
        if out is not None:
            if len(out) != 1:
                raise NotImplementedError(f"{ufunc.__name__}: several outputs are not supported on "
                                          "CUDA arrays")
            out = out[0]
            if not isinstance(out, CudaArray):
                raise mismatch(CUDA0, CPU)
        if method == "__call__" and ufunc is np.matmul:
            return _matmul_ufunc(inputs, out, **kwargs)
        if method == "__call__":
            return _call_ufunc(ufunc, inputs, out, **kwargs)
        if method == "reduce":
            return _red._ufunc_reduce(ufunc, *inputs, out=out, **kwargs)
        if method == "at":
            return _idx._ufunc_at(ufunc, *inputs)
        raise NotImplementedError(f"{ufunc.__name__}.{method} is not supported on CUDA arrays")

    def __array_function__(self, func, types, args, kwargs):
        impl = _fn._FUNCTIONS.get(func)
        if impl is None:
            raise TypeError(f"{func.__name__}: numpy.{func.__name__} is not supported on CUDA "
                            "arrays; copy to the host first (tensor.cpu())")
        return impl(*args, **kwargs)

    def __matmul__(self, other):
        if _defer(other):
            return NotImplemented
        return _la._matmul(self, other)

    def __rmatmul__(self, other):
        if _defer(other):
            return NotImplemented
        return _la._matmul(other, self)

    # ------------------------------------------------------------------ reductions (methods)
    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        return _red._sum(self, axis, dtype, out, keepdims, **kwargs)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        return _red._prod_reduce(self, axis, dtype, out, keepdims, **kwargs)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        return _red._mean(self, axis, dtype, out, keepdims, **kwargs)

    def max(self, axis=None, out=None, keepdims=False, **kwargs):
        return _red._max(self, axis, out, keepdims, **kwargs)

    def min(self, axis=None, out=None, keepdims=False, **kwargs):
        return _red._min(self, axis, out, keepdims, **kwargs)

    def all(self, axis=None, out=None, keepdims=False, **kwargs):
        return _red._all(self, axis, out, keepdims, **kwargs)

    def any(self, axis=None, out=None, keepdims=False, **kwargs):
        return _red._any(self, axis, out, keepdims, **kwargs)

    def argmax(self, axis=None, out=None, keepdims=False):
        return _red._argreduce("argmax", self, axis, out, keepdims)

    def argmin(self, axis=None, out=None, keepdims=False):
        return _red._argreduce("argmin", self, axis, out, keepdims)

    def nonzero(self):
        return _idx._nonzero(self)

    def clip(self, min=None, max=None, out=None, **kwargs):  # noqa: A002
        return _fn._clip(self, min, max, out, **kwargs)

    def dot(self, other):
        return _la._dot(self, other)


def _matmul_ufunc(inputs, out, where=True, casting="same_kind", dtype=None, signature=None, **kwargs):
    """np.matmul(a, b, out=...) on CudaArrays (where, casting and dtype are not used)."""
    _check_ufunc_options("matmul", signature, kwargs)
    return _la._matmul(*inputs, out=out)


for _name, _method in vars(_Protocol).items():
    if isinstance(_method, types.FunctionType):
        setattr(CudaArray, _name, _method)
