"""nn.init: fans, gains, and the statistics of every initialiser on a large tensor."""
import math

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
from autodiff.nn import init

SHAPE = (400, 500)          # fan_out 400, fan_in 500: 200,000 samples


def big(shape=SHAPE):
    return nn.Parameter(ad.zeros(*shape))


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01 ** 2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)   # Linear's default
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_calculate_gain_matches_pytorch(torch):
    for name, param in [("linear", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                        ("leaky_relu", 0.3), ("selu", None)]:
        assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


def test_fans():
    assert init._calculate_fan_in_and_fan_out(ad.zeros(3, 5)) == (5, 3)
    assert init._calculate_fan_in_and_fan_out(ad.zeros(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ad.zeros(5))


def test_initialisers_work_in_place_outside_the_graph():
    p = big((20, 30))
    data = p._data
    version = p._version
    for fn in [init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_,
               init.kaiming_uniform_, init.kaiming_normal_, init.zeros_, init.ones_, init.eye_,
               lambda t: init.constant_(t, 0.5)]:
        assert fn(p) is p
    assert p._data is data and p._version > version
    assert p.is_leaf and p.requires_grad and p.grad is None
    assert p.dtype == ad.float32


def test_uniform_and_normal_statistics():
    w = init.uniform_(big(), -2.0, 3.0)._data
    assert w.min() >= -2.0 and w.max() < 3.0
    assert abs(w.mean() - 0.5) < 0.02 and abs(w.std() - 5 / math.sqrt(12)) < 0.01
    w = init.normal_(big(), mean=1.0, std=0.5)._data
    assert abs(w.mean() - 1.0) < 0.005 and abs(w.std() - 0.5) < 0.005


def test_constant_zeros_ones_eye():
    assert np.all(init.constant_(big((3, 4)), 2.5)._data == 2.5)
    assert not init.zeros_(big((3, 4)))._data.any()
    assert np.all(init.ones_(big((3, 4)))._data == 1)
    np.testing.assert_array_equal(init.eye_(big((2, 3)))._data, [[1, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match="only tensors with 2 dimensions"):
        init.eye_(big((2, 2, 2)))


def test_xavier_statistics():
    fan_in, fan_out = 500, 400
    bound = 1.5 * math.sqrt(6 / (fan_in + fan_out))
    w = init.xavier_uniform_(big(), gain=1.5)._data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    std = math.sqrt(2 / (fan_in + fan_out))
    w = init.xavier_normal_(big())._data
    assert abs(w.std() - std) < 0.01 * std and abs(w.mean()) < 0.01 * std


@pytest.mark.parametrize("mode,fan", [("fan_in", 500), ("fan_out", 400)])
def test_kaiming_statistics(mode, fan):
    std = math.sqrt(2) / math.sqrt(fan)                    # relu gain
    w = init.kaiming_uniform_(big(), mode=mode, nonlinearity="relu")._data
    bound = math.sqrt(3) * std
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - std) < 0.01 * std
    w = init.kaiming_normal_(big(), mode=mode, nonlinearity="relu")._data
    assert abs(w.std() - std) < 0.01 * std and abs(w.mean()) < 0.01 * std
    w = init.kaiming_uniform_(big(), a=math.sqrt(5))._data   # Linear's default: 1/sqrt(fan_in)
    assert np.abs(w).max() <= 1 / math.sqrt(500)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(big(), mode="fan_avg")


def test_seeded_and_explicit_generators():
    ad.manual_seed(11)
    a = init.normal_(big((5, 5)))._data.copy()
    ad.manual_seed(11)
    b = init.normal_(big((5, 5)))._data.copy()
    assert np.array_equal(a, b)
    c = init.uniform_(big((5, 5)), generator=np.random.default_rng(3))._data
    d = init.uniform_(big((5, 5)), generator=np.random.default_rng(3))._data
    assert np.array_equal(c, d)


def test_zero_element_tensor_warns():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(ad.zeros(0, 3))
