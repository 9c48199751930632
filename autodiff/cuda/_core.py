"""The core of CudaArray (the class itself is ``autodiff.cuda.array.CudaArray``): the array,
its layout, copies and views, its operators and the elementwise ufuncs (numpy's type
promotion, broadcasting, ``out=`` and ``where=``).

Layout: a flat device buffer (a Numba device array), an element offset, a shape and
strides in elements. Reshaping a contiguous array, transposing, slicing with steps,
``broadcast_to`` and ``expand_dims`` make views (no copy), as numpy's do.

This is the bottom layer of the package's array modules, which import one way only:
``_core`` <- ``_reductions``, ``_linalg`` <- ``_indexing`` <- ``_functions`` <- ``array``.
The methods that reach the layers above (indexing, reductions, matmul, ``__array_ufunc__``
and ``__array_function__``) are given to the class by ``autodiff.cuda.array``, which every
user of CudaArray imports; the lower modules only run once it has been imported.

Operands on the host: Python numbers, numpy scalars and 0-d numpy arrays mix with a
CudaArray as scalars (as PyTorch mixes CPU scalars with CUDA tensors); any other numpy
array raises DeviceMismatchError. Values reach the host only through ``get()``,
``item()``, ``np.asarray`` / ``__array__``, printing, ``bool()``/``int()``/``float()`` of
one element, boolean-mask indexing (the result's size depends on the mask) and the
bounds check of device index arrays.
"""
import numbers

import numpy as np
from numba import cuda

from . import _kernels as K, memory as _memory
from .devices import CPU, CUDA0, DeviceArray, count, mismatch
from kernels.cuda import _common as _kernels_cuda

# kernels.cuda's launches are counted with CudaArray's own
_kernels_cuda.set_launch_listener(lambda: count("launches"))

_FLOAT_KINDS = "fc"


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _c_strides(shape):
    strides = [0] * len(shape)
    step = 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = step if shape[d] != 1 else 0
        step *= shape[d]
    return tuple(strides)


