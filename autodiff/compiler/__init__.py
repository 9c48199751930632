"""``autodiff.compile``: capture a training step once, replay it at array speed.

    step = autodiff.compile(step)          # or @autodiff.compile, or autodiff.compile(model)
    for x, y in batches:
        loss = step(x, y)

The first call with a signature runs eagerly (warm-up). The second runs eagerly too,
while every numpy call it makes is written on a tape (``tracer``): forward, the
derivatives of backward, gradient accumulation, BatchNorm's running statistics.
Optimizer steps, schedulers, gradient clipping and random draws go on the tape as
host calls, run live at every replay. Later calls with the same signature replay the
tape (``tape``): one generated function of numpy calls, no Tensor objects, no graph.

A call whose signature (``guards``) matches no tape is captured again, up to
``cache_size`` signatures; beyond that the function warns once and runs eagerly.

What a replay does not repeat: Python side effects of the function (appending to a list,
counting steps, printing) happen at the eager calls only, and a replayed step returns its
tensors detached (a training step has run its backward already). Tensors the function
reaches other than through its arguments, closure and globals (modules, optimizers and
tensors found there, a few levels deep) are read as constants, and so are arrays the function
makes from Python data (a batch drawn inside it: pass batches as arguments; drawing from a
DataLoader during a capture raises). On 'cuda' the tape holds CudaArray calls and CUDA
backend methods (``traced_cuda``): a replay launches the kernels eager would (no more), and
"fused" mode replays them (it compiles CPU tapes only).
"""
import functools
import sys
import warnings

import numpy as np

from ..backends import choice as _backends   # (kernels are handed out there, and hooked)
from ..nn.module import Module
from ..optim import optimizer as _optimizer_module
from ..tensor import Tensor
from . import tracer
from .guards import Reach, call_key, explain_difference, state_guard
from .tape import ReplayMismatch, leaves
from .tracer import CaptureError, Recorder, Traced, TracedArray

__all__ = ["compile", "CompiledFunction", "CaptureError", "ReplayMismatch"]

MODES = ("replay", "fused")


def compile(fn=None, *, mode="replay", cache_size=8, fullgraph=False, dynamic=None, backend=None):
    """A callable that behaves like ``fn`` and replays its captured array operations.

    ``fn``: a training step (zero_grad, forward, loss, backward, optimizer.step, returning
    tensors), a plain forward function, or a Module (its forward is compiled, as
    ``torch.compile(model)``). Used bare (``@autodiff.compile``) or with options
    (``@autodiff.compile(mode="fused")``). ``mode``: "replay" (numpy calls) or "fused"
    (the tape as one Numba function, CPU tensors). PyTorch's ``fullgraph``, ``dynamic`` and
    ``backend`` are accepted and ignored.
    """
    if mode not in MODES:
        raise ValueError(f"autodiff.compile: mode must be one of {MODES}, got {mode!r}")
    if not isinstance(cache_size, int) or cache_size < 1:
        raise ValueError(f"autodiff.compile: cache_size must be a positive int, got {cache_size!r}")
    if fn is None:
        return functools.partial(compile, mode=mode, cache_size=cache_size)
    if not callable(fn):
        raise TypeError(f"autodiff.compile: expected a function or a Module, got {type(fn).__name__}")
    return CompiledFunction(fn, mode=mode, cache_size=cache_size)


class _Signature:
    """The tapes captured for one call key (each with its own state guard)."""

    def __init__(self):
        self.calls = 0
        self.tapes = []          # [(guard, state, tape)]
        self.eager_reason = None  # set when this signature always runs eagerly


