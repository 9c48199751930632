"""Helpers for tests that start MPI jobs: each job runs ``python -m autodiff.distributed.run``
(the project's launcher, over the mpiexec of this environment) with a timeout, so a hang
fails the test instead of the suite. Skipped when mpi4py is not installed."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mpi4py", reason="the distributed extra (mpi4py, mpich) is not installed")

ROOT = Path(__file__).resolve().parents[2]
RANKS = Path(__file__).with_name("ranks")


def launch(script, *args, n=2, timeout=60, env=None, cwd=None):
    """Run ``script`` (a path, or a name in tests/distributed/ranks) on ``n`` ranks."""
    script = Path(script) if os.path.isabs(str(script)) else RANKS / script
    environment = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   **(env or {})}
    command = [sys.executable, "-m", "autodiff.distributed.run", "-n", str(n), str(script),
               *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=environment, cwd=cwd or ROOT)


def output(result):
    return f"exit status {result.returncode}\n--- stdout\n{result.stdout[-6000:]}\n--- stderr\n" \
           f"{result.stderr[-6000:]}"
