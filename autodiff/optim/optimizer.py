"""Optimizer: parameter groups, per-parameter state, zero_grad, step and state dicts.

Subclasses implement ``_update(group)``: one pass over a group's parameters that
changes ``p._data`` in place with numpy (no graph is recorded, no tensor is created),
following PyTorch's single-tensor ("for-loop") update equations step for step.

State buffers are tensors (``optimizer.state[p]["exp_avg"]``) whose arrays the update
changes in place; ``step`` counts are Python ints. ``state_dict()`` uses PyTorch's
layout: ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.
"""
from collections import defaultdict

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..backends.cpu import lerp_  # noqa: F401  (the optimizers' in-place lerp, one of them)
from ..cuda import devices
from ..tensor import Tensor, array_swaps


# set by autodiff.compile while it captures a step: step() then goes on the tape, traced when
# the state holds tensors only (SGD), else as a call run eagerly at every replay (step counts)
_step_recorder = None


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: holds ``param_groups`` (dicts of params and options) and ``state``."""

    _checked_at = None   # array_swaps when step last checked every gradient (None: never)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._check_options(defaults)
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name()}: params should be an iterable of tensors or dicts, "
                            "got a single Tensor (pass [tensor] or model.parameters())")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name()}: parameters need to be in an ordered collection (a "
                            "list); the order of tensors in a set changes between runs")
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name()}: got an empty parameter list (was the model built "
                             "without layers, or was a parameters() generator already used up?)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _name(self):
        return type(self).__name__

    # ------------------------------------------------------------------ options
    def _check_options(self, group):
        """Raise a ValueError naming the optimizer for an invalid option value."""
        name = self._name()
        for key in ("lr", "eps", "weight_decay", "momentum", "lr_decay", "alpha",
                    "initial_accumulator_value", "dampening"):
            value = group.get(key, 0.0)
            if value is required:
                continue
            try:
                bad = not float(value) >= 0.0      # (NaN too, as in PyTorch)
            except (TypeError, ValueError):
                raise TypeError(f"{name}: {key} must be a number, got {value!r}") from None
            if bad:
                raise ValueError(f"{name}: invalid {_LABELS[key]}: {value} (must be >= 0)")
        if "betas" in group:
            betas = group["betas"]
            if not isinstance(betas, (tuple, list)) or len(betas) != 2:
                raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
            for i, beta in enumerate(betas):
                if not 0.0 <= float(beta) < 1.0:
                    raise ValueError(f"{name}: invalid beta parameter at index {i}: {beta} "
                                     "(must be in [0, 1))")

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a dict of parameters (and options that override ``defaults``)."""
        self._checked_at = None
        name = self._name()
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters need to be in an ordered collection (a list); "
                            "the order of tensors in a set changes between runs")
        else:
            params = list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (one computed by "
                                 f"{p.grad_fn.name()}); optimize the leaves it came from")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group contains the same parameter twice")
        group = dict(param_group)
        group["params"] = params
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required "
                                 f"option {key}")
            group.setdefault(key, default)
        self._check_options(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ------------------------------------------------------------------ the loop API
    def zero_grad(self, set_to_none=True):
        """Forget the gradients (``None``), or set them to zero with ``set_to_none=False``."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None               # (None is always a valid .grad)
                else:
                    grad.detach_()
                    grad._data[...] = 0
                    grad._bump_version()

    def step(self, closure=None):
        """Update every parameter that has a gradient; ``closure`` re-evaluates the loss."""
        if _step_recorder is not None:
            return _step_recorder(self, closure)
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        if self._checked_at != array_swaps[0]:   # (40 bytecodes a parameter, ~2% of the lecture
            self._check_step()                    # step: only when a gradient can mismatch)
        for group in self.param_groups:
            self._update(group)
        return loss

    def _check_step(self):
        """Raise before anything is written when a step could not complete: every gradient
        must be a tensor of its parameter's shape, dtype and device. A step that raises
        leaves every parameter, gradient and state buffer as it was.

        ``step`` calls it before any ``_update``; an optimizer that overrides ``step``
        calls it first. Once it passed, ``step`` runs it again only after a tensor's array was
        swapped (``autodiff.tensor.array_swaps``): backward and ``.grad = g`` keep each
        gradient matching its parameter."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad                   # (the slot: no property on this hot path)
                if grad is None:
                    continue
                values, data = grad._data, p._data
                # (dtypes of one kind are one object: `is` decides the common case at once)
                if values.shape != data.shape or type(values) is not type(data) or (
                        values.dtype is not data.dtype and values.dtype != data.dtype) or (
                        type(data) is not np.ndarray and values.device != data.device):
                    self._bad_gradient(group, p, values, data)
        self._checked_at = array_swaps[0]

    def _bad_gradient(self, group, p, values, data):
        index = next(i for i, q in enumerate(group["params"]) if q is p)
        if values.shape != data.shape:
            problem = f"has shape {tuple(values.shape)}"
        elif values.dtype != data.dtype:
            problem = f"has dtype {values.dtype}"
        else:
            problem = f"is on {devices.device_of(values)}"
        raise RuntimeError(
            f"{self._name()}.step: the gradient of parameter {index} of a group {problem}, "
            f"but the parameter has shape {tuple(data.shape)}, dtype {data.dtype} on "
            f"{devices.device_of(data)}; nothing was changed")

    def _update(self, group):
        raise NotImplementedError

    def _gradients(self, group):
        """Each parameter of ``group`` that has a gradient, as ``(parameter, its array, the
        gradient's array, its state dict)``; the gradient negated when ``group["maximize"]``."""
        maximize = group.get("maximize", False)
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            g = grad._data
            yield p, p._data, (-g if maximize else g), self.state[p]

    # ------------------------------------------------------------------ state dicts
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, values in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: _export(k, v) for k, v in values.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore options and state saved by ``state_dict()`` (buffers are copied)."""
        name = self._name()
        if not isinstance(state_dict, dict) or "state" not in state_dict or \
                "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups' (from optimizer.state_dict())")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has "
                             f"{len(saved_groups)} parameter groups, the optimizer has "
                             f"{len(self.param_groups)}")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has "
                                 f"{len(saved['params'])} parameters in the state dict but "
                                 f"{len(group['params'])} in the optimizer")
        id_map = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for p, index in zip(group["params"], saved["params"]):
                id_map[index] = p
        state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            p = id_map.get(index)
            if p is None:
                p = id_map.get(_int_key(index))
            if p is None:
                continue
            state[p] = {k: _import(k, v, p) for k, v in values.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: (tuple(v) if isinstance(v, list) and k != "params" else v)
                   for k, v in saved.items()}
            new["params"] = group["params"]
            for key, default in self.defaults.items():   # options newer than the saved dict
                new.setdefault(key, default)
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self):
        lines = [f"{self._name()} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


_LABELS = {"lr": "learning rate", "eps": "epsilon value", "weight_decay": "weight_decay value",
           "momentum": "momentum value", "lr_decay": "lr_decay value", "alpha": "alpha value",
           "initial_accumulator_value": "initial_accumulator_value", "dampening": "dampening value"}


def _export(key, value):
    """A state value as it appears in a state dict: steps as float32 0-d tensors (PyTorch)."""
    if key == "step" and not isinstance(value, Tensor):
        return Tensor._wrap(np.array(value, dtype=np.float32))
    return value


def _import(key, value, param):
    """A state-dict value as the optimizer keeps it: steps as ints, buffers as copies (on the
    parameter's device)."""
    if key == "step":
        return int(float(value._data) if isinstance(value, Tensor) else float(value))
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, (np.ndarray, devices.DeviceArray)) and value.ndim == 0 and param._data.ndim:
        return Tensor._wrap(np.array(value, copy=True))    # a scalar state (ASGD's eta, NAdam's mu_product)
    if isinstance(value, (np.ndarray, devices.DeviceArray)):
        dtype = param._data.dtype if param._data.dtype.kind in "fc" else value.dtype
        if value.shape != param._data.shape:
            raise ValueError(f"load_state_dict: state {key!r} has shape {tuple(value.shape)} but "
                             f"its parameter has shape {tuple(param._data.shape)}")
        if devices.device_of(value) != devices.device_of(param._data):
            value = devices.like(value, param._data)
        return Tensor._wrap(value.astype(dtype, copy=True))
    return value


def _int_key(index):
    try:
        return int(index)
    except (TypeError, ValueError):
        return None


def scalar_state(value):
    """A 0-d state tensor of PyTorch's scalar dtype (float64 under a float64 default dtype, else
    float32): ASGD's eta and mu, NAdam's mu_product round as PyTorch's do."""
    from .. import dtypes
    dtype = np.float64 if dtypes.get_default_dtype() == dtypes.float64 else np.float32
    return Tensor._wrap(np.array(value, dtype=dtype))