class CompiledFunction:
    """What ``autodiff.compile`` returns: call it like the function it wraps."""

    def __init__(self, fn, mode="replay", cache_size=8):
        self.fn = fn
        self.mode = mode
        self.cache_size = cache_size
        self.module = fn if isinstance(fn, Module) else None
        functools.update_wrapper(self, fn if not isinstance(fn, Module) else type(fn).forward,
                                 updated=())
        self._signatures = {}
        self._reach = None
        self._warned = False
        self._log = []           # (what happened, why), for explain()
        self._last_key = None
        self.stats = {"eager": 0, "captures": 0, "replays": 0}

    # ---- calling
    def __call__(self, *args, **kwargs):
        reach = self._reach
        if reach is None:
            reach = self._reach = Reach()
            reach.visit(self.fn)
        tensors, key = call_key(args, kwargs, reach.modules, reach.globals_used)
        signature = self._signatures.get(key)
        if signature is not None:
            for guard, state, tape in signature.tapes:
                if guard():
                    self.stats["replays"] += 1
                    return tape.function(tensors)
        else:
            signature = self._new_signature(key, args, kwargs)
        signature.calls += 1
        if signature.eager_reason is not None or signature.calls == 1:
            return self._eager(args, kwargs)
        if self._tape_count() >= self.cache_size:
            if not self._warned:
                self._warned = True
                warnings.warn(f"autodiff.compile: {self.__name__} has been captured for "
                              f"{self.cache_size} signatures (cache_size); further signatures run "
                              "eagerly", stacklevel=2)
            return self._eager(args, kwargs)
        if signature.tapes:
            reach_tensors = signature.tapes[-1][2].tensors
            self._log.append(("recapture", explain_difference(signature.tapes[-1][1], reach_tensors)))
        return self._capture(signature, tensors, args, kwargs)

    def _eager(self, args, kwargs):
        self.stats["eager"] += 1
        return self.fn(*args, **kwargs)

    def _tape_count(self):
        return sum(len(s.tapes) for s in self._signatures.values())

    def _new_signature(self, key, args, kwargs):
        signature = self._signatures[key] = _Signature()
        if self._last_key is not None:
            self._log.append(("new signature", _key_difference(self._last_key, key)))
        self._last_key = key
        reason = self._unsupported(args, kwargs)
        if reason:
            signature.eager_reason = reason
            self._log.append(("eager", reason))
        return signature

    def _unsupported(self, args, kwargs):
        if _has_array(args) or _has_array(kwargs):
            return ("a numpy array is an argument: its values would be frozen into the tape; "
                    "pass a tensor (autodiff.from_numpy) instead")
        return None

    # ---- capture
    def _capture(self, signature, arg_tensors, args, kwargs):
        reach = Reach()           # (this call's: the modules and optimizers its arguments hold too)
        reach.visit(self.fn)
        reach.visit_arguments(args, kwargs)
        recorder = Recorder(getattr(self, "__name__", "step"))
        tracked = reach.tracked_tensors()
        guard, state = state_guard(tracked, reach.modules)
        for tensor in tracked:
            recorder.track(tensor, len(recorder.tracked))
        swapped = []
        for i, t in enumerate(arg_tensors):
            if isinstance(t._data, Traced):
                continue
            original = t._data
            t._data = recorder.external(original, ("arg", i))
            swapped.append((t, original, t._data))
        hooks = _Hooks(recorder)
        tracer.start(recorder)
        hooks.install()
        try:
            result = self.fn(*args, **kwargs)
            recorder.bind_point()
            output_template, output_slots, escaping = _outputs(recorder, result, tracked)
        except BaseException:
            hooks.remove()
            tracer.stop()
            recorder.restore()
            for t, original, traced in swapped:
                t._data = original if t._data is traced else recorder.untraced(t._data)
            raise
        hooks.remove()
        tracer.stop()
        recorder.restore()
        for t, original, traced in swapped:
            t._data = original if t._data is traced else recorder.untraced(t._data)
        for t in escaping:
            t._data = recorder.untraced(t._data)
        tape = recorder.tape
        tape.tensors = [record[0] for record in recorder.tracked]
        tape.extra = recorder.extra
        tape.tensor_names = reach.tensor_names()
        self.stats["captures"] += 1
        trained = recorder.backward_ran or any(e.kind in ("bind", "host", "branch") for e in tape.entries)
        reason = _escape_reason(result, arg_tensors, trained)
        if reason:
            signature.eager_reason = reason
            self._log.append(("eager", reason))
            return result
        tape.build(output_slots, _output_builder(output_template, output_slots, tape),
                   examples=recorder.plain)
        if self.mode == "fused" and all(isinstance(a, np.ndarray) for a in recorder.plain):
            from .fused import fuse
            fuse(tape, recorder.plain, self._log)
        elif self.mode == "fused":
            self._log.append(("replay only", "CUDA tensors: the tape replays their kernels, "
                              "fused mode compiles CPU tapes only"))
        signature.tapes.append((guard, state, tape))
        self._log.append(("captured", f"signature {self._tape_count()}: {tape.counts()[0]} array calls"))
        return result

    # ---- seeing it
    def tapes(self):
        """Every captured tape (newest last)."""
        return [tape for s in self._signatures.values() for _, _, tape in s.tapes]

    def explain(self, file=None):
        """Print what was captured: array calls, buffers and bytes preallocated, signatures
        cached, and why recaptures or eager runs happened. Returns the text."""
        lines = [f"autodiff.compile({getattr(self, '__name__', 'fn')}, mode={self.mode!r}): "
                 f"{self._tape_count()} signature(s) captured (cache_size {self.cache_size}); "
                 f"calls: {self.stats['eager']} eager, {self.stats['captures']} captured, "
                 f"{self.stats['replays']} replayed"]
        for i, tape in enumerate(self.tapes(), 1):
            calls, buffers, nbytes, dropped = tape.counts()
            hosts = sum(1 for e in tape.live if e.kind == "host")
            traced_steps = sum(1 for e in tape.live if e.kind == "branch")
            lines.append(f"  signature {i}: {calls} array calls replayed ({dropped} of "
                         f"{len(tape.entries)} captured entries dropped as unneeded), {hosts} host "
                         f"calls (run eagerly), {traced_steps} optimizer steps traced (eager when "
                         f"hyper-parameters change), {buffers} buffers ({nbytes} bytes) "
                         f"preallocated, {len(tape.tensors)} tensors tracked")
            constants = tape.constant_arrays()
            if constants:
                lines.append(f"    {len(constants)} arrays made from Python data are frozen into "
                             f"it ({sum(c.nbytes for c in constants)} bytes): they do not change "
                             "between replays")
        for what, why in self._log:
            lines.append(f"  {what}: {why}")
        text = "\n".join(lines)
        print(text, file=file)
        return text

    def __get__(self, instance, owner):
        """As a method decorator: bind like a function would."""
        if instance is None:
            return self
        return functools.partial(self, instance)

    def __repr__(self):
        return f"<autodiff.compile of {getattr(self, '__name__', self.fn)!r}, mode={self.mode!r}>"


