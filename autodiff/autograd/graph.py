"""Hooks on the values a node saves for backward, as PyTorch's ``torch.autograd.graph``.

Inside ``saved_tensors_hooks(pack_hook, unpack_hook)`` each tensor a new node saves
(an input or its output) is handed to ``pack_hook`` and the node keeps only what it
returns; backward calls ``unpack_hook`` on that to get a tensor back. ``save_on_cpu``
is the pair that keeps a host copy. The in-place check still holds: the node keeps
the saved tensor's version counter and its version at the time it was saved, and
raises PyTorch's error if the tensor was changed in place since, whatever the hooks
did with the values.

Hooks are per thread. While no thread uses any, saving costs one attribute read.
"""
import threading

from .grad_mode import _state as _grad_state
from .tensor_base import TensorBase

threads_with_hooks = 0     # how many threads have hooks on (saving checks only this)
_count_lock = threading.Lock()


class _Stack(threading.local):
    def __init__(self):
        self.hooks = []


_stack = _Stack()


class saved_tensors_hooks:
    """Context manager: pack and unpack every tensor saved for backward inside it."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        global threads_with_hooks
        if not _stack.hooks:
            with _count_lock:
                threads_with_hooks += 1
        _stack.hooks.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        global threads_with_hooks
        _stack.hooks.pop()
        if not _stack.hooks:
            with _count_lock:
                threads_with_hooks -= 1
        return False


class save_on_cpu(saved_tensors_hooks):
    """Keep saved tensors as host copies; backward moves them back to their device."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(tensor):
            return tensor.device, TensorBase._plain_class._wrap(_host_copy(tensor._data))

        def unpack(packed):
            device, host = packed
            return host if device == host.device else host.to(device)

        super().__init__(pack, unpack)


def _host_copy(data):
    get = getattr(data, "get", None)        # a device array copies itself to the host
    return get() if get is not None and not hasattr(data, "__array_interface__") else data.copy()


class PackedSaved(tuple):
    """A node's saved values after packing: entries are ``_Packed`` or constants."""


class _Packed:
    __slots__ = ("packed", "unpack_hook", "cell", "version", "shape", "is_output")

    def __init__(self, packed, unpack_hook, cell, version, shape, is_output):
        self.packed, self.unpack_hook, self.cell = packed, unpack_hook, cell
        self.version, self.shape, self.is_output = version, shape, is_output


def pack(node):
    """Replace ``node._saved`` by what the innermost hooks make of each saved tensor."""
    hooks = _stack.hooks
    if not hooks:
        return
    pack_hook, unpack_hook = hooks[-1]
    expected = node._saved_version
    output = getattr(node, "_output", None)
    entries = []
    for k, value in enumerate(node._saved):
        if isinstance(value, TensorBase):
            cell = value._version_cell()     # (the counter must outlive the tensor)
            version, is_output = expected and expected[k], False
        elif output is not None and value is output:
            cell, version, is_output = [0], 0, True
            node._output_version = cell      # (handed to the output tensor by _record)
            value = TensorBase._plain_class._wrap(value)
            value._version_counter = cell
        else:
            entries.append(value)            # a constant (a number, an integer index array)
            continue
        entries.append(_Packed(pack_hook(value), unpack_hook, cell, version,
                               tuple(value._data.shape), is_output))
    node._saved = PackedSaved(entries)
    node._output = None                      # (only the packed form is kept)
    node._changes_at_save = -1                         # (saved_tensors then always takes the slow road)


def unpack(node, on_arrays, inplace_error):
    """The saved values, each unpacked and checked against its version counter."""
    recording = _grad_state.enabled          # (in backward: only under create_graph)
    values = []
    for entry in node._saved:
        if type(entry) is not _Packed:
            values.append(entry)
            continue
        if entry.cell[0] != entry.version:
            raise inplace_error(node, _Shape(entry.shape), entry.cell[0], entry.version,
                                "output 0 of " + node.name() if entry.is_output else "a tensor")
        value = entry.unpack_hook(entry.packed)
        if not isinstance(value, TensorBase):
            raise TypeError(f"{node.name()}: unpack_hook must return a Tensor, got "
                            f"{type(value).__name__}")
        if tuple(value._data.shape) != entry.shape:
            raise RuntimeError(f"{node.name()}: unpack_hook returned a tensor of shape "
                               f"{tuple(value._data.shape)}; the saved tensor had shape "
                               f"{entry.shape}")
        if on_arrays:
            values.append(value._data)
        elif recording:
            raise RuntimeError(
                f"{node.name()}: create_graph=True is not supported for values saved under "
                "saved_tensors_hooks (the unpacked tensors are outside the graph); run the "
                "forward without the hooks to differentiate twice")
        else:
            values.append(value)
    return tuple(values)


class _Shape:
    """Stands in for a saved tensor in the in-place error (only its shape is named)."""

    def __init__(self, shape):
        self.shape = shape
