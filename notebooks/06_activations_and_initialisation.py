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
# # 06 · Activations, initialisation, and vanishing or exploding gradients
#
# Backpropagation multiplies, layer after layer, by each layer's weights and by the
# derivative of its activation. Over many layers, a product of factors a bit
# smaller than 1 **vanishes**, and one of factors a bit larger **explodes**. We
# measure it on a 10-layer network of width 64: the gradient norm of each layer's
# weight after one backward pass.

# %%
import matplotlib.pyplot as plt
import numpy as np

import autodiff
from autodiff import nn
from autodiff.datasets import make_moons

X, y = make_moons(512, noise=0.2, seed=0)
y = y.float()
DEPTH, WIDTH = 10, 64


def deep_net(activation, init=None):
    autodiff.manual_seed(0)
    layers, n_in = [], 2
    for _ in range(DEPTH):
        linear = nn.Linear(n_in, WIDTH)
        if init is not None:
            init(linear.weight)
            nn.init.zeros_(linear.bias)
        layers += [linear, activation()]
        n_in = WIDTH
    return nn.Sequential(*layers, nn.Linear(WIDTH, 1))


def hidden_linears(model):
    return [m for m in model if isinstance(m, nn.Linear)][:-1]


def gradient_norms(model):
    model.zero_grad()
    nn.BCEWithLogitsLoss()(model(X).squeeze(-1), y).backward()
    return [np.linalg.norm(m.weight.grad.numpy()) for m in hidden_linears(model)]


def activation_stds(model):
    stds, h = [], X
    with autodiff.no_grad():
        for layer in list(model)[:-1]:
            h = layer(h)
            if not isinstance(layer, nn.Linear):
                stds.append(h.std().item())
    return stds


# %% [markdown]
# ## Sigmoid versus ReLU
#
# $\sigma'(a) = \sigma(a)(1 - \sigma(a)) \le 1/4$: every sigmoid layer divides the
# gradient by at least 4. ReLU's derivative is 1 wherever the unit is active, so it
# lets the gradient through unchanged. Both networks use PyTorch's default
# initialisation.

# %%
layers = np.arange(1, DEPTH + 1)
fig, ax = plt.subplots(figsize=(6, 3.8))
for name, activation in [("sigmoid", nn.Sigmoid), ("ReLU", nn.ReLU)]:
    norms = gradient_norms(deep_net(activation))
    ax.semilogy(layers, norms, "o-", label=name)
    print(f"{name:8s} layer 1: {norms[0]:.1e}   layer {DEPTH}: {norms[-1]:.1e}")
ax.set(xlabel="layer (1 = next to the input)", ylabel="‖∂L/∂W‖", title="Gradient norm per layer")
ax.legend()
plt.show()

# %% [markdown]
# With sigmoids the first layer gets a gradient about a million times smaller
# than the last: it barely learns. That is the vanishing-gradient problem that held deep
# networks back until ReLUs (and the initialisations below) came along.
#
# ## Initialisation
#
# For a linear layer with `fan_in` inputs and weights of variance $\sigma^2$, the
# output variance is $\text{fan\_in}\cdot\sigma^2$ times the input's; a ReLU then
# halves it (it zeroes half the units). So each layer multiplies the variance of
# the signal by $\tfrac12\,\text{fan\_in}\,\sigma^2$ (here, with width 64):
#
# * $\sigma = 0.01$: factor $0.0032$, the signal dies;
# * $\sigma = 1$: factor $32$, it explodes;
# * **Xavier/Glorot**, $\sigma^2 = 2/(\text{fan\_in} + \text{fan\_out})$: factor 1 without
#   the ReLU's halving, right for tanh and linear layers, $\tfrac12$ per layer with ReLU;
# * **He/Kaiming**, $\sigma^2 = 2/\text{fan\_in}$: factor exactly 1 with ReLU.

# %%
inits = {
    "normal σ=0.01": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "normal σ=1": lambda w: nn.init.normal_(w, 0.0, 1.0),
    "Xavier": nn.init.xavier_normal_,
    "He": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for name, init in inits.items():
    model = deep_net(nn.ReLU, init)
    ax1.semilogy(layers, activation_stds(model), "o-", label=name)
    ax2.semilogy(layers, gradient_norms(model), "o-", label=name)
ax1.set(xlabel="layer", ylabel="std of the ReLU outputs", title="Forward: activations")
ax2.set(xlabel="layer", ylabel="‖∂L/∂W‖", title="Backward: gradient norms")
ax1.legend()
plt.show()

# %% [markdown]
# Only He initialisation keeps the activations at the same scale through all ten
# ReLU layers. On the right, the gradient of layer $k$'s weights is the product of
# the gradient arriving from above (scaled by every layer after $k$) and the
# activation entering from below (scaled by every layer before $k$). So every layer
# carries the same total factor, $\big(\sqrt{\tfrac12\text{fan\_in}}\,\sigma\big)^{9}$: the
# curves are flat, but at the wrong height. With $\sigma = 0.01$ every gradient is
# around $10^{-13}$ (the output is essentially 0 whatever the input); with
# $\sigma = 1$ activations reach $10^{7}$ and gradients $10^6$: one SGD step would
# throw the weights far away.
#
# Does it matter for training? Ten epochs of the same training, from each
# initialisation:

# %%
from autodiff import optim
from autodiff.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=0)
for name in ["normal σ=0.01", "Xavier", "He"]:
    model = deep_net(nn.ReLU, inits[name])
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(10):
        for xb, yb in loader:
            opt.zero_grad()
            loss = nn.BCEWithLogitsLoss()(model(xb).squeeze(-1), yb)
            loss.backward()
            opt.step()
    with autodiff.no_grad():
        final = nn.BCEWithLogitsLoss()(model(X).squeeze(-1), y).item()
    print(f"{name:14s} loss after 10 epochs: {final:.4f}   (log 2 = 0.6931 is a coin toss)")

# %% [markdown]
# The network started at $\sigma = 0.01$ has not moved from a coin toss; the
# He-initialised one learns fastest. This is why `nn.Linear` initialises its weights
# with a variance proportional to $1/\text{fan\_in}$, and why batch normalization
# (notebook 08), which rescales activations explicitly, makes deep networks far
# less sensitive to all this.
