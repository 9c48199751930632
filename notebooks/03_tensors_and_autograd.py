# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Tensors and autograd
#
# The PyTorch API for gradients, on one example: $z = 2x^2 + 5x$, whose derivative is
# $dz/dx = 4x + 5$, so **13** at $x = 2$.

# %%
import numpy as np

import autodiff

x = autodiff.tensor(2.0, requires_grad=True)
z = 2 * x ** 2 + 5 * x
z.backward()
print(z, x.grad)

# %% [markdown]
# On a vector, `backward()` needs a scalar to start from (the gradient of what with
# respect to `x`?). Summing the outputs gives each element its own derivative,
# because $\partial \sum_k z_k / \partial x_i = dz_i/dx_i$.

# %%
x = autodiff.linspace(-2, 2, 5, requires_grad=True)
z = 2 * x ** 2 + 5 * x
z.sum().backward()
print(x.grad)
print(4 * x.detach() + 5)

# %% [markdown]
# ## Gradients accumulate
#
# `.grad` is *added to* by every backward pass (so that gradients from several
# losses or several mini-batches can be summed). Reset it between steps: that is what
# `optimizer.zero_grad()` does.

# %%
x = autodiff.tensor(2.0, requires_grad=True)
for _ in range(2):
    (2 * x ** 2 + 5 * x).backward()
print("after two backward passes:", x.grad)
x.grad = None
(2 * x ** 2 + 5 * x).backward()
print("after resetting:", x.grad)

# %% [markdown]
# ## `retain_graph`: a graph is used once
#
# Backward frees the values each node saved for it (inputs of `*`, outputs of `exp`
# ...), so the memory of a training step is released right away. Going backward
# through the same graph a second time is an error, unless the first pass asked to
# keep them with `retain_graph=True`.

# %%
x = autodiff.tensor(2.0, requires_grad=True)
z = 2 * x ** 2 + 5 * x
z.backward()
try:
    z.backward()
except RuntimeError as error:
    print("RuntimeError:", error)

x.grad = None
z = 2 * x ** 2 + 5 * x
z.backward(retain_graph=True)
z.backward()
print("twice with retain_graph:", x.grad)

# %% [markdown]
# ## `no_grad` and `detach`: values without a graph
#
# Inside `with autodiff.no_grad():` nothing is recorded: use it for parameter
# updates and evaluation. `t.detach()` is the same values cut off from the graph:
# gradients do not flow through it (a "stop-gradient"). Below, $w = y \cdot x$ with
# $y = x^2$ detached: the derivative treats $y$ as a constant, $dw/dx = y = 4$,
# not $3x^2 = 12$.

# %%
x = autodiff.tensor(2.0, requires_grad=True)
with autodiff.no_grad():
    y = x * 2
print("made under no_grad:", y, "requires_grad =", y.requires_grad)

y = x ** 2
(y.detach() * x).backward()
print("through detach:", x.grad)
x.grad = None
(y * x).backward()
print("without detach:", x.grad)

# %% [markdown]
# ## `autodiff.grad`: gradients as return values
#
# `autodiff.grad(outputs, inputs)` returns the gradients instead of adding them to
# `.grad`, as `torch.autograd.grad` does. Useful when you want a gradient as a value
# (notebook 10 differentiates it again).

# %%
x = autodiff.tensor(2.0, requires_grad=True)
(dz_dx,) = autodiff.grad(2 * x ** 2 + 5 * x, x)
print(dz_dx, x.grad)

# %% [markdown]
# ## `gradcheck`: compare with finite differences
#
# `autodiff.gradcheck(fn, inputs)` computes the whole Jacobian twice, with backward
# and with central differences, and compares them (in float64: with float32 the
# differences are too coarse). It returns True or raises an error naming the entry
# that disagrees.

# %%
autodiff.manual_seed(0)
a = autodiff.randn(3, 4, dtype=autodiff.float64, requires_grad=True)
b = autodiff.randn(4, 2, dtype=autodiff.float64, requires_grad=True)
print(autodiff.gradcheck(lambda a, b: (a @ b).tanh().sum(dim=0), (a, b)))

# %% [markdown]
# ## A custom operation: `autodiff.Function`
#
# As in PyTorch, subclass `Function` with a static `forward(ctx, ...)` and
# `backward(ctx, grad)`; `ctx.save_for_backward` keeps what backward needs. Here
# $\mathrm{logcosh}(x) = \log\cosh x$, a smooth version of $|x|$, with derivative
# $\tanh x$. The forward pass uses the stable form
# $|x| + \log(1 + e^{-2|x|}) - \log 2$, which never overflows.

# %%
import math


class LogCosh(autodiff.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.abs() + (-2 * x.abs()).exp().log1p() - math.log(2)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.tanh()


x = autodiff.tensor([-3.0, 0.0, 0.5, 40.0], dtype=autodiff.float64, requires_grad=True)
y = LogCosh.apply(x)
y.sum().backward()
print(y)
print(x.grad)
print(autodiff.gradcheck(LogCosh.apply, (x,)))

# %% [markdown]
# ## Property-based testing with hypothesis
#
# A check at one point can be lucky. `hypothesis` draws many inputs (here tensors of
# random shapes and values from `autodiff.testing.tensors`), and
# `assert_gradients_match` pushes a random upstream gradient through backward and
# compares with central differences. This is how the project tests every op.

# %%
from hypothesis import given, settings

from autodiff.testing import assert_gradients_match, shapes, tensors


@settings(max_examples=25, deadline=None, database=None)
@given(tensors(shape=shapes(max_dims=3), min_value=-20, max_value=20))
def test_logcosh_gradient(x):
    assert_gradients_match(LogCosh.apply, x)


@settings(max_examples=25, deadline=None, database=None)
@given(tensors(shape=shapes(max_dims=3), min_value=-20, max_value=20))
def test_logcosh_is_even_and_nonnegative(x):
    y, y_neg = LogCosh.apply(x).detach(), LogCosh.apply(-x).detach()
    assert (y >= 0).all() and y.allclose(y_neg)


test_logcosh_gradient()
test_logcosh_is_even_and_nonnegative()
print("both properties hold on every drawn example")


# %% [markdown]
# And the point of it: a backward with a mistake (here $x$ instead of $\tanh x$) is
# caught, and hypothesis shrinks the failure to a small example.

# %%
class WrongLogCosh(LogCosh):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x          # wrong: d/dx log cosh x = tanh x


@settings(max_examples=25, deadline=None, database=None)
@given(tensors(shape=shapes(max_dims=2), min_value=-5, max_value=5))
def test_wrong_gradient(x):
    assert_gradients_match(WrongLogCosh.apply, x)


try:
    test_wrong_gradient()
except Exception as error:
    print("caught:", str(error).strip().splitlines()[0])
