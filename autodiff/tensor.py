"""Tensor: a numpy array that records the operations applied to it.

The methods here only validate arguments and pick the op; every op's forward
and derivative live in ``autodiff/ops``. Names and semantics follow PyTorch.
"""
import math
import numbers
import weakref
from collections import namedtuple

import numpy as np

from . import dtypes
from .autograd import engine
from .autograd import function as _function
from .autograd.function import _inplace_changes
from .autograd.tensor_base import TensorBase
from .autograd.grad_mode import _state, no_grad
from .cuda import devices as _devices
from .cuda.devices import DeviceArray as _DeviceArray, DeviceMismatchError, as_array as _as_array
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S
from .ops.dims import check_sum_to, normalize_dim, normalize_dims
from .ops.promotion import common as _common
from .ops.transfer import ToDevice
from .inplace import (apply_inplace, _add, _add_raw, _clamp, _clamp_raw, _copy, _copy_raw, _div,
                      _div_raw, _fill, _fill_raw, _mul, _mul_raw)
from .tensor_math import MathMethods

_Number = numbers.Number
_new = object.__new__

MaxMin = namedtuple("MaxMin", ["values", "indices"])

# How many times a tensor's array was replaced by another (``.data = ...``, ``Module.to``, a
# lazy parameter materialised): only then can a gradient stop matching its parameter's
# shape, dtype or device (backward and ``.grad = g`` keep them matching), so an optimizer
# checks its gradients again only after one (see ``Optimizer.step``)
array_swaps = [0]




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


