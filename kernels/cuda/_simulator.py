"""A fix for Numba's CUDA simulator: every thread of a block gets the same shared array.

The simulator runs each CUDA thread as a Python thread and hands out ``cuda.shared.array``
with a check-then-set, one array per source line and launch::

    res = self._allocations.get(caller)
    if res is None:
        res = np.empty(shape, dtype)            # <- a thread switch here ...
        self._allocations[caller] = res         # ... and two threads store different arrays

A thread switch between the check and the store (rare; more frequent under CPU load, when
the thread holding the GIL is descheduled and the others' switch requests pile up) gives two
threads of the block different "shared" arrays: a block reduction then adds the other
array's uninitialised values and a tiled matmul multiplies them (kernels.cuda.sum of
arange(64) gave 28 instead of 2016; the DDP-on-CUDA test's parameters came out 1e-4..1e-2
off). ``array`` below stores with ``dict.setdefault``, which is atomic under the GIL: every
thread takes the first array stored. It also finds the caller from its frame instead of
``traceback.extract_stack`` (which reads source files), so it is faster.

Installed by ``kernels.cuda._common`` on the simulator only (numba-cuda 0.30's
``FakeCUDAShared``; left alone if that class changes shape).
"""
import sys

import numpy as np
from numba.cuda import types
from numba.cuda.np import numpy_support

SIMULATOR_ARRAY = None      # the simulator's own method, kept for the test that shows the race


def array(self, shape, dtype, alignment=None):
    """``cuda.shared.array`` on the simulator: one array per source line and launch."""
    if alignment is not None or shape == 0:       # an error, or the dynamic shared memory
        return SIMULATOR_ARRAY(self, shape, dtype, alignment)
    if isinstance(dtype, types.Type):
        dtype = numpy_support.as_dtype(dtype)
    frame = sys._getframe(1)
    caller = (frame.f_code.co_filename, frame.f_lineno)
    res = self._allocations.get(caller)
    if res is None:
        res = self._allocations.setdefault(caller, np.empty(shape, dtype))
    return res


def install():
    global SIMULATOR_ARRAY
    from numba.cuda.simulator import kernelapi
    shared = getattr(kernelapi, "FakeCUDAShared", None)
    if shared is None or shared.array is array:
        return
    SIMULATOR_ARRAY = shared.array
    shared.array = array
