"""Fixtures for the nn tests: PyTorch (skipped where it is not installed) in float64."""
import pytest


@pytest.fixture
def torch():
    """PyTorch, for parity checks; the test is skipped when it cannot be imported."""
    return pytest.importorskip("torch")
