"""Capture: run a step eagerly while logging every numpy call it makes.

During a capture the arrays of the tensors a step uses (parameters, buffers,
gradients, tensor arguments) are swapped for ``TracedArray`` views of the same
memory. A ``TracedArray`` behaves as an ndarray, but every ufunc
(``__array_ufunc__``: operators, ``np.matmul``, reductions, ``a -= b``), every
numpy function (``__array_function__``) and the ndarray methods that are not
ufuncs (``reshape``, ``astype``, indexing, ...) are run on plain arrays *and*
written down as an entry of a flat tape, with its array arguments as slot
numbers. The capture is therefore a real eager step (it changes the real
parameters), and its tape can be replayed later without Tensor objects.

On 'cuda' the same is done by ``traced_cuda.TracedCudaArray`` (a CudaArray's numpy calls,
operators and methods, and the CUDA backend's fused-kernel methods, each one entry).

What must stay live is a *host call* on the tape instead of array math:
random draws (``autodiff.Generator`` methods), ``Optimizer.step``, learning-rate
schedulers and ``clip_grad_norm_`` (they read hyper-parameters and Python
numbers that change between steps), and Numba kernels.

Reading a value into Python (``bool``, ``float``, ``.item()``, ``.tolist()``,
printing) cannot be replayed: from the user's code it raises ``CaptureError``;
inside autodiff (a validity check) the value read becomes a check on the tape.
"""
import os
import sys

import numpy as np

from ..cuda.devices import DeviceArray
from .tape import Entry, Slot, Tape

_recorder = None            # the Recorder of the capture under way (one at a time)

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_COMPILER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__)) + os.sep
_TENSOR_FILE = _PACKAGE_DIR + "tensor.py"
# Tensor methods through which user code reads values into Python (what the error names)
_CONVERSIONS = {"item": ".item()", "tolist": ".tolist()", "__float__": "float(tensor)",
                "__int__": "int(tensor)", "__bool__": "bool(tensor) (an `if`/`while` on a tensor)",
                "__index__": "a tensor used as an index", "__complex__": "complex(tensor)",
                "__repr__": "printing a tensor", "__str__": "printing a tensor",
                "__format__": "formatting a tensor", "numpy": ".numpy()", "_python_scalar": None}


class CaptureError(RuntimeError):
    """A step that cannot be captured (its Python control flow reads tensor values)."""


class Traced:
    """What the traced array types have in common (``TracedArray`` for numpy arrays,
    ``traced_cuda.TracedCudaArray`` for CUDA arrays)."""

    __slots__ = ()


_ARRAYS = (np.ndarray, DeviceArray)    # what a slot holds


