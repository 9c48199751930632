"""Anomaly detection (``autodiff.autograd.detect_anomaly``), as PyTorch's: a nan gradient names
the node and the input, and shows the forward line that made the node; off by default, per thread."""
import threading
import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff import autograd
from autodiff.autograd import anomaly_mode

pytestmark = [pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled"),
              pytest.mark.filterwarnings("ignore:divide by zero encountered"),
              pytest.mark.filterwarnings("ignore:invalid value encountered")]


def nan_in_log_backward(lib, x):
    return (x.log() * 0).sum()     # LogBackward: 0 / 0 at x = 0


def test_a_nan_gradient_names_the_node_the_input_and_the_forward_line():
    x = ad.tensor([0.0, 1.0], requires_grad=True)
    with autograd.detect_anomaly():
        loss = nan_in_log_backward(ad, x)
        with pytest.warns(RuntimeWarning, match="Error detected in LogBackward") as caught:
            with pytest.raises(RuntimeError, match=r"Function 'LogBackward' returned nan values "
                                                   r"in its 0th output") as info:
                loss.backward()
    assert "nan_in_log_backward" in str(info.value)          # the forward traceback
    assert "x.log()" in str(info.value)
    assert any("x.log()" in str(w.message) for w in caught)
    assert x.grad is None                                      # nothing was stored


def test_without_anomaly_mode_the_nan_goes_through():
    x = ad.tensor([0.0, 1.0], requires_grad=True)
    nan_in_log_backward(ad, x).backward()
    assert np.isnan(x.grad._data[0])


def test_torch_raises_for_the_same_program():
    torch = pytest.importorskip("torch")
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match=r"Function 'LogBackward0' returned nan values"):
                nan_in_log_backward(torch, x).backward()


def test_check_nan_false_only_records_traces():
    x = ad.tensor([0.0, 1.0], requires_grad=True)
    with autograd.detect_anomaly(check_nan=False):
        nan_in_log_backward(ad, x).backward()
    assert np.isnan(x.grad._data[0])


def test_an_error_in_backward_gets_the_forward_traceback_as_a_note():
    class Broken(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("broken backward")

    x = ad.tensor([1.0], requires_grad=True)
    with autograd.set_detect_anomaly(True):
        y = Broken.apply(x)
        with pytest.warns(RuntimeWarning, match="Error detected in BrokenBackward"):
            with pytest.raises(ValueError, match="broken backward") as info:
                y.sum().backward()
    assert any("Broken.apply(x)" in note for note in info.value.__notes__)


def test_set_detect_anomaly_is_a_call_and_a_context_manager_and_per_thread():
    assert not autograd.is_anomaly_enabled()
    autograd.set_detect_anomaly(True)
    try:
        assert autograd.is_anomaly_enabled() and autograd.is_anomaly_check_nan_enabled()
        seen = []
        thread = threading.Thread(target=lambda: seen.append(autograd.is_anomaly_enabled()))
        thread.start()
        thread.join()
        assert seen == [False]
        with autograd.set_detect_anomaly(False):
            assert not autograd.is_anomaly_enabled()
        assert autograd.is_anomaly_enabled()
    finally:
        autograd.set_detect_anomaly(False)
    assert not autograd.is_anomaly_enabled() and anomaly_mode.threads_on == 0


def test_off_no_trace_is_kept():
    y = ad.tensor([1.0], requires_grad=True).exp()
    assert "_forward_trace" not in y.grad_fn.__dict__
    with autograd.detect_anomaly():
        z = ad.tensor([1.0], requires_grad=True).exp()
    assert "_forward_trace" in z.grad_fn.__dict__


def test_detect_anomaly_as_a_decorator():
    @autograd.detect_anomaly()
    def inside():
        return autograd.is_anomaly_enabled()

    assert inside() and not autograd.is_anomaly_enabled()
