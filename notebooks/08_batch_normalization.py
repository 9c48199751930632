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
# # 08 · Batch normalization
#
# Notebook 06 showed how the scale of activations drifts from layer to layer unless
# the initialisation is just right. **Batch normalization** fixes the scale
# explicitly: for each feature, over the samples of the mini-batch,
#
# $$\hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad y = \gamma\,\hat x + \beta,$$
#
# with $\gamma, \beta$ learned (so the layer can still choose any scale). During
# training it uses the batch's statistics and keeps running averages of them; in
# evaluation (`model.eval()`) it uses those running averages, so a prediction does
# not depend on which other samples share its batch.

# %%
import matplotlib.pyplot as plt
import numpy as np

import autodiff
from autodiff import nn, optim
from autodiff.data import DataLoader, TensorDataset
from autodiff.datasets import make_spiral

autodiff.manual_seed(0)
bn = nn.BatchNorm1d(3)
x = autodiff.randn(8, 3) * 5 + 2
y = bn(x)                                                 # training mode: batch statistics
by_hand = (x - x.mean(dim=0)) / (x.var(dim=0, unbiased=False) + bn.eps).sqrt() * bn.weight + bn.bias
print("same as the formula:", y.allclose(by_hand, atol=1e-5))
print("per-feature mean", y.mean(dim=0).detach(), " std", y.std(dim=0, unbiased=False).detach())
print("running mean after one batch:", bn.running_mean)   # moved 10% of the way to the batch mean
bn.eval()
print("eval mode uses the running statistics:", bn(x)[0].detach())

# %% [markdown]
# ## Training with and without it
#
# A harder dataset, three interleaved spirals, and a 6-layer network of width 64.
# We train it with and without a `BatchNorm1d` after each linear layer, in two
# settings known to be difficult: **sigmoid** activations (vanishing gradients), and
# ReLU with a **large learning rate**.

# %%
X, y = make_spiral(600, n_classes=3, noise=0.2, seed=0)
fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(*X.numpy().T, c=y.numpy(), cmap="brg", s=8)
ax.set_title("make_spiral: 3 classes")
plt.show()


def network(activation, batch_norm, depth=6, width=64):
    autodiff.manual_seed(0)
    layers, n_in = [], 2
    for _ in range(depth):
        layers.append(nn.Linear(n_in, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(activation())
        n_in = width
    return nn.Sequential(*layers, nn.Linear(width, 3))


def train(model, lr, epochs=30):
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=0)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        losses.append(total / len(X))
    model.eval()
    with autodiff.no_grad():
        accuracy = (model(X).argmax(dim=1) == y).float().mean().item()
    return losses, accuracy


# %%
experiments = [("sigmoid, lr 0.05", nn.Sigmoid, 0.05), ("ReLU, lr 0.5", nn.ReLU, 0.5)]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, (title, activation, lr) in zip(axes, experiments):
    for batch_norm in (False, True):
        losses, accuracy = train(network(activation, batch_norm), lr)
        label = "with BatchNorm" if batch_norm else "without"
        ax.plot(losses, label=f"{label} (accuracy {accuracy:.2f})")
        print(f"{title:17s} {label:15s} final loss {losses[-1]:.3f}  accuracy {accuracy:.3f}")
    ax.axhline(np.log(3), color="0.6", ls=":", lw=1)
    ax.set(title=title, xlabel="epoch")
    ax.legend()
axes[0].set_ylabel("training loss (dotted: log 3, chance)")
plt.show()

# %% [markdown]
# Without batch normalization neither network gets past chance (a loss of
# $\log 3$, accuracy 1/3): the sigmoid network's gradients vanish, and the ReLU
# network, knocked about by steps too large, gets stuck there too. With it, both
# learn the spirals.
#
# Things to remember when using it:
# * call `model.train()` before training and `model.eval()` before evaluating:
#   the two modes compute different things;
# * a linear layer followed by batch normalization does not need its own bias
#   ($\beta$ plays that role; the mean subtraction removes any constant);
# * statistics need enough samples per batch; with tiny batches they are noisy.
