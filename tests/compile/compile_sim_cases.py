"""autodiff.compile on CUDA tensors (Numba's CUDA simulator, tiny sizes): the step runs
eagerly, launching the same kernels as uncompiled code, and says so in explain().

Not collected directly: test_compile_cuda_sim.py runs this file in a fresh interpreter with
NUMBA_ENABLE_CUDASIM=1. On a machine with a GPU: ``AUTODIFF_TEST_GPU=1 python -m pytest
tests/compile/compile_sim_cases.py``.
"""
import io
import os

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1" and os.environ.get("AUTODIFF_TEST_GPU") != "1":
    pytest.skip("runs under the CUDA simulator (see test_compile_cuda_sim.py), or on a GPU with "
                "AUTODIFF_TEST_GPU=1", allow_module_level=True)

import autodiff  # noqa: E402
from autodiff import nn, optim  # noqa: E402


def _train(compiled):
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    x = autodiff.tensor(rng.standard_normal((4, 2)).astype(np.float32), device="cuda")
    y = autodiff.tensor(rng.standard_normal((4, 1)).astype(np.float32), device="cuda")

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    fn = autodiff.compile(step) if compiled else step
    losses = [fn(x, y).item() for _ in range(3)]
    return losses, [p.detach().cpu().numpy() for p in model.parameters()], fn


def test_compiled_step_on_cuda_matches_eager():
    losses_e, params_e, _ = _train(False)
    losses_c, params_c, fn = _train(True)
    assert losses_c == losses_e
    for a, b in zip(params_e, params_c):
        np.testing.assert_array_equal(a, b)
    text = fn.explain(file=io.StringIO())
    assert "only CPU tensors are captured" in text and fn.stats["replays"] == 0