def _has_array(obj):
    if isinstance(obj, np.ndarray):
        return True
    if type(obj) is tuple or type(obj) is list:
        return any(_has_array(x) for x in obj)
    if type(obj) is dict:
        return any(_has_array(x) for x in obj.values())
    return False


def _key_difference(before, after):
    """What differs between two call keys, in words: 'changed: arguments ((10, 2) float32 ->
    (5, 2) float32)'."""
    names = ("grad mode", "arguments", "train/eval modes", "objects named by globals")
    changed = []
    for name, a, b in zip(names, before, after):
        if a == b:
            continue
        if name == "arguments" and len(a) == len(b):
            first = next((x, y) for x, y in zip(a, b) if x != y)
            name += f" ({_describe(first[0])} -> {_describe(first[1])})"
        changed.append(name)
    return "changed: " + (", ".join(changed) or "nothing visible")


def _describe(item):
    """One entry of an argument signature, readably."""
    if type(item) is tuple and len(item) == 4 and isinstance(item[0], tuple):
        return f"tensor {item[0]} {item[1]}{' requiring grad' if item[3] else ''}"
    if type(item) is tuple and len(item) == 2:
        return repr(item[1])
    return repr(item)


def _outputs(recorder, result, tracked):
    """The template of the function's result: slots for traced tensors, the object itself for
    tracked tensors and non-tensors. Also the result tensors whose arrays must be untraced."""
    slots, escaping = [], []
    tracked_ids = {id(t) for t in tracked}

    def walk(obj):
        if isinstance(obj, Tensor):
            if id(obj) in tracked_ids or not isinstance(obj._data, Traced):
                return obj
            slot = recorder.slot_of.get(id(obj._data))
            if slot is None:
                raise CaptureError("autodiff.compile: the function returned a tensor whose array "
                                   "the capture did not see being made")
            escaping.append(obj)
            slots.append(slot)
            return _OutputSlot(len(slots) - 1)
        if type(obj) is tuple or type(obj) is list:
            return type(obj)(walk(x) for x in obj)
        if type(obj) is dict:
            return {k: walk(v) for k, v in obj.items()}
        return obj
    return walk(result), slots, escaping


