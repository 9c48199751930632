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
# # 05 · Optimizers compared
#
# All optimizers use the gradient $g_t$ of the current mini-batch; they differ in what
# they do with it ($\eta$ is the learning rate, operations are per parameter entry):
#
# | optimizer | update |
# |---|---|
# | SGD | $\theta \leftarrow \theta - \eta\, g_t$ |
# | SGD + momentum | $v \leftarrow \mu v + g_t$, $\;\theta \leftarrow \theta - \eta\, v$ (a running sum that smooths the direction) |
# | Adagrad | $G \leftarrow G + g_t^2$, $\;\theta \leftarrow \theta - \eta\, g_t / (\sqrt{G} + \epsilon)$ (per-entry step sizes that only shrink) |
# | RMSprop | $s \leftarrow \alpha s + (1-\alpha) g_t^2$, $\;\theta \leftarrow \theta - \eta\, g_t / (\sqrt{s} + \epsilon)$ (a moving average instead of a sum) |
# | Adam | momentum on $g$ and RMSprop's scaling, both bias-corrected |
#
# First on a function we can draw, then on a network.

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np

import autodiff
from autodiff import nn, optim
from autodiff.data import DataLoader, TensorDataset
from autodiff.datasets import make_moons

NAMES = ["SGD", "SGD + momentum", "Adagrad", "RMSprop", "Adam"]


# %% [markdown]
# ## A long, narrow valley
#
# $f(a, b) = \tfrac12 (a^2 + 25\, b^2)$ is 25 times steeper along $b$ than along $a$.
# Plain SGD must keep $\eta$ below $2/25$ to stay stable along $b$, and then crawls
# along $a$. Momentum builds up speed along the valley floor. Adagrad, RMSprop and
# Adam divide each coordinate by its own gradient scale, so both directions move at
# a similar pace.

# %%
def valley(p):
    return 0.5 * (p[0] ** 2 + 25 * p[1] ** 2)


settings = {"SGD": (optim.SGD, dict(lr=0.035)),
            "SGD + momentum": (optim.SGD, dict(lr=0.01, momentum=0.9)),
            "Adagrad": (optim.Adagrad, dict(lr=1.0)),
            "RMSprop": (optim.RMSprop, dict(lr=0.1)),
            "Adam": (optim.Adam, dict(lr=0.3))}

paths = {}
for name, (Optimizer, kwargs) in settings.items():
    p = autodiff.tensor([-4.0, 1.5], requires_grad=True)
    opt = Optimizer([p], **kwargs)
    path = [p.detach().numpy().copy()]
    for _ in range(60):
        opt.zero_grad()
        valley(p).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    paths[name] = np.array(path)
    print(f"{name:15s} after 60 steps: f = {valley(p).item():.2e}")

a, b = np.meshgrid(np.linspace(-4.5, 1, 200), np.linspace(-1.8, 1.8, 200))
fig, ax = plt.subplots(figsize=(9, 4.5))
ax.contour(a, b, 0.5 * (a ** 2 + 25 * b ** 2), levels=np.geomspace(0.01, 60, 14), colors="0.8")
for name, path in paths.items():
    ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=name)
ax.plot(0, 0, "k*", ms=12)
ax.set(xlabel="a", ylabel="b", title="60 steps from (-4, 1.5)")
ax.legend()
plt.show()

# %% [markdown]
# ## On a network
#
# The same five optimizers train the same network from the **same initial weights**
# (`copy.deepcopy` of one model) on the **same mini-batches** (a `DataLoader` with the
# same seed), so only the update rule differs. Their learning rates are typical
# values for each: adaptive methods use smaller $\eta$, because their steps are
# already normalised.

# %%
X, y = make_moons(1000, noise=0.2, seed=0)
dataset = TensorDataset(X, y.float())
autodiff.manual_seed(0)
initial = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
loss_fn = nn.BCEWithLogitsLoss()

settings = {"SGD": (optim.SGD, dict(lr=0.05)),
            "SGD + momentum": (optim.SGD, dict(lr=0.05, momentum=0.9)),
            "Adagrad": (optim.Adagrad, dict(lr=0.05)),
            "RMSprop": (optim.RMSprop, dict(lr=0.003)),
            "Adam": (optim.Adam, dict(lr=0.005))}

curves = {}
for name, (Optimizer, kwargs) in settings.items():
    model = copy.deepcopy(initial)
    opt = Optimizer(model.parameters(), **kwargs)
    loader = DataLoader(dataset, batch_size=32, shuffle=True, generator=0)
    losses = []
    for epoch in range(20):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb).squeeze(-1), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        losses.append(total / len(dataset))
    curves[name] = losses
    print(f"{name:15s} final training loss {losses[-1]:.4f}")

fig, ax = plt.subplots(figsize=(7, 4))
for name, losses in curves.items():
    ax.plot(range(1, 21), losses, label=name)
ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title="Same network, same batches")
ax.legend()
plt.show()

# %% [markdown]
# Plain SGD with this learning rate stalls near 0.28, where a nearly linear
# boundary is as good as small steps can make it; momentum and the adaptive methods
# find the curved boundary. Rankings like this depend on the learning rates: each
# optimizer has its own good range, and tuning $\eta$ matters more than the choice
# among the last four.
