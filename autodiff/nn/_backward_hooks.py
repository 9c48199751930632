"""Module backward hooks: ``register_full_backward_hook`` and ``register_full_backward_pre_hook``.

As in PyTorch, the module's tensor inputs and outputs pass through an identity node each
(``HookIdentity``) while hooks are registered. A hook on the output's node sees
``grad_output`` (and runs the pre-hooks, which may replace it); a hook on the inputs' node
sees ``grad_input``, one entry per positional argument (the gradient for a tensor input,
None for the others and for inputs that need none), once all are complete, and may
return replacements. When several inputs require
grad they are packed into one flat tensor first (and unpacked for ``forward``), so that one
node receives all of their gradients at once. When no input requires grad the hooks run
with ``grad_input`` all None, right after ``grad_output`` is known (as PyTorch does).
"""
import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import _state
from ..ops.shape import Cat
from ..tensor import Tensor


class HookIdentity(Op):
    """The identity, as a node of its own on which module backward hooks sit."""

    is_view = True
    op_name = "backward_hook"

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad


def _attach(tensor, hook):
    """``HookIdentity(tensor)`` with ``hook(grad)`` on its node (it may return a replacement)."""
    out = HookIdentity.apply(tensor)
    node = out.grad_fn
    node._hooks = [hook]
    return out


class BackwardHookCall:
    """The hooks of one module call: wraps its inputs before forward and its outputs after."""

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, list(hooks), list(pre_hooks)
        self.input_positions = []     # one per positional argument (PyTorch: None for non-tensors)
        self.requiring = []           # which of them require grad
        self.grad_outputs = None
        self.outputs_requiring = 0    # outputs whose gradients the hooks wait for
        self.arrived = 0              # of those, how many arrived in this backward pass

    @staticmethod
    def enabled():
        return _state.enabled

    # ------------------------------------------------------------------ inputs
    def wrap_inputs(self, args):
        args = list(args)
        self.input_positions = list(range(len(args)))
        self.requiring = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not self.requiring:
            return tuple(args)
        if len(self.requiring) == 1:
            i = self.requiring[0]
            args[i] = _attach(args[i], lambda grad: self._on_inputs([grad])[0])
            return tuple(args)
        tensors = [args[i] for i in self.requiring]
        dtype = np.result_type(*[t._data.dtype for t in tensors])
        flats = [t.reshape(-1).to(dtype) for t in tensors]
        sizes = [f.shape[0] for f in flats]
        shapes = [tuple(t.shape) for t in tensors]
        packed = _attach(Cat.apply(0, *flats), lambda grad: self._on_packed(grad, sizes, shapes))
        offset = 0
        for i, t, n in zip(self.requiring, tensors, sizes):
            args[i] = packed[offset:offset + n].reshape(tuple(t.shape)).to(t.dtype)
            offset += n
        return tuple(args)

    def _on_packed(self, grad, sizes, shapes):
        bounds = np.cumsum([0] + sizes)
        pieces = [grad[int(a):int(b)].reshape(s) for a, b, s in zip(bounds[:-1], bounds[1:], shapes)]
        new = self._on_inputs(pieces)
        if all(n is p for n, p in zip(new, pieces)):
            return grad
        parts = [(n if n is not None else p * 0).reshape(-1) for n, p in zip(new, pieces)]
        return Cat.apply(0, *[p.to(grad.dtype) for p in parts])

    def _on_inputs(self, grads):
        """Run the hooks with ``grad_input`` (one entry per positional tensor input)."""
        received = dict(zip(self.requiring, grads))
        grad_input = tuple(received.get(i) for i in self.input_positions)
        grad_output = tuple(self.grad_outputs or ())
        for hook in self.hooks:
            result = hook(self.module, grad_input, grad_output)
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(grad_input):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                   f"{len(result)}, but expected {len(grad_input)}")
            grad_input = result
        by_position = dict(zip(self.input_positions, grad_input))
        return [by_position[i] for i in self.requiring]

    # ------------------------------------------------------------------ outputs
    def wrap_outputs(self, out):
        single = not isinstance(out, tuple)
        outputs = list((out,) if single else out)
        tensor_slots = [k for k, o in enumerate(outputs) if isinstance(o, Tensor)]
        self.grad_outputs = [None] * len(tensor_slots)
        for slot, k in enumerate(tensor_slots):
            if outputs[k].requires_grad:
                self.outputs_requiring += 1
                outputs[k] = _attach(outputs[k], lambda grad, slot=slot: self._on_output(slot, grad))
        return outputs[0] if single else tuple(outputs)

    def _on_output(self, slot, grad):
        self.grad_outputs[slot] = grad
        self.arrived += 1
        if self.arrived < self.outputs_requiring:
            return grad
        self.arrived = 0              # (a second backward, with retain_graph, starts afresh)
        grad_output = tuple(self.grad_outputs)
        for hook in self.pre_hooks:
            result = hook(self.module, grad_output)
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(grad_output):
                raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got "
                                   f"{len(result)}, but expected {len(grad_output)}")
            grad_output = result
        self.grad_outputs = list(grad_output)
        if not self.requiring:       # no input needs a gradient: the hooks run now
            self._on_inputs([])
        return grad_output[slot]