def _escape_reason(result, arg_tensors, trained):
    """Why the result cannot come from a replay (it carries a graph that outlives the call;
    a step that ran backward itself returns its loss detached, as the replay will)."""
    found = [x for x in leaves(result) if isinstance(x, Tensor)]
    if not trained and any(t._requires_grad and t.grad_fn is not None for t in found):
        from ..autograd.grad_mode import _state
        if _state.enabled:
            return ("the result requires grad (its backward would run outside the compiled "
                    "function): compile the whole training step, or call under no_grad")
    if any(t._grad is not None for t in arg_tensors):
        return "an argument tensor received a .grad: gradients of arguments are not captured"
    return None


class _OutputSlot:
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _output_builder(template, slots, tape):
    """A function from the replay's output arrays to the function's result (fresh tensors:
    arrays that outlive the replay, such as tracked tensors' own, are copied)."""
    copies = tuple(tape.slot_kind[s] == "input" or _is_view_of_input(tape, s) for s in slots)
    wrap = Tensor._wrap
    if isinstance(template, _OutputSlot) and not copies[0]:
        return lambda values: wrap(values[0])

    def fill(obj, values):
        if isinstance(obj, _OutputSlot):
            array = values[obj.index]
            return wrap(array.copy() if copies[obj.index] else array)
        if type(obj) is tuple or type(obj) is list:
            return type(obj)(fill(x, values) for x in obj)
        if type(obj) is dict:
            return {k: fill(v, values) for k, v in obj.items()}
        return obj
    return lambda values: fill(template, values)


def _is_view_of_input(tape, slot):
    """Whether a slot's array may be memory of a tracked tensor (made by a view-making call)."""
    for entry in tape.entries:
        if slot in entry.output_slots():
            return entry.name in _VIEW_NAMES and any(
                tape.slot_kind[s] == "input" or _is_view_of_input(tape, s) for s in entry.input_slots())
    return False


_VIEW_NAMES = {"reshape", "transpose", "swapaxes", "squeeze", "ravel", "__getitem__", "view",
               "diagonal", "broadcast_to", "expand_dims", "asarray", "ascontiguousarray"}


# ------------------------------------------------------------------------------ hooks
_DRAWS = ("random", "standard_normal", "normal", "uniform", "integers", "permutation",
          "binomial", "exponential", "choice", "poisson", "multinomial", "standard_exponential")


