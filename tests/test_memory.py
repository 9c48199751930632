"""Memory discipline: no recursion whatever the depth, saved values released by backward,
graphs freed by reference counting alone (no cycle collector needed)."""
import gc
import sys
import weakref
from contextlib import contextmanager

import numpy as np
import pytest

import autodiff as ad


@contextmanager
def collector_off():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def default_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)           # CPython's default, whatever the test runner set
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def test_million_op_chain_backpropagates_without_recursion():
    x = ad.tensor(0.5, dtype=ad.float64, requires_grad=True)
    with default_recursion_limit(), collector_off():   # the collector only slows a million allocations
        assert sys.getrecursionlimit() == 1000
        y = x
        for _ in range(1_000_000):
            y = y + 1.0
        y.backward()
        ref = weakref.ref(y.grad_fn)
        del y                                            # a million-node chain freed without recursion
        assert ref() is None
    assert x.grad.item() == 1.0


def test_deep_chain_with_saved_values():
    x = ad.tensor([1.0, 2.0], dtype=ad.float64, requires_grad=True)
    with default_recursion_limit(), collector_off():
        y = x
        for _ in range(10_000):
            y = (y * 1.0001).tanh() * 0.5 + y * 0.5
        y.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy())) and np.all(x.grad.numpy() > 0)


def test_backward_frees_arrays_saved_for_backward():
    x = ad.tensor(np.linspace(-1, 1, 10_000).reshape(100, 100), requires_grad=True)
    with collector_off():
        h = x.exp()                      # Exp saves its output
        s = (h * 3.0).sin()              # Mul saves h itself; Sin saves its input
        loss = s.sum() + (h @ h).mean()  # MatMul saves h twice
        h_data = weakref.ref(h._data)
        del h, s
        assert h_data() is not None      # still needed by backward
        loss.backward()
        assert h_data() is None          # released by backward, though loss (and its graph) is alive
        assert loss.grad_fn is not None
    expected = 3 * np.exp(x.detach().numpy()) * np.cos(3 * np.exp(x.detach().numpy()))
    e = np.exp(x.detach().numpy())
    expected += (np.ones((100, 100)) @ e.T + e.T @ np.ones((100, 100))) / 10_000 * e
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-4, atol=1e-6)


def test_retain_graph_keeps_saved_arrays_until_the_graph_goes():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with collector_off():
        h = x.exp()
        ref = weakref.ref(h._data)
        loss = (h * h).sum()
        del h
        loss.backward(retain_graph=True)
        assert ref() is not None
        loss.backward()
        assert ref() is None
        np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * np.exp(2 * np.array([1.0, 2.0, 3.0])),
                                   rtol=1e-6)


def test_graph_is_freed_by_reference_counting_alone():
    x = ad.tensor(np.ones((5, 5)), requires_grad=True)
    w = ad.tensor(np.full((5, 5), 0.5), requires_grad=True)
    with collector_off():
        gc.collect()
        h = (x @ w).relu()
        z = (h * h).sigmoid() + h.log_softmax(-1)[:, 1:3].sum() - h.max(dim=1).values.mean()
        loss = z.sum()
        refs = [weakref.ref(h), weakref.ref(h.grad_fn), weakref.ref(z.grad_fn),
                weakref.ref(loss.grad_fn), weakref.ref(h._data)]
        del h, z
        assert all(r() is not None for r in refs[1:])
        del loss                         # no backward: the whole graph goes with its last reference
        assert [r() for r in refs] == [None] * len(refs)
        assert x.grad is None


def test_graph_is_freed_after_backward_with_create_graph():
    x = ad.tensor([0.5, -1.0], dtype=ad.float64, requires_grad=True)
    with collector_off():
        y = (x ** 3).sum()
        g, = ad.grad(y, x, create_graph=True)
        refs = [weakref.ref(y.grad_fn), weakref.ref(g.grad_fn)]
        g.sum().backward()
        del y, g
        assert [r() for r in refs] == [None, None]
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([0.5, -1.0]))


def test_leaf_grad_is_kept_and_nothing_else():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with collector_off():
        loss = (x * 2).sum()
        node = weakref.ref(loss.grad_fn)
        loss.backward()
        del loss
        assert node() is None
    assert x.grad.tolist() == [2.0, 2.0] and x.grad.grad_fn is None


def test_hooks_and_retain_grad_do_not_keep_the_graph_alive():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with collector_off():
        h = x * 3
        h.retain_grad()
        h.register_hook(lambda g: g * 2)
        loss = h.sum()
        node = weakref.ref(h.grad_fn)
        loss.backward()
        assert h.grad.tolist() == [2.0, 2.0]
        del h, loss
        assert node() is None
    assert x.grad.tolist() == [6.0, 6.0]


@pytest.mark.parametrize("make", [
    lambda x: x[1:].sum() + x[::2].sum(),
    lambda x: x.reshape(2, 2).T.sum(),
    lambda x: ad.cat([x, x]).sum(),
    lambda x: ad.where(x > 2, x, x * 2).sum(),
])
def test_views_and_joins_free_by_reference_counting(make):
    x = ad.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    with collector_off():
        out = make(x)
        node = weakref.ref(out.grad_fn)
        out.backward()
        del out
        assert node() is None


# ---------------------------------------------------------------------- freed host memory kept
_FAULTS_SCRIPT = """
import os, resource, sys, numpy as np
import autodiff
from autodiff.backends import host_memory

def step():      # a training step's shape of allocation: arrays of 0.2-1 MB made and freed together
    arrays = [np.ones(n, np.float32) for n in (250_000, 130_000, 60_000, 60_000, 40_000)]
    return sum(float(a[-1]) for a in arrays)

for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    step()
print(host_memory.caching(), (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 50)
"""


def _faults_per_step(**environ):
    import os
    import subprocess
    env = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", "MALLOC_TRIM_THRESHOLD_",
                                                           "MALLOC_MMAP_THRESHOLD_", "AUTODIFF_CPU_CACHING")}
    env.update(environ)
    out = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0] == "True", float(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc thresholds (Linux)")
def test_freed_host_memory_is_kept_so_a_step_does_not_fault_its_arrays_in_again():
    kept, faults = _faults_per_step()
    assert kept
    assert faults < 20, faults                  # 0 here; glibc's default rule gave ~500 a step (2.2 MB)
    not_kept, faults_default = _faults_per_step(AUTODIFF_CPU_CACHING="0")
    assert not not_kept
    assert faults_default > 100, faults_default
    user_kept, _ = _faults_per_step(GLIBC_TUNABLES="glibc.malloc.trim_threshold=1000000")
    assert not user_kept                        # the user's own malloc settings win


def test_keep_freed_memory_runs_once_and_respects_the_opt_out():
    from autodiff.backends import host_memory
    first = host_memory.keep_freed_memory()
    assert host_memory.keep_freed_memory({"AUTODIFF_CPU_CACHING": "0"}) is first   # decided once
    assert host_memory.caching() is bool(first)
    assert host_memory._user_tunes_malloc({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=1"})
    assert host_memory._user_tunes_malloc({"MALLOC_TRIM_THRESHOLD_": "1"})
    assert not host_memory._user_tunes_malloc({"GLIBC_TUNABLES": "glibc.rtld.nns=2"})
