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
# # 09 · Kernels and devices
#
# A **kernel** is the compiled loop that does an operation's arithmetic. numpy's
# operations are kernels written in C (and matmul calls BLAS, hand-tuned assembly).
# The `kernels/` package holds this project's own, written in Python and compiled by
# **Numba**: `kernels.cpu` runs loops in parallel on all CPU cores, `kernels.cuda` runs
# them on an NVIDIA GPU. Both take plain arrays (numpy arrays, or GPU device arrays),
# so they can be tested and timed on their own.
#
# Three parts: the CPU kernels against numpy; how autodiff chooses between the two
# (`autodiff.backends`); and the CUDA path, from a GPU kernel written by hand to
# tensors and a model on `'cuda'`.
#
# **No GPU? The CUDA simulator.** Numba's CUDA simulator runs the very same GPU code
# on the CPU, thread by thread in Python: slow (about 2,000 GPU threads a second, so
# only tiny sizes), but enough to check kernels and to run CUDA tensors. The
# environment variable `NUMBA_ENABLE_CUDASIM=1` switches it on, and only if it is set
# **before Numba is first imported**: Numba reads its `NUMBA_*` settings once, at
# import, and `numba.cuda` then stays bound to the GPU driver or to the simulator for
# the life of the process. Set any later, it does nothing: `autodiff.cuda.is_available()`
# stays False and `.to("cuda")` raises an error that says why (in Jupyter, restart the
# kernel). `import autodiff` does not import Numba, but `import numba` and
# `from kernels import cpu` below do, so the first cell sets it before anything else.
# On a machine with an NVIDIA GPU we leave it unset, and everything below runs on the GPU.

# %%
import os
import shutil

HAVE_GPU = shutil.which("nvidia-smi") is not None
if not HAVE_GPU:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"    # before the first `import numba`

import time

import numba
import numpy as np

import autodiff
from kernels import cpu

print("GPU:", "yes" if HAVE_GPU else "no, CUDA code runs on Numba's simulator")
print("Numba", numba.__version__, "with", numba.get_num_threads(), "CPU threads")


# %% [markdown]
# ## A Numba kernel
#
# `@numba.njit` compiles a Python function to machine code on its first call (for the
# argument types of that call). With `parallel=True`, the iterations of a
# `numba.prange` loop are split among the CPU's threads. The first call pays for the
# compilation; the project's kernels add `cache=True`, which keeps the machine code on
# disk for the next run.

# %%
@numba.njit(parallel=True)
def relu_loop(x, out):
    for i in numba.prange(x.size):
        out[i] = x[i] if x[i] > 0 else 0.0


x = np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32)
out = np.empty_like(x)
for call in ["first", "second"]:
    start = time.perf_counter()
    relu_loop(x, out)
    print(f"{call} call: {1000 * (time.perf_counter() - start):8.2f} ms")
print("same as numpy:", np.array_equal(out, np.maximum(x, 0)))

# %% [markdown]
# ## The project's CPU kernels against numpy
#
# First, that they compute the same thing:

# %%
rng = np.random.default_rng(0)
a = rng.standard_normal((300, 200)).astype(np.float32)
b = rng.standard_normal((200, 100)).astype(np.float32)
x = rng.standard_normal(1_000_000).astype(np.float32)

print("matmul  ", np.allclose(cpu.matmul(a, b), a @ b, rtol=1e-5, atol=1e-4))
print("relu    ", np.array_equal(cpu.relu(x), np.maximum(x, 0)))
print("sigmoid ", np.allclose(cpu.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-6, atol=1e-7))


# %% [markdown]
# Then how fast. We time each call several times and keep the best (the least
# disturbed by anything else running on the machine). The numbers are from the
# machine that ran this notebook: run it again on yours.

# %%
def best_ms(fn, *args, repeat=7):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def numpy_sigmoid(x):
    return 1 / (1 + np.exp(-x))


