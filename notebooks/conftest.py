"""Notebook runs (pytest --nbmake): each kernel is a process of its own, started with this
environment, so it gets one BLAS thread, like the test workers (see tests/conftest.py).
With pytest -n 2 keeping both cores busy, BLAS threads of a kernel's own oversubscribed
them: notebook 13's GPT training ran 35x slower on a busy machine."""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# the kernels import the autodiff of this checkout (beside this folder), whatever an editable
# install elsewhere points to: a worktree's notebooks test the worktree's code
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)
