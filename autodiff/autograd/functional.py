"""Higher-level autograd on functions, as ``torch.autograd.functional``: ``jacobian``,
``hessian``, ``vjp``, ``jvp``, ``hvp`` and ``vhp``.

Each takes ``func`` (tensors in, a tensor or a tuple of tensors out) and ``inputs`` (a tensor
or a tuple of them); results come back in the same structure as ``inputs``/outputs, as in
PyTorch. Everything is built on ``autodiff.grad``: a Jacobian row by row (reverse mode), a
Jacobian-vector product by differentiating a vector-Jacobian product with respect to its
vector (the "double backward" trick), so no forward-mode engine is needed.

``create_graph=True`` keeps the results differentiable (their graph reaches back to
``inputs``); otherwise they are detached. ``strict=True`` raises when an output does not
depend on an input (instead of giving zeros). ``vectorize`` and ``strategy`` are accepted for
compatibility; only reverse mode, one row at a time, is implemented.
"""
from .api import grad as _grad
from .grad_mode import enable_grad
from .tensor_base import TensorBase


def _tensor_type():
    return TensorBase._plain_class


def _as_tuple(name, argument, value):
    """(tuple of tensors, whether the caller gave a tuple)."""
    Tensor = _tensor_type()
    is_tuple = isinstance(value, (tuple, list))
    values = tuple(value) if is_tuple else (value,)
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            where = f"{argument}[{i}]" if is_tuple else argument
            raise TypeError(f"{name}: {where} must be a tensor, got {type(v).__name__}")
    return values, is_tuple


def _prepare_inputs(inputs, create_graph):
    """Inputs to differentiate with respect to: new leaves, or (create_graph) views that keep
    the graph to whatever made the inputs."""
    prepared = []
    for x in inputs:
        if create_graph and x.requires_grad:
            prepared.append(x.view_as(x) if hasattr(x, "view_as") else x * 1)
        else:
            t = x.detach()
            if t.dtype.kind in "fc":
                t.requires_grad_(True)
            prepared.append(t)
    return tuple(prepared)


def _finish(values, create_graph):
    if create_graph:
        return values
    return tuple(v.detach() if v is not None else None for v in values)


def _grads(name, outputs, inputs, grad_outputs, create_graph, strict, input_label="input"):
    """grad of ``outputs`` (weighted by ``grad_outputs``) w.r.t. each input; zeros (or, when
    ``strict``, an error) for inputs the outputs do not depend on."""
    from ..creation import zeros_like
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if live:
        found = _grad([o for o, _ in live], list(inputs), [g for _, g in live], retain_graph=True,
                      create_graph=create_graph, allow_unused=True)
    else:
        found = [None] * len(inputs)
    result = []
    for i, (x, g) in enumerate(zip(inputs, found)):
        if g is None:
            if strict:
                raise RuntimeError(f"{name}: the output of the function is independent of "
                                   f"{input_label} {i}; this is not allowed in strict mode")
            g = zeros_like(x)
        result.append(g)
    return tuple(result)


def _check_v(name, v, like, label):
    """``v``: the same structure, shapes as ``like``; None only when every entry of ``like``
    has one element (then ones)."""
    from ..creation import ones_like
    if v is None:
        if any(t.numel() != 1 for t in like):
            raise RuntimeError(f"{name}: the vector v can only be None if the {label} is a "
                               f"single-element tensor; got shape(s) "
                               f"{[tuple(t.shape) for t in like]}")
        return tuple(ones_like(t) for t in like)
    v, _ = _as_tuple(name, "v", v)
    if len(v) != len(like):
        raise RuntimeError(f"{name}: v has {len(v)} tensors but the {label} has {len(like)}")
    for i, (a, b) in enumerate(zip(v, like)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"{name}: entry {i} of v has shape {tuple(a.shape)}, which does not "
                               f"match the {label}'s shape {tuple(b.shape)}")
    return v


def _call(name, func, inputs):
    outputs = func(*inputs)
    outs, is_tuple = _as_tuple(name, "the function's output", outputs)
    return outs, is_tuple


