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
# # 04 · Training an MLP on two moons
#
# The complete PyTorch workflow on a small problem: a **dataset**, a **data loader**
# that cuts it into shuffled mini-batches, a **model** made of layers, a **loss**, an
# **optimizer**, and the four-line training step. Then we look at what was learned:
# the loss curves and the decision boundary.

# %%
import matplotlib.pyplot as plt
import numpy as np

import autodiff
from autodiff import nn, optim
from autodiff.data import DataLoader, Dataset, TensorDataset
from autodiff.datasets import make_moons, train_test_split
from autodiff.viz import draw_graph

autodiff.manual_seed(0)
X, y = make_moons(1000, noise=0.2, seed=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
print("train:", X_train.shape, X_train.dtype, " labels:", y_train.shape, y_train.dtype)
print("test: ", X_test.shape)

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(*X_train.numpy().T, c=y_train.numpy(), cmap="RdBu_r", s=10)
ax.set_title("make_moons: 800 training points, noise 0.2")
plt.show()


# %% [markdown]
# ## Dataset and DataLoader
#
# A **map-style dataset** is anything with `__len__` and `__getitem__`: sample $i$ is
# a (features, label) pair. The `DataLoader` draws a new random order every epoch
# and stacks `batch_size` samples into one tensor per field.
# `TensorDataset(X, y)` is exactly this class for data that already sits in
# tensors (and it cuts each batch with one indexing operation).

# %%
class Moons(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y.float()       # BCE wants float targets

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


print(len(Moons(X_train, y_train)), "samples; the first:", Moons(X_train, y_train)[0])

train_set = TensorDataset(X_train, y_train.float())
loader = DataLoader(train_set, batch_size=32, shuffle=True, generator=0)
xb, yb = next(iter(loader))
print("one batch:", xb.shape, yb.shape, "|", len(loader), "batches per epoch")

# %% [markdown]
# ## The model
#
# The lecture network: 2 inputs, hidden layers of 80 and 60 ReLU units, and one
# output, the **logit** $z$ of class 1 ($P(\text{class }1) = \sigma(z)$).
# `BCEWithLogitsLoss` takes logits: it fuses the sigmoid and the cross-entropy
# into one numerically stable formula, $\max(z,0) - zy + \log(1 + e^{-|z|})$.

# %%
model = nn.Sequential(
    nn.Linear(2, 80), nn.ReLU(),
    nn.Linear(80, 60), nn.ReLU(),
    nn.Linear(60, 1),
)
print(model)
print(sum(p.numel() for p in model.parameters()), "parameters:",
      [(name, tuple(p.shape)) for name, p in model.named_parameters()])

# %% [markdown]
# ## Training
#
# Every step is the same four lines: forget the previous gradients, compute the
# loss, backpropagate, update. After each epoch we measure the loss on the test
# points under `no_grad()` (no graph is needed to evaluate).

# %%
loss_fn = nn.BCEWithLogitsLoss()
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def evaluate(model, X, y):
    with autodiff.no_grad():
        logits = model(X).squeeze(-1)
        loss = loss_fn(logits, y.float()).item()
        accuracy = ((logits > 0) == (y == 1)).float().mean().item()
    return loss, accuracy


history = {"train": [], "test": []}
for epoch in range(30):
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()                       # 1. .grad accumulates: reset it
        loss = loss_fn(model(xb).squeeze(-1), yb)   # 2. forward
        loss.backward()                             # 3. backward: every parameter's .grad
        optimizer.step()                            # 4. p -= lr * (momentum-averaged) grad
        total += loss.item() * len(xb)
    history["train"].append(total / len(train_set))
    history["test"].append(evaluate(model, X_test, y_test)[0])
    if epoch % 5 == 4:
        print(f"epoch {epoch + 1:2d}  train loss {history['train'][-1]:.4f}  "
              f"test loss {history['test'][-1]:.4f}")

print("train accuracy %.3f, test accuracy %.3f" % (evaluate(model, X_train, y_train)[1],
                                                   evaluate(model, X_test, y_test)[1]))


# %%
def plot_boundary(model, X, y, ax, title=""):
    """Colour the plane by the model's P(class 1); draw the P = 0.5 line and the points."""
    lo, hi = X.numpy().min(0) - 0.5, X.numpy().max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
    grid = autodiff.tensor(np.c_[gx.ravel(), gy.ravel()].astype(np.float32))
    with autodiff.no_grad():
        prob = model(grid).sigmoid().numpy().reshape(gx.shape)
    ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(*X.numpy().T, c=y.numpy(), cmap="RdBu_r", s=10, edgecolors="white", linewidths=0.4)
    ax.set_title(title)


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.plot(history["train"], label="train")
ax1.plot(history["test"], label="test")
ax1.set(xlabel="epoch", ylabel="binary cross-entropy", yscale="log", title="Loss")
ax1.legend()
plot_boundary(model, X_test, y_test, ax2, "Decision boundary, test points")
plt.show()

# %% [markdown]
# The test loss follows the training loss: with 5,000 parameters and 800 points the
# network could memorise the noise, but 30 epochs are not enough for that here.
# The boundary is the smooth S between the moons; the points on the wrong side are
# the noise.
#
# ## The graph of one training step
#
# One forward pass of this model is a short graph: each `Linear` layer is a single
# `linear` node (`x @ W.T + b`), fed by its weight and bias. `group_by_module=True`
# boxes each layer with its parameters; after backward every parameter shows its
# gradient (its norm, for big tensors).

# %%
optimizer.zero_grad()
loss = loss_fn(model(xb).squeeze(-1), yb)
loss.backward()
draw_graph(loss, module=model, labels={loss: "loss"}, group_by_module=True)
