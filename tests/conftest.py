"""Shared test setup: hypothesis profiles (CI runs fewer examples, no deadlines), one BLAS thread."""
import os

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
