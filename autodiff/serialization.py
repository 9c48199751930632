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
"""
import hashlib
import json
import os
import tempfile

import numpy as np

from .tensor import Tensor

FORMAT = "autodiff.checkpoint"
VERSION = "1"
_MAX_HEADER = 100_000_000     # safetensors' own limit on the JSON header


class CheckpointError(ValueError):
    """The file is not a readable autodiff checkpoint (foreign, truncated or altered)."""


# ---------------------------------------------------------------------- encoding
def _encode(obj, where, arrays):
    """``obj`` as JSON-ready data; tensors and arrays go into ``arrays`` by name."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, Tensor):
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
            items.append([key, _encode(value, f"{where}[{key!r}]", arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, f"{where}[{i}]", arrays) for i, v in enumerate(obj)]}
    raise TypeError(f"save: cannot store {type(obj).__name__} at {where}; a checkpoint holds "
                    "tensors, numpy arrays, numbers, strings, None and dicts/lists/tuples of them")


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


def _decode(node, arrays):
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
        return [_decode(v, arrays) for v in value]
    if kind == "tuple":
        return tuple(_decode(v, arrays) for v in value)
    if kind == "dict":
        return {key: _decode(v, arrays) for key, v in value}
    raise ValueError(f"unknown node kind {kind!r}")


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
def load(f, map_location=None):
    """Read a checkpoint written by ``save`` (a path or a binary file object).

    Raises ``CheckpointError`` (a ValueError) naming the file when it is not an autodiff
    checkpoint, is truncated, or was altered after saving."""
    if map_location not in (None, "cpu"):
        raise ValueError(f"load: map_location={map_location!r}: only 'cpu' is available")
    if hasattr(f, "read"):
        name = getattr(f, "name", repr(f))
        data = f.read()
    else:
        name = os.fspath(f)
        with open(name, "rb") as stream:
            data = stream.read()
    return _load_bytes(data, name)


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


def _load_bytes(data, name):
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
        return _decode(json.loads(structure), arrays)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise _fail(name, f"has a malformed structure ({type(exc).__name__}: {exc})") from None
