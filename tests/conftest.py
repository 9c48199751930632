"""Shared test setup: hypothesis profiles (CI runs fewer examples, no deadlines), one BLAS thread."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# pytest -n 2 already keeps both cores busy; letting BLAS start threads of its own in each
# worker oversubscribes them (a small matmul ran 10x slower), so each worker gets one.
try:
    from threadpoolctl import threadpool_limits
    _blas_limit = threadpool_limits(limits=1)
except ImportError:
    pass


@pytest.fixture
def run_on_cuda_simulator():
    """``run(cases, timeout=600, **env)``: run the pytest file ``cases`` on Numba's CUDA
    simulator in a fresh interpreter (NUMBA_ENABLE_CUDASIM must be set before Numba is first
    imported, and this process may have imported it already), and assert that every case ran
    and passed."""
    root = Path(__file__).resolve().parents[1]

    def run(cases, timeout=600, **extra_env):
        env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", **extra_env}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
             str(cases)], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
        assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
        return result
    return run