def _shape_arg(shape):
    if len(shape) == 1 and not isinstance(shape[0], (numbers.Integral, np.integer)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _normalize_axis(axis, ndim, name="axis"):
    if not -max(ndim, 1) <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise np.exceptions.AxisError(axis, ndim)
    return int(axis) % max(ndim, 1)


def _normalize_axes(axis, ndim):
    """None -> every axis; an int or a tuple -> a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (numbers.Integral, np.integer)) else tuple(axis)
    out = tuple(sorted(_normalize_axis(a, ndim) for a in axes))
    if len(set(out)) != len(out):
        raise ValueError("duplicate value in 'axis'")
    return out if ndim else ()


def _broadcast_strides(array, shape):
    """``array``'s strides over the (broadcast) iteration ``shape``: 0 along stretched dims."""
    lead = len(shape) - array.ndim
    strides = [0] * lead
    for n_a, s, n in zip(array.shape, array._strides, shape[lead:]):
        strides.append(s if n_a == n else 0)
    return strides


def _coalesce(shape, strides_list):
    """Drop size-1 dims and merge neighbouring dims that every operand walks contiguously,
    so that the kernels see as few dims as possible (usually one)."""
    dims = [d for d, n in enumerate(shape) if n != 1]
    if not dims:
        return (1,), [(0,) for _ in strides_list]
    new_shape = [shape[dims[0]]]
    new_strides = [[st[dims[0]]] for st in strides_list]
    for d in dims[1:]:
        n = shape[d]
        if all(ns[-1] == st[d] * n for ns, st in zip(new_strides, strides_list)):
            new_shape[-1] *= n
            for ns, st in zip(new_strides, strides_list):
                ns[-1] = st[d]
        else:
            new_shape.append(n)
            for ns, st in zip(new_strides, strides_list):
                ns.append(st[d])
    return tuple(new_shape), [tuple(ns) for ns in new_strides]


def _run(kind, spec_head, shape, arrays, scalars, spec_tail=()):
    """Launch a strided kernel over ``shape``: ``arrays`` are (array, strides over shape) pairs."""
    n = _prod(shape)
    if n == 0:
        return
    cshape, cstrides = _coalesce(shape, [st for _, st in arrays])
    args = [n, cshape]
    for (a, _), st in zip(arrays, cstrides):
        args += [a._buf, a._offset, st]
    args += list(scalars)
    K.launch(kind, tuple(spec_head) + (len(cshape),) + tuple(spec_tail), n, *args)


class _Flags:
    __slots__ = ("c_contiguous", "writeable")

    def __init__(self, c_contiguous):
        self.c_contiguous = c_contiguous
        self.writeable = True

    @property
    def contiguous(self):
        return self.c_contiguous

    f_contiguous = False

    def __getitem__(self, name):
        return getattr(self, name.lower())


class CudaArray(DeviceArray):
    """An array on the GPU (cuda:0): a Numba device buffer viewed with a shape and strides."""

    __slots__ = ("_buf", "_offset", "shape", "_strides", "dtype")
    __array_priority__ = 100.0
    device = CUDA0

    def __init__(self, buf, offset, shape, strides, dtype):
        self._buf = buf
        self._offset = offset
        self.shape = shape
        self._strides = strides
        self.dtype = dtype

    # ------------------------------------------------------------------ making arrays
    @classmethod
    def empty(cls, shape, dtype):
        shape = tuple(int(n) for n in shape)
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise TypeError(f"cuda: arrays of dtype {dtype} are not supported on a CUDA device")
        return cls(_memory.empty(_prod(shape), dtype), 0, shape, _c_strides(shape), dtype)

    @classmethod
    def full(cls, shape, value, dtype):
        out = cls.empty(shape, dtype)
        out.fill(value)
        return out

    @classmethod
    def from_host(cls, array):
        """A copy on the device of a host array (numpy arrays and anything np.asarray takes)."""
        array = np.asarray(array, order="C")
        if array.dtype.kind not in "biuf":
            raise TypeError(f"cuda: arrays of dtype {array.dtype} are not supported on a CUDA device")
        buf = _memory.empty(array.size, array.dtype)
        if array.size:
            buf.copy_to_device(array.reshape(-1))
        count("host_to_device")
        return cls(buf, 0, array.shape, _c_strides(array.shape), array.dtype)

    def _view(self, offset, shape, strides):
        return CudaArray(self._buf, offset, tuple(shape), tuple(strides), self.dtype)

    # ------------------------------------------------------------------ attributes
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return _prod(self.shape)

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def strides(self):
        """Strides in bytes, as numpy's (0 along broadcast dims)."""
        return tuple(s * self.dtype.itemsize for s in self._strides)

    @property
    def is_c_contiguous(self):
        return all(s == c for s, c, n in zip(self._strides, _c_strides(self.shape), self.shape)
                   if n != 1)

    @property
    def flags(self):
        return _Flags(self.is_c_contiguous)

    @property
    def T(self):
        return self.transpose()

    @property
    def mT(self):
        if self.ndim < 2:
            raise ValueError("matrix transpose with ndim < 2 is undefined")
        return self.swapaxes(-1, -2)

    @property
    def flat(self):
        """The values on the host, flat (a copy)."""
        return self.get().flat

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------------------ to the host
    def get(self):
        """A numpy array with the same values (a copy on the host)."""
        a = self if self.is_c_contiguous else self.copy()
        if a.size == 0:
            return np.empty(a.shape, a.dtype)
        count("device_to_host")
        return a._buf[a._offset:a._offset + a.size].copy_to_host().reshape(a.shape)

    copy_to_host = get

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("a CUDA array cannot be used as a numpy array without a copy to the host")
        host = self.get()
        return host if dtype is None else host.astype(dtype, copy=False)

    def item(self, *args):
        if args:
            return self[args if len(args) > 1 else args[0]].item()
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        count("device_to_host")
        return self._buf[self._offset:self._offset + 1].copy_to_host()[0].item()

    def tolist(self):
        return self.get().tolist()

    def __bool__(self):
        if self.size != 1:
            raise ValueError("The truth value of an array with more than one element is ambiguous. "
                             "Use a.any() or a.all()")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self.size != 1:
            raise TypeError("only integer scalar arrays can be converted to a scalar index")
        return int(self.item())

    def __repr__(self):
        body = np.array2string(self.get(), separator=", ", prefix="cuda_array(")
        return f"cuda_array({body}, dtype={self.dtype.name})"

    def __str__(self):
        return str(self.get())

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        return (CudaArray.from_host, (self.get(),))

    # ------------------------------------------------------------------ copies and casts
    def copy(self, order="C"):
        out = CudaArray.empty(self.shape, self.dtype)
        _copy_into(out, self)
        return out

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        dtype = np.dtype(dtype)
        if dtype == self.dtype and not copy:
            return self
        if not np.can_cast(self.dtype, dtype, casting):
            raise TypeError(f"Cannot cast array data from {self.dtype!r} to {dtype!r} according "
                            f"to the rule {casting!r}")
        out = CudaArray.empty(self.shape, dtype)
        _copy_into(out, self)
        return out

    def fill(self, value):
        _copy_into(self, value)

    # ------------------------------------------------------------------ views
    def reshape(self, *shape, order="C"):
        if order != "C":
            raise NotImplementedError("reshape: only order='C' is supported on CUDA arrays")
        shape = list(_shape_arg(shape))
        size = self.size
        if shape.count(-1) > 1:
            raise ValueError("can only specify one unknown dimension")
        if -1 in shape:
            known = _prod(n for n in shape if n != -1)
            if known == 0 or size % known:
                raise ValueError(f"cannot reshape array of size {size} into shape "
                                 f"{tuple(shape)}")
            shape[shape.index(-1)] = size // known
        shape = tuple(shape)
        if _prod(shape) != size:
            raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
        source = self if self.is_c_contiguous else self.copy()
        return source._view(source._offset, shape, _c_strides(shape))

    def ravel(self, order="C"):
        return self.reshape(-1)

    def flatten(self, order="C"):
        return self.copy().reshape(-1)

    def transpose(self, *axes):
        if not axes or (len(axes) == 1 and axes[0] is None):
            axes = tuple(range(self.ndim))[::-1]
        elif len(axes) == 1 and not isinstance(axes[0], (numbers.Integral, np.integer)):
            axes = tuple(axes[0])
        axes = tuple(_normalize_axis(a, self.ndim) for a in axes)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError("axes don't match array")
        return self._view(self._offset, [self.shape[a] for a in axes],
                          [self._strides[a] for a in axes])

    def swapaxes(self, axis1, axis2):
        axes = list(range(self.ndim))
        a, b = _normalize_axis(axis1, self.ndim), _normalize_axis(axis2, self.ndim)
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(axes)

    def squeeze(self, axis=None):
        if axis is None:
            keep = [d for d, n in enumerate(self.shape) if n != 1]
        else:
            axes = _normalize_axes(axis, self.ndim)
            for a in axes:
                if self.shape[a] != 1:
                    raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
            keep = [d for d in range(self.ndim) if d not in axes]
        return self._view(self._offset, [self.shape[d] for d in keep], [self._strides[d] for d in keep])

    def _expand_dims(self, axis):
        axes = (axis,) if isinstance(axis, (numbers.Integral, np.integer)) else tuple(axis)
        ndim = self.ndim + len(axes)
        axes = sorted(_normalize_axis(a, ndim) for a in axes)
        shape, strides = list(self.shape), list(self._strides)
        for a in axes:
            shape.insert(a, 1)
            strides.insert(a, 0)
        return self._view(self._offset, shape, strides)

    def _broadcast_to(self, shape):
        shape = _shape_arg((shape,)) if not isinstance(shape, tuple) else tuple(int(n) for n in shape)
        if len(shape) < self.ndim or any(n != m and n != 1 for n, m in
                                         zip(self.shape[::-1], shape[::-1])):
            raise ValueError(f"operands could not be broadcast together with remapped shapes "
                             f"[original->remapped]: {self.shape} and requested shape {shape}")
        return self._view(self._offset, shape, _broadcast_strides(self, shape))


# ---------------------------------------------------------------------- operators
def _defer(other):
    """True for objects that take over numpy's operators (``__array_ufunc__ = None``: Tensor)."""
    return getattr(type(other), "__array_ufunc__", False) is None


def _binary_operators(ufunc):
    def forward(self, other):
        if _defer(other):
            return NotImplemented
        return _call_ufunc(ufunc, (self, other), None)

    def reflected(self, other):
        if _defer(other):
            return NotImplemented
        return _call_ufunc(ufunc, (other, self), None)

    def inplace(self, other):
        if _defer(other):
            return NotImplemented
        return _call_ufunc(ufunc, (self, other), self)

    return forward, reflected, inplace


for _names, _ufunc in [(("add", "radd", "iadd"), np.add), (("sub", "rsub", "isub"), np.subtract),
                       (("mul", "rmul", "imul"), np.multiply),
                       (("truediv", "rtruediv", "itruediv"), np.true_divide),
                       (("floordiv", "rfloordiv", "ifloordiv"), np.floor_divide),
                       (("mod", "rmod", "imod"), np.remainder), (("pow", "rpow", "ipow"), np.power),
                       (("and", "rand", "iand"), np.bitwise_and), (("or", "ror", "ior"), np.bitwise_or),
                       (("xor", "rxor", "ixor"), np.bitwise_xor)]:
    for _name, _method in zip(_names, _binary_operators(_ufunc)):
        setattr(CudaArray, f"__{_name}__", _method)

for _name, _ufunc in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                      ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(CudaArray, f"__{_name}__", _binary_operators(_ufunc)[0])

for _name, _ufunc in [("neg", np.negative), ("pos", np.positive), ("abs", np.absolute),
                      ("invert", np.invert)]:
    setattr(CudaArray, f"__{_name}__", (lambda u: lambda self: _call_ufunc(u, (self,), None))(_ufunc))

CudaArray.__hash__ = None


# ---------------------------------------------------------------------- operands
def _is_scalar(value):
    return isinstance(value, (numbers.Number, np.generic)) or (
        isinstance(value, np.ndarray) and value.ndim == 0)


def _operands(values):
    """Each value as (operand, type for numpy's promotion): CudaArrays as they are, host
    scalars as numpy scalars (strong) or Python numbers (weak). Any other host array, or
    an array on another device, raises DeviceMismatchError naming both devices."""
    first = None
    result = []
    for value in values:
        if isinstance(value, CudaArray):
            if first is None:
                first = CUDA0
            elif first != CUDA0:
                raise mismatch(first, CUDA0)
            result.append((value, value.dtype))
        elif isinstance(value, np.ndarray) and value.ndim:
            if first is None:
                first = CPU
            else:
                raise mismatch(first, CPU)
        elif isinstance(value, np.ndarray):
            scalar = value[()]
            result.append((scalar, scalar.dtype))
        elif isinstance(value, np.generic):
            result.append((value, value.dtype))
        elif isinstance(value, (bool, np.bool_)):
            result.append((np.bool_(value), np.dtype(np.bool_)))
        elif isinstance(value, numbers.Integral):
            result.append((int(value), int))
        elif isinstance(value, numbers.Real):
            result.append((float(value), float))
        elif isinstance(value, DeviceArray):
            raise mismatch(first or CUDA0, value.device)
        else:
            raise TypeError(f"unsupported operand type for a CUDA array operation: "
                            f"{type(value).__name__}")
    if first is None:
        raise TypeError("expected at least one CUDA array operand")
    return result


def _promotion_arg(operand, kind):
    return operand if kind in (int, float) else kind


def _scalar_of(value, dtype):
    """A host scalar (number, numpy scalar, 0-d array) as a numpy scalar of ``dtype``."""
    if isinstance(value, np.ndarray):
        value = value[()]
    return np.dtype(dtype).type(value)


def _value_operand(value, upload=False):
    """A value to store: a CudaArray, or a host scalar; host arrays are copied to the device
    when ``upload`` (an assignment copies, as ``copy_`` does) and raise otherwise."""
    if isinstance(value, CudaArray) or _is_scalar(value):
        return value
    if isinstance(value, DeviceArray):
        raise mismatch(CUDA0, value.device)
    if isinstance(value, (list, tuple)) or (upload and isinstance(value, np.ndarray)):
        value = np.asarray(value)
        if value.ndim == 0:
            return value
        if upload:
            return CudaArray.from_host(value)
    raise mismatch(CUDA0, CPU)


_RESOLVED = {}


def _resolve(ufunc, kinds, dtype=None):
    """(loop input dtypes, loop output dtype) numpy would use, with NEP 50's weak Python scalars."""
    key = (ufunc, kinds, dtype)
    loops = _RESOLVED.get(key)
    if loops is None:
        loops = ufunc.resolve_dtypes(kinds + ((np.dtype(dtype) if dtype is not None else None),)
                                     + (None,) * (ufunc.nout - 1))
        loops = _RESOLVED[key] = (loops[:ufunc.nin], loops[ufunc.nin])
    return loops


def _elementwise(op, inputs, loops, loop_out, out=None, where=None, shape=None):
    """Launch op over the broadcast shape of ``inputs`` (CudaArrays, or numpy scalars already
    of their loop dtype), writing into ``out`` (a new array of dtype ``loop_out`` when None)."""
    arrays = [x for x in inputs if isinstance(x, CudaArray)]
    if where is not None:
        arrays.append(where)
    if shape is None:
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        except ValueError:
            raise ValueError("operands could not be broadcast together with shapes "
                             + " ".join(str(a.shape) for a in arrays)) from None
    if out is None:
        out = CudaArray.empty(shape, loop_out)
    else:
        if shape != out.shape:
            try:
                ok = np.broadcast_shapes(shape, out.shape) == out.shape
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"non-broadcastable output operand with shape {out.shape} doesn't "
                                 f"match the broadcast shape {shape}")
        shape = out.shape
        inputs = [_unalias(x, out) for x in inputs]
    kinds, sources, operands, scalars = [], [], [(out, _broadcast_strides(out, shape))], []
    for x in inputs:
        if isinstance(x, CudaArray):
            kinds.append("a")
            sources.append(x.dtype.name)
            operands.append((x, _broadcast_strides(x, shape)))
        else:
            kinds.append("s")
            sources.append(np.dtype(type(x)).name)
            scalars.append(x)
    if where is not None:
        operands.append((where, _broadcast_strides(where, shape)))
    spec = (op, tuple(kinds), tuple(sources), tuple(np.dtype(t).name for t in loops),
            np.dtype(loop_out).name, out.dtype.name)
    _run("elementwise", spec, shape, operands, scalars, (where is not None,))
    return out


