"""Which Numba CUDA kernels compile during each step of a 'cuda' MNIST-sized Adam step (after the
first step every kernel should already be compiled): prints kernel name and argument types."""
import time

import numpy as np
from numba.cuda import dispatcher

import autodiff as ad

_compile = dispatcher.CUDADispatcher.compile
log = []


def compile_and_log(self, sig):
    log.append((getattr(self.py_func, "__qualname__", self.py_func), sig))
    return _compile(self, sig)


dispatcher.CUDADispatcher.compile = compile_and_log
rng = np.random.default_rng(1)
x = ad.tensor(rng.standard_normal((128, 784)).astype(np.float32), device="cuda")
y = ad.tensor(rng.integers(0, 10, 128), device="cuda")
model = ad.nn.Sequential(ad.nn.Linear(784, 256), ad.nn.ReLU(), ad.nn.Linear(256, 128), ad.nn.ReLU(),
                         ad.nn.Linear(128, 10)).to("cuda")
opt = ad.optim.Adam(model.parameters(), lr=1e-3)
for i in range(4):
    log.clear()
    start = time.perf_counter()
    opt.zero_grad()
    loss = ad.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    ad.cuda.synchronize()
    print(f"step {i}: {1e3 * (time.perf_counter() - start):.1f} ms, {len(log)} compiles", flush=True)
    for name, sig in log[:20]:
        print("   ", name, sig)