rows = []
for n in [64, 256, 512]:
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    rows.append((f"matmul {n}x{n}", best_ms(np.matmul, a, b), best_ms(cpu.matmul, a, b)))
for n in [10_000, 1_000_000]:
    x = rng.standard_normal(n).astype(np.float32)
    rows.append((f"relu, {n:,} values", best_ms(np.maximum, x, 0), best_ms(cpu.relu, x)))
    rows.append((f"sigmoid, {n:,} values", best_ms(numpy_sigmoid, x), best_ms(cpu.sigmoid, x)))

print(f"{'':26s}{'numpy':>10s}{'kernels.cpu':>13s}")
for name, numpy_ms, kernel_ms in rows:
    print(f"{name:26s}{numpy_ms:8.3f} ms{kernel_ms:10.3f} ms   x{numpy_ms / kernel_ms:.1f}")

# %% [markdown]
# How to read this (the last column is numpy's time over the kernel's: above 1, the
# kernel is faster):
#
# * **matmul**: numpy hands it to BLAS, decades of hand-tuned assembly. A Numba
#   kernel gets part of the way with the same ideas (blocking for the caches, a
#   register tile of the output in the inner loop), but does not beat it; the reasons
#   to write one are to learn how it works, and to **fuse** more work into the same
#   pass (`kernels.cpu.linear_forward` adds the bias and the activation while the
#   tile is still in registers).
# * **elementwise**: numpy's sigmoid is four passes over memory (negate, exp, add,
#   divide), each writing a temporary array, on one core. The kernel is one pass on
#   all cores. On small arrays the cost of starting the threads dominates, and numpy
#   can win.
# * **the machine**: a parallel kernel is only as fast as its slowest thread. On a
#   machine with few cores that is busy with other work, threads wait for a turn
#   and every parallel kernel loses; `numba.set_num_threads(1)` makes them serial.
#
# ## Which one autodiff runs: `autodiff.backends`
#
# Neither wins everywhere, so autodiff chooses **per op and per size**. An activation
# asks `backends.kernel(name, array)` for a Numba kernel and runs its numpy expression
# when the answer is None. The sizes in `backends.MIN_SIZE`, from which the kernel
# runs, were measured (`benchmarks/bench_dispatch.py`): a kernel call has a fixed
# cost (waking the threads) that only large arrays repay. sigmoid switches early,
# because autodiff's numpy sigmoid is the overflow-free `exp(-logaddexp(0, -x))`,
# slower than the four passes timed above; tanh never does, as numpy's vectorised
# tanh beats Numba's at every size. Matrix products always go to BLAS.

# %%
from autodiff import backends

print("mode:", backends.current())
print("Numba kernel from (elements):", {name: n for name, n in backends.MIN_SIZE.items()
                                        if not name.endswith("_backward")})
for n in [1_000, 10_000, 100_000]:
    x = np.zeros(n, np.float32)
    choice = {name: "numba" if backends.kernel(name, x) else "numpy" for name in ["sigmoid", "relu", "tanh"]}
    print(f"{n:>9,} values:", choice)


# %% [markdown]
# `backends.use("numpy")` or `backends.use("numba")` forces one implementation
# everywhere (under `"numba"`, matmul and `nn.Linear` too), for benchmarks and
# debugging: as a call, or as here as a `with` block, after which the automatic rule
# (`"auto"`) is back. The gradients do not depend on the choice: both compute the
# same formulas, so they agree to float32 rounding. Forward and backward of
# `sigmoid(x) * relu(x)`:

# %%
def forward_backward(values):
    x = autodiff.tensor(values, requires_grad=True)
    (x.sigmoid() * x.relu()).sum().backward()
    return x.grad.numpy()


for n in [1_000, 10_000, 1_000_000]:
    values = rng.standard_normal(n).astype(np.float32)
    grads, ms = {}, {}
    for mode in ["numpy", "numba", "auto"]:
        with backends.use(mode):
            grads[mode] = forward_backward(values)
            ms[mode] = best_ms(forward_backward, values)
    assert np.allclose(grads["numpy"], grads["numba"], rtol=1e-6, atol=1e-6)
    print(f"{n:>9,} values: " + "   ".join(f"{mode} {t:6.3f} ms" for mode, t in ms.items()),
          "   max gradient difference", np.abs(grads["numpy"] - grads["numba"]).max())