class TracedArray(np.ndarray, Traced):
    """An ndarray whose numpy calls are recorded on the capture's tape (see the module
    docstring). Outside a capture it computes like a plain ndarray and returns plain arrays."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        func = ufunc if method == "__call__" else getattr(ufunc, method)
        rec = _recorder
        if rec is None:
            return func(*_plain(inputs), **_plain(kwargs))
        mutated = kwargs.get("out", ())
        if method == "at":
            mutated = (inputs[0],)
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        return rec.call(func, inputs, kwargs, name, mutated=mutated)

    def __array_function__(self, func, types, args, kwargs):
        rec = _recorder
        if rec is None:
            return func(*_plain(args), **_plain(kwargs))
        if func in _HOST_READ_FUNCTIONS:
            return rec.host_read(func, args, kwargs, func.__name__)
        mutated = ()
        if func in _MUTATING_FUNCTIONS:
            mutated = (args[0] if args else next(iter(kwargs.values())),)
        elif "out" in kwargs and kwargs["out"] is not None:
            mutated = kwargs["out"] if isinstance(kwargs["out"], tuple) else (kwargs["out"],)
        return rec.call(func, args, kwargs, func.__name__, mutated=mutated)

    def _untraced_view(self):
        return np.ndarray.view(self, np.ndarray)

    @property
    def T(self):
        return self.transpose()

    @property
    def mT(self):
        return self.swapaxes(-1, -2)

    def __iter__(self):
        rec = _recorder
        if rec is None:
            return iter(self.view(np.ndarray))
        rec.refuse_user_read("iterating over a tensor's values", 1)
        return iter([self[i] for i in range(len(self))])


def _make_method(name, mutating=False):
    impl = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        rec = _recorder
        if rec is None:
            return impl(np.ndarray.view(self, np.ndarray), *_plain(args), **_plain(kwargs))
        return rec.call(impl, (self,) + args, kwargs, name, mutated=(self,) if mutating else ())

    method.__name__ = name
    return method


def _make_read(name):
    impl = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        rec = _recorder
        if rec is None:
            return impl(np.ndarray.view(self, np.ndarray), *_plain(args), **_plain(kwargs))
        return rec.host_read(impl, (self,) + args, kwargs, name)

    method.__name__ = name
    return method


for _name in ("reshape", "transpose", "swapaxes", "squeeze", "ravel", "flatten", "astype", "copy",
              "__getitem__", "sum", "mean", "max", "min", "prod", "any", "all", "argmax", "argmin",
              "clip", "cumsum", "cumprod", "dot", "round", "std", "var", "nonzero", "argsort", "take",
              "repeat", "diagonal", "trace", "conj", "conjugate", "__copy__", "__deepcopy__",
              "searchsorted", "compress", "choose", "view"):
    setattr(TracedArray, _name, _make_method(_name))
for _name in ("__setitem__", "fill", "put", "sort", "partition", "itemset", "resize"):
    if hasattr(np.ndarray, _name):
        setattr(TracedArray, _name, _make_method(_name, mutating=True))
for _name in ("item", "tolist", "__bool__", "__float__", "__int__", "__index__", "__complex__",
              "__repr__", "__str__", "__format__", "tobytes", "__reduce__", "__reduce_ex__"):
    setattr(TracedArray, _name, _make_read(_name))

_MUTATING_FUNCTIONS = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis}
_HOST_READ_FUNCTIONS = {np.array_equal, np.array_equiv, np.allclose, np.count_nonzero, np.array2string,
                        np.array_repr, np.array_str}
_SHAPE_FUNCTIONS = {np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory,
                    np.iscomplexobj, np.isrealobj}


def _plain(obj):
    """``obj`` with every traced array inside (tuples, lists, dicts) made a plain view."""
    if isinstance(obj, Traced):
        return obj._untraced_view()
    if type(obj) is tuple or type(obj) is list:
        return type(obj)(_plain(x) for x in obj)
    if type(obj) is dict:
        return {k: _plain(v) for k, v in obj.items()}
    return obj


# ------------------------------------------------------------------------------ the recorder
class Recorder:
    """Writes a capture's tape: slots (one per array value), entries, and the tracked tensors
    whose arrays were swapped for traced views."""

    def __init__(self, tape_name):
        self.tape = Tape(tape_name)
        self.traced = []          # slot -> its TracedArray (kept alive: ids stay unique)
        self.plain = []           # slot -> the plain ndarray view of the same memory
        self.slot_of = {}         # id(TracedArray) -> slot
        self.plain_slot = {}      # id(plain view) -> slot
        self.owners = set()       # ids of the memory owners (bases) of every slot
        self.input_slot = {}      # id(external array) -> slot
        self.tracked = []         # [tensor, its array, traced array, grad tensor, its array, traced]
        self.bound = {}           # id(tensor) -> (grad object, grad slot) last written into the tape
        self.in_host = False      # inside a host call: nothing is recorded
        self.backward_ran = False  # a training step: its result is returned detached
        self.extra = []           # optimizer-state tensors read by traced optimizer steps

    # ---- slots
    def new_slot(self, plain, kind, source=None):
        traced = _traced_view(plain)
        slot = len(self.traced)
        self.traced.append(traced)
        self.plain.append(plain)
        self.slot_of[id(traced)] = slot
        self.plain_slot[id(plain)] = slot
        self.owners.update(id(owner) for owner in _memory_owners(plain))
        self.tape.add_slot(plain, kind, source)
        return traced

    def external(self, array, source):
        """A traced view of an array that lives outside the step (read at every replay)."""
        slot = self.input_slot.get(id(array))
        if slot is not None:
            return self.traced[slot]
        traced = self.new_slot(array, "input", source)
        self.input_slot[id(array)] = len(self.traced) - 1
        return traced

    def track(self, tensor, index):
        """Swap ``tensor``'s array (and its gradient's) for traced views; ``index`` names it."""
        data = tensor._data
        if not isinstance(data, _ARRAYS) or isinstance(data, Traced):
            return
        traced = self.external(data, ("data", index))
        tensor._data = traced
        grad = tensor._grad
        grad_data = traced_grad = None
        if grad is not None and isinstance(grad._data, _ARRAYS):
            grad_data = grad._data
            traced_grad = self.external(grad_data, ("grad", index))
            grad._data = traced_grad
        self.tracked.append([tensor, data, traced, grad, grad_data, traced_grad])
        self.bound[id(tensor)] = (grad, None if grad is None else self.slot_of[id(traced_grad)])

    def restore(self):
        """Give every tracked tensor plain arrays again (the originals where unchanged)."""
        for tensor, data, traced, grad, grad_data, traced_grad in self.tracked:
            tensor._data = data if tensor._data is traced else self.untraced(tensor._data)
            if grad is not None and grad._data is traced_grad:
                grad._data = grad_data
            current = tensor._grad
            if current is not None:
                current._data = self.untraced(current._data)

    def untraced(self, array):
        if isinstance(array, Traced):
            slot = self.slot_of.get(id(array))
            return self.plain[slot] if slot is not None else array._untraced_view()
        return array

    # ---- arguments
    def template(self, obj):
        """``obj`` as a tape template (slots for traced arrays, constants otherwise), and the
        plain value to call with (traced arrays as plain views of the same memory)."""
        if isinstance(obj, Traced):
            slot = self.slot_of.get(id(obj))
            if slot is None:
                raise CaptureError("autodiff.compile: lost track of an array during capture (a "
                                   "numpy call that is not recorded made it); please report this")
            return Slot(slot), self.plain[slot]
        if isinstance(obj, (tuple, list)) and _rebuildable(obj):
            pairs = [self.template(x) for x in obj]
            return type(obj)(p[0] for p in pairs), type(obj)(p[1] for p in pairs)
        if type(obj) is dict:
            pairs = {k: self.template(v) for k, v in obj.items()}
            return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
        if isinstance(obj, _ARRAYS):
            self.check_constant(obj)
            return obj.copy(), obj
        if isinstance(obj, np.generic):
            return obj, obj
        return obj, obj

    def check_constant(self, array):
        """A plain array that shares memory with a traced one was made by an unrecorded call:
        its values would be frozen into the tape. Refuse rather than replay wrong numbers."""
        if any(id(owner) in self.owners for owner in _memory_owners(array)):
            raise CaptureError(
                "autodiff.compile: an array of the step reached numpy through a call the "
                "capture cannot see (a plain view of a captured array); please report this, "
                "and run the step eagerly meanwhile")

    def call(self, func, args, kwargs, name, mutated=()):
        """Run ``func`` on plain arrays and write it on the tape; return traced results."""
        tmpl_args, plain_args = self.template(tuple(args))
        tmpl_kwargs, plain_kwargs = self.template(dict(kwargs)) if kwargs else ({}, {})
        result = func(*plain_args, **plain_kwargs)
        mutated_slots = tuple(self.slot_of[id(m)] for m in mutated if isinstance(m, Traced)
                              and id(m) in self.slot_of)
        entry = Entry("call", func, name, tmpl_args, tmpl_kwargs, mutates=mutated_slots)
        traced, entry.outputs = self.adopt(result, entry)
        self.tape.append(entry)
        return traced

    def adopt(self, result, entry):
        """The traced form of a call's result, and the template of where it goes on the tape."""
        if isinstance(result, _ARRAYS):
            slot = self.plain_slot.get(id(result))
            if slot is not None:            # an input returned as it is (out=, asarray)
                return self.traced[slot], None
            traced = self.new_slot(result, "new")
            return traced, Slot(len(self.traced) - 1)
        if isinstance(result, np.generic):  # (numpy gives scalars for 0-d results: keep arrays)
            traced = self.new_slot(_ORIGINAL["asarray"](result), "new")
            entry.scalar_result = True
            return traced, Slot(len(self.traced) - 1)
        if isinstance(result, (tuple, list)) and _rebuildable(result):
            pairs = [self.adopt(r, entry) for r in result]
            return type(result)(p[0] for p in pairs), tuple(p[1] for p in pairs)
        if result is None:
            return None, None
        if entry.func in _SHAPE_FUNCTIONS:
            return result, None
        raise CaptureError(f"autodiff.compile: numpy's {entry.name} returned a Python value "
                           f"({type(result).__name__}) computed from the step's arrays; the "
                           "capture cannot follow it")

    # ---- values read into Python
    def host_read(self, func, args, kwargs, name):
        """A value read into Python: an error from user code, a check on the tape inside autodiff."""
        self.refuse_user_read(name, 2)
        tmpl_args, plain_args = self.template(tuple(args))
        tmpl_kwargs, plain_kwargs = self.template(dict(kwargs)) if kwargs else ({}, {})
        value = func(*plain_args, **plain_kwargs)
        if name in ("__repr__", "__str__", "__format__", "array2string", "array_repr", "array_str"):
            return value                     # (text for an error message about to be raised)
        self.tape.append(Entry("check", func, name, tmpl_args, tmpl_kwargs, expected=value,
                               where=_library_line()))
        return value

    def refuse_user_read(self, name, depth):
        frame = sys._getframe(depth)
        conversion = None
        while frame is not None:
            filename = os.path.abspath(frame.f_code.co_filename)
            if filename.startswith(_COMPILER_DIR) or filename.startswith(_NUMPY_DIR):
                frame = frame.f_back
                continue
            if filename == _TENSOR_FILE and frame.f_code.co_name in _CONVERSIONS:
                conversion = _CONVERSIONS[frame.f_code.co_name] or conversion
                frame = frame.f_back
                continue
            if filename.startswith(_PACKAGE_DIR) or "<frozen" in filename:
                return                       # autodiff's own check: allowed (checked at replay)
            break
        if frame is None:
            return
        call = conversion or _READ_NAMES.get(name, name)
        source = _source_line(frame)
        raise CaptureError(
            f"autodiff.compile: {call} reads a tensor's value into Python while the step is being "
            f"captured, at {frame.f_code.co_filename}:{frame.f_lineno}{source}. A compiled step "
            "replays array operations only, so Python code cannot depend on tensor values. Fix: "
            "return the tensor from the compiled function and read it outside (e.g. "
            "`loss = step(x, y); print(loss.item())`), or leave this function uncompiled.")

    # ---- host calls
    def bind_point(self):
        """Write on the tape where each tracked tensor's gradient is now (before a host call and
        at the end), so that replay leaves ``.grad`` as eager does."""
        bindings = []
        for record in self.tracked:
            tensor = record[0]
            grad = tensor._grad
            slot = None
            if grad is not None:
                if not isinstance(grad._data, Traced) or id(grad._data) not in self.slot_of:
                    raise CaptureError("autodiff.compile: a gradient was replaced by an array the "
                                       "capture did not see being made")
                slot = self.slot_of[id(grad._data)]
            bound_grad, bound_slot = self.bound[id(tensor)]
            if bound_grad is not grad or bound_slot != slot:
                same_object = grad is not None and bound_grad is grad
                bindings.append((tensor, slot, same_object))
                self.bound[id(tensor)] = (grad, slot)
            data = tensor._data
            if data is not record[2]:
                raise CaptureError("autodiff.compile: the step replaced a parameter's array "
                                   "(`p.data = ...`); change it in place (`p.data.copy_(...)`) instead")
        if bindings:
            self.tape.append(Entry("bind", None, "bind grads", (), {}, bindings=bindings))

    def host_call(self, func, args, kwargs, name):
        """Run ``func`` eagerly on plain arrays now and at every replay (live Python state)."""
        self.bind_point()
        for record in self.tracked:
            tensor = record[0]
            tensor._data = record[1]
            if tensor._grad is not None:
                tensor._grad._data = self.untraced(tensor._grad._data)
        self.in_host = True
        try:
            result = func(*args, **kwargs)
        finally:
            self.in_host = False
            for record in self.tracked:
                tensor = record[0]
                if tensor._data is not record[1]:
                    raise CaptureError(f"autodiff.compile: {name} replaced a parameter's array; "
                                       "only in-place changes can be replayed")
                tensor._data = record[2]
                grad = tensor._grad
                if grad is not None:
                    plain = grad._data
                    slot = self.plain_slot.get(id(plain))
                    if slot is None:
                        raise CaptureError(f"autodiff.compile: {name} replaced a gradient's array; "
                                           "only in-place changes can be replayed")
                    grad._data = self.traced[slot]
        entry = Entry("host", func, name, tuple(args), dict(kwargs))
        output = getattr(result, "_data", None)
        if isinstance(output, _ARRAYS) and not isinstance(output, Traced):
            result._data = self.new_slot(output, "new")
            entry.outputs = Slot(len(self.traced) - 1)
            entry.tensor_result = True
        self.tape.append(entry)
        return result

    def optimizer_step(self, optimizer, step, name):
        """An optimizer's step. Its array math is traced when its state holds only tensors
        (SGD): replay runs that math while the hyper-parameters and state look as at capture,
        and the eager step otherwise (a scheduler changed lr). Optimizers that count steps in
        Python (Adam, RMSprop, Adagrad) stay a host call: eager at every replay."""
        snapshot = _optimizer_snapshot(optimizer)
        if snapshot is None:
            return self.host_call(step, (optimizer,), {}, name)
        self.bind_point()
        swapped = []
        for p, values in snapshot[1]:
            for key, _ in values:
                tensor = optimizer.state[p][key]
                original = tensor._data
                index = len(self.extra)
                self.extra.append(tensor)
                tensor._data = self.external(original, ("extra", index))
                swapped.append((tensor, original, tensor._data))
        start = len(self.tape.entries)
        try:
            step(optimizer)
        finally:
            for tensor, original, traced in swapped:
                tensor._data = original if tensor._data is traced else self.untraced(tensor._data)
            for values in optimizer.state.values():
                for value in values.values():
                    if isinstance(getattr(value, "_data", None), Traced):
                        value._data = self.untraced(value._data)
        fast = self.tape.entries[start:]
        del self.tape.entries[start:]
        for record in self.tracked:
            if record[0]._data is not record[2]:
                raise CaptureError(f"autodiff.compile: {name} replaced a parameter's array; "
                                   "only in-place changes can be replayed")
        host = Entry("host", step, name, (optimizer,), {})
        if _optimizer_snapshot(optimizer) != snapshot:     # (the first step made its buffers)
            self.tape.append(host)
            return None
        self.tape.append(Entry("branch", None, name, (), {}, fast=fast, host=host,
                               guard=_optimizer_guard(optimizer, snapshot)))
        return None

    def draw(self, generator, method, args, kwargs):
        """A random draw: redrawn from the same generator, in the same order, at every replay."""
        bound = getattr(super(type(generator), generator), method)
        result = bound(*args, **kwargs)
        entry = Entry("draw", bound, f"{method}", tuple(args), dict(kwargs))
        if isinstance(result, _ARRAYS):
            traced = self.new_slot(result, "new")
            entry.outputs = Slot(len(self.traced) - 1)
        else:
            raise CaptureError(f"autodiff.compile: a random draw of a single Python number "
                               f"(Generator.{method} without a size) cannot be replayed; draw a tensor")
        self.tape.append(entry)
        return traced


