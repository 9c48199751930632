"""Anomaly detection, as PyTorch's ``torch.autograd.detect_anomaly``.

While it is on (per thread, like grad mode), each recorded node keeps the stack
of the forward call that made it; a backward that produces nan (``check_nan``)
in a node's gradient raises an error naming the node and the input it was
computing, and prints the forward traceback of the line that made the node.
An error raised inside a node's backward gets the same traceback as a note.

Off, it costs nothing per op: recording reads one module attribute
(``threads_on``, how many threads have it on) and nothing else.
"""
import threading
import traceback
import warnings

import numpy as np

threads_on = 0            # how many threads have anomaly mode on (recording checks only this)
_count_lock = threading.Lock()


class _AnomalyState(threading.local):
    enabled = False
    check_nan = True


_state = _AnomalyState()


def _set(enabled, check_nan):
    global threads_on
    enabled = bool(enabled)
    if enabled != _state.enabled:
        with _count_lock:
            threads_on += 1 if enabled else -1
    _state.enabled = enabled
    _state.check_nan = bool(check_nan)


def is_anomaly_enabled():
    """True when anomaly detection is on in this thread."""
    return _state.enabled


def is_anomaly_check_nan_enabled():
    return _state.check_nan


class set_detect_anomaly:
    """Turn anomaly detection on or off: as a call, or as a context manager that restores
    the previous mode on exit."""

    def __init__(self, mode, check_nan=True):
        self.prev = (_state.enabled, _state.check_nan)
        _set(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(*self.prev)
        return False


class detect_anomaly:
    """Context manager (or decorator) with anomaly detection on inside."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self.prev = (_state.enabled, _state.check_nan)
        _set(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        _set(*self.prev)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


def note_forward_trace(node):
    """Keep the forward stack on ``node`` (called by recording while some thread has it on)."""
    if _state.enabled:
        node.__dict__["_forward_trace"] = traceback.format_stack()[:-3]


def enabled_here():
    """Whether backward in this thread checks its nodes (read once per backward pass)."""
    return threads_on and _state.enabled


def checked_propagate(vertex, grad, retain_graph):
    """``vertex._propagate`` under anomaly mode: the forward trace on error, and nan checks."""
    try:
        grads = vertex._propagate(grad, retain_graph)
    except Exception as exc:
        trace = _forward_trace(vertex)
        if trace:
            _warn_trace(vertex, trace)
            exc.add_note(f"Traceback of the forward call that made {_name(vertex)}:\n{trace}")
        raise
    if _state.check_nan:
        for i, g in enumerate(grads):
            if g is not None and _has_nan(g):
                trace = _forward_trace(vertex)
                if trace:
                    _warn_trace(vertex, trace)
                shape = tuple(np.shape(getattr(g, "_data", g)))
                raise RuntimeError(
                    f"Function '{_name(vertex)}' returned nan values in its {i}th output (the "
                    f"gradient of shape {shape} for its input {i})."
                    + (f"\nTraceback of the forward call that made it:\n{trace}" if trace else
                       " (made before anomaly mode was on: no forward traceback)"))
    return grads


def _name(vertex):
    name = getattr(vertex, "name", None)
    return name() if callable(name) else type(vertex).__name__


def _forward_trace(vertex):
    lines = getattr(vertex, "__dict__", {}).get("_forward_trace")
    return "".join(lines) if lines else ""


def _warn_trace(vertex, trace):
    warnings.warn(f"Error detected in {_name(vertex)}. Traceback of forward call that caused the "
                  f"error:\n{trace}", RuntimeWarning, stacklevel=3)


def _has_nan(grad):
    data = getattr(grad, "_data", grad)
    try:
        return bool(np.isnan(data).any())
    except TypeError:
        return False
