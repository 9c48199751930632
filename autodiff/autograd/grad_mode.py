"""Grad modes: whether operations record the graph (thread-local, as in PyTorch)."""
import functools
import threading


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled():
    """True when new operations are being recorded for backward."""
    return _state.enabled


class set_grad_enabled:
    """Turn recording on or off; works as a function call, a context manager or a decorator."""

    def __init__(self, mode):
        self.prev = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode
        _state.enabled = self.prev  # used as a decorator: the call above must not stick

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class _GradModeContext:
    mode = True

    def __enter__(self):
        self.prev = _state.enabled
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, fn):
        cls = type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with cls():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Operations inside do not record the graph (evaluation, parameter updates)."""
    mode = False


class enable_grad(_GradModeContext):
    """Recording is on inside, even within ``no_grad``."""
    mode = True
