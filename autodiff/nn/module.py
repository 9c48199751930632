"""Module: the base class of every layer and model, with PyTorch's API.

Assigning a Parameter or a Module to an attribute registers it (in
``_parameters`` / ``_modules``; buffers such as BatchNorm's running statistics
go through ``register_buffer``). Registered values are also kept in the
instance ``__dict__``, so that ``self.weight`` inside ``forward`` is a plain
attribute read: ``__setattr__``/``__delattr__`` and the ``register_*`` methods
keep the two in step (change registrations through them, not by editing
``_parameters`` directly).
"""
import functools
from collections import OrderedDict, namedtuple

import numpy as np

from .. import dtypes
from ..cuda import devices
from ..tensor import RemovableHandle, Tensor
from ._backward_hooks import BackwardHookCall
from .parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict(strict=False)`` could not match."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(text, spaces):
    """Indent every line but the first (how PyTorch nests the repr of sub-modules)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _type_name(value):
    if isinstance(value, Tensor):
        return f"autodiff.Tensor ({dtypes.name(value.dtype)})"
    return type(value).__name__


def _recording_arguments(init):
    """``init``, recording (args, kwargs) of the outermost call (the most derived class's) in
    the instance's ``_constructor_arguments``."""
    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        self.__dict__.setdefault("_constructor_arguments", (args, kwargs))
        init(self, *args, **kwargs)
    return __init__


class Module:
    """Base class for layers and models: subclass it, assign layers in ``__init__``, write ``forward``.

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(2, 16)
                self.fc2 = nn.Linear(16, 1)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())
    """

    _forward_hooks = None    # [pre, forward, backward, backward-pre hooks] once a hook is registered

    def __init_subclass__(cls, **kwargs):
        """Each subclass's ``__init__`` records the arguments the module was built with, so
        that ``autodiff.save(model)`` can store them and ``load`` can rebuild the model."""
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording_arguments(cls.__dict__["__init__"])

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers"] = set()
        d["_modules"] = {}

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        if self._forward_hooks is None:
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        pre_hooks, hooks, backward_hooks, backward_pre_hooks = self._forward_hooks
        for hook in list(pre_hooks):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        backward = None
        if (backward_hooks or backward_pre_hooks) and BackwardHookCall.enabled():
            backward = BackwardHookCall(self, backward_hooks, backward_pre_hooks)
            args = backward.wrap_inputs(args)
        out = self.forward(*args, **kwargs)
        for hook in list(hooks):
            changed = hook(self, args, out)
            if changed is not None:
                out = changed
        if backward is not None:
            out = backward.wrap_outputs(out)
        return out

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before ``forward``; it may return replacement args."""
        hooks = self._hook_lists()[0]
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after ``forward``; it may return a replacement output."""
        hooks = self._hook_lists()[1]
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_full_backward_hook(self, hook):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to the
        module's positional inputs are computed (one per argument: None for a non-tensor or an
        input that needs none); it may return a replacement ``grad_input`` tuple."""
        return self._add_backward_hook(hook, "full")

    def register_backward_hook(self, hook):
        """Deprecated in PyTorch: here the same as ``register_full_backward_hook``.

        (PyTorch's old hook saw the gradients of the last operation inside the module, which
        equal the module's for a single-op module; the full hook is what its docs advise.)
        """
        return self._add_backward_hook(hook, "regular")

    def register_full_backward_pre_hook(self, hook):
        """Call ``hook(module, grad_output)`` when the gradients of the outputs are known; it may
        return a replacement ``grad_output`` tuple."""
        hooks = self._hook_lists()[3]
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _add_backward_hook(self, hook, kind):
        kinds = self.__dict__.setdefault("_backward_hook_kinds", set())
        if kinds and kind not in kinds and self._hook_lists()[2]:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a "
                               "single Module. Please use only one of them.")
        kinds.clear()
        kinds.add(kind)
        hooks = self._hook_lists()[2]
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _hook_lists(self):
        if self.__dict__.get("_forward_hooks") is None:
            self.__dict__["_forward_hooks"] = ([], [], [], [])
        return self.__dict__["_forward_hooks"]

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._register("_parameters", name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            self._register("_parameters", name, value)
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._register("_modules", name, value)
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' "
                                "(nn.Module or None expected)")
            self._register("_modules", name, value)
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' "
                                "(autodiff.Tensor or None expected)")
            self._register("_buffers", name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only reached when normal lookup fails: registered names live in __dict__ too
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            values = d.get(registry)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            values = d.get(registry)
            if values is not None and name in values:
                del values[name]
                d.pop(name, None)
                d["_non_persistent_buffers"].discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, name, kind):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got {name!r}")

    def _register(self, registry, name, value):
        """Put ``value`` under ``name`` in one registry (and the __dict__ mirror), and in no other."""
        d = self.__dict__
        if name not in d[registry]:
            d["_parameters"].pop(name, None)
            d["_buffers"].pop(name, None)
            d["_modules"].pop(name, None)
            d["_non_persistent_buffers"].discard(name)
        d[registry][name] = value
        d[name] = value

    def register_parameter(self, name, param):
        """Add a Parameter (or None, a declared but absent parameter such as a missing bias)."""
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' as parameter '{name}' "
                            "(nn.Parameter or None expected)")
        if name not in self._parameters and hasattr(type(self), name):
            raise KeyError(f"attribute '{name}' already exists")
        self._register("_parameters", name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not a parameter (saved in state_dict unless persistent=False)."""
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' as buffer '{name}' "
                            "(autodiff.Tensor or None expected)")
        if name not in self._buffers and hasattr(type(self), name):
            raise KeyError(f"attribute '{name}' already exists")
        self._register("_buffers", name, tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Add a child module (or None)."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        if name not in self._modules and hasattr(type(self), name):
            raise KeyError(f"attribute '{name}' already exists")
        self._register("_modules", name, module)

    register_module = add_module

    def get_submodule(self, target):
        """The sub-module at a dotted path such as ``'encoder.0'`` ('' is the module itself)."""
        module = self
        if target == "":
            return module
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module '{part}' "
                                     f"(looking for '{target}')")
            module = child
        return module

    def get_parameter(self, target):
        """The parameter at a dotted path such as ``'fc1.weight'``."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter '{name}' "
                                 f"(looking for '{target}')")
        return module._parameters[name]

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every sub-module, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                            remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, parameter) pairs; a parameter shared by two layers appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, then on this one (e.g. to initialise weights)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Training mode (dropout active, batch norm on batch statistics), recursively."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {mode!r}")
        self.__dict__["training"] = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode: the same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad`` (to None, or to zeros with set_to_none=False)."""
        for param in self.parameters():
            grad = param.grad
            if grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                if grad.grad_fn is not None or grad._requires_grad:
                    grad = param.grad = Tensor._wrap(grad._data.copy())
                grad._data.fill(0)
                grad._bump_version()

    # ------------------------------------------------------------------ dtype and device
    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """Move parameters and buffers to ``device`` ('cpu', 'cuda') and cast floating ones to
        ``dtype``, in place: the module keeps its Parameter objects, with new values (and
        gradients) on the new device. Move a model before its optimizer's first step: the
        optimizer makes its state on the parameters' device then."""
        for a in args:
            if isinstance(a, (str, devices.device)) or a is None:
                device = a
            elif isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            else:
                dtype = a
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"to: nn.Module.to only accepts floating point dtypes, but got "
                                f"{dtypes.name(dtype)}")
        if device is not None:
            self._move(devices.canonical(device))
        if dtype is not None:
            self._cast(dtype)
        return self

    def _cast(self, dtype):
        for module in self.modules():
            for value in list(module._parameters.values()) + list(module._buffers.values()):
                if value is None or value._data.dtype.kind != "f" or value._data.dtype == dtype:
                    continue
                value._swap_data(value._data.astype(dtype))
                value._bump_version()
                if value.grad is not None:
                    value.grad = Tensor._wrap(value.grad._data.astype(dtype))

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def _move(self, target):
        for module in self.modules():
            for value in list(module._parameters.values()) + list(module._buffers.values()):
                if value is None or value.device == target:
                    continue
                value._swap_data(devices.move(value._data, target))
                value._bump_version()
                if value.grad is not None:
                    value.grad = Tensor._wrap(devices.move(value.grad._data, target))

    def cpu(self):
        return self.to(devices.CPU)

    def cuda(self, device=None):
        return self.to(f"cuda:{device}" if isinstance(device, int) else (device or "cuda"))

    # ------------------------------------------------------------------ state
    def _state_items(self, prefix=""):
        """(key, tensor) in PyTorch's order: own parameters, own buffers, then each child's."""
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                yield prefix + name, buffer
        for name, module in self._modules.items():
            if module is not None:
                yield from module._state_items(prefix + name + ".")

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Every parameter and persistent buffer by dotted name (``'fc1.weight'``, ``'bn.running_mean'``).

        The values share memory with the module (detached, unless keep_vars=True).
        """
        if destination is None:
            destination = OrderedDict()
        for key, value in self._state_items(prefix):
            destination[key] = value if keep_vars else value.detach()
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Keys must match exactly when ``strict`` (the default); shapes must always match.
        On any error nothing is changed, and the message lists every missing key,
        unexpected key and shape mismatch. Returns (missing_keys, unexpected_keys).
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        for prefix, module in self.named_modules():   # lazy layers take their shapes first
            materialize = getattr(module, "_materialize_from_state", None)
            if materialize is not None:
                materialize(state_dict, prefix + "." if prefix else "")
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict:
            if missing:
                errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        copies = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value._data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target._data.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} "
                              f"from checkpoint, the shape in current model is {tuple(target._data.shape)}.")
            elif array.dtype.kind not in "biuf":
                errors.append(f"wrong value for {key}: expected numbers, got dtype {array.dtype}.")
            else:
                copies.append((target, array))
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for target, array in copies:
            if np.shares_memory(target._data, array):
                array = array.copy()
            np.copyto(target._data, array, casting="unsafe")
            target._bump_version()
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self):
        """The text inside this module's parentheses (its hyper-parameters); override it."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"