def _optimizer_snapshot(optimizer):
    """The hyper-parameters and state layout an optimizer's traced step depends on, or None
    when its state holds Python numbers that every step changes (step counts)."""
    groups = []
    for group in optimizer.param_groups:
        groups.append(tuple((k, v) for k, v in group.items() if k != "params"))
    state = []
    for group in optimizer.param_groups:
        for p in group["params"]:
            values = optimizer.state.get(p, {})
            entries = []
            for key, value in values.items():
                if not isinstance(getattr(value, "_data", None), _ARRAYS):
                    return None
                entries.append((key, id(value)))
            state.append((p, tuple(entries)))
    return tuple(groups), tuple(state)


def _optimizer_guard(optimizer, snapshot):
    """A check that ``optimizer`` has the hyper-parameters and state tensors of ``snapshot``."""
    groups, state = snapshot
    names = {"OPT": optimizer}
    conditions = [f"len(OPT.param_groups) == {len(groups)}"]
    for i, values in enumerate(groups):
        for key, value in values:
            names[f"V{i}_{len(names)}"] = value
            conditions.append(f"OPT.param_groups[{i}][{key!r}] == V{i}_{len(names) - 1}")
    conditions.append("len(ST) == " + str(sum(1 for _, entries in state if entries)))
    for j, (p, entries) in enumerate(state):
        if not entries:
            continue
        names[f"P{j}"] = p
        conditions.append(f"len(ST[P{j}]) == {len(entries)}")
        for key, value_id in entries:
            value = optimizer.state[p][key]
            names[f"B{j}_{len(names)}"] = value
            conditions.append(f"ST[P{j}][{key!r}] is B{j}_{len(names) - 1}")
    source = "def guard():\n    ST = OPT.state\n    return " + " and ".join(conditions) + "\n"
    exec(compile(source, "<autodiff.compile optimizer guard>", "exec"), names)
    return names["guard"]


