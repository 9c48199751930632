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
# # 14 · Compiling the training step
#
# On the lecture network (2-20-40-20-1, batch 10) a training step is about a hundred
# tiny array operations. Each takes well under a microsecond of arithmetic; what costs
# is the Python around them: making tensors and graph nodes, sorting the graph for
# backward, dispatching each derivative. Every step does that work again, although
# the step is the same every time.
#
# `autodiff.compile` does it once. It runs the step eagerly while writing down every
# numpy call it makes (forward, backward's derivatives, the optimizer's updates) on a
# flat *tape*, then replays the tape: the same numpy calls, with no tensors, no graph,
# no sort. `mode="fused"` goes further and compiles the tape's arithmetic with Numba.

# %%
import time

import numpy as np

import autodiff
from autodiff import nn, optim
from autodiff.compiler import CaptureError
from autodiff.datasets import make_moons
from autodiff.viz import draw_tape

X, y = make_moons(200, noise=0.2, seed=0)
X, y = X.float(), y.float().reshape(-1, 1)
xb, yb = X[:10], y[:10]


def make(seed=0):
    autodiff.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 20), nn.ReLU(), nn.Linear(20, 40), nn.ReLU(),
                          nn.Linear(40, 20), nn.ReLU(), nn.Linear(20, 1))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, step


# %% [markdown]
# ## One line
#
# `autodiff.compile(step)` returns a function that behaves like `step`. Its first call
# runs eagerly (a warm-up), the second captures, the later ones replay. Two identical
# models trained side by side, one eagerly and one compiled, stay identical to the
# last bit: replay runs the same numpy calls in the same order.

# %%
model_e, step_e = make()
model_c, step_c = make()
compiled = autodiff.compile(step_c)

for i in range(300):
    j = (i * 10) % 200
    loss_e = step_e(X[j:j + 10], y[j:j + 10])
    loss_c = compiled(X[j:j + 10], y[j:j + 10])
    assert loss_e.item() == loss_c.item()

same = all(np.array_equal(a.detach().numpy(), b.detach().numpy())
           for a, b in zip(model_e.parameters(), model_c.parameters()))
print(f"after 300 steps: loss {loss_c.item():.6f}, parameters identical: {same}")
compiled.explain();


# %% [markdown]
# `explain()` tells what was captured: how many numpy calls one replay makes, how many
# of the captured calls it drops (shape checks and bookkeeping whose results nothing
# reads), and which arrays it allocates once instead of at every step.
#
# ## How much faster
#
# The minimum over a few repeats of 200 steps, in this process's CPU time (steadier than
# the wall clock on a shared machine); `benchmarks/bench_compile.py` times each variant in a
# process of its own, against PyTorch too.

# %%
def per_step(fn, steps=200, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(steps):
            fn(xb, yb)
        best = min(best, (time.process_time() - start) / steps)
    return best


timings = {}
for mode in ("eager", "replay", "fused"):
    _, step = make()
    fn = step if mode == "eager" else autodiff.compile(step, mode=mode)
    fn(xb, yb), fn(xb, yb)          # warm-up and capture (fused: and compile)
    timings[mode] = per_step(fn)
for mode, seconds in timings.items():
    print(f"{mode:7s} {seconds * 1e6:7.1f} us/step   {timings['eager'] / seconds:5.1f}x eager")

# %% [markdown]
# ## What a training step is
#
# The tape is a picture of the step with nothing else in it: the parameters (green)
# flow through matmuls and adds to the loss (orange); backward's derivatives come
# back as more matmuls, masks and sums; each gradient is set on its parameter, and
# the optimizer's update (a host call, yellow) runs live. Here are its first calls.

# %%
draw_tape(compiled, max_nodes=40)

# %% [markdown]
# ## Nothing is frozen that changes between steps
#
# Hyper-parameters are read at every replay (a scheduler changing `lr` works); random
# draws such as dropout masks are drawn anew from the generator, in the same order as
# eagerly; BatchNorm's running statistics update. A call with another signature (a
# batch of another size, `model.eval()`) is captured again:

# %%
compiled(X[:7], y[:7]); compiled(X[:7], y[:7]); compiled(X[:7], y[:7])
compiled.explain();

# %% [markdown]
# ## What cannot be captured
#
# Replay runs array operations only, so Python code inside the step cannot depend on a
# tensor's value. Reading one (`.item()`, `float(t)`, `if loss > 0`, printing) while
# the step is captured raises an error that says where and what to do instead:

# %%
model, _ = make()
opt = optim.SGD(model.parameters(), lr=0.05)


@autodiff.compile
def chatty_step(x, y):
    opt.zero_grad()
    loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
    print(f"loss {loss.item():.4f}")
    loss.backward()
    opt.step()
    return loss


chatty_step(xb, yb)          # warm-up: eager, prints
try:
    chatty_step(xb, yb)      # capture
except CaptureError as error:
    print(error)

# %% [markdown]
# The fix is the one the message gives: return the loss and read it outside,
# `loss = step(x, y); print(loss.item())`.
