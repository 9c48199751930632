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
# # 02 · From `Scalar` to a tiny MLP
#
# A neural network is just a bigger graph. Here we build one from single numbers,
# micrograd-style: a **neuron** computes $\tanh(\sum_i w_i x_i + b)$, a **layer** is a
# list of neurons, an **MLP** a list of layers. Then we train it with gradient
# descent, and finally compute the very same thing with tensors, where a layer is
# one matrix product.

# %%
import random

import numpy as np

import autodiff
from autodiff import Scalar
from autodiff.viz import draw_graph


class Neuron:
    def __init__(self, n_in, nonlin=True):
        self.w = [Scalar(random.uniform(-1, 1)) for _ in range(n_in)]
        self.b = Scalar(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, n_in, n_out, **kwargs):
        self.neurons = [Neuron(n_in, **kwargs) for _ in range(n_out)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, n_in, sizes):
        dims = [n_in] + sizes
        self.layers = [Layer(dims[i], dims[i + 1], nonlin=i != len(sizes) - 1)
                       for i in range(len(sizes))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


# %% [markdown]
# One neuron on a 3-d input is already a graph of a dozen nodes. Passing
# `module=neuron` colours its parameters (weights and bias) green.

# %%
random.seed(0)
neuron = Neuron(3)
x = [Scalar(2.0, label="x0"), Scalar(3.0, label="x1"), Scalar(-1.0, label="x2")]
for i, w in enumerate(neuron.w):
    w.label = f"w{i}"
neuron.b.label = "b"
out = neuron(x)
out.backward()
draw_graph(out, module=neuron)

# %% [markdown]
# ## Training on four points
#
# Four inputs, four targets ($\pm 1$), a 3-4-4-1 MLP and the squared error
# $L = \sum_k (\hat y_k - y_k)^2$. Each step: forward, reset gradients to zero
# (`.grad` *accumulates*), backward, and move every parameter a little against its
# gradient.

# %%
xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
ys = [1.0, -1.0, -1.0, 1.0]

random.seed(1)
model = MLP(3, [4, 4, 1])
# keep a copy of the starting weights, to train a tensor version from the same point
initial = [[[[w.data for w in n.w], n.b.data] for n in layer.neurons] for layer in model.layers]

lr, steps = 0.05, 40
scalar_losses = []
for step in range(steps):
    preds = [model(x) for x in xs]
    loss = sum((p - y) ** 2 for p, y in zip(preds, ys))
    for p in model.parameters():
        p.grad = 0.0
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    scalar_losses.append(loss.data)
    if step % 10 == 0 or step == steps - 1:
        print(f"step {step:2d}  loss {loss.data:.4f}")
print("predictions:", [round(model(x).data, 3) for x in xs])

# %% [markdown]
# The loss of four predictions is a graph of hundreds of `Scalar` nodes, one per
# multiplication and addition. That is why real networks work on whole arrays:
# `max_nodes` draws only the part nearest the output.

# %%
from autodiff.autograd.engine import topological_order

print(len(model.parameters()), "parameters,", len(topological_order([loss])), "Scalar nodes in the loss")
draw_graph(loss, module=model, max_nodes=30)

# %% [markdown]
# ## The same network with tensors
#
# A layer of neurons is a matrix product: neuron $j$ computes
# $\sum_i W_{ji} x_i + b_j$, so a whole layer on a whole batch is $X W^T + b$.
# Starting from the same weights (in float64, like `Scalar`), the tensor version
# follows the same training path, number for number.

# %%
params = []
for layer in initial:
    W = autodiff.tensor([w for w, b in layer], dtype=autodiff.float64, requires_grad=True)
    b = autodiff.tensor([b for w, b in layer], dtype=autodiff.float64, requires_grad=True)
    params.append((W, b))

X = autodiff.tensor(xs, dtype=autodiff.float64)
Y = autodiff.tensor(ys, dtype=autodiff.float64)


def forward(X):
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W.T + b
        if i < len(params) - 1:
            h = h.tanh()
    return h.squeeze(-1)


tensor_losses = []
for step in range(steps):
    loss = ((forward(X) - Y) ** 2).sum()
    for W, b in params:
        W.grad = b.grad = None
    loss.backward()
    with autodiff.no_grad():          # updates are not part of the graph
        for W, b in params:
            W -= lr * W.grad
            b -= lr * b.grad
    tensor_losses.append(loss.item())

print("same losses as with Scalar:", np.allclose(scalar_losses, tensor_losses))
print("final loss:", tensor_losses[-1])

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(scalar_losses, label="Scalar MLP", lw=3, alpha=0.5)
ax.plot(tensor_losses, "--", label="tensor MLP")
ax.set(xlabel="step", ylabel="loss", title="Same network, same updates")
ax.legend()
plt.show()

# %% [markdown]
# The tensor graph has a handful of nodes per layer instead of one per
# multiplication, and each node does its work with numpy on whole arrays:

# %%
W1, b1 = params[0]
W1.name, b1.name = "W1", "b1"
draw_graph(((forward(X) - Y) ** 2).sum())
