"""Capture on 'cuda': CudaArray calls written on the tape, as ``tracer.TracedArray`` does for numpy.

A ``TracedCudaArray`` is a CudaArray (the same device buffer, offset, shape and strides)
whose numpy calls (``__array_ufunc__``, ``__array_function__``), operators and methods run
on the plain CudaArray *and* go on the capture's tape; a CUDA backend method
(``backends.cuda.CUDA.linear``, ``.sgd_step``: one fused kernel each) goes on it as one call
too. Replay calls the same functions on plain CudaArrays, so it launches the same kernels as
eager (fewer where the tape drops or folds an entry), with no Tensor and no graph node.

Imported on the first capture that meets a CUDA tensor (``import autodiff`` and CPU
captures never import Numba).
"""
from .. import backends
from ..backends.cuda import CUDA
from ..cuda import CudaArray
from . import tracer
from .tracer import Traced, _plain


class TracedCudaArray(CudaArray, Traced):
    """A CudaArray whose calls are recorded during a capture (see the module docstring).
    Outside a capture it computes like a plain CudaArray and returns plain CudaArrays."""

    __slots__ = ()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return tracer.TracedArray.__array_ufunc__(self, ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return tracer.TracedArray.__array_function__(self, func, types, args, kwargs)

    def _untraced_view(self):
        return CudaArray(self._buf, self._offset, self.shape, self._strides, self.dtype)


def traced_view(plain):
    return TracedCudaArray(plain._buf, plain._offset, plain.shape, plain._strides, plain.dtype)


def _defers(args):
    """An operand that takes over the operator (a Tensor: ``__array_ufunc__ = None``)."""
    return any(getattr(type(a), "__array_ufunc__", False) is None for a in args)


def _recorded(name, mutating=False):
    impl = getattr(CudaArray, name)

    def method(self, *args, **kwargs):
        if _defers(args):
            return NotImplemented
        rec = tracer.active()
        if rec is None or rec.in_host:
            return impl(self._untraced_view(), *_plain(args), **_plain(kwargs))
        return rec.call(impl, (self,) + args, kwargs, name, mutated=(self,) if mutating else ())

    method.__name__ = name
    return method


def _read(name):
    impl = getattr(CudaArray, name)

    def method(self, *args, **kwargs):
        rec = tracer.active()
        if rec is None or rec.in_host:
            return impl(self._untraced_view(), *_plain(args), **_plain(kwargs))
        return rec.host_read(impl, (self,) + args, kwargs, name)

    method.__name__ = name
    return method


_OPERATORS = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor")
for _name in ("copy", "astype", "reshape", "ravel", "flatten", "transpose", "swapaxes", "squeeze",
              "_expand_dims", "_broadcast_to", "__getitem__", "sum", "prod", "mean", "max", "min",
              "all", "any", "argmax", "argmin", "nonzero", "clip", "dot", "get", "copy_to_host",
              "__array__", "__copy__", "__deepcopy__", "__matmul__", "__rmatmul__", "__neg__",
              "__pos__", "__abs__", "__invert__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__",
              "__ne__") + tuple(f"__{op}__" for op in _OPERATORS) + \
        tuple(f"__r{op}__" for op in _OPERATORS):
    setattr(TracedCudaArray, _name, _recorded(_name))
for _name in ("__setitem__", "fill") + tuple(f"__i{op}__" for op in _OPERATORS):
    setattr(TracedCudaArray, _name, _recorded(_name, mutating=True))
for _name in ("item", "tolist", "__bool__", "__float__", "__int__", "__index__", "__repr__",
              "__str__", "__reduce__"):
    setattr(TracedCudaArray, _name, _read(_name))
TracedCudaArray.__hash__ = None


class _RecordingCudaBackend:
    """``backends.of`` of a traced CudaArray: each CUDA backend method (one fused kernel, or a
    few) as one recorded call. The optimizer updates (``*_step``) change their arrays in place."""

    def __getattr__(self, name):
        impl = getattr(CUDA, name)
        if not callable(impl):
            return impl
        mutating = name.endswith("_step")

        def method(*args, **kwargs):
            rec = tracer.active()
            if rec is None or rec.in_host:
                return impl(*_plain(args), **_plain(kwargs))
            mutated = tuple(a for a in args if isinstance(a, Traced)) if mutating else ()
            return rec.call(impl, args, kwargs, f"cuda {name}", mutated=mutated)
        method.__name__ = name
        return method


backends.register(TracedCudaArray, _RecordingCudaBackend())


def from_host_hook(recorder, original):
    """``CudaArray.from_host`` during a capture: a traced host array copied to the device is a
    call on the tape (a tensor moved to 'cuda' inside the step), not a frozen constant."""
    def from_host(cls, array):
        if tracer.active() is recorder and not recorder.in_host and isinstance(array, Traced):
            return recorder.call(original, (array,), {}, "from_host")
        return original(array)
    return classmethod(from_host)
