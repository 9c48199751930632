"""Devices without a GPU: the CPU path never imports Numba, device objects, and the errors a
CUDA request gets when no CUDA device is available (the CUDA cases themselves run on the
simulator: test_cuda_sim.py)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad

ROOT = Path(__file__).resolve().parents[2]


def test_the_cpu_path_does_not_import_numba():
    code = (
        "import sys, autodiff\n"
        "from autodiff import nn, optim\n"
        "model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to('cpu')\n"
        "opt = optim.Adam(model.parameters())\n"
        "x = autodiff.randn(5, 3, device='cpu')\n"
        "loss = nn.CrossEntropyLoss()(model(x), autodiff.tensor([0, 1, 1, 0, 1]))\n"
        "loss.backward(); opt.step()\n"
        "print(x.device, x.cpu() is x, repr(x.device), autodiff.device('cuda'))\n"
        "assert 'numba' not in sys.modules, sorted(m for m in sys.modules if 'numba' in m)[:5]\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["cpu", "True", "device(type='cpu')", "cuda"]


def test_device_objects():
    assert ad.device("cuda:0") == ad.device("cuda", 0) == "cuda:0" == ad.device("cuda")
    assert ad.device("cpu") == "cpu" and ad.device("cpu") != "cuda" and ad.device("cuda") != "cpu"
    assert str(ad.device("cuda", 0)) == "cuda:0" and repr(ad.device("cpu")) == "device(type='cpu')"
    assert ad.device(ad.device("cuda")).type == "cuda" and ad.device("cuda:0").index == 0
    assert len({ad.device("cuda"), ad.device("cuda:0")}) == 1
    assert ad.tensor([1.0]).device == ad.device("cpu") and not ad.tensor([1.0]).is_cuda
    for bad in ("gpu", "cuda:x", "cuda:"):
        with pytest.raises(RuntimeError):
            ad.device(bad)
    with pytest.raises(TypeError):
        ad.device(0)


def test_cpu_tensors_and_modules_accept_the_cpu_device():
    x = ad.ones(2, 3, device="cpu")
    assert x.to("cpu") is x and x.cpu() is x and x.to(ad.device("cpu")) is x
    assert ad.zeros_like(x, device="cpu").device == "cpu"
    assert ad.tensor([1, 2], device=ad.device("cpu")).tolist() == [1, 2]
    model = ad.nn.Linear(2, 2, device="cpu")
    assert model.to("cpu") is model and model.cpu() is model
    np.testing.assert_array_equal(np.asarray(x), np.ones((2, 3)))


@pytest.mark.skipif(ad.cuda.is_available(), reason="a CUDA device (or the simulator) is available")
def test_asking_for_cuda_without_a_device_says_what_to_do():
    assert ad.cuda.device_count() == 0
    for make in (lambda: ad.ones(2).to("cuda"), lambda: ad.ones(2).cuda(),
                 lambda: ad.zeros(2, device="cuda"), lambda: ad.tensor([1.0], device="cuda"),
                 lambda: ad.nn.Linear(2, 2).cuda()):
        with pytest.raises(RuntimeError, match="'cuda(:0)?' is not available.*NUMBA_ENABLE_CUDASIM"):
            make()
