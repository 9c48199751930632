"""Tensor: a numpy array that records the operations applied to it.

The methods here only validate arguments and pick the op; every op's forward
and derivative live in ``autodiff/ops``. Names and semantics follow PyTorch.
"""
import numbers
import weakref
from collections import namedtuple

import numpy as np

from . import dtypes
from .autograd import engine
from .autograd import function as _function
from .autograd.grad_mode import _state, no_grad
from .cuda import devices as _devices
from .cuda.devices import DeviceArray as _DeviceArray, DeviceMismatchError, as_array as _as_array
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S
from .ops.dims import check_sum_to, normalize_dim, normalize_dims
from .ops.promotion import common as _common
from .tensor_math import MathMethods

_Number = numbers.Number
_new = object.__new__

MaxMin = namedtuple("MaxMin", ["values", "indices"])




class RemovableHandle:
    """Returned by ``register_hook`` (and by Module's ``register_*_hook``): ``remove()``
    unregisters the hook; as a context manager it removes it on exit."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Tensor(MathMethods):
    """An N-d array (numpy-backed) that can record operations for backward."""

    # hot attributes in slots; rarely set ones (hooks, a name) in a dict made on first use
    __slots__ = ("_data", "_requires_grad", "grad", "grad_fn", "_vc", "__dict__", "__weakref__")
    _hooks = None
    _name = None
    __array_ufunc__ = None   # numpy defers to our operators: ndarray * Tensor -> Tensor
    _parents = ()            # a leaf, as a vertex of the graph, has no parents

    def __init__(self, data, requires_grad=False, dtype=None):
        t = tensor(data, dtype=dtype, requires_grad=requires_grad)
        self._data, self._requires_grad, self.grad, self.grad_fn = t._data, t._requires_grad, None, None
        self._vc = None

    # ---- version counter: how many in-place changes; views share their base's counter.
    # Most tensors are never changed in place, so the shared cell (a 1-element list,
    # ``_vc``) is only made when needed.
    @property
    def _version(self):
        vc = self._vc
        return 0 if vc is None else vc[0]

    def _bump_version(self):
        if self._vc is None:
            self._vc = [1]
        else:
            self._vc[0] += 1
        _function._inplace_changes[0] += 1

    def _share_version(self, base):
        if base._vc is None:
            base._vc = [0]
        self._vc = base._vc

    @staticmethod
    def _wrap(data):
        """A new leaf around an existing numpy array (no copy, no checks)."""
        t = _new(Tensor)
        t._data = data
        t._requires_grad = False
        t.grad = None
        t.grad_fn = None
        t._vc = None
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[normalize_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def device(self):
        """Where the values live: ``device(type='cpu')`` or ``device(type='cuda', index=0)``."""
        data = self._data
        return data.device if isinstance(data, _DeviceArray) else _devices.CPU

    @property
    def is_cuda(self):
        return isinstance(self._data, _DeviceArray)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        """Mark a leaf as a variable to differentiate with respect to."""
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf "
                               "tensors; use .detach() to get a tensor without a graph")
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"requires_grad_: only floating point tensors can require gradients, "
                               f"got dtype {dtypes.name(self._data.dtype)}")
        self._requires_grad = bool(requires_grad) or self.grad_fn is not None
        return self

    @property
    def data(self):
        """The values as a tensor outside the graph (shares memory with this one)."""
        t = Tensor._wrap(self._data)
        t._share_version(self)
        return t

    @data.setter
    def data(self, value):
        value = value._data if isinstance(value, Tensor) else _as_array(value)
        self._data = value
        self._bump_version()   # a graph that saved this tensor must not use the new values unawares

    @property
    def name(self):
        """A label for pictures of the graph (``autodiff.viz``)."""
        return self._name

    @name.setter
    def name(self, value):
        self._name = value

    @property
    def T(self):
        ndim = self._data.ndim
        if ndim < 2:
            return self
        if ndim == 2:
            return S.Transpose.apply(self, 0, 1)
        return self.permute(*reversed(range(ndim)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    # ------------------------------------------------------------------ conversion
    def numpy(self):
        if self._requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        if isinstance(self._data, _DeviceArray):
            raise TypeError(_host_copy_error(self, "numpy"))
        return self._data

    def __array__(self, dtype=None, copy=None):
        if isinstance(self._data, _DeviceArray):
            raise TypeError(_host_copy_error(self, "__array__"))
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item: a tensor with {self._data.size} elements cannot be converted "
                             "to a Python number")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self._data.size} elements "
                               "is ambiguous")
        return bool(self._data.item())

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """Change dtype and/or device: ``x.to('cuda')``, ``x.to(autodiff.float64)``, ``x.to(other)``.

        Moving to another device copies (and is recorded: the gradient goes back to this
        tensor's device); the same device and dtype return this tensor unless copy=True.
        """
        for a in args:
            if isinstance(a, (str, _devices.device)) or a is None:
                device = a
            elif isinstance(a, Tensor):
                dtype, device = a._data.dtype, a.device
            else:
                dtype = a
        if device is not None:
            target = _devices.canonical(device)
            if target != self.device:
                from .cuda.transfer import ToDevice
                moved = ToDevice.apply(self, target)
                return moved if dtype is None else moved.to(dtype)
        if dtype is None:
            return self.clone() if copy else self
        dtype = dtypes.as_dtype(dtype)
        if dtype == self._data.dtype and not copy:
            return self
        if dtype.kind == "f" and self._requires_grad:
            return E.Cast.apply(self, dtype)
        return Tensor._wrap(self._data.astype(dtype))

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool)

    def type(self, dtype=None):
        if dtype is None:
            return f"autodiff.{dtypes.name(self._data.dtype)}"
        return self.to(dtype)

    def cpu(self):
        """This tensor on the host (a copy, recorded, when it lives on a GPU)."""
        return self.to(_devices.CPU) if isinstance(self._data, _DeviceArray) else self

    def cuda(self, device=None, non_blocking=False):
        """This tensor on the GPU (``device``: None, an index or 'cuda:0')."""
        return self.to(f"cuda:{device}" if isinstance(device, int) else (device or "cuda"))

    def detach(self):
        """The same values (shared memory) outside the graph."""
        t = Tensor._wrap(self._data)
        t._share_version(self)
        return t

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    def clone(self):
        return _clone(self)

    def contiguous(self):
        return self

    def is_contiguous(self):
        return self._data.flags.c_contiguous

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        if not self._requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn "
                               "(no input it was computed from has requires_grad=True)")
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    "backward: grad can be implicitly created only for scalar outputs; this "
                    f"tensor has shape {tuple(self._data.shape)}: pass gradient= of that shape")
            gradient = Tensor._wrap(np.ones_like(self._data))
        else:
            gradient = gradient if isinstance(gradient, Tensor) else tensor(gradient, dtype=self.dtype,
                                                                              device=self.device)
            if gradient._data.shape != self._data.shape:
                raise RuntimeError(f"backward: gradient has shape {tuple(gradient._data.shape)} but "
                                   f"the tensor has shape {tuple(self._data.shape)}")
        if retain_graph is None:
            retain_graph = create_graph
        root = self.grad_fn if self.grad_fn is not None else self
        engine.backpropagate([root], [gradient if create_graph else gradient._data],
                             retain_graph, create_graph)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a tensor that does not require grad")
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)
            self.grad_fn._stores_grad = True

    @property
    def retains_grad(self):
        return self.grad_fn is not None and self.grad_fn._retained is not None

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a replacement."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not "
                               "require grad")
        owner = self.grad_fn if self.grad_fn is not None else self
        if owner._hooks is None:
            owner._hooks = []
        owner._hooks.append(hook)
        return RemovableHandle(owner._hooks, hook)

    # the vertex protocol (see autograd.engine): a leaf stores what reaches it
    def _run_hooks(self, grad):
        return _function._run_tensor_hooks(self._hooks, grad)

    _stores_grad = True

    @property
    def _out_shape(self):      # as a vertex: the shape its gradient must have
        return self._data.shape

    @property
    def _out_dtype(self):
        return self._data.dtype

    def _propagate(self, grad, retain_graph=False):
        return ()

    def _finish(self, grad, accumulate, owned=False):
        if accumulate:
            self._accumulate_grad(grad, owned)

    def _accumulate_grad(self, grad, owned=False):
        """Add ``grad`` (a numpy array, or a tensor under create_graph) into ``.grad``.

        ``owned``: nothing else refers to the array, so it becomes ``.grad`` without a copy.
        """
        if not isinstance(grad, Tensor):
            if self.grad is None and owned:
                self.grad = Tensor._wrap(grad)
            elif self.grad is None:
                self.grad = Tensor._wrap(   # a copy: never alias another gradient
                    grad.copy() if isinstance(grad, _DeviceArray) else np.array(grad))
            elif self.grad._requires_grad:
                self.grad = self.grad + grad
            else:
                self.grad._data += grad
                self.grad._bump_version()
        elif grad._requires_grad:                          # create_graph=True: keep the graph
            self.grad = grad if self.grad is None else self.grad + grad
        elif self.grad is None:
            self.grad = Tensor._wrap(grad._data.copy())
        else:
            self.grad = self.grad + grad

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return E.Add.apply(self, other)

    def __radd__(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return E.Add.apply(other, self)

    def __sub__(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return E.Sub.apply(self, other)

    def __rsub__(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return E.Sub.apply(other, self)

    def __mul__(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return E.Mul.apply(self, other)

    def __rmul__(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return E.Mul.apply(other, self)

    def __truediv__(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return E.Div.apply(self, other)

    def __rtruediv__(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return E.Div.apply(other, self)

    def __pow__(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return E.Pow.apply(self, other)

    def __rpow__(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return E.Pow.apply(other, self)

    def __matmul__(self, other):
        if not isinstance(other, (Tensor, np.ndarray)):
            return NotImplemented
        return L.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        if not isinstance(other, np.ndarray):
            return NotImplemented
        return L.MatMul.apply(other, self)

    def __neg__(self):
        return E.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return E.Abs.apply(self)

    add = __add__
    sub = __sub__
    mul = __mul__
    # div (with rounding_mode) is MathMethods.div (autodiff/tensor_math.py)
    pow = __pow__
    neg = __neg__
    abs = __abs__

    def matmul(self, other):
        return L.MatMul.apply(self, other)

    def mm(self, other):
        if self._data.ndim != 2 or _data_of(other).ndim != 2:
            raise ValueError(f"mm: both arguments must be 2-D, got shapes {tuple(self._data.shape)} "
                             f"and {tuple(_data_of(other).shape)}")
        return L.MatMul.apply(self, other)

    # ------------------------------------------------------------------ comparisons (no gradient)
    def _compare(self, other, ufunc):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        try:
            return Tensor._wrap(_as_array(ufunc(*_common(self._data, _data_of(other), ufunc.__name__))))
        except (ValueError, DeviceMismatchError) as exc:
            raise type(exc)(f"{ufunc.__name__}: {exc}") from None

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    __hash__ = object.__hash__

    # ~ & | ^ << >> are the bitwise ops of MathMethods (autodiff/tensor_math.py)

    def logical_not(self):
        return Tensor._wrap(np.logical_not(self._data))

    def sign(self):
        return E.Sign.apply(self)

    def isnan(self):
        return Tensor._wrap(np.isnan(self._data))

    def isfinite(self):
        return Tensor._wrap(np.isfinite(self._data))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return bool(np.allclose(self._data, _data_of(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def equal(self, other):
        return bool(np.array_equal(self._data, _data_of(other)))

    def all(self):
        return Tensor._wrap(_as_array(self._data.all()))

    def any(self):
        return Tensor._wrap(_as_array(self._data.any()))

    # ------------------------------------------------------------------ elementwise math
    def exp(self):
        return E.Exp.apply(_floating(self))

    def log(self):
        return E.Log.apply(_floating(self))

    def log1p(self):
        return E.Log1p.apply(_floating(self))

    def sqrt(self):
        return E.Sqrt.apply(_floating(self))

    def rsqrt(self):
        return E.Rsqrt.apply(_floating(self))

    def square(self):
        if self._data.dtype == np.bool_:
            return E.Pow.apply(self, 2)         # (bools square to int64, as in PyTorch)
        return E.Mul.apply(self, self)

    def sin(self):
        return E.Sin.apply(_floating(self))

    def cos(self):
        return E.Cos.apply(_floating(self))

    def tanh(self):
        return E.Tanh.apply(_floating(self))

    def sigmoid(self):
        return E.Sigmoid.apply(_floating(self))

    def relu(self):
        return E.Relu.apply(self)

    def leaky_relu(self, negative_slope=0.01):
        return E.LeakyRelu.apply(self, negative_slope)

    def hardtanh(self, min_val=-1.0, max_val=1.0):
        return E.Hardtanh.apply(self, min_val, max_val)

    def softplus(self, beta=1.0, threshold=20.0):
        return E.Softplus.apply(self, beta, threshold)

    def clamp(self, min=None, max=None):
        """min(max(self, min), max); bounds are numbers or tensors (which receive gradients)."""
        kind = type(min)
        if not ((kind is int or kind is float) and max is None):    # (clamp(min=0): no checks to make)
            _check_clamp_bounds(min, max)
        return E.Clamp.apply(self, min, max)

    clip = clamp

    def maximum(self, other):
        return E.Maximum.apply(self, other)

    def minimum(self, other):
        return E.Minimum.apply(self, other)

    def where(self, condition, other):
        return where(condition, self, other)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return R.Sum.apply(x, normalize_dims(dim, self._data.ndim, "sum"), keepdim)

    def mean(self, dim=None, keepdim=False):
        if self._data.dtype.kind not in "fc":
            raise RuntimeError(f"mean: input dtype should be floating point, got "
                               f"{dtypes.name(self._data.dtype)}")
        return R.Mean.apply(self, normalize_dims(dim, self._data.ndim, "mean"), keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
        """Variance; ``correction=1`` (Bessel, the default) or ``unbiased=False`` for the population form."""
        return _variance(self, R.Var, "var", dim, unbiased, keepdim, correction)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return _variance(self, R.Std, "std", dim, unbiased, keepdim, correction)

    def _extremum(self, dim, keepdim, whole_op, arg_fn, name):
        if dim is None:
            if self._data.size == 0:
                raise RuntimeError(f"{name}: cannot reduce an empty tensor of shape {tuple(self.shape)}; "
                                   "give dim= to reduce a dimension of non-zero size")
            return whole_op.apply(self, None, keepdim)
        axis = normalize_dim(dim, self._data.ndim, name)
        _check_reduced_sizes(self, (axis,), name)
        if self._data.ndim == 0:   # a 0-d tensor is its own max along dim 0 (or -1), as in PyTorch
            return MaxMin(_clone(self), Tensor._wrap(np.zeros_like(self._data, shape=(), dtype=np.int64)))
        indices = arg_fn(self._data, axis=axis, keepdims=True)
        values = R.TakeAlongDim.apply(self, indices, axis, keepdim)
        return MaxMin(values, Tensor._wrap(indices if keepdim else indices.squeeze(axis)))

    def max(self, dim=None, keepdim=False, *, other=None):
        """Max of all elements, or (values, indices) along ``dim``; or elementwise max with a tensor."""
        if isinstance(dim, Tensor) or other is not None:
            return self.maximum(dim if other is None else other)
        return self._extremum(dim, keepdim, R.Max, np.argmax, "max")

    def min(self, dim=None, keepdim=False, *, other=None):
        if isinstance(dim, Tensor) or other is not None:
            return self.minimum(dim if other is None else other)
        return self._extremum(dim, keepdim, R.Min, np.argmin, "min")

    def amax(self, dim=None, keepdim=False):
        dims = normalize_dims(dim, self._data.ndim, "amax")
        _check_reduced_sizes(self, dims, "amax")
        return R.Amax.apply(self, dims, keepdim)

    def amin(self, dim=None, keepdim=False):
        dims = normalize_dims(dim, self._data.ndim, "amin")
        _check_reduced_sizes(self, dims, "amin")
        return R.Amin.apply(self, dims, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _arg_extremum(self, dim, keepdim, np.argmax, "argmax")

    def argmin(self, dim=None, keepdim=False):
        return _arg_extremum(self, dim, keepdim, np.argmin, "argmin")

    def logsumexp(self, dim, keepdim=False):
        return R.LogSumExp.apply(_floating(self), normalize_dims(dim, self._data.ndim, "logsumexp"), keepdim)

    def softmax(self, dim):
        return R.Softmax.apply(_floating(self), normalize_dim(dim, self._data.ndim, "softmax"))

    def log_softmax(self, dim):
        return R.LogSoftmax.apply(_floating(self), normalize_dim(dim, self._data.ndim, "log_softmax"))

    def sum_to_size(self, *shape):
        shape = _shape_arg(shape)
        if self._data.shape == shape:
            return self
        check_sum_to(self._data.shape, shape)
        return R.SumToSize.apply(self, shape)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        shape = _shape_arg(shape)
        if shape == self._data.shape:
            return self
        return S.Reshape.apply(self, shape)

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        ndim = self._data.ndim
        if ndim == 0:
            return self.reshape(1)
        start = normalize_dim(start_dim, ndim, "flatten")
        end = normalize_dim(end_dim, ndim, "flatten")
        shape = self._data.shape
        return self.reshape(shape[:start] + (-1,) + shape[end + 1:])

    def squeeze(self, dim=None):
        shape = self._data.shape
        if dim is None:
            new = tuple(n for n in shape if n != 1)
        else:
            dims = normalize_dims(dim, len(shape), "squeeze") or ()
            new = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))
        return self.reshape(new)

    def unsqueeze(self, dim):
        ndim = self._data.ndim
        d = normalize_dim(dim, ndim + 1, "unsqueeze")
        shape = self._data.shape
        return self.reshape(shape[:d] + (1,) + shape[d:])

    def transpose(self, dim0, dim1):
        ndim = self._data.ndim
        d0, d1 = normalize_dim(dim0, ndim, "transpose"), normalize_dim(dim1, ndim, "transpose")
        if d0 == d1:
            return self
        return S.Transpose.apply(self, d0, d1)

    def t(self):
        if self._data.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dimensions, got shape {tuple(self.shape)}")
        return self.T

    def permute(self, *dims):
        dims = _shape_arg(dims)
        ndim = self._data.ndim
        if sorted(normalize_dim(d, ndim, "permute") for d in dims) != list(range(ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of the {ndim} dimensions "
                             f"of a tensor of shape {tuple(self.shape)}")
        return S.Permute.apply(self, tuple(normalize_dim(d, ndim, "permute") for d in dims))

    def expand(self, *shape):
        shape = _shape_arg(shape)
        lead = len(shape) - self._data.ndim
        if lead < 0:
            raise ValueError(f"expand: the number of sizes {len(shape)} must be at least the number "
                             f"of dimensions {self._data.ndim} (shape {tuple(self.shape)})")
        shape = tuple(self._data.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        if shape == self._data.shape:
            return self
        for i, n in enumerate(self._data.shape):
            if n != 1 and n != shape[lead + i]:
                raise ValueError(f"expand: the expanded size {shape[lead + i]} must match the existing "
                                 f"size {n} at non-singleton dimension {lead + i}; target "
                                 f"{shape}, tensor shape {tuple(self.shape)}")
        return S.Expand.apply(self, shape)

    def broadcast_to(self, shape):
        return self.expand(*shape)

    def expand_as(self, other):
        return self.expand(*other.shape)

    def split(self, split_size_or_sections, dim=0):
        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return chunk(self, chunks, dim)

    def unbind(self, dim=0):
        d = normalize_dim(dim, self._data.ndim, "unbind")
        lead = (slice(None),) * d
        return tuple(self[lead + (i,)] for i in range(self._data.shape[d]))

    def __getitem__(self, key):
        key = _index_key(key)
        out = S.Index.apply(self, key)
        if S.is_basic_index(key):
            out._share_version(self)    # a view: in-place changes show in both
            if out.grad_fn is not None:
                out.grad_fn.is_view = True
        return out

    def __setitem__(self, key, value):
        key = _index_key(key)
        value = value if isinstance(value, Tensor) else _data_of(value)
        self._inplace("index_put", value, lambda old, v: S.IndexPut.apply(old, key, v),
                      lambda data, v: data.__setitem__(key, v))

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # ------------------------------------------------------------------ in-place
    def _inplace(self, name, other, recorded, raw):
        """Change this tensor in place: ``raw(array, other)`` on the numpy array when
        no gradient flows, else ``recorded(old, other)`` out of place, recorded in the
        graph, with this tensor rebased onto the result (as PyTorch does)."""
        if _state.enabled and (self._requires_grad or
                               (isinstance(other, Tensor) and other._requires_grad)):
            if self.grad_fn is None and self._requires_grad:
                raise RuntimeError(f"{name}: a leaf tensor that requires grad is being used in an "
                                   "in-place operation; do it under `with autodiff.no_grad():`")
            if self._data.dtype.kind != "f":
                raise RuntimeError(f"{name}: cannot record an in-place change of a "
                                   f"{dtypes.name(self._data.dtype)} tensor with a gradient")
            if self.grad_fn is not None and self.grad_fn.is_view:
                raise RuntimeError(
                    f"{name}: in-place change of a view ({self.grad_fn.name()}) of a tensor that "
                    "requires grad is not supported: the change would not reach the base tensor's "
                    "gradient. Use an out-of-place operation, or .clone() the view first")
            old = Tensor._wrap(self._data)
            old._requires_grad, old.grad_fn = True, self.grad_fn
            old._vc = [self._version]
            new = recorded(old, other)
            if new._data.shape != self._data.shape:
                raise _inplace_shape_error(name, self, other)
            self._data, self.grad_fn, self._requires_grad = new._data, new.grad_fn, True
        else:
            try:
                raw(self._data, other._data if isinstance(other, Tensor) else other)
            except ValueError:
                raise _inplace_shape_error(name, self, other) from None
            except DeviceMismatchError as exc:
                raise DeviceMismatchError(f"{name}: {exc}") from None
            except TypeError as exc:
                raise TypeError(f"{name}: {exc} (tensor of shape {tuple(self.shape)}, "
                                f"{dtypes.name(self._data.dtype)})") from None
        self._bump_version()
        return self

    def add_(self, other, alpha=1):
        if alpha != 1:
            if isinstance(other, Tensor) and not _state.enabled:
                other = other._data * alpha   # (the optimizers' hot path: no tensor in between)
            else:
                other = other * alpha
        return self._inplace("add_", other, _add, _add_raw)

    def sub_(self, other, alpha=1):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        return self._inplace("mul_", other, _mul, _mul_raw)

    def div_(self, other):
        return self._inplace("div_", other, _div, _div_raw)

    def clamp_(self, min=None, max=None):
        bounds = (min, max)     # (tensor bounds stay tensors: they receive gradients)
        return self._inplace("clamp_", bounds, _clamp, _clamp_raw)

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        return self._inplace("fill_", _data_of(value), _fill, _fill_raw)

    def copy_(self, src):
        return self._inplace("copy_", src, _copy, _copy_raw)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # ------------------------------------------------------------------ printing
    def __repr__(self):
        data = self._data.get() if isinstance(self._data, _DeviceArray) else self._data   # (a copy)
        floatmode = "maxprec"
        if data.dtype.kind == "f":   # 4 decimals (0.2500), or none when all are whole (1.)
            finite = data[np.isfinite(data)]
            floatmode = "maxprec_equal" if np.array_equal(finite, np.round(finite)) else "fixed"
        body = np.array2string(data, separator=", ", prefix="tensor(", precision=4,
                               floatmode=floatmode)
        extras = []
        if data is not self._data:
            extras.append(f"device='{self._data.device}'")
        if data.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool):
            extras.append(f"dtype=autodiff.{dtypes.name(data.dtype)}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    __str__ = __repr__


class Size(tuple):
    """A shape, printed as PyTorch prints it."""

    def __repr__(self):
        return f"autodiff.Size({list(self)})"

    def numel(self):
        return int(np.prod(self))


# ---------------------------------------------------------------------- helpers
def _floating(x):
    """Integer and bool tensors become the default float dtype before float math (as in PyTorch)."""
    return x if x._data.dtype.kind in "fc" else x.to(dtypes.get_default_dtype())


def _data_of(value):
    return value._data if isinstance(value, Tensor) else value


def _shape_arg(shape):
    """Accept f(2, 3) and f((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _index_key(key):
    """Tensors and lists inside an index become numpy arrays."""
    def convert(part):
        if isinstance(part, Tensor):
            return part._data
        if isinstance(part, list):
            return np.asarray(part)
        return part
    if isinstance(key, tuple):
        return tuple(convert(p) for p in key)
    return convert(key)


def _host_copy_error(t, name):
    return (f"{name}: can't convert a {t._data.device} tensor to numpy; call .cpu() first to copy "
            "it to host memory")


def _inplace_shape_error(name, target, other):
    return ValueError(f"{name}: cannot broadcast {tuple(np.shape(_data_of(other)))} into the "
                      f"in-place target of shape {tuple(target._data.shape)}")


# in-place ops: the recorded (out-of-place) form and the plain numpy form
def _add(old, other):
    return old + other


def _add_raw(data, other):
    np.add(data, other, out=data, casting="unsafe")


def _mul(old, other):
    return old * other


def _mul_raw(data, other):
    np.multiply(data, other, out=data, casting="unsafe")


def _div(old, other):
    return old / other


def _div_raw(data, other):
    np.divide(data, other, out=data, casting="unsafe")


def _clamp(old, bounds):
    return old.clamp(*bounds)


def _clamp_raw(data, bounds):
    np.clip(data, _data_of(bounds[0]), _data_of(bounds[1]), out=data)


def _fill(old, value):
    return old * 0 + value


def _fill_raw(data, value):
    data.fill(value)


def _copy(old, src):
    return old * 0 + src


def _copy_raw(data, src):
    np.copyto(data, src, casting="unsafe")


def _arg_extremum(x, dim, keepdim, fn, name):
    if dim is None:
        return Tensor._wrap(_as_array(fn(x._data)))
    axis = normalize_dim(dim, x._data.ndim, name)
    if x._data.ndim == 0:
        return Tensor._wrap(np.zeros_like(x._data, shape=(), dtype=np.int64))
    return Tensor._wrap(_as_array(fn(x._data, axis=axis, keepdims=keepdim)))


def _clone(x):
    return S.Clone.apply(x)


def _check_clamp_bounds(min, max):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    for label, bound in (("min", min), ("max", max)):
        if not (bound is None or isinstance(bound, (Tensor, _Number, np.ndarray))) or isinstance(bound, complex):
            raise TypeError(f"clamp: {label} must be a number or a tensor, got {type(bound).__name__} {bound!r}")


def _check_reduced_sizes(x, dims, name):
    """A max/min over a dimension of size 0 has no value (PyTorch raises too)."""
    shape = x._data.shape
    for d in (range(len(shape)) if dims is None else dims):
        if shape and shape[d] == 0:
            raise IndexError(f"{name}: expected reduction dim {d} to have non-zero size "
                             f"(tensor of shape {tuple(shape)})")


def _variance(x, op, name, dim, unbiased, keepdim, correction):
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: only floating point tensors are supported, got "
                           f"{dtypes.name(x._data.dtype)}")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return op.apply(x, normalize_dims(dim, x._data.ndim, name), correction, keepdim)


_function.Tensor = Tensor
_OPERANDS = (Tensor, float, int, np.ndarray, _Number, _DeviceArray)   # what arithmetic accepts
# on the other side (concrete types first: an ABC check costs ~7x more)


# ---------------------------------------------------------------------- creation and free functions
def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of ``data`` (on ``device``: 'cpu', 'cuda'; by default the
    CPU, or the device of a tensor given as ``data``).

    A numpy array keeps its dtype; Python floats and lists of them become
    float32, Python ints int64, as in PyTorch.
    """
    if isinstance(data, Tensor):
        array = data._data.copy()
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data)               # numpy arrays and scalars keep their dtype
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
            data = [_nested_data(d) for d in data]
        array = np.array(data)
        if array.dtype == np.float64 and dtype is None:   # an explicit dtype keeps full precision
            array = array.astype(dtypes.get_default_dtype())
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64)
        elif array.dtype.kind not in "fb":
            raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} "
                            f"(numpy dtype {array.dtype})")
    if dtype is not None:
        array = array.astype(dtypes.as_dtype(dtype), copy=False)
    if device is not None:
        array = _devices.move(array, _devices.canonical(device))
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _nested_data(value):
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, (list, tuple)):
        return [_nested_data(v) for v in value]
    return value


def where(condition, input, other):
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    cond = _data_of(condition)
    if not isinstance(cond, (np.ndarray, _DeviceArray)):
        cond = np.asarray(cond)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where: expected condition to be a boolean tensor, but got a tensor with "
                           f"dtype {dtypes.name(cond.dtype)}")
    return E.Where.apply(cond, input, other)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    d = normalize_dim(dim, tensors[0].ndim, "cat")
    shapes = [tuple(t.shape) for t in tensors]
    for s in shapes[1:]:
        if len(s) != len(shapes[0]) or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != d):
            raise ValueError(f"cat: sizes of tensors must match except in dimension {d}; got shapes "
                             f"{', '.join(map(str, shapes))}")
    return S.Cat.apply(d, *tensors)


concat = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: expects each tensor to be equal size, got shapes "
                         f"{', '.join(str(tuple(t.shape)) for t in tensors)}")
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return S.Stack.apply(d, *tensors)


def split(x, split_size_or_sections, dim=0):
    d = normalize_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [min(split_size_or_sections, n - i) for i in range(0, n, split_size_or_sections)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} sum to {sum(sizes)}, but dimension {d} of "
                             f"shape {tuple(x.shape)} has size {n}")
    lead = (slice(None),) * d
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x[lead + (slice(start, start + size),)])
        start += size
    return tuple(pieces)


def chunk(x, chunks, dim=0):
    d = normalize_dim(dim, x.ndim, "chunk")
    size = -(-x.shape[d] // chunks)
    return split(x, max(size, 1), d)
