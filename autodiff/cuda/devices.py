"""Devices: where a tensor's values live, and moving them between devices.

This module imports numpy only. Everything that needs Numba (``autodiff.cuda.array``,
its kernels) is imported on the first use of a CUDA device, so ``import autodiff`` and
all-CPU work never import Numba.

- ``device``: PyTorch's device type: ``device('cuda')``, ``device('cpu')``, ``device('cuda', 0)``.
- ``DeviceArray``: the base class of arrays that live off the host (``CudaArray``); the
  core checks ``isinstance(x, DeviceArray)`` without importing any device machinery.
- ``as_array(x)``: what an op returned, as an array: numpy scalars become 0-d arrays
  (``np.asarray``), device arrays stay where they are (``np.asarray`` would copy them to
  the host).
- ``move(array, device)``: the array on another device (a copy), or the array itself.
"""
import numpy as np


class device:
    """A device: ``device('cpu')``, ``device('cuda')`` (``'cuda:0'``), as ``torch.device``.

    Compares equal to another device or a device string of the same type and index; a
    device without an index matches any index, so a tensor's device ``cuda:0`` equals
    ``'cuda'`` (PyTorch would say False) as well as ``'cuda:0'``.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            self.type = type.type
            self.index = type.index if index is None else int(index)
            return
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cuda' or 'cpu', got {type!r}")
        kind, colon, number = type.strip().partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        if colon:
            if index is not None:
                raise RuntimeError(f"device: type {type!r} already names an index; got index={index}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(number)
        self.type = kind
        self.index = None if index is None else int(index)

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (
            self.index == other.index or self.index is None or other.index is None)

    def __hash__(self):
        return hash(self.type)


CPU = device("cpu")
CUDA0 = device("cuda", 0)


class DeviceArray:
    """Base class of arrays that live on an accelerator (``autodiff.cuda.CudaArray``)."""

    __slots__ = ()
    device = None   # the device the values live on, set by each subclass


class DeviceMismatchError(RuntimeError):
    """Operands of one operation live on different devices."""


def mismatch(first, second):
    return DeviceMismatchError(f"expected all tensors on the same device, got {first} and {second}")


def as_array(x):
    """An op's result as an array: numpy scalars become 0-d arrays, device arrays stay put."""
    return x if isinstance(x, DeviceArray) else np.asarray(x)


def device_of(array):
    """The device of an array (numpy arrays and numbers: the CPU)."""
    return array.device if isinstance(array, DeviceArray) else CPU


def canonical(dev):
    """``dev`` (a device, a string or None) as a device with an index for CUDA: 'cuda' -> cuda:0.

    Raises RuntimeError for a CUDA device when none is available, naming the fix.
    """
    if dev is None:
        return CPU
    dev = dev if isinstance(dev, device) else device(dev)
    if dev.type == "cpu":
        return CPU
    from . import _require
    _require(str(dev))
    if dev.index not in (None, 0):
        raise RuntimeError(f"device {dev} is not available: autodiff runs on one GPU, cuda:0")
    return CUDA0


def move(array, dev):
    """``array`` on device ``dev`` (a canonical device): a copy, or ``array`` itself if it is there."""
    if dev.type == "cpu":
        return array.get() if isinstance(array, DeviceArray) else array
    if isinstance(array, DeviceArray):
        if array.device == dev:
            return array
        raise RuntimeError(f"to: moving arrays between {array.device} and {dev} is not supported")
    from .array import CudaArray
    return CudaArray.from_host(np.asarray(array))


def like(array, proto):
    """``array`` (host or device) on the device of ``proto`` (a copy if it had to move)."""
    return move(array, device_of(proto))


# What the CUDA device did: kernels launched, copies between host and device, and device memory
# requests (new allocations, or blocks the caching allocator handed out again), counted where
# they happen (autodiff.cuda._kernels.launch and kernels.cuda's launches, CudaArray's copies,
# autodiff.cuda.memory), so that tests and benchmarks can see what a training step costs in
# launches and host syncs.
_STATS = {"launches": 0, "host_to_device": 0, "device_to_host": 0, "allocations": 0,
          "cache_hits": 0}


def count(event, n=1):
    _STATS[event] += n


def stats(reset=False):
    """A copy of the counters (``launches``, ``host_to_device``, ``device_to_host``,
    ``allocations``, ``cache_hits``); with ``reset=True`` they start again from zero."""
    snapshot = dict(_STATS)
    if reset:
        for key in _STATS:
            _STATS[key] = 0
    return snapshot
