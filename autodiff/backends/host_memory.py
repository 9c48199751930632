"""Keep freed host memory in the process, so that a training step's arrays are not page-faulted in
again every step (the CPU counterpart of ``autodiff.cuda.memory``'s caching allocator).

numpy takes its arrays from glibc's malloc. By glibc's default rule, a block over 128 KiB is a
fresh ``mmap`` until one that size has been freed, and a heap whose free top exceeds twice the
largest block freed so far is trimmed back to the system. A training step allocates and frees
the same arrays every step, so each step hands megabytes back and faults them in again, one
page fault per 4 KiB (~1-2 us each on these VMs): the LSTM language-model step of
``benchmarks/bench_seq.py`` took 229 faults a step (4.68 -> 4.44 ms without them), the
character GPT 400-700 (7.9 -> 6.9 ms), measured with ``GLIBC_TUNABLES`` before this module.

``keep_freed_memory()`` (run once, when autodiff is imported) sets the two thresholds to where
glibc's own rule ends up once a 32 MiB array has been freed: blocks up to 32 MiB come from the
heap, and up to 64 MiB of freed heap stays mapped. The cost is that much memory kept by the
process after a peak. It does nothing off Linux/glibc, when the user has set glibc's malloc
tunables (``GLIBC_TUNABLES`` naming ``glibc.malloc``, ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_``: theirs win), or with ``AUTODIFF_CPU_CACHING=0`` in the environment.
"""
import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1      # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest dynamic mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX)
TRIM_THRESHOLD = 64 << 20  # twice that, as glibc's rule sets it

_state = {"applied": None}


def _user_tunes_malloc(environ):
    return ("glibc.malloc" in environ.get("GLIBC_TUNABLES", "")
            or "MALLOC_MMAP_THRESHOLD_" in environ or "MALLOC_TRIM_THRESHOLD_" in environ)


def keep_freed_memory(environ=os.environ):
    """Set glibc's mmap and trim thresholds as described above; returns whether they were set.
    Runs once per process (later calls answer the first call's result)."""
    if _state["applied"] is not None:
        return _state["applied"]
    applied = False
    if (sys.platform.startswith("linux") and environ.get("AUTODIFF_CPU_CACHING", "1") != "0"
            and not _user_tunes_malloc(environ)):
        try:
            libc = ctypes.CDLL(None)
            libc.gnu_get_libc_version        # (glibc only; musl's mallopt does nothing)
            mallopt = libc.mallopt
        except (OSError, AttributeError):
            mallopt = None
        if mallopt is not None:
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
                mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    _state["applied"] = applied
    return applied


def caching():
    """Whether freed host memory is being kept (``keep_freed_memory`` took effect)."""
    return bool(_state["applied"])
