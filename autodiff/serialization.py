"""Checkpoints that cannot run code: ``autodiff.save(obj, path)`` and ``autodiff.load(path)``.

A checkpoint is a safetensors file. Every tensor and numpy array in ``obj`` is stored as
a named array; the structure around them (dicts, lists, tuples, numbers, strings, None)
is JSON in the file's metadata, next to a SHA-256 digest of the structure and the arrays.
Loading parses JSON and raw little-endian numbers only: nothing in the file is ever
executed or unpickled, so a checkpoint from a stranger cannot run code on your machine.
The digest catches damaged or edited files; it is a checksum, not a signature (whoever
edits a file can recompute it), so it says nothing about who wrote the file.

Saving is atomic: the bytes go to a temporary file in the same directory, which is
flushed to disk (fsync) and then renamed over the target (``os.replace``). A crash or an
error mid-save leaves the previous checkpoint as it was.

Tensors come back with the same dtype, shape and values, as plain tensors
(``requires_grad`` is not stored).

Whole models (``save(model, path)``, as lecture labs do) are stored without pickle too: the
class's import path (``package.module:Class``), the arguments its constructor was called
with (recorded by ``nn.Module``; plain values, dtypes, tensors and other modules), each
submodule's train/eval mode and the state dict. ``load(path, weights_only=False)`` imports
the class, builds it with those arguments and loads the state. That runs the class's code,
so, as in PyTorch 2.6+, the default ``weights_only=True`` refuses a whole model.
"""
import hashlib
import importlib
import json
import os
import sys
import tempfile

import numpy as np

from .cuda.devices import DeviceArray
from .tensor import Tensor

FORMAT = "autodiff.checkpoint"
VERSION = "1"
_MAX_HEADER = 100_000_000     # safetensors' own limit on the JSON header


class CheckpointError(ValueError):
    """The file is not a readable autodiff checkpoint (foreign, truncated or altered)."""


class WeightsOnlyError(RuntimeError):
    """``load(..., weights_only=True)`` met a whole model, which only code can rebuild."""