def _unalias(x, out):
    """``x``, or a copy of it when it is a different view of ``out``'s memory (an in-place
    update reading other elements than it writes would race)."""
    if isinstance(x, CudaArray) and x._buf is out._buf and x is not out and (
            x._offset != out._offset or x.shape != out.shape or x._strides != out._strides):
        return x.copy()
    return x


def _copy_into(dst, src):
    """dst[...] = src, broadcast and cast (src: a CudaArray or a host scalar)."""
    if isinstance(src, CudaArray):
        _elementwise("copy", [src], (dst.dtype,), dst.dtype, out=dst)
    else:
        _elementwise("copy", [_scalar_of(src, dst.dtype)], (dst.dtype,), dst.dtype, out=dst)


def _check_ufunc_options(name, signature, kwargs):
    """NotImplementedError for ufunc arguments CUDA arrays do not take (subok, order, ...)."""
    if kwargs.pop("subok", True) is not True or kwargs.pop("order", "K") not in ("K", "C", "A"):
        raise NotImplementedError(f"{name}: subok/order are not supported on CUDA arrays")
    if kwargs:
        raise NotImplementedError(f"{name}: arguments {sorted(kwargs)} are not supported on CUDA arrays")
    if signature is not None:
        raise NotImplementedError(f"{name}: signature= is not supported on CUDA arrays")


