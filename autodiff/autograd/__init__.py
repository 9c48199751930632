"""The graph machinery: grad modes, nodes (Function), the engine and ``grad``."""
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .function import Function  # noqa: F401
from .api import backward, grad  # noqa: F401
from .anomaly_mode import (  # noqa: F401
    detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly)
from . import graph  # noqa: F401,E402  (saved_tensors_hooks, save_on_cpu)


def __getattr__(name):
    # these need Tensor (which imports this package), so they load on first use
    if name == "Variable":
        from ..legacy import Variable
        return Variable
    if name == "functional":
        import importlib
        return importlib.import_module(".functional", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