# ---------------------------------------------------------------------- encoding
def _encode(obj, where, arrays, in_arguments=False):
    """``obj`` as JSON-ready data; tensors and arrays go into ``arrays`` by name. A module
    becomes its class, constructor arguments and (unless it is itself an argument of a
    module, whose state dict covers it) its state."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    from .nn.module import Module
    if isinstance(obj, Module):
        return {"module": _encode_module(obj, where, arrays, with_state=not in_arguments)}
    if in_arguments and isinstance(obj, np.dtype):
        return {"dtype": obj.str}
    if isinstance(obj, Tensor):
        if isinstance(obj._data, DeviceArray):      # stored on the host, restored to the GPU
            return {"cuda_tensor": _add_array(arrays, where, obj._data.get())}
        return {"tensor": _add_array(arrays, where, obj._data)}
    if isinstance(obj, np.ndarray):
        return {"ndarray": _add_array(arrays, where, obj)}
    if isinstance(obj, np.generic):
        return {"scalar": _add_array(arrays, where, np.asarray(obj))}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not (key is None or isinstance(key, (bool, int, float, str))):
                raise TypeError(f"save: dict keys must be str, int, float, bool or None; got "
                                f"{type(key).__name__} key {key!r} in {where}")
            items.append([key, _encode(value, f"{where}[{key!r}]", arrays, in_arguments)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, f"{where}[{i}]", arrays, in_arguments) for i, v in enumerate(obj)]}
    if in_arguments:
        raise TypeError(f"save: cannot store the constructor argument {where} of type "
                        f"{type(obj).__name__}; a whole model is stored as its class and "
                        "constructor arguments, which must be numbers, strings, None, dtypes, "
                        "tensors, modules and lists/tuples/dicts of them. Save "
                        "model.state_dict() instead")
    raise TypeError(f"save: cannot store {type(obj).__name__} at {where}; a checkpoint holds "
                    "tensors, numpy arrays, numbers, strings, None, modules and dicts/lists/tuples "
                    "of them")


def _class_path(cls, where):
    qualname = cls.__qualname__
    if "<locals>" in qualname:
        raise TypeError(f"save: cannot store {where}: its class {qualname} is defined inside a "
                        "function, so load could not import it; define it at module level or "
                        "save model.state_dict() instead")
    return f"{cls.__module__}:{qualname}"


def _encode_module(module, where, arrays, with_state):
    args, kwargs = module.__dict__.get("_constructor_arguments", ((), {}))
    node = {"class": _class_path(type(module), where),
            "args": _encode(list(args), f"{where}.__init__ argument", arrays, True),
            "kwargs": _encode(dict(kwargs), f"{where}.__init__ argument", arrays, True)}
    if with_state:
        node["training"] = {name: m.training for name, m in module.named_modules()}
        if any(isinstance(t._data, DeviceArray) for _, t in module._state_items()):
            node["device"] = "cuda"
        node["state"] = _encode(module.state_dict(), f"{where}.state_dict()", arrays)
    return node


def _add_array(arrays, where, array):
    if array.dtype.kind not in "biuf":
        raise TypeError(f"save: cannot store an array of dtype {array.dtype} at {where} "
                        "(numbers and bools only)")
    name = where
    n = 1
    while name in arrays:
        n += 1
        name = f"{where}#{n}"
    native = array.dtype.newbyteorder("=")
    arrays[name] = np.asarray(array, dtype=native, order="C")   # keeps 0-d arrays 0-d
    return name


def _digest(structure, arrays):
    h = hashlib.sha256()
    h.update(structure.encode())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _decode(node, arrays, restore_cuda=False):
    if not isinstance(node, dict):
        if isinstance(node, list):
            raise ValueError("a bare JSON list in the structure")
        return node
    if len(node) != 1:
        raise ValueError(f"unexpected node {sorted(node)}")
    (kind, value), = node.items()
    if kind == "tensor":
        return Tensor._wrap(arrays[value])
    if kind == "ndarray":
        return arrays[value]
    if kind == "scalar":
        return arrays[value][()]
    if kind == "list":
        return [_decode(v, arrays, restore_cuda) for v in value]
    if kind == "tuple":
        return tuple(_decode(v, arrays, restore_cuda) for v in value)
    if kind == "dict":
        return {key: _decode(v, arrays, restore_cuda) for key, v in value}
    if kind == "cuda_tensor":
        t = Tensor._wrap(arrays[value])
        return t.to(_cuda_device()) if restore_cuda else t
    if kind == "dtype":
        return np.dtype(value)
    if kind == "module":
        return _build_module(value, arrays, restore_cuda)
    raise ValueError(f"unknown node kind {kind!r}")


def _import_class(path):
    from .nn.module import Module
    module_name, _, qualname = path.partition(":")
    try:
        cls = sys.modules.get(module_name) or importlib.import_module(module_name)
        for part in qualname.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError) as exc:
        raise RuntimeError(f"load: cannot rebuild the saved model: class {qualname} of module "
                           f"{module_name} cannot be imported ({exc}); import or define it "
                           "before loading") from None
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise RuntimeError(f"load: {path} is not an nn.Module class")
    return cls


def _build_module(node, arrays, restore_cuda):
    """Build the saved class with its arguments on the CPU, load its state, then move it to
    the GPU when it was saved from one (and map_location does not say otherwise)."""
    cls = _import_class(node["class"])
    model = cls(*_decode(node["args"], arrays), **_decode(node["kwargs"], arrays))
    if "state" in node:
        model.load_state_dict(_decode(node["state"], arrays))
        modes = node["training"]
        for name, m in model.named_modules():
            if name in modes:
                m.__dict__["training"] = bool(modes[name])
        if restore_cuda and node.get("device") == "cuda":
            model = model.to(_cuda_device())
    return model


def _cuda_device():
    from .cuda import devices
    try:
        return devices.canonical("cuda")
    except RuntimeError as exc:
        raise RuntimeError(f"load: the checkpoint holds tensors saved from a CUDA device, and none "
                           f"is available ({exc}); on a CPU-only machine load it with "
                           "map_location='cpu'") from None


def _whole_models(node, found):
    """The class paths of the whole models stored in a decoded-JSON structure."""
    if isinstance(node, dict):
        if "module" in node and len(node) == 1 and isinstance(node["module"], dict):
            found.append(node["module"].get("class"))
            return found
        for value in node.values():
            _whole_models(value, found)
    elif isinstance(node, list):
        for value in node:
            _whole_models(value, found)
    return found


# ---------------------------------------------------------------------- save
def save(obj, f):
    """Write ``obj`` (a state dict, or nested dicts/lists/tuples of tensors, arrays,
    numbers, strings and None) to the path ``f`` atomically, or to a binary file object."""
    from safetensors.numpy import save as to_bytes

    arrays = {}
    structure = json.dumps(_encode(obj, "obj", arrays), separators=(",", ":"))
    metadata = {"format": FORMAT, "version": VERSION, "structure": structure,
                "sha256": _digest(structure, arrays)}
    payload = to_bytes(arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(payload)
        return
    _atomic_write(os.fspath(f), payload)


def _atomic_write(path, payload):
    directory = os.path.dirname(os.path.abspath(path))
    mode = _file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:                                   # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _file_mode(path):
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# ---------------------------------------------------------------------- load
def load(f, map_location=None, weights_only=True, mmap=None, **kwargs):
    """Read a checkpoint written by ``save`` (a path or a binary file object).

    ``map_location``: where the tensors go ('cpu', 'cuda', a device; a dict or a function,
    as PyTorch takes, loads on the CPU). ``weights_only=True`` (the default, as in PyTorch
    2.6+) loads tensors and containers only; a whole model needs ``weights_only=False``.
    ``mmap`` is accepted and ignored.

    Raises ``CheckpointError`` (a ValueError) naming the file when it is not an autodiff
    checkpoint, is truncated, or was altered after saving."""
    if not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only must be True or False, got {weights_only!r}")
    if kwargs:
        raise TypeError(f"load: unexpected keyword argument(s) {sorted(kwargs)} (autodiff "
                        "checkpoints are not pickles: pickle_module and its options do not apply)")
    device = _map_location_device(map_location)
    if hasattr(f, "read"):
        name = getattr(f, "name", repr(f))
        data = f.read()
    else:
        name = os.fspath(f)
        with open(name, "rb") as stream:
            data = stream.read()
    result = _load_bytes(data, name, weights_only, restore_cuda=map_location is None)
    return result if device is None else _to_device(result, device)


def _map_location_device(map_location):
    from .cuda import devices
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        return None
    if isinstance(map_location, (str, devices.device)):
        target = devices.canonical(map_location)
        return None if target == devices.CPU else target
    raise TypeError(f"load: map_location must be a device, a string, a dict or a function, got "
                    f"{type(map_location).__name__}")


def _to_device(obj, device):
    from .nn.module import Module
    if isinstance(obj, (Tensor, Module)):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device) for v in obj)
    return obj


def _fail(name, why):
    return CheckpointError(f"load: {name} {why}")


def _foreign(name, data):
    """The error for a file that has no safetensors header: say what it looks like."""
    if data[:2] == b"PK":
        return _fail(name, "is a zip archive (a torch.save or np.savez file?), not an autodiff "
                           "checkpoint; autodiff.load never unpickles")
    if data[:1] == b"\x80" or data[:1] in (b"(", b"]", b"}") and data[-1:] == b".":
        return _fail(name, "looks like a pickle file, not an autodiff checkpoint; autodiff.load "
                           "never unpickles (pickles can run code)")
    return _fail(name, f"is truncated or not an autodiff checkpoint ({len(data)} bytes, no "
                       "valid safetensors header)")


def _load_bytes(data, name, weights_only=True, restore_cuda=False):
    from safetensors import SafetensorError
    from safetensors.numpy import load as from_bytes

    if len(data) < 8:
        raise _foreign(name, data)
    size = int.from_bytes(data[:8], "little")
    if size > _MAX_HEADER or 8 + size > len(data):
        raise _foreign(name, data)
    try:
        header = json.loads(data[8:8 + size])
        metadata = header.get("__metadata__") or {}
    except (ValueError, AttributeError, RecursionError):
        raise _foreign(name, data) from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("structure"), str):
        metadata = {}
    if metadata.get("format") != FORMAT:
        raise _fail(name, "is a safetensors file without autodiff's structure metadata, not a "
                          "checkpoint written by autodiff.save")
    if metadata.get("version") != VERSION:
        raise _fail(name, f"has checkpoint version {metadata.get('version')!r}; this autodiff "
                          f"reads version {VERSION}")
    try:
        arrays = from_bytes(data)
    except (SafetensorError, ValueError, TypeError) as exc:
        raise _fail(name, f"is truncated or damaged ({exc})") from None
    structure = metadata["structure"]
    if _digest(structure, arrays) != metadata.get("sha256"):
        raise _fail(name, "was altered or damaged after it was saved (its SHA-256 digest does "
                          "not match its contents)")
    arrays = {k: np.array(v, copy=True) for k, v in arrays.items()}   # writable, owned
    try:
        tree = json.loads(structure)
    except (ValueError, RecursionError) as exc:
        raise _fail(name, f"has a malformed structure ({type(exc).__name__}: {exc})") from None
    models = _whole_models(tree, [])
    if models and weights_only:
        raise WeightsOnlyError(
            f"load: {name} holds a whole model ({', '.join(map(str, models))}); rebuilding it "
            "imports that class and runs its constructor, which weights_only=True (the default) "
            "does not allow. If you trust the file, load it with weights_only=False; or save "
            "model.state_dict() instead and load that into a model you build yourself")
    if models:    # (the digest matched: errors now come from the model's own code)
        return _decode(tree, arrays, restore_cuda)
    try:
        return _decode(tree, arrays, restore_cuda)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise _fail(name, f"has a malformed structure ({type(exc).__name__}: {exc})") from None