def _structure(values, is_tuple):
    return values if is_tuple else values[0]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at ``inputs``."""
    inputs, inputs_tuple = _as_tuple("vjp", "inputs", inputs)
    with enable_grad():
        xs = _prepare_inputs(inputs, create_graph)
        outs, outs_tuple = _call("vjp", func, xs)
        v = _check_v("vjp", v, outs, "output")
        result = _grads("vjp", outs, xs, v, create_graph, strict)
    return (_structure(_finish(outs, create_graph), outs_tuple),
            _structure(_finish(result, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product at ``inputs``, by double backward."""
    from ..creation import zeros_like
    inputs, inputs_tuple = _as_tuple("jvp", "inputs", inputs)
    v = _check_v("jvp", v, inputs, "input")
    with enable_grad():
        xs = _prepare_inputs(inputs, create_graph)
        outs, outs_tuple = _call("jvp", func, xs)
        # u -> J^T u is linear in u; its derivative in the direction v is J v
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        transposed = _grads("jvp", outs, xs, us, True, strict)
        result = _grads("jvp", transposed, us, v, create_graph, strict, "output")
    return (_structure(_finish(outs, create_graph), outs_tuple),
            _structure(_finish(result, create_graph), outs_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for one input and one output, a tensor of shape
    output.shape + input.shape; with tuples, a tuple (of tuples) of such blocks, as PyTorch."""
    from ..tensor import stack
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: expected strategy 'forward-mode' or 'reverse-mode', got "
                         f"{strategy!r}")
    inputs, inputs_tuple = _as_tuple("jacobian", "inputs", inputs)
    with enable_grad():
        xs = _prepare_inputs(inputs, create_graph)
        outs, outs_tuple = _call("jacobian", func, xs)
        blocks = []
        for k, out in enumerate(outs):
            flat = out.reshape(-1)
            rows = []   # rows[j]: d flat[j] / d inputs, one tensor per input
            for j in range(flat.shape[0]):
                if flat.requires_grad:
                    picked = _grad_rows(flat, j, xs, create_graph, strict, k)
                else:
                    picked = _grads("jacobian", (flat[j],), xs, (None,), create_graph, strict)
                rows.append(picked)
            per_input = []
            for i, x in enumerate(xs):
                if rows:
                    block = stack([r[i] for r in rows]).reshape(tuple(out.shape) + tuple(x.shape))
                else:
                    from ..creation import zeros
                    block = zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype)
                per_input.append(block if create_graph else block.detach())
            blocks.append(_structure(tuple(per_input), inputs_tuple))
    return _structure(tuple(blocks), outs_tuple)


def _grad_rows(flat, j, xs, create_graph, strict, output_index):
    from ..creation import zeros_like
    found = _grad(flat[j], list(xs), retain_graph=True, create_graph=create_graph,
                  allow_unused=True)
    result = []
    for i, (x, g) in enumerate(zip(xs, found)):
        if g is None:
            if strict:
                raise RuntimeError(f"jacobian: output {output_index} of the function is "
                                   f"independent of input {i}; this is not allowed in strict mode")
            g = zeros_like(x)
        result.append(g)
    return tuple(result)


def _scalar_output(name, func):
    def checked(*xs):
        out = func(*xs)
        outs, is_tuple = _as_tuple(name, "the function's output", out)
        if is_tuple and len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError(f"{name}: the function must return a single-element tensor, got "
                               f"{'a tuple' if is_tuple else 'shape ' + str(tuple(outs[0].shape))}")
        return outs[0].reshape(())
    return checked


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func`` at ``inputs``: input.shape + input.shape, or a tuple of
    tuples of blocks for several inputs."""
    inputs_t, inputs_tuple = _as_tuple("hessian", "inputs", inputs)
    scalar = _scalar_output("hessian", func)

    def gradient(*xs):
        return _grads("hessian", (scalar(*xs),), xs, (None,), True, strict)

    result = jacobian(gradient, inputs_t, create_graph=create_graph, strict=strict)
    return result if inputs_tuple else result[0][0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar ``func``."""
    inputs, inputs_tuple = _as_tuple("vhp", "inputs", inputs)
    v = _check_v("vhp", v, inputs, "input")
    scalar = _scalar_output("vhp", func)
    with enable_grad():
        xs = _prepare_inputs(inputs, create_graph)
        out = scalar(*xs)
        gradient = _grads("vhp", (out,), xs, (None,), True, strict)
        result = _grads("vhp", gradient, xs, v, create_graph, strict)
    return (_finish((out,), create_graph)[0],
            _structure(_finish(result, create_graph), inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar ``func`` (H is symmetric for smooth functions; computed
    by double backward, as PyTorch does)."""
    from ..creation import zeros_like
    inputs, inputs_tuple = _as_tuple("hvp", "inputs", inputs)
    v = _check_v("hvp", v, inputs, "input")
    scalar = _scalar_output("hvp", func)
    with enable_grad():
        xs = _prepare_inputs(inputs, create_graph)
        out = scalar(*xs)
        gradient = _grads("hvp", (out,), xs, (None,), True, strict)
        us = tuple(zeros_like(g).requires_grad_(True) for g in gradient)
        transposed = _grads("hvp", gradient, xs, us, True, strict)
        result = _grads("hvp", transposed, us, v, create_graph, strict)
    return (_finish((out,), create_graph)[0],
            _structure(_finish(result, create_graph), inputs_tuple))
