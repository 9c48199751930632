"""Lecture-note programs (../shared/seeds/*.txt) ported by changing the imports only.

Plots draw on matplotlib's Agg backend (no window); ``plt.show``/``plt.pause`` are no-ops there.
"""
import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    """Programs that save files ('diabetes.pt') write them in a fresh directory."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")
