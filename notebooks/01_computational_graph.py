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
# # 01 · The computational graph, and backprop by hand vs autodiff
#
# Every expression a program computes is a **graph**: inputs flow through
# operations to an output. Take the lecture example
#
# $$f(x, y, z) = (x + y)\,z \qquad\text{at}\quad x=-2,\; y=5,\; z=-4.$$
#
# Name the intermediate result $q = x + y$, so that $f = q\,z$. The graph has two
# operation nodes, `+` and `*`.
#
# **Forward pass**: compute values from the inputs to the output.
# **Backward pass**: start from $\partial f/\partial f = 1$ and walk the graph
# backwards. Each node multiplies the gradient arriving at its output by its own
# *local* derivative (the chain rule):
#
# * `*` node, $f = q z$: $\;\partial f/\partial q = z$, $\;\partial f/\partial z = q$
# * `+` node, $q = x + y$: $\;\partial q/\partial x = \partial q/\partial y = 1$,
#   so $\partial f/\partial x = \partial f/\partial q \cdot 1$.

# %% [markdown]
# ## By hand

# %%
x, y, z = -2.0, 5.0, -4.0

# forward pass
q = x + y            # 3
f = q * z            # -12

# backward pass, from the output to the inputs
df_df = 1.0
df_dq = z * df_df    # local derivative of q*z with respect to q is z
df_dz = q * df_df    # ... and with respect to z it is q
df_dx = 1.0 * df_dq  # local derivative of x+y with respect to x is 1
df_dy = 1.0 * df_dq

print(f"f = {f}")
print(f"df/dx = {df_dx}, df/dy = {df_dy}, df/dz = {df_dz}")

# %% [markdown]
# ## The same with `autodiff.Scalar`
#
# A `Scalar` is one number that remembers how it was computed: its operands and the
# local derivative with respect to each. `backward()` runs exactly the steps above, on
# any graph: it orders the nodes so that each one comes after everything that uses it,
# then applies the chain rule node by node.
#
# `draw_graph` shows the graph: boxes are values (with `data` and, after backward,
# `grad`), ellipses are operations. Inputs are blue, the output is orange.

# %%
import autodiff
from autodiff.viz import draw_graph

x = autodiff.Scalar(-2.0, label="x")
y = autodiff.Scalar(5.0, label="y")
z = autodiff.Scalar(-4.0, label="z")
q = x + y;  q.label = "q"
f = q * z;  f.label = "f"
f.backward()

print(f"f = {f.data}")
print(f"df/dx = {x.grad}, df/dy = {y.grad}, df/dz = {z.grad}, df/dq = {q.grad}")
draw_graph(f)

# %% [markdown]
# ## The same with tensors (PyTorch's API)
#
# `autodiff.tensor(..., requires_grad=True)` marks a value we want gradients for,
# exactly as in PyTorch. The result remembers the operation that made it
# (`f.grad_fn`), and `f.backward()` fills `.grad` of every input.
#
# A tensor graph records *operations*, not intermediate results, so by default only
# the inputs and the output keep a gradient. `q.retain_grad()` asks to keep `q`'s, and
# `labels={q: "q"}` asks `draw_graph` to draw its value.

# %%
x = autodiff.tensor(-2.0, requires_grad=True)
y = autodiff.tensor(5.0, requires_grad=True)
z = autodiff.tensor(-4.0, requires_grad=True)
x.name, y.name, z.name = "x", "y", "z"     # names for the picture

q = x + y
q.retain_grad()
f = q * z
print(f)                                    # the output knows its grad_fn
f.backward()
print(x.grad, y.grad, z.grad, q.grad)
draw_graph(f, labels={q: "q", f: "f"})


# %% [markdown]
# ## Checking gradients numerically
#
# A derivative is a limit of difference quotients, so we can check any gradient with
# a *central difference* $\big(f(x+h) - f(x-h)\big) / 2h$ for a small $h$. This is
# how every operation in autodiff is tested.

# %%
def f_of(x, y, z):
    return (x + y) * z

h = 1e-6
point = dict(x=-2.0, y=5.0, z=-4.0)
for name in point:
    plus, minus = dict(point), dict(point)
    plus[name] += h
    minus[name] -= h
    print(f"df/d{name} ~ {(f_of(**plus) - f_of(**minus)) / (2 * h):.6f}")

# %% [markdown]
# ## A neuron: many small nodes, or one node with its own derivative
#
# The lecture's second circuit is a 2-input neuron with a sigmoid,
# $f(w, x) = \sigma(w_0 x_0 + w_1 x_1 + w_2)$ with $\sigma(a) = 1/(1 + e^{-a})$.
# Built from `*`, `+`, `exp` and `/`, backprop walks through every small node.

# %%
w0, w1, w2 = (autodiff.Scalar(v, label=f"w{i}") for i, v in enumerate([2.0, -3.0, -3.0]))
x0, x1 = autodiff.Scalar(-1.0, label="x0"), autodiff.Scalar(-2.0, label="x1")

a = w0 * x0 + w1 * x1 + w2;  a.label = "a"
f = 1 / (1 + (-a).exp());    f.label = "f"
f.backward()
print(f"f = {f.data:.4f}")
print(f"grads: w0 {w0.grad:.4f}  w1 {w1.grad:.4f}  w2 {w2.grad:.4f}  x0 {x0.grad:.4f}  x1 {x1.grad:.4f}")
draw_graph(f)

# %% [markdown]
# The sigmoid's derivative has a simple closed form, $\sigma'(a) = \sigma(a)(1 - \sigma(a))$.
# So the whole sigmoid can be **one** node whose local derivative is that product:
# same gradients, a smaller graph. By hand: $\sigma(1) = 0.7311$,
# $\partial f/\partial a = 0.7311 \cdot 0.2689 = 0.1966$, and then
# $\partial f/\partial w_0 = x_0 \cdot 0.1966$ and so on.

# %%
for v in (w0, w1, w2, x0, x1):
    v.grad = 0.0
f = (w0 * x0 + w1 * x1 + w2).sigmoid();  f.label = "f"
f.backward()
df_da = f.data * (1 - f.data)
print(f"by hand: df/da = {df_da:.4f}, df/dw0 = {-1.0 * df_da:.4f}, df/dx0 = {2.0 * df_da:.4f}")
print(f"autodiff: w0 {w0.grad:.4f}  w1 {w1.grad:.4f}  w2 {w2.grad:.4f}  x0 {x0.grad:.4f}  x1 {x1.grad:.4f}")
draw_graph(f, rankdir="TB")

# %% [markdown]
# ## Where paths meet, gradients add up
#
# When a value is used twice, the chain rule sums the gradient over every path from
# it to the output. For $b = a \cdot a + a$, $\;db/da = 2a + 1 = 7$ at $a = 3$: two
# paths through `*` contribute $a$ each, one path through `+` contributes 1.

# %%
a = autodiff.Scalar(3.0, label="a")
b = a * a + a;  b.label = "b"
b.backward()
print(f"db/da = {a.grad}")
draw_graph(b)

# %% [markdown]
# **Summary.** A program's arithmetic is a graph. Backpropagation visits it once,
# from the output back, multiplying by local derivatives and summing where paths
# meet. `Scalar` and `Tensor` run the same engine; tensors do it for whole arrays at
# once, with PyTorch's API.