def _call_ufunc(ufunc, inputs, out, where=True, casting="same_kind", dtype=None, signature=None,
                **kwargs):
    name = ufunc.__name__
    _check_ufunc_options(name, signature, kwargs)
    if name not in K.BODIES:
        raise TypeError(f"{name}: numpy.{name} is not supported on CUDA arrays; copy to the host "
                        "first (tensor.cpu())")
    operands = _operands(inputs)
    kinds = tuple(k for _, k in operands)
    loops, loop_out = _resolve(ufunc, kinds, dtype)
    values = [x if isinstance(x, CudaArray) else loop.type(x) for (x, _), loop in zip(operands, loops)]
    if out is not None and not np.can_cast(loop_out, out.dtype, casting):
        raise TypeError(f"Cannot cast ufunc '{name}' output from {loop_out!r} to {out.dtype!r} "
                        f"with casting rule {casting!r}")
    mask = None
    if isinstance(where, CudaArray):
        mask = where if where.dtype == np.bool_ else where.astype(np.bool_)
    elif isinstance(where, np.ndarray) and where.ndim:
        raise mismatch(CUDA0, CPU)
    elif not bool(where):       # where=False: nothing is computed
        shapes = [v.shape for v in values if isinstance(v, CudaArray)]
        return out if out is not None else CudaArray.empty(np.broadcast_shapes(*shapes), loop_out)
    return _elementwise(name, values, loops, loop_out, out=out, where=mask)

