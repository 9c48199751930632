"""The CNN benchmarks' code paths (no timings): bench_cnn's steps train alike in both
libraries, and the GPU script's CPU-only smoke run completes."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_cnn  # noqa: E402

import autodiff  # noqa: E402


@pytest.mark.parametrize("index", range(len(bench_cnn.CASES)))
def test_bench_cnn_steps_match_pytorch(index):
    torch = pytest.importorskip("torch")
    case = bench_cnn.CASES[list(bench_cnn.CASES)[index]]
    case = dict(case, batch=4)
    ours, theirs = bench_cnn.make_step(autodiff, case), bench_cnn.make_step(torch, case)
    for _ in range(2):
        np.testing.assert_allclose(float(ours().item()), float(theirs().item()), rtol=1e-4)


def test_gpu_script_cpu_smoke_run():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu" / "lenet_cuda.py"), "--device", "cpu",
                             "--steps", "1", "--repeats", "1", "--batch", "8", "--timeout", "300"],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "autodiff" in result.stdout and "ms/step" in result.stdout, result.stdout
