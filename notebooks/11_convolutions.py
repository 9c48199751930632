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
# # 11 · Convolutions by hand and with `nn.Conv2d`
#
# An MLP sees an image as a flat vector: move the digit one pixel and every input
# changes. A **convolution** slides one small set of weights, the *kernel*, over the
# image and computes the same weighted sum at every position,
#
# $$y[o, i, j] = b[o] + \sum_{c}\sum_{u, v} w[o, c, u, v]\; x[c,\; i\,s + u,\; j\,s + v],$$
#
# so a pattern is recognised wherever it appears, with a handful of weights. This
# notebook computes one by hand, shows how libraries turn it into a single matrix
# product (**im2col**), checks its gradients, trains a LeNet on the 8×8 digits and looks
# at what its kernels learned.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import autodiff
import autodiff.nn.functional as F
from autodiff import nn, optim
from autodiff.data import DataLoader, TensorDataset
from autodiff.datasets import load_digits_images, train_test_split
from autodiff.viz import draw_graph

autodiff.manual_seed(0)
X, y = load_digits_images()            # (1797, 1, 8, 8) float32 in [0, 1], labels 0..9
print("images:", X.shape, X.dtype, " labels:", y.shape)

fig, axes = plt.subplots(1, 8, figsize=(10, 1.6))
for ax, image, label in zip(axes, X.numpy(), y.numpy()):
    ax.imshow(image[0], cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")
plt.show()

# %% [markdown]
# ## What a kernel sees
#
# A 3×3 kernel that subtracts the pixel on the left from the pixel on the right
# responds to vertical edges; its transpose responds to horizontal ones. Convolving a
# digit with each (`F.conv2d`, padding 1 to keep the 8×8 size) lights up where the
# strokes have that orientation.

# %%
vertical = autodiff.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])   # Sobel
kernels = autodiff.stack([vertical, vertical.T]).unsqueeze(1)                         # (2, 1, 3, 3)
digit = X[:1]                                                                         # (1, 1, 8, 8)
edges = F.conv2d(digit, kernels, padding=1)
print("input", tuple(digit.shape), "-> output", tuple(edges.shape))

fig, axes = plt.subplots(1, 3, figsize=(7, 2.4))
for ax, image, title in zip(axes, [digit[0, 0], edges[0, 0], edges[0, 1]],
                            ["digit", "vertical edges", "horizontal edges"]):
    ax.imshow(image.numpy(), cmap="RdBu_r" if title != "digit" else "gray_r")
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## By hand, with loops
#
# The formula above, written as loops over output positions, gives exactly what
# `F.conv2d` gives (with a stride of 2 this time, so every other position).

# %%
def conv2d_by_hand(x, w, b, stride=1):
    n_out, _, kh, kw = w.shape
    height = (x.shape[1] - kh) // stride + 1
    width = (x.shape[2] - kw) // stride + 1
    out = np.zeros((n_out, height, width))
    for o in range(n_out):
        for i in range(height):
            for j in range(width):
                window = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw]
                out[o, i, j] = b[o] + (w[o] * window).sum()
    return out


rng = np.random.default_rng(0)
x = rng.standard_normal((3, 7, 7))
w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
by_hand = conv2d_by_hand(x, w, b, stride=2)
library = F.conv2d(autodiff.tensor(x[None]), autodiff.tensor(w), autodiff.tensor(b), stride=2)[0]
print("output", by_hand.shape, " largest difference:", np.abs(by_hand - library.numpy()).max())

# %% [markdown]
# ## im2col: a convolution is one matrix product
#
# The loops recompute a window per output position. `F.unfold` instead copies every
# window into a column once (**im2col**): for C input channels and a k×k kernel each
# column has C·k·k values, one column per output position. The weights, reshaped to
# (out_channels, C·k·k), then multiply all columns in **one** matrix product, which is
# what BLAS does fastest. autodiff's `conv2d` works this way; its input gradient is the
# reverse, **col2im** (`F.fold`), which adds each column's gradient back where the
# window came from (overlapping windows add up).

# %%
columns = F.unfold(autodiff.tensor(x[None]), kernel_size=3, stride=2)      # (1, 3*3*3, 3*3)
print("columns:", tuple(columns.shape), "= (batch, C*k*k, output positions)")
as_product = autodiff.tensor(w.reshape(4, -1)) @ columns[0] + autodiff.tensor(b).reshape(4, 1)
print("matrix product == conv2d:", np.allclose(as_product.numpy().reshape(4, 3, 3), library.numpy()))

