"""Numba's CUDA simulator gives every thread of a block the same ``cuda.shared.array`` even
when a thread switch falls between its check and its store (kernels/cuda/_simulator.py).

Not collected directly: test_shared_array_sim.py runs this file in a fresh interpreter with
NUMBA_ENABLE_CUDASIM=1. The thread switch is forced: ``np.empty`` sleeps, so every thread of
the block checks for the array before any stores one.
"""
import os
import time

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    pytest.skip("runs under the CUDA simulator (see test_shared_array_sim.py)",
                allow_module_level=True)

from numba import cuda  # noqa: E402
from numba.cuda.simulator import kernelapi  # noqa: E402

import kernels.cuda as kc  # noqa: E402
from kernels.cuda import _common, _simulator  # noqa: E402,F401  (_common installs the fix)


@pytest.fixture
def switch_during_allocation(monkeypatch):
    """Every np.empty yields the GIL for a while: the block's other threads run meanwhile."""
    empty = np.empty

    def slow_empty(*args, **kwargs):
        time.sleep(0.002)
        return empty(*args, **kwargs)
    monkeypatch.setattr(np, "empty", slow_empty)


def kernel_results():
    x = cuda.to_device(np.arange(64.0))
    a = cuda.to_device(np.arange(48.0).reshape(6, 8))
    b = cuda.to_device(np.arange(40.0).reshape(8, 5))
    return kc.sum(x).copy_to_host()[0], kc.matmul(a, b).copy_to_host()


def test_the_fix_is_installed_on_the_simulator():
    assert kernelapi.FakeCUDAShared.array is _simulator.array
    assert _simulator.SIMULATOR_ARRAY is not None and _simulator.SIMULATOR_ARRAY is not _simulator.array


def test_block_reductions_and_tiled_matmul_are_right_whatever_the_thread_switches(
        switch_during_allocation):
    total, product = kernel_results()
    assert total == 2016.0
    np.testing.assert_array_equal(product, np.arange(48.0).reshape(6, 8) @ np.arange(40.0).reshape(8, 5))


def test_the_simulators_own_shared_arrays_race_under_the_same_switches(switch_during_allocation,
                                                                       monkeypatch):
    """Without the fix the same launches go wrong (the test above forces the race it guards
    against); if this fails, Numba's simulator no longer races and _simulator.py can go."""
    monkeypatch.setattr(kernelapi.FakeCUDAShared, "array", _simulator.SIMULATOR_ARRAY)
    total, product = kernel_results()
    assert total != 2016.0
    assert not np.array_equal(product, np.arange(48.0).reshape(6, 8) @ np.arange(40.0).reshape(8, 5))
