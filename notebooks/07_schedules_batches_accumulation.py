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
# # 07 · Learning-rate schedules, batch size, gradient accumulation
#
# Three knobs of the training loop that are not the model: how the learning rate
# changes over time, how many samples each step sees, and how to get a large
# batch's step from several small ones.

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np

import autodiff
from autodiff import nn, optim
from autodiff.data import DataLoader, TensorDataset
from autodiff.datasets import make_moons
from autodiff.optim import lr_scheduler

X, y = make_moons(1000, noise=0.2, seed=0)
dataset = TensorDataset(X, y.float())
loss_fn = nn.BCEWithLogitsLoss()
autodiff.manual_seed(0)
initial = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))


def train_epoch(model, opt, loader, scheduler=None):
    total = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb).squeeze(-1), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    if scheduler is not None:
        scheduler.step()               # once per epoch, after the optimizer's steps
    return total / len(loader.dataset)


# %% [markdown]
# ## Schedules
#
# Large steps early move fast; small steps late settle into a minimum instead of
# bouncing around it. A scheduler changes `optimizer.param_groups[i]["lr"]` each
# time `scheduler.step()` is called (here once per epoch). The formulas are
# PyTorch's.

# %%
def lr_curve(make_scheduler, epochs=60):
    opt = optim.SGD([autodiff.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return lrs


schedules = {
    "StepLR(step_size=20, gamma=0.3)": lambda o: lr_scheduler.StepLR(o, step_size=20, gamma=0.3),
    "ExponentialLR(gamma=0.95)": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.95),
    "CosineAnnealingLR(T_max=60)": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=60),
    "linear warm-up (LambdaLR)": lambda o: lr_scheduler.LambdaLR(o, lambda e: min(1.0, (e + 1) / 10)),
}
fig, ax = plt.subplots(figsize=(7, 3.5))
for name, make in schedules.items():
    ax.plot(lr_curve(make), label=name)
ax.set(xlabel="epoch", ylabel="learning rate")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The same network and batches, with a constant learning rate and with cosine
# annealing from the same starting value:

# %%
results = {}
for name in ["constant", "cosine"]:
    model = copy.deepcopy(initial)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=40) if name == "cosine" else None
    loader = DataLoader(dataset, batch_size=32, shuffle=True, generator=0)
    results[name] = [train_epoch(model, opt, loader, scheduler) for _ in range(40)]
    print(f"{name:8s} mean loss of the last 5 epochs: {np.mean(results[name][-5:]):.4f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, losses in results.items():
    ax.plot(losses, label=name)
ax.set(xlabel="epoch", ylabel="training loss", yscale="log")
ax.legend()
plt.show()

# %% [markdown]
# With a constant rate the loss keeps jumping from epoch to epoch: each step
# follows one noisy mini-batch. As the cosine schedule brings the rate towards 0,
# the noise fades and the loss settles lower.
#
# ## Batch size
#
# A mini-batch gradient is an average over `batch_size` samples: an estimate of the
# full gradient whose noise shrinks like $1/\sqrt{\text{batch size}}$. Larger batches
# give better steps, but fewer of them per epoch. Same learning rate, same number of
# epochs:

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
for batch_size in [8, 32, 128, 1000]:
    model = copy.deepcopy(initial)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=0)
    losses = [train_epoch(model, opt, loader) for _ in range(20)]
    steps = np.arange(1, 21) * len(loader)
    ax1.plot(range(1, 21), losses, label=f"batch {batch_size}")
    ax2.plot(steps, losses, label=f"batch {batch_size}")
    print(f"batch {batch_size:4d}: {len(loader):3d} steps per epoch, final loss {losses[-1]:.4f}")
ax1.set(xlabel="epoch", ylabel="training loss", yscale="log", title="per epoch")
ax2.set(xlabel="optimizer steps", xscale="log", yscale="log", title="per step")
ax1.legend()
plt.show()

# %% [markdown]
# Per epoch (the same amount of computation), the small batches (8 and 32) end far
# below 128 and 1000: many cheap steps beat a few precise ones. Per step, large batches win: each step is better.
# On a GPU, a batch of 128 costs about as much time as a batch of 8, which is why
# practice favours the largest batch that fits, with the learning rate scaled up.
#
# ## Gradient accumulation
#
# When a large batch does not fit in memory, split it into micro-batches, run
# backward on each **without** zeroing the gradients in between (`.grad`
# accumulates), and step once. With a mean-reduced loss, scale each micro-batch's
# loss by $1/k$ for $k$ micro-batches: the sum of the $k$ gradients is then the
# gradient of the mean over the whole batch, and the update is the same.

# %%
xb, yb = X[:64], y[:64].float()

big = copy.deepcopy(initial)
opt = optim.SGD(big.parameters(), lr=0.1)
opt.zero_grad()
loss_fn(big(xb).squeeze(-1), yb).backward()            # one batch of 64
opt.step()

small = copy.deepcopy(initial)
opt = optim.SGD(small.parameters(), lr=0.1)
opt.zero_grad()
k = 4
for xm, ym in zip(xb.chunk(k), yb.chunk(k)):            # four micro-batches of 16
    (loss_fn(small(xm).squeeze(-1), ym) / k).backward()  # gradients add up in .grad
opt.step()

diff = max(np.abs(p.detach().numpy() - q.detach().numpy()).max()
           for p, q in zip(big.parameters(), small.parameters()))
print(f"largest difference between the two updated networks: {diff:.1e}")

# %% [markdown]
# The two updates agree to float32 rounding. (The equivalence holds for layers that
# treat samples independently; batch normalization, which mixes the samples of a
# batch, sees micro-batch statistics instead.)