class Tensor(TensorBase, MathMethods, role="plain_class"):
    """An N-d array (numpy-backed) that can record operations for backward."""

    # hot attributes in TensorBase's slots; rarely set ones (hooks, a name) in a dict made on
    # first use. The graph code makes tensors of this class as TensorBase._plain_class
    __slots__ = ()
    _hooks = None
    _post_accumulate_hooks = None   # hook(tensor) after backward wrote this leaf's .grad
    _name = None
    __array_ufunc__ = None   # numpy defers to our operators: ndarray * Tensor -> Tensor
    _parents = ()            # a leaf, as a vertex of the graph, has no parents

    def __init__(self, *args, requires_grad=False, dtype=None, device=None):
        """PyTorch's legacy constructor: ``Tensor(2, 3)`` (sizes: zero-filled), ``Tensor(data)``
        (the default float dtype, even from ints), ``Tensor()`` (empty). See ``autodiff.legacy``."""
        from .legacy import construct
        t = construct(args, dtype, device, "Tensor")
        self._data, self._requires_grad, self._grad, self.grad_fn = t._data, False, None, None
        self._version_counter = None
        if requires_grad:
            self.requires_grad_(True)

    # ---- version counter: how many in-place changes; views share their base's counter.
    # Most tensors are never changed in place, so the shared cell (a 1-element list,
    # ``_version_counter``) is only made when needed.
    @property
    def _version(self):
        vc = self._version_counter
        return 0 if vc is None else vc[0]

    def _bump_version(self):
        cell = self._version_counter
        if cell is None:
            cell = self._version_cell()
        cell[0] += 1
        _inplace_changes[0] += 1

    def _share_version(self, base):
        self._version_counter = base._version_counter if base._version_counter is not None else base._version_cell()

    def _version_cell(self):
        """This tensor's version counter, made on first need. A node that saved this tensor's
        values as its output gets the same counter then, so that a change through any alias
        (no_grad, .detach(), .data, a view) is seen by its check."""
        cell = self._version_counter
        if cell is None:
            cell = self._version_counter = [0]
            node = self.grad_fn
            if node is not None and getattr(node, "_output", None) is self._data:
                node._output_version = cell
        return cell

    @staticmethod
    def _wrap(data):
        """A new leaf around an existing numpy array (no copy, no checks)."""
        t = _new(Tensor)
        t._data = data
        t._requires_grad = False
        t._grad = None
        t.grad_fn = None
        t._version_counter = None
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
        if isinstance(value, Tensor):
            value = value._data
        elif not isinstance(value, (np.ndarray, _DeviceArray)):
            raise TypeError(f"data: Variable data has to be a tensor, but got {type(value).__name__}")
        if self._requires_grad and value.dtype.kind not in "fc":
            raise RuntimeError("data: data set to a tensor that requires gradients must be floating "
                               f"point or complex dtype, got {dtypes.name(value.dtype)}")
        self._version_cell()   # (before the values it may have saved are replaced)
        self._swap_data(value)
        self._bump_version()   # a graph that saved this tensor must not use the new values unawares

    def _swap_data(self, array):
        """Replace this tensor's array by another (which may differ in shape, dtype or device),
        counting it in ``array_swaps``."""
        self._data = array
        array_swaps[0] += 1

    @property
    def grad(self):
        """The gradient accumulated by backward (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            _check_grad_assignment(self, value)
        self._grad = value

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
        if ndim < 2:              # a new view, as in PyTorch (never self)
            return S.Permute.apply(self, tuple(range(ndim)))
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

    def _python_scalar(self, name):
        if self._data.size != 1:
            raise ValueError(f"{name}: only one element tensors can be converted to Python scalars "
                             f"(got shape {tuple(self._data.shape)})")
        return self.item()

    def __float__(self):
        return float(self._python_scalar("float"))

    def __int__(self):
        return int(self._python_scalar("int"))

    def __complex__(self):
        return complex(self._python_scalar("complex"))

    def __format__(self, format_spec):
        """``f"{loss:.4f}"``: a 0-d tensor formats as its Python number (as in PyTorch)."""
        if self._data.ndim == 0:
            return format(self.item(), format_spec)
        if format_spec:
            raise TypeError(f"format: the format spec {format_spec!r} needs a 0-d tensor, got "
                            f"shape {tuple(self._data.shape)} (use .item() on one element)")
        return str(self)

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

    def type(self, dtype=None, non_blocking=False):
        """``t.type()``: the legacy type name ('autodiff.FloatTensor'); ``t.type(d)``: this tensor
        as dtype ``d``, given as a dtype, a legacy class or a name ('torch.LongTensor' too)."""
        from . import legacy
        if dtype is None:
            return legacy.type_name(self)
        dtype, on_cuda = legacy.dtype_of_type(dtype)
        moved = self if on_cuda is None or on_cuda == self.is_cuda else \
            (self.cuda() if on_cuda else self.cpu())
        return moved.to(dtype)

    # random fills in place (autodiff.random): the old values get a zero gradient
    def uniform_(self, a=0.0, b=1.0, **kwargs):
        from .random import uniform_
        return uniform_(self, a, b, **kwargs)

    def normal_(self, mean=0.0, std=1.0, **kwargs):
        from .random import normal_
        return normal_(self, mean, std, **kwargs)

    def random_(self, *args, **kwargs):
        from .random import random_
        return random_(self, *args, **kwargs)

    def exponential_(self, lambd=1.0, **kwargs):
        from .random import exponential_
        return exponential_(self, lambd, **kwargs)

    def bernoulli_(self, p=0.5, **kwargs):
        from .random import bernoulli_
        return bernoulli_(self, p, **kwargs)

    # new_*: made like this tensor (its dtype and device unless given), as in PyTorch
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return tensor(data, dtype=self._data.dtype if dtype is None else dtype,
                      device=self.device if device is None else device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import _new_like
        return _new_like(self, "new_zeros", "zeros", size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import _new_like
        return _new_like(self, "new_ones", "ones", size, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import _new_like
        return _new_like(self, "new_empty", "empty", size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from .creation import _new_like
        return _new_like(self, "new_full", "full", (size,), dtype, device, requires_grad,
                         fill_value=fill_value)

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
        self._version_cell()   # (a node that saved this output keeps seeing its changes)
        self.grad_fn = None
        self._requires_grad = False
        return self

    def clone(self):
        return _clone(self)

    def contiguous(self):
        """Self when already C-contiguous (or on a device), else a contiguous copy (recorded, as a clone)."""
        if not isinstance(self._data, np.ndarray) or self._data.flags.c_contiguous:
            return self
        return S.Clone.apply(self)

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

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` once backward has accumulated this leaf's ``.grad``
        (PyTorch 2.1+); optimizers fused into backward and DDP's gradient averaging use it."""
        if not self._requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a "
                               "tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return RemovableHandle(self._post_accumulate_hooks, hook)

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
            if self._post_accumulate_hooks:
                for hook in tuple(self._post_accumulate_hooks):
                    hook(self)

    def _accumulate_grad(self, grad, owned=False):
        """Add ``grad`` (a numpy array, or a tensor under create_graph) into ``.grad``.

        ``owned``: nothing else refers to the array, so it becomes ``.grad`` without a copy.
        """
        current = self._grad
        if not isinstance(grad, Tensor):
            if current is None and owned:
                self._grad = Tensor._wrap(grad)
            elif current is None:
                # a copy: never alias another gradient; C-ordered for a C-ordered parameter, as
                # PyTorch's gradient layout contract (a weight's grad arrives as a transposed
                # view of x.T @ g: `buf += grad` then ran 2.7x slower on a 40x20 weight)
                self._grad = Tensor._wrap(grad.copy() if isinstance(grad, _DeviceArray) else
                                          np.array(grad, order="C" if self._data.flags.c_contiguous else "K"))
            elif current._requires_grad:
                self._grad = current + grad
            else:
                current._data += grad
                current._bump_version()
        elif grad._requires_grad:                          # create_graph=True: keep the graph
            self._grad = grad if current is None else current + grad
        elif current is None:
            self._grad = Tensor._wrap(grad._data.copy())
        else:
            self._grad = current + grad

    def _check_grad(self, grad):
        """Before backward stores anything: raise if ``grad`` cannot be added to ``.grad``
        (its shape was changed, e.g. by assigning .data), so that no ``.grad`` changes."""
        current = self._grad
        if current is not None and current._data.shape != grad.shape:
            raise RuntimeError(
                f"backward: the gradient of shape {tuple(grad.shape)} cannot be accumulated into "
                f"the existing .grad of shape {tuple(current._data.shape)} (tensor of shape "
                f"{tuple(self._data.shape)}); set .grad = None first")

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
        shape = _shape_arg(shape, "sum_to_size")
        if self._data.shape == shape:
            return self
        check_sum_to(self._data.shape, shape)
        return R.SumToSize.apply(self, shape)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        shape = _shape_arg(shape, "reshape")
        return S.Reshape.apply(self, shape)   # (a view when numpy can make one)

    def view(self, *shape):
        """``reshape`` that never copies: raises, as PyTorch does, where a view op (a transpose,
        a permute, a strided slice: tensors that share a base's version counter) left a layout
        that does not allow the new shape without a copy. Arrays that own their memory in
        another order (a leaf's gradient, say) are reshaped as they are."""
        shape = _shape_arg(shape, "view")
        data = self._data
        if (self._version_counter is not None and type(data) is np.ndarray and not data.flags.c_contiguous
                and shape != data.shape):
            try:
                np.reshape(data, shape, copy=False)
            except ValueError:
                if data.size == int(np.prod([n for n in shape if n != -1])) or -1 in shape:
                    raise RuntimeError(
                        f"view: view size is not compatible with input tensor's size and stride (at "
                        f"least one dimension spans across two contiguous subspaces): shape "
                        f"{tuple(data.shape)} to {shape}. Use .reshape(...) instead.") from None
        return S.Reshape.apply(self, shape)

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
        if start > end:
            raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim}) "
                               f"for a tensor of shape {tuple(self.shape)}")
        if start == end:           # nothing to flatten: self, as in PyTorch
            return self
        shape = self._data.shape
        merged = math.prod(shape[start:end + 1])     # (not -1: ambiguous for zero-size tensors)
        return self.reshape(shape[:start] + (merged,) + shape[end + 1:])

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
        return S.Transpose.apply(self, d0, d1)

    def t(self):
        if self._data.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dimensions, got shape {tuple(self.shape)}")
        return self.T

    def permute(self, *dims):
        dims = _shape_arg(dims, "permute", "dims")
        ndim = self._data.ndim
        if sorted(normalize_dim(d, ndim, "permute") for d in dims) != list(range(ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of the {ndim} dimensions "
                             f"of a tensor of shape {tuple(self.shape)}")
        return S.Permute.apply(self, tuple(normalize_dim(d, ndim, "permute") for d in dims))

    def expand(self, *shape):
        shape = _shape_arg(shape, "expand", "size")
        lead = len(shape) - self._data.ndim
        if lead < 0:
            raise ValueError(f"expand: the number of sizes {len(shape)} must be at least the number "
                             f"of dimensions {self._data.ndim} (shape {tuple(self.shape)})")
        for i in range(lead):
            if shape[i] < 0:
                raise RuntimeError(f"expand: the expanded size of the tensor ({shape[i]}) isn't allowed "
                                   f"in a leading, non-existing dimension {i} (target {shape}, tensor "
                                   f"shape {tuple(self.shape)})")
        shape = tuple(self._data.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
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
        if S.is_basic_index(key):
            return S.IndexView.apply(self, key)    # a view: in-place changes show in both
        steps = S.split_mixed_index(key)
        if steps is not None:           # ints select first, then the index arrays (PyTorch's rule)
            return self[steps[0]][steps[1]]
        return S.Index.apply(self, key)

    def __setitem__(self, key, value):
        key = _index_key(key)
        if not isinstance(value, (Tensor, _Number, np.ndarray, np.generic, list, tuple, _DeviceArray)):
            raise TypeError(f"index_put (x[key] = value): can't assign a {type(value).__name__} "
                            f"({value!r}) to a {dtypes.name(self._data.dtype)} tensor; assign a number "
                            "or a tensor")
        steps = S.split_mixed_index(key)
        if steps is not None:
            key, value = S.mixed_index_for_numpy(key, steps, self._data.shape,
                                                 value if isinstance(value, Tensor) else tensor(value))
        self._inplace("index_put", value, lambda old, v: S.IndexPut.apply(old, key, v),
                      lambda data, v: data.__setitem__(key, v), casts=True)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # ------------------------------------------------------------------ in-place
    # _inplace(name, other, recorded, raw, casts=False): change this tensor in place, with
    # ``raw(array, other)`` on the numpy array when no gradient flows, else ``recorded(old,
    # other)`` recorded in the graph and written back into this tensor's memory. It is
    # autodiff.inplace.apply_inplace itself (one call less on the optimizers' hot path).
    _inplace = apply_inplace

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
        return self._inplace("fill_", value, _fill, _fill_raw, casts=True)

    def copy_(self, src):
        return self._inplace("copy_", src, _copy, _copy_raw, casts=True)

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


def _shape_arg(shape, op="reshape", name="shape"):
    """Accept f(2, 3) and f((2, 3)) alike; sizes must be ints (2.5 is refused, not truncated)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    for i, n in enumerate(shape):
        if type(n) is not int and (not isinstance(n, (int, np.integer)) or isinstance(n, bool)):
            if isinstance(n, Tensor) and n._data.dtype.kind in "iu" and n._data.size == 1:
                continue
            raise TypeError(f"{op}(): argument '{name}' must be a tuple of ints, but found element of "
                            f"type {type(n).__name__} ({n!r}) at pos {i}")
    return tuple(int(n) for n in shape)


def _index_key(key):
    """Tensors and lists inside an index become numpy arrays."""
    def convert(part):
        if isinstance(part, Tensor):
            return part._data
        if isinstance(part, list):
            array = np.asarray(part)   # an empty list indexes nothing: an int64 index, not float
            return array.astype(np.int64) if array.size == 0 else array
        return part
    if isinstance(key, tuple):
        return tuple(convert(p) for p in key)
    return convert(key)


def _host_copy_error(t, name):
    return (f"{name}: can't convert a {t._data.device} tensor to numpy; call .cpu() first to copy "
            "it to host memory")


def _check_grad_assignment(target, grad):
    """PyTorch's checks on ``x.grad = g``: a tensor of x's shape, dtype and device."""
    if not isinstance(grad, Tensor):
        raise TypeError(f"grad: assigned grad expected to be a Tensor or None but got grad of "
                        f"type {type(grad).__name__}")
    if grad._data.shape != target._data.shape:
        raise RuntimeError(f"grad: attempting to assign a gradient of size "
                           f"'{list(grad._data.shape)}' to a tensor of size "
                           f"'{list(target._data.shape)}'. Please ensure that the gradient and "
                           "the tensor are the same size")
    if grad._data.dtype != target._data.dtype:
        raise RuntimeError(f"grad: attempting to assign a gradient with dtype "
                           f"'{dtypes.name(grad._data.dtype)}' to a tensor with dtype "
                           f"'{dtypes.name(target._data.dtype)}'. Please ensure that the gradient "
                           "and the tensor have the same dtype")
    if grad.device != target.device:
        raise RuntimeError(f"grad: attempting to assign a gradient located on device "
                           f"'{grad.device}' to a tensor located on device '{target.device}'. "
                           "Please ensure that the gradient and the tensor are on the same device")


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
    _supported_array("tensor", array)
    if dtype is not None:
        array = array.astype(dtypes.as_dtype(dtype), copy=False)
    if device is not None:
        array = _devices.move(array, _devices.canonical(device))
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _supported_array(name, array):
    """Tensors hold bools and numbers: numpy object, string and datetime arrays are refused."""
    if isinstance(array, np.ndarray) and array.dtype.kind not in "biufc":
        raise TypeError(f"{name}: can't convert a numpy array of dtype {array.dtype} ({array.dtype.type.__name__}); "
                        "the supported types are float64, float32, float16, complex64, complex128, "
                        "int64, int32, int16, int8, uint8 and bool")


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
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"cat: expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
        if t._data.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated")
    tensors = _same_dtype(tensors)
    if any(t._data.shape == (0,) for t in tensors) and any(t._data.ndim != 1 for t in tensors):
        tensors = [t for t in tensors if t._data.shape != (0,)]   # skipped, as in PyTorch
    d = normalize_dim(dim, tensors[0].ndim, "cat")
    shapes = [tuple(t.shape) for t in tensors]
    for s in shapes[1:]:
        if len(s) != len(shapes[0]) or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != d):
            raise ValueError(f"cat: sizes of tensors must match except in dimension {d}; got shapes "
                             f"{', '.join(map(str, shapes))}")
    return S.Cat.apply(d, *tensors)


concat = cat


def _same_dtype(tensors):
    """``tensors`` cast to PyTorch's result dtype for cat/stack: the widest float when any is
    a float (int64 with float32 gives float32, not numpy's float64), else numpy's rule."""
    first = tensors[0]._data.dtype
    if all(t._data.dtype == first for t in tensors):
        return tensors
    kinds = {t._data.dtype for t in tensors}
    floats = [k for k in kinds if k.kind == "f"]
    target = max(floats, key=lambda k: k.itemsize) if floats else np.result_type(*kinds)
    return [t if t._data.dtype == target else t.to(target) for t in tensors]


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"stack: expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    tensors = _same_dtype(tensors)
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: expects each tensor to be equal size, got shapes "
                         f"{', '.join(str(tuple(t.shape)) for t in tensors)}")
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return S.Stack.apply(d, *tensors)


def split(x, split_size_or_sections, dim=0):
    d = normalize_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)) and not isinstance(split_size_or_sections, bool):
        step = int(split_size_or_sections)
        if step < 0 or (step == 0 and n != 0):
            raise RuntimeError(f"split: split_size must be positive (0 only for a dimension of size 0), "
                               f"got {step} for dimension {d} of size {n}")
        sizes = [min(step, n - i) for i in range(0, n, step)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        for s in sizes:
            if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
                raise RuntimeError(f"split: split_sizes must be non-negative ints, got {sizes}")
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
    if not isinstance(chunks, (int, np.integer)) or isinstance(chunks, bool):
        raise TypeError(f"chunk(): argument 'chunks' must be int, not {type(chunks).__name__}")
    if chunks <= 0:
        raise RuntimeError(f"chunk: expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, x.ndim, "chunk")
    n = x.shape[d]
    if n == 0:                      # PyTorch: `chunks` empty pieces
        return split(x, [0] * chunks, d)
    return split(x, -(-n // chunks), d)