_READ_NAMES = {"item": ".item()", "tolist": ".tolist()", "__bool__": "bool() of an array",
               "__float__": "float() of an array", "__int__": "int() of an array",
               "__index__": "an array used as an index", "__repr__": "printing an array",
               "__str__": "printing an array", "tobytes": ".tobytes()",
               "iterating over a tensor's values": "iterating over a tensor's values"}


def _source_line(frame):
    import linecache
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f": `{line}`" if line else ""


def _library_line():
    frame = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
            (_COMPILER_DIR, _NUMPY_DIR)):
        frame = frame.f_back
    return "" if frame is None else f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


# ------------------------------------------------------------------------------ numpy patches
_ORIGINAL = {"asarray": np.asarray, "array": np.array, "ascontiguousarray": np.ascontiguousarray,
             "asfortranarray": np.asfortranarray}


def _traced_view(plain):
    """A traced array over the memory of ``plain`` (a numpy or a CUDA array)."""
    if isinstance(plain, np.ndarray):
        return np.ndarray.view(plain, TracedArray)
    from .traced_cuda import traced_view
    return traced_view(plain)


def _memory_owners(array):
    """The objects that own ``array``'s memory: its chain of bases (a CUDA array: its buffer)."""
    if not isinstance(array, np.ndarray):
        return [array._buf]
    owners = []
    while isinstance(array, np.ndarray):
        owners.append(array)
        array = array.base
    return owners if array is None else owners + [array]


def _rebuildable(sequence):
    """A tuple or list that ``type(sequence)(items)`` makes again (not a namedtuple)."""
    return type(sequence) in (tuple, list) or not hasattr(sequence, "_fields")


def _contains_traced(obj):
    if isinstance(obj, Traced):
        return True
    if type(obj) is tuple or type(obj) is list:
        return any(_contains_traced(x) for x in obj)
    return False


def _patched(name):
    original = _ORIGINAL[name]

    def converter(a, *args, **kwargs):
        rec = _recorder
        if rec is None or not _contains_traced(a):
            return original(a, *args, **kwargs)
        return rec.call(original, (a,) + args, kwargs, name)

    converter.__name__ = name
    return converter


_PATCHES = {name: _patched(name) for name in _ORIGINAL}


def start(recorder):
    """Begin recording: numpy's converters keep traced arrays traced."""
    global _recorder
    if _recorder is not None:
        raise CaptureError("autodiff.compile: a compiled function was called while another one "
                           "is being captured; nest plain functions instead")
    _recorder = recorder
    for name, patched in _PATCHES.items():
        setattr(np, name, patched)


def stop():
    global _recorder
    _recorder = None
    for name, original in _ORIGINAL.items():
        setattr(np, name, original)


def active():
    return _recorder