class _Hooks:
    """What becomes a host call or a recorded draw while a capture runs (installed on entry,
    removed on exit, so the eager path pays nothing)."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.undo = []

    def _patch(self, owner, name, value):
        had = name in vars(owner)
        self.undo.append((owner, name, vars(owner).get(name), had))
        setattr(owner, name, value)

    def install(self):
        recorder = self.recorder
        from .. import random as _random
        from ..nn import utils as _nn_utils
        from ..nn.utils import clip_grad as _clip_grad
        from ..optim import lr_scheduler as _lr_scheduler
        from ..optim import schedulers_more as _schedulers_more

        def optimizer_step(optimizer, closure):
            if closure is not None:
                raise CaptureError("autodiff.compile: optimizer.step(closure) re-evaluates the loss "
                                   "in Python; call step() without a closure in a compiled step")
            return recorder.optimizer_step(optimizer, _unhooked_step, f"{type(optimizer).__name__}.step")
        _optimizer_module._step_recorder = optimizer_step
        self.undo.append((_optimizer_module, "_step_recorder", None, "module"))

        for draw in _DRAWS:
            if hasattr(np.random.Generator, draw):
                self._patch(_random.Generator, draw, _draw_method(recorder, draw))

        schedulers = set()
        for module in (_lr_scheduler, _schedulers_more):
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, _lr_scheduler.LRScheduler) \
                        and "step" in vars(value):
                    schedulers.add(value)
        for cls in schedulers:
            self._patch(cls, "step", _host_method(recorder, vars(cls)["step"], f"{cls.__name__}.step"))

        for name in ("clip_grad_norm_", "clip_grad_value_"):
            original = getattr(_clip_grad, name)
            host = _host_function(recorder, original, name)
            self._patch_module(_clip_grad, name, host)
            self._patch_module(_nn_utils, name, host)

        self._patch(Tensor, "numpy", _numpy_method(recorder, Tensor.numpy))
        from ..data import DataLoader

        def refuse_iteration(loader):
            raise CaptureError("autodiff.compile: the function draws batches from a DataLoader "
                               "while it is captured; the batch would be frozen into the tape. "
                               "Iterate outside and pass each batch as an argument: "
                               "`for x, y in loader: loss = step(x, y)`")
        self._patch(DataLoader, "__iter__", refuse_iteration)
        backward = Tensor.backward

        def traced_backward(tensor, *args, **kwargs):
            recorder.backward_ran = True
            return backward(tensor, *args, **kwargs)
        self._patch(Tensor, "backward", traced_backward)
        accumulate = Tensor._accumulate_grad
        tracked = {id(record[0]) for record in recorder.tracked}

        def checked_accumulate(tensor, grad, owned=False):
            if id(tensor) not in tracked and tracer.active() is recorder and not recorder.in_host:
                raise CaptureError(
                    "autodiff.compile: backward reached a tensor that requires grad "
                    f"(shape {tuple(tensor.shape)}) which the compiled function does not reach "
                    "through its arguments, closure or globals, so a replay could not update its "
                    ".grad; keep it in a module or a global, or pass it as an argument")
            return accumulate(tensor, grad, owned)
        self._patch(Tensor, "_accumulate_grad", checked_accumulate)
        _backends._traced_kernel = functools.partial(_traced_kernel, recorder)
        self.undo.append((_backends, "_traced_kernel", None, "module"))
        if "autodiff.cuda.array" in sys.modules:       # (CUDA in use: Numba imported already)
            from .traced_cuda import CudaArray, from_host_hook
            self._patch(CudaArray, "from_host", from_host_hook(recorder, CudaArray.from_host))

    def _patch_module(self, module, name, value):
        self.undo.append((module, name, getattr(module, name), "module"))
        setattr(module, name, value)

    def remove(self):
        while self.undo:
            owner, name, value, had = self.undo.pop()
            if had == "module" or had:
                setattr(owner, name, value)
            else:
                delattr(owner, name)


def _unhooked_step(optimizer):
    hook = _optimizer_module._step_recorder
    _optimizer_module._step_recorder = None
    try:
        return optimizer.step()
    finally:
        _optimizer_module._step_recorder = hook


def _draw_method(recorder, name):
    def draw(self, *args, **kwargs):
        if tracer.active() is not recorder or recorder.in_host:
            return getattr(np.random.Generator, name)(self, *args, **kwargs)
        return recorder.draw(self, name, args, kwargs)
    return draw


def _host_method(recorder, method, name):
    def host(self, *args, **kwargs):
        if tracer.active() is not recorder or recorder.in_host:
            return method(self, *args, **kwargs)
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, Tensor) and isinstance(a._data, Traced):
                raise CaptureError(f"autodiff.compile: {name} is given a tensor computed in the "
                                   "step (e.g. a loss for ReduceLROnPlateau); call it outside the "
                                   "compiled function with the returned value")
        return recorder.host_call(method, (self,) + args, kwargs, name)
    return host


def _host_function(recorder, function, name):
    def host(parameters, *args, **kwargs):
        if tracer.active() is not recorder or recorder.in_host:
            return function(parameters, *args, **kwargs)
        if isinstance(parameters, Tensor):
            parameters = [parameters]
        return recorder.host_call(function, (list(parameters),) + args, kwargs, name)
    return host


def _numpy_method(recorder, original):
    def numpy(self):
        if tracer.active() is recorder and isinstance(self._data, Traced):
            recorder.refuse_user_read("numpy", 1)
        return original(self)
    return numpy


class _RecordedKernels:
    """backends.linear_kernel's answer during a capture: each kernel, as a recorded call."""

    def __init__(self, recorder):
        self.recorder = recorder

    def __getattr__(self, name):
        return _traced_kernel(self.recorder, name, None)


def _traced_kernel(recorder, name, array):
    """backends' hook: the Numba kernel ``name`` as a recorded call (None: use numpy)."""
    if name is None:
        return _RecordedKernels(recorder)
    if array is None:
        kernel = getattr(_backends._cpu_kernels(), name)
    else:
        if not isinstance(array, TracedArray):
            return None
        hook = _backends._traced_kernel
        _backends._traced_kernel = None
        try:
            kernel = _backends.kernel(name, np.ndarray.view(array, np.ndarray))
        finally:
            _backends._traced_kernel = hook
        if kernel is None:
            return None

    def recorded(*args, **kwargs):
        if tracer.active() is not recorder or recorder.in_host:
            return kernel(*tracer._plain(args), **tracer._plain(kwargs))
        arrays = tuple(a for a in args if isinstance(a, TracedArray))
        return recorder.call(kernel, args, kwargs, f"kernel {name}", mutated=arrays)
    return recorded
