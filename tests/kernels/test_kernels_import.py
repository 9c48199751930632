"""Importing the kernel packages is cheap: no Numba import, and no compilation until a
kernel is first called. Checked in a fresh interpreter, since this one has Numba loaded."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
import kernels, kernels.cpu, kernels.cuda
assert "numba" not in sys.modules, "importing the packages imported numba"

from kernels.cpu import *  # every public name: imports numba and the submodules
import numba
from kernels.cpu import _activations, _linear, _matmul, _softmax
dispatchers = [value for module in (_activations, _linear, _matmul, _softmax)
               for value in vars(module).values()
               if isinstance(value, numba.core.dispatcher.Dispatcher)]
assert len(dispatchers) > 20, len(dispatchers)
compiled = [d.py_func.__name__ for d in dispatchers if d.signatures]
assert not compiled, f"compiled at import: {compiled}"
print("ok")
"""


def test_import_does_not_import_numba_or_compile():
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr
