"""autodiff.compile on CUDA tensors (Numba's CUDA simulator, tiny sizes): the step is captured
and replayed, launching the same kernels as uncompiled code (no more per step), and its
losses, parameters and gradients equal eager's exactly (the simulator is deterministic).

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
import autodiff.nn.functional as F  # noqa: E402
from autodiff import nn, optim  # noqa: E402

OPTIMIZERS = {"sgd_momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
              "adam": lambda p: optim.Adam(p, lr=0.01)}


def _batch(rows, seed=0, classes=None):
    rng = np.random.default_rng(seed)
    x = autodiff.tensor(rng.standard_normal((rows, 2)).astype(np.float32), device="cuda")
    if classes is None:
        y = autodiff.tensor(rng.standard_normal((rows, 1)).astype(np.float32), device="cuda")
    else:
        y = autodiff.tensor(rng.integers(0, classes, rows), device="cuda")
    return x, y


def _train(compiled, make_opt, batches, classes=None, mode="replay"):
    """Losses, parameters, gradients and kernel launches of each step (one step per batch)."""
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, classes or 1)).to("cuda")
    opt = make_opt(model.parameters())

    def step(x, y):
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y) if classes else ((out - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    fn = autodiff.compile(step, mode=mode) if compiled else step
    losses, launches = [], []
    for x, y in batches:
        autodiff.cuda.stats(reset=True)
        loss = fn(x, y)
        launches.append(autodiff.cuda.stats()["launches"])
        losses.append(loss.item())
    params = [p.detach().cpu().numpy() for p in model.parameters()]
    grads = [p.grad.cpu().numpy() for p in model.parameters()]
    return losses, params, grads, launches, fn


def _assert_equal(eager, compiled):
    assert compiled[0] == eager[0]
    for a, b in zip(eager[1] + eager[2], compiled[1] + compiled[2]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_replayed_step_on_cuda_equals_eager_with_no_more_launches(name):
    batches = [_batch(4)] * 5
    eager = _train(False, OPTIMIZERS[name], batches)
    compiled = _train(True, OPTIMIZERS[name], batches)
    _assert_equal(eager, compiled)
    fn = compiled[4]
    assert fn.stats == {"eager": 1, "captures": 1, "replays": 3}
    # steps 3..5 are replays; eager's steps 2..5 all launch the same kernels
    assert len(set(eager[3][1:])) == 1
    assert max(compiled[3][2:]) <= eager[3][1]
    text = fn.explain(file=io.StringIO())
    assert "3 replayed" in text and "only CPU tensors" not in text


def test_new_shape_on_cuda_recaptures_and_equals_eager():
    batches = [_batch(4)] * 3 + [_batch(3, seed=1)] * 4
    eager = _train(False, OPTIMIZERS["sgd_momentum"], batches)
    compiled = _train(True, OPTIMIZERS["sgd_momentum"], batches)
    _assert_equal(eager, compiled)
    fn = compiled[4]
    assert fn.stats == {"eager": 2, "captures": 2, "replays": 3} and len(fn.tapes()) == 2
    assert max(compiled[3][5:]) <= eager[3][6]


def test_cross_entropy_and_fused_mode_on_cuda_replay_the_fused_kernels():
    """cross_entropy's forward hands its backward a tuple of device arrays (replayed as one);
    mode="fused" replays CUDA tapes (it compiles CPU tapes only) and says so."""
    batches = [_batch(4, classes=3)] * 4
    eager = _train(False, OPTIMIZERS["adam"], batches, classes=3)
    compiled = _train(True, OPTIMIZERS["adam"], batches, classes=3, mode="fused")
    _assert_equal(eager, compiled)
    fn = compiled[4]
    assert fn.stats["replays"] == 2 and max(compiled[3][2:]) <= eager[3][1]
    assert "fused mode compiles CPU tapes only" in fn.explain(file=io.StringIO())


def test_batch_moved_to_cuda_inside_the_step_is_read_at_every_replay():
    autodiff.manual_seed(0)
    model = nn.Linear(2, 1).to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = model(x.to("cuda")).sum()
        loss.backward()
        opt.step()
        return loss
    fn = autodiff.compile(step)
    rng = np.random.default_rng(0)
    xs = [autodiff.tensor(rng.standard_normal((3, 2)).astype(np.float32)) for _ in range(4)]
    got = [fn(x).item() for x in xs]
    autodiff.manual_seed(0)
    model = nn.Linear(2, 1).to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert got == [step(x).item() for x in xs] and fn.stats["replays"] == 2
