"""What a compiled step depends on: the objects it reaches, and the signature of a call.

A step reaches modules, optimizers and tensors through its arguments, its closure, the
globals its code names (and the functions it calls, a few levels down). Their tensors
are the ones a capture swaps for traced arrays and a replay reads.
"""
import types

import numpy as np

from ..autograd.grad_mode import _state
from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .tape import leaves

_DEPTH = 4


def _code_names(code, out):
    out.update(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _code_names(const, out)


class Reach:
    """Modules, optimizers, schedulers and loose tensors a function can reach."""

    def __init__(self):
        self.modules, self.optimizers, self.tensors, self.others = [], [], [], []
        self.globals_used = []     # (globals dict, name, value) the step looks up each call
        self._seen = set()

    def tracked_tensors(self):
        """Parameters, buffers and loose tensors, each once (the order is the tape's)."""
        out, seen = [], set()

        def add(t):
            if t is not None and id(t) not in seen:
                seen.add(id(t))
                out.append(t)
        for module in self.modules:
            for p in module.parameters(recurse=False):
                add(p)
            for b in module.buffers(recurse=False):
                add(b)
        for opt in self.optimizers:
            for group in opt.param_groups:
                for p in group["params"]:
                    add(p)
        for t in self.tensors:
            add(t)
        return out

    def tensor_names(self):
        """id(tensor) -> its name in the first module that holds it ('0.weight'), for pictures."""
        names = {}
        for module in self.modules:
            for name, t in list(module.named_parameters()) + list(module.named_buffers()):
                names.setdefault(id(t), name)
        return names

    def visit(self, obj, depth=0):
        if depth > _DEPTH or id(obj) in self._seen:
            return
        if obj is None or isinstance(obj, (int, float, str, bytes, bool, np.ndarray, type,
                                           types.ModuleType)):
            return
        self._seen.add(id(obj))
        if isinstance(obj, Tensor):
            self.tensors.append(obj)
        elif isinstance(obj, Module):
            for module in obj.modules():
                if id(module) not in self._seen or module is obj:
                    self._seen.add(id(module))
                    self.modules.append(module)
        elif isinstance(obj, Optimizer):
            self.optimizers.append(obj)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            for x in obj:
                self.visit(x, depth + 1)
        elif isinstance(obj, dict):
            for x in obj.values():
                self.visit(x, depth + 1)
        elif isinstance(obj, types.MethodType):
            self.visit(obj.__self__, depth)
            self.visit(obj.__func__, depth)
        elif isinstance(obj, types.FunctionType):
            self.visit_function(obj, depth)
        elif hasattr(obj, "optimizer") and isinstance(getattr(obj, "optimizer", None), Optimizer):
            self.others.append(obj)             # a learning-rate scheduler
            self.visit(obj.optimizer, depth + 1)
        elif hasattr(obj, "func") and hasattr(obj, "args") and callable(obj):   # functools.partial
            self.visit(obj.func, depth + 1)
            self.visit(obj.args, depth + 1)
            self.visit(obj.keywords, depth + 1)
        elif hasattr(obj, "__dict__") and not type(obj).__module__.startswith(("numpy", "builtins")):
            for x in vars(obj).values():
                self.visit(x, depth + 1)

    def visit_arguments(self, args, kwargs):
        """What a call's arguments reach, except the argument tensors themselves (those are read
        from the arguments at every call): modules and optimizers passed in, say."""
        for obj in leaves((args, kwargs)):
            if not isinstance(obj, Tensor):
                self.visit(obj, 1)

    def visit_function(self, fn, depth):
        code = getattr(fn, "__code__", None)
        if code is None:
            return
        for cell in fn.__closure__ or ():
            try:
                self.visit(cell.cell_contents, depth + 1)
            except ValueError:      # an empty cell
                pass
        names = set()
        _code_names(code, names)
        scope = fn.__globals__
        for name in sorted(names):
            if name in scope:
                value = scope[name]
                if isinstance(value, (Tensor, Module, Optimizer)) or (
                        isinstance(value, (list, tuple, dict)) and depth == 0):
                    self.globals_used.append((scope, name, value))
                if isinstance(value, types.FunctionType) and value.__module__ != fn.__module__:
                    continue            # (library functions: nothing of the user's in them)
                self.visit(value, depth + 1)


def flatten_args(args, kwargs):
    """The tensors among a call's arguments (in order), and a hashable signature of the rest."""
    tensors = []
    signature = []
    _flatten(args, tensors, signature)
    if kwargs:
        for key in sorted(kwargs):
            signature.append(key)
            _flatten(kwargs[key], tensors, signature)
    return tensors, tuple(signature)


def _flatten(obj, tensors, signature):
    if isinstance(obj, Tensor):
        data = obj._data
        tensors.append(obj)
        signature.append((data.shape, data.dtype, type(data), obj._requires_grad))
    elif type(obj) is tuple or type(obj) is list:
        signature.append((type(obj), len(obj)))
        for x in obj:
            _flatten(x, tensors, signature)
    elif type(obj) is dict:
        signature.append((dict, tuple(obj)))
        for x in obj.values():
            _flatten(x, tensors, signature)
    else:
        try:
            hash(obj)
            signature.append((type(obj), obj))
        except TypeError:
            signature.append(("id", id(obj)))


def call_key(args, kwargs, modules, globals_used):
    """The part of a call's signature that picks its tapes: arguments, grad mode, the modules'
    train/eval modes and the objects the step's globals name."""
    tensors, signature = flatten_args(args, kwargs)
    modes = tuple([m.training for m in modules])
    names = tuple([id(scope.get(name)) for scope, name, _ in globals_used])
    return tensors, (_state.enabled, signature, modes, names)


def state_guard(tensors, modules=()):
    """A check that the tracked tensors look as at capture (the same shapes and dtypes, and
    ``.grad`` set or None as it was: replay either adds into it or makes it) and that the
    modules are in the same train/eval mode."""
    conditions, names = [], {}
    for i, module in enumerate(modules):
        names[f"M{i}"] = module
        conditions.append(f"M{i}.training is {bool(module.training)}")
    for i, t in enumerate(tensors):
        names[f"T{i}"] = t
        names[f"S{i}"] = t._data.shape
        names[f"D{i}"] = t._data.dtype
        conditions.append(f"T{i}._data.shape == S{i}")
        conditions.append(f"T{i}._data.dtype is D{i}")
        conditions.append(f"T{i}._grad is {'None' if t._grad is None else 'not None'}")
        if t._grad is not None:
            names[f"G{i}"] = t._grad._data.shape
            conditions.append(f"T{i}._grad._data.shape == G{i}")
    body = " and ".join(conditions) or "True"
    source = f"def guard():\n    return {body}\n"
    exec(compile(source, "<autodiff.compile guard>", "exec"), names)
    return names["guard"], describe_state(tensors)


def describe_state(tensors):
    return [(tuple(t._data.shape), t._data.dtype, t._grad is None) for t in tensors]


def explain_difference(before, tensors):
    """Why a guard failed, in words (for explain())."""
    now = describe_state(tensors)
    for i, (a, b) in enumerate(zip(before, now)):
        if a[0] != b[0]:
            return f"tensor {i} changed shape {a[0]} -> {b[0]}"
        if a[1] != b[1]:
            return f"tensor {i} changed dtype {a[1]} -> {b[1]}"
        if a[2] != b[2]:
            now_, then = ("None" if b[2] else "set"), ("None" if a[2] else "set")
            return f"tensor {i}'s .grad is {now_} now ({then} at capture)"
    return "the tensors' state changed"