ones = autodiff.ones(1, 1, 5, 5)
counts = F.fold(F.unfold(ones, kernel_size=3, padding=1), output_size=(5, 5), kernel_size=3, padding=1)
print("col2im(im2col(ones)): how many 3x3 windows cover each pixel\n", counts[0, 0].numpy())

# %% [markdown]
# ## Gradients
#
# The derivative of a convolution with respect to its input is a *transposed*
# convolution (col2im of the weights times the output gradient), and with respect
# to its weights a correlation of the input with the output gradient. As for every op,
# `autodiff.gradcheck` compares them with central finite differences in float64,
# second derivatives included.

# %%
xs = autodiff.randn(2, 2, 5, 5, dtype=autodiff.float64, requires_grad=True)
ws = autodiff.randn(3, 2, 3, 3, dtype=autodiff.float64, requires_grad=True)
print("gradcheck:", autodiff.gradcheck(lambda a, b: F.conv2d(a, b, stride=2, padding=1), (xs, ws)))
print("gradgradcheck:", autodiff.gradgradcheck(lambda a, b: F.conv2d(a, b, padding=1), (xs, ws)))

# %% [markdown]
# ## A LeNet for the digits
#
# LeNet's recipe: convolution, nonlinearity, pooling (keep the largest value of each
# 2×2 block, halving the size), twice; then a small MLP on the flattened feature maps.
# On 8×8 images: 1×8×8 → 16×8×8 → 16×4×4 → 32×4×4 → 32×2×2 → 128 → 64 → 10. Adam with a
# cosine learning-rate schedule (notebook 07), 15 epochs.

# %%
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)


def lenet():
    autodiff.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


model = lenet()
print(model)
print("parameters:", sum(p.numel() for p in model.parameters()))

# %%
def accuracy(model, X, y):
    model.eval()
    with autodiff.no_grad():
        correct = (model(X).argmax(dim=1) == y).float().mean().item()
    model.train()
    return correct


optimizer = optim.Adam(model.parameters(), lr=0.003)
schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=15)
loss_fn = nn.CrossEntropyLoss()
loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)
history = []
start = time.perf_counter()
for epoch in range(15):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    schedule.step()
print(f"trained 15 epochs in {time.perf_counter() - start:.1f} s")
test_accuracy = accuracy(model, X_test, y_test)
print(f"train accuracy {accuracy(model, X_train, y_train):.3f}   test accuracy {test_accuracy:.3f}")
assert test_accuracy >= 0.97

fig, ax = plt.subplots(figsize=(6, 2.8))
ax.plot(history, lw=0.8)
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy")
ax.set_yscale("log")
ax.set_title("LeNet on the 8x8 digits")
plt.show()

# %% [markdown]
# ## What the first layer learned
#
# Eight of the sixteen 3×3 kernels of the first layer, and the feature maps they produce
# on one test digit (after the ReLU): each map marks where its kernel's pattern occurs.

# %%
first = model[0]
maps = model[1](first(X_test[:1]))[0].detach().numpy()
fig, axes = plt.subplots(2, 8, figsize=(11, 3))
for k in range(8):
    axes[0, k].imshow(first.weight[k, 0].detach().numpy(), cmap="RdBu_r")
    axes[0, k].set_title(f"kernel {k}", fontsize=8)
    axes[1, k].imshow(maps[k], cmap="viridis")
    axes[1, k].set_title(f"map {k}", fontsize=8)
for ax in axes.flat:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## The graph of a convolutional network
#
# Each layer is one node: the convolution (with its bias), the ReLU, the pooling (which
# remembers where each maximum came from, so its gradient goes only there), the
# flattening and the linear layers. Parameters are green, under their names.

# %%
small = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 10))
loss = loss_fn(small(X_train[:4]), y_train[:4])
loss.backward()
draw_graph(loss, module=small, labels={loss: "loss"})

# %% [markdown]
# ## Things to remember
#
# * a convolution shares one small kernel across all positions: few parameters, and a
#   pattern is found wherever it is; stacking conv + pooling grows what each unit sees;
# * output size: $\lfloor (n + 2p - d(k-1) - 1)/s \rfloor + 1$ for input $n$, padding $p$,
#   dilation $d$, kernel $k$, stride $s$ (`padding="same"` keeps $n$ when $s = 1$);
# * im2col turns the convolution into one matrix product; its input gradient is col2im,
#   the transposed convolution (`nn.ConvTranspose2d`), which upsamples;
# * the same code runs in PyTorch with `import torch` in place of `import autodiff`.
