"""Check analytical gradients against central finite differences (float64), as torch.autograd.gradcheck."""
import numpy as np

from .api import grad as _grad
from .tensor_base import TensorBase


class GradcheckError(RuntimeError):
    """Raised by gradcheck when an analytical derivative disagrees with the numerical one."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _numerical_jacobians(fn, inputs, eps):
    """J[i][k] = d outputs[k] / d inputs[i], each as (output size, input size), by central differences.

    The user's tensors are never modified: each probe runs on fresh copies.
    """
    Tensor = TensorBase._plain_class
    base = [x._data.copy() for x in inputs]

    def probe(arrays):
        return [Tensor._wrap(a).requires_grad_(x._requires_grad) for a, x in zip(arrays, inputs)]

    def run(arrays):
        return [o._data.astype(np.float64).ravel() for o in _outputs(fn, probe(arrays))]

    sizes = [o.numel() for o in _outputs(fn, probe([a.copy() for a in base]))]
    jacobians = []
    for i, x in enumerate(base):
        per_output = [np.zeros((n, x.size)) for n in sizes]
        if inputs[i]._requires_grad:
            for j in range(x.size):
                plus = [a.copy() for a in base]
                minus = [a.copy() for a in base]
                plus[i].reshape(-1)[j] += eps
                minus[i].reshape(-1)[j] -= eps
                for k, (hi, lo) in enumerate(zip(run(plus), run(minus))):
                    per_output[k][:, j] = (hi - lo) / (2 * eps)
        jacobians.append(per_output)
    return jacobians


def _analytical_jacobians(fn, inputs):
    Tensor = TensorBase._plain_class
    outputs = _outputs(fn, inputs)
    diff = [x for x in inputs if x._requires_grad]
    jacobians = [[np.zeros((o.numel(), x.numel())) for o in outputs] for x in inputs]
    for k, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for row in range(out.numel()):
            seed = np.zeros(out._data.size, dtype=out._data.dtype)
            seed[row] = 1
            grads = _grad(out, diff, grad_outputs=Tensor._wrap(seed.reshape(out._data.shape)),
                          retain_graph=True, allow_unused=True)
            g_iter = iter(grads)
            for i, x in enumerate(inputs):
                if x._requires_grad:
                    g = next(g_iter)
                    if g is not None:
                        jacobians[i][k][row] = g._data.ravel()
    return jacobians


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True when ``fn``'s gradients match central differences for every input element.

    ``inputs`` should be float64 tensors; those with ``requires_grad=True`` are checked.
    On a mismatch, raises GradcheckError naming the input, output and element with
    both values (or returns False when ``raise_exception=False``).
    """
    Tensor = TensorBase._plain_class
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(x).__name__}, expected a Tensor")
        if x._requires_grad and x._data.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {x._data.dtype}; use float64 inputs, "
                            "finite differences are too coarse in lower precision")
    if not any(x._requires_grad for x in inputs):
        raise ValueError("gradcheck: no input has requires_grad=True, so nothing is checked")
    numerical = _numerical_jacobians(fn, inputs, eps)
    analytical = _analytical_jacobians(fn, inputs)
    for i, (num_i, ana_i) in enumerate(zip(numerical, analytical)):
        if not inputs[i]._requires_grad:
            continue
        for k, (num, ana) in enumerate(zip(num_i, ana_i)):
            bad = ~np.isclose(ana, num, rtol=rtol, atol=atol, equal_nan=True)
            if bad.any():
                row, col = np.argwhere(bad)[0]
                where = np.unravel_index(col, inputs[i].shape) if inputs[i].ndim else ()
                message = (f"gradcheck: Jacobian mismatch for output {k} element {row} with respect to "
                           f"input {i} (shape {tuple(inputs[i].shape)}) element {tuple(int(w) for w in where)}: "
                           f"numerical {num[row, col]:.8g}, analytical {ana[row, col]:.8g} "
                           f"({int(bad.sum())} of {bad.size} entries differ)")
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True):
    """Check second derivatives: gradcheck of the vector-Jacobian product of ``fn``.

    ``grad_outputs`` (random float64 when omitted) are treated as inputs too, so
    both d(vjp)/d(inputs) and d(vjp)/d(grad_outputs) are checked.
    """
    Tensor = TensorBase._plain_class
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._wrap(rng.standard_normal(o._data.shape)) for o in outputs]
    grad_outputs = [g if isinstance(g, Tensor) else Tensor._wrap(np.asarray(g, dtype=np.float64))
                    for g in (grad_outputs if isinstance(grad_outputs, (list, tuple)) else [grad_outputs])]
    grad_outputs = [Tensor._wrap(g._data.astype(np.float64)).requires_grad_() for g in grad_outputs]
    n = len(inputs)
    diff_positions = [i for i, x in enumerate(inputs) if x._requires_grad]

    def vjp(*args):
        xs, vs = args[:n], args[n:]
        outs = _outputs(fn, xs)
        pairs = [(o, v) for o, v in zip(outs, vs) if o._requires_grad]
        wrt = [xs[i] for i in diff_positions]
        grads = _grad([o for o, _ in pairs], wrt, grad_outputs=[v for _, v in pairs],
                      create_graph=True, allow_unused=True)
        return tuple(g if g is not None else xs[i] * 0
                     for g, i in zip(grads, diff_positions))

    return gradcheck(vjp, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