print("mode after the with blocks:", backends.current())

# %% [markdown]
# ## The CUDA path
#
# A GPU runs thousands of threads at once. A CUDA kernel is the code of **one**
# thread; the launch `kernel[blocks, threads_per_block](...)` says how many to start,
# and each thread uses its index (`cuda.grid(1)`) to pick its element. Threads of
# one block can share a small fast memory and wait for each other
# (`cuda.syncthreads()`).
#
# The tiled matrix product below is the classic example: each block computes a
# $T \times T$ tile of the output; for each step along the inner dimension, its
# threads first copy one tile of `a` and one of `b` into shared memory, **wait**
# until all copies are done, multiply out of the fast memory, and **wait again**
# before the tiles are overwritten. Forgetting the second `syncthreads()` is a race
# (MiniTorch's CUDA matmul had exactly this bug): the results are wrong only
# sometimes.

# %%
from numba import cuda

T = 8   # tile size: blocks of T x T threads


@cuda.jit
def tiled_matmul(a, b, out):
    sa = cuda.shared.array((T, T), numba.float32)
    sb = cuda.shared.array((T, T), numba.float32)
    row, col = cuda.grid(2)
    ty, tx = cuda.threadIdx.x, cuda.threadIdx.y
    acc = numba.float32(0.0)
    for start in range(0, a.shape[1], T):
        # each thread copies one element of each tile (zero outside the matrices)
        sa[ty, tx] = a[row, start + tx] if row < a.shape[0] and start + tx < a.shape[1] else 0.0
        sb[ty, tx] = b[start + ty, col] if start + ty < b.shape[0] and col < b.shape[1] else 0.0
        cuda.syncthreads()          # the tiles are complete
        for k in range(T):
            acc += sa[ty, k] * sb[k, tx]
        cuda.syncthreads()          # everyone is done with them before the next copy
    if row < out.shape[0] and col < out.shape[1]:
        out[row, col] = acc


a = rng.standard_normal((20, 12)).astype(np.float32)
b = rng.standard_normal((12, 10)).astype(np.float32)
d_a, d_b = cuda.to_device(a), cuda.to_device(b)          # host -> device
d_out = cuda.device_array((20, 10), np.float32)
blocks = (-(-20 // T), -(-10 // T))                      # enough tiles to cover the output
tiled_matmul[blocks, (T, T)](d_a, d_b, d_out)
print("tiled matmul correct:", np.allclose(d_out.copy_to_host(), a @ b, atol=1e-5))

# %% [markdown]
# `kernels.cuda` has the project's GPU kernels, with the same names as `kernels.cpu`.
# They take and return **device arrays**: data is moved to the GPU once
# (`cuda.to_device`) and back once (`.copy_to_host()`), and a chain of operations in
# between stays on the device. Copying to the GPU and back around every single
# operation is the classic way to make GPU training slower than the CPU.
#
# One layer, `relu(x @ W + b)`, on the device (tiny sizes: on the simulator every
# GPU thread is a Python thread):

# %%
from kernels import cuda as gpu

x = rng.standard_normal((16, 8)).astype(np.float32)
W = rng.standard_normal((8, 4)).astype(np.float32)
bias = rng.standard_normal(4).astype(np.float32)

d_x, d_W, d_b = cuda.to_device(x), cuda.to_device(W), cuda.to_device(bias)
d_h = gpu.relu(gpu.bias_add(gpu.matmul(d_x, d_W), d_b))   # three kernels, no copies
h = d_h.copy_to_host()
print("relu(x @ W + b) correct:", np.allclose(h, np.maximum(x @ W + bias, 0), atol=1e-5))

# %% [markdown]
# ## Tensors on the GPU
#
# As in PyTorch, a tensor has a `.device`: `t.to("cuda")` (or `t.cuda()`) copies it
# to the GPU, `t.cpu()` copies it back, and the factories take `device=`. An operation
# on CUDA tensors runs on the GPU and returns a CUDA tensor; its printed form names
# the device. (autodiff's ops are numpy code; a CUDA tensor's values are a
# `CudaArray` that answers that numpy code with GPU kernels, so every op, every
# derivative and every optimizer runs on either device.) Code that should run
# anywhere picks the device once:
# `device = "cuda" if autodiff.cuda.is_available() else "cpu"`.

# %%
from autodiff import nn, optim

print("CUDA available:", autodiff.cuda.is_available(), "| device name:", autodiff.cuda.get_device_name())
t = autodiff.tensor([[1.0, -2.0, 3.0]])
g = t.to("cuda")
print(t)
print(g)
print(repr(g.device))
print((2 * g).relu())                       # computed on the GPU; the result stays there
print(autodiff.zeros(2, device="cuda", requires_grad=True))

# %% [markdown]
# Values cross between host and GPU only where you ask: `.to()`, `.cpu()`, `.cuda()`,
# `.item()` and printing. `.numpy()` shares the tensor's memory, which for a CUDA
# tensor is not host memory, so it refuses and says what to do:

# %%
try:
    g.numpy()
except TypeError as error:
    print("TypeError:", error)
print(g.cpu().numpy())                      # an explicit copy to the host, then numpy


# %% [markdown]
# The tensors of one operation must be on the same device: autodiff never copies
# behind your back (a hidden copy in every op is how GPU training ends up slower than
# the CPU). The error names the operation and both devices. Python numbers and 0-d
# tensors are the exception, as in PyTorch: they mix with CUDA tensors as scalars.

# %%
def show_error(fn):
    try:
        fn()
    except RuntimeError as error:
        print(f"{type(error).__name__}: {error}")


show_error(lambda: g + t)                              # a CUDA tensor plus a CPU tensor
show_error(lambda: nn.Linear(3, 2).to("cuda")(t))      # a model on the GPU, a batch on the CPU
print(g * 2 + autodiff.tensor(1.0))                    # a 0-d CPU tensor is a scalar: fine


# %% [markdown]
# ## Training on the GPU
#
# `model.to("cuda")` moves a model's parameters and buffers in place (the same
# `Parameter` objects), and an optimizer keeps its state, here SGD's momentum
# buffers, on the device of each parameter. So the training loop is the same code on
# either device. A 3→4→2 MLP, cross-entropy and SGD with momentum, from the same seed
# on the CPU and on `'cuda'`: two complete steps (the second also uses the momentum
# buffers) leave the same parameters.

# %%
def train(device, steps=2):
    autodiff.manual_seed(0)                    # the same initial weights and data on both
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to(device)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x = autodiff.randn(5, 3, device=device)
    y = autodiff.tensor([0, 1, 1, 0, 1], device=device)
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return model, optimizer, loss


cpu_model, _, cpu_loss = train("cpu")
gpu_model, gpu_optimizer, gpu_loss = train("cuda")
print("last loss on the CPU:", cpu_loss)
print("last loss on CUDA:   ", gpu_loss)
weight = gpu_model[0].weight
print("weight, gradient, momentum buffer on", weight.device, weight.grad.device,
      gpu_optimizer.state[weight]["momentum_buffer"].device)
for p, q in zip(cpu_model.parameters(), gpu_model.parameters()):
    assert np.allclose(p.detach().numpy(), q.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
print("same parameters after training on either device")

# %% [markdown]
# On the simulator this is quick only because everything is tiny. On a real GPU a
# network this small is no faster than on the CPU either: every op is at least one
# kernel launch, which costs more than its arithmetic. A GPU pays off when each op
# works on millions of values, and the data stays on the device from one op to the
# next.
#
# **Summary.** Kernels are where the arithmetic happens; everything else in an
# autograd engine is bookkeeping. Elementwise kernels gain from fusing passes and
# using every core, but only on arrays large enough to repay the call, so autodiff
# picks numpy or Numba per op and per size (`autodiff.backends`), with the same
# gradients either way. Matrix products come down to cache blocking and register
# tiles, where BLAS is hard to beat. On a GPU, the same ideas appear as thread blocks
# and shared memory; tensors, models and optimizers move there with `.to("cuda")`,
# and the main rule is to keep the data on the device.
