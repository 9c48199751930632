"""Optimizer behaviour that needs no PyTorch: hand-computed steps, groups, errors, zero_grad."""
import math

import numpy as np
import pytest

import autodiff
from autodiff import optim


def _param(values, dtype=autodiff.float64):
    return autodiff.tensor(values, dtype=dtype, requires_grad=True)


def _set_grad(p, values):
    p.grad = autodiff.tensor(values, dtype=p.dtype)


def test_sgd_momentum_two_steps_by_hand():
    p = _param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    _set_grad(p, [0.5, -1.0])
    opt.step()                       # buf = g; p = p - 0.1 g
    np.testing.assert_allclose(p.detach().numpy(), [0.95, 2.1], rtol=1e-15)
    _set_grad(p, [1.0, 1.0])
    opt.step()                       # buf = 0.9 [0.5, -1] + [1, 1] = [1.45, 0.1]
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), [1.45, 0.1], rtol=1e-15)
    np.testing.assert_allclose(p.detach().numpy(), [0.805, 2.09], rtol=1e-15)


def test_sgd_nesterov_and_weight_decay_by_hand():
    p = _param([1.0])
    opt = optim.SGD([p], lr=0.5, momentum=0.5, nesterov=True, weight_decay=0.1)
    _set_grad(p, [1.0])
    opt.step()        # g = 1 + 0.1 = 1.1; buf = 1.1; g = 1.1 + 0.5 * 1.1 = 1.65; p = 1 - 0.825
    np.testing.assert_allclose(p.detach().numpy(), [0.175], rtol=1e-15)


def test_adam_first_step_by_hand():
    p = _param([1.0, -2.0])
    opt = optim.Adam([p], lr=0.1)
    _set_grad(p, [0.5, -4.0])
    opt.step()
    # m = 0.1 g, v = 0.001 g^2; bias-corrected: m_hat = g, v_hat = g^2 -> step lr g / (|g| + eps)
    expected = [1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 4.0 / (4.0 + 1e-8)]
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-12)
    st = opt.state[p]
    assert st["step"] == 1
    np.testing.assert_allclose(st["exp_avg"].numpy(), [0.05, -0.4], rtol=1e-12)
    np.testing.assert_allclose(st["exp_avg_sq"].numpy(), [0.00025, 0.016], rtol=1e-12)


def test_adam_second_step_by_hand():
    p = _param([0.0])
    opt = optim.Adam([p], lr=0.01, betas=(0.5, 0.75), eps=0.0)
    _set_grad(p, [2.0])
    opt.step()
    _set_grad(p, [1.0])
    opt.step()
    m = 0.5 * (0.5 * 2.0) + 0.5 * 1.0               # 1.0
    v = 0.75 * (0.25 * 4.0) + 0.25 * 1.0            # 1.0
    m_hat, v_hat = m / (1 - 0.25), v / (1 - 0.75 ** 2)
    expected = -0.01 - 0.01 * m_hat / math.sqrt(v_hat)
    np.testing.assert_allclose(p.detach().numpy(), [expected], rtol=1e-12)


def test_adamw_decays_the_weights_before_the_step():
    p, q = _param([3.0]), _param([3.0])
    adamw = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    adam = optim.Adam([q], lr=0.1, weight_decay=0.5)
    _set_grad(p, [1.0])
    _set_grad(q, [1.0])
    adamw.step()
    adam.step()
    # AdamW: 3 * (1 - 0.05) - 0.1 * 1 / (1 + eps); Adam folds 0.5 * 3 into the gradient instead
    np.testing.assert_allclose(p.detach().numpy(), [2.85 - 0.1 / (1 + 1e-8)], rtol=1e-12)
    np.testing.assert_allclose(q.detach().numpy(), [3.0 - 0.1 * 2.5 / (2.5 + 1e-8)], rtol=1e-12)


def test_adagrad_and_rmsprop_first_step_by_hand():
    p, q = _param([1.0]), _param([1.0])
    ada = optim.Adagrad([p], lr=0.1, initial_accumulator_value=1.0, eps=0.0)
    rms = optim.RMSprop([q], lr=0.1, alpha=0.9, eps=0.0)
    _set_grad(p, [2.0])
    _set_grad(q, [2.0])
    ada.step()
    rms.step()
    np.testing.assert_allclose(p.detach().numpy(), [1.0 - 0.1 * 2.0 / math.sqrt(5.0)], rtol=1e-14)
    np.testing.assert_allclose(q.detach().numpy(), [1.0 - 0.1 * 2.0 / math.sqrt(0.4)], rtol=1e-14)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: optim.Adagrad(ps, weight_decay=0.01),
    lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True, weight_decay=0.01),
    lambda ps: optim.Adam(ps, amsgrad=True, weight_decay=0.01),
    lambda ps: optim.AdamW(ps),
])
def test_float32_stays_float32_and_none_grads_are_skipped(make):
    p = _param([[1.0, 2.0], [3.0, 4.0]], autodiff.float32)
    frozen = _param([5.0, 6.0], autodiff.float32)
    opt = make([p, frozen])
    for _ in range(3):
        _set_grad(p, [[0.1, -0.2], [0.3, -0.4]])
        opt.step()
    assert p.dtype == np.float32 and p.grad.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, autodiff.Tensor))
    assert not np.allclose(p.detach().numpy(), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(frozen.detach().numpy(), [5.0, 6.0])
    assert type(opt).__name__ == "Adagrad" or frozen not in opt.state


def test_step_changes_parameters_in_place_and_bumps_their_version():
    p = _param([1.0, 2.0])
    data = p._data
    y = (p * p).sum()                       # the graph saved p at version 0
    y.backward(retain_graph=True)
    opt = optim.SGD([p], lr=0.1)
    opt.step()
    assert p._data is data                  # same array, new values
    np.testing.assert_allclose(data, [0.8, 1.6])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_zero_grad():
    p = _param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)
    (p * 3.0).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_step_with_closure_returns_the_loss():
    p = _param([3.0])
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with autodiff.no_grad():                # the closure still records its graph
        loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(p.detach().numpy(), [1.5])


def test_param_groups_defaults_and_add_param_group():
    a, b, c = _param([1.0]), _param([2.0]), _param([3.0])
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [b] or opt.param_groups[1]["params"][0] is b
    assert opt.param_groups[1]["momentum"] == 0.9
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    for p in (a, b, c):
        _set_grad(p, [1.0])
    opt.step()
    np.testing.assert_allclose([a.item(), b.item(), c.item()], [0.9, 1.5, 2.9])
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1], [2]]
    assert sorted(sd["state"]) == [0, 1]            # c has no momentum buffer
    assert "Parameter Group 1" in repr(opt) and "lr: 0.5" in repr(opt)


def test_load_state_dict_checks_the_groups():
    a, b = _param([1.0]), _param([2.0])
    opt = optim.Adam([a, b])
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict(optim.Adam([{"params": [a]}, {"params": [b]}]).state_dict())
    with pytest.raises(ValueError, match="group 0 has 1 parameters"):
        opt.load_state_dict(optim.Adam([a]).state_dict())


@pytest.mark.parametrize("build,error,pattern", [
    (lambda p: optim.SGD([], lr=0.1), ValueError, "SGD: got an empty parameter list"),
    (lambda p: optim.Adam(iter([])), ValueError, "Adam: got an empty parameter list"),
    (lambda p: optim.SGD([p, 3.0], lr=0.1), TypeError, "SGD: can only optimize Tensors.*float"),
    (lambda p: optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1), ValueError,
     "more than one parameter group"),
    (lambda p: optim.SGD([p, p], lr=0.1), ValueError, "same parameter twice"),
    (lambda p: optim.SGD({p}, lr=0.1), TypeError, "ordered collection"),
    (lambda p: optim.SGD(p, lr=0.1), TypeError, "single Tensor"),
    (lambda p: optim.SGD([p * 2], lr=0.1), ValueError, "non-leaf"),
    (lambda p: optim.SGD([p], lr=-0.1), ValueError, r"SGD: invalid learning rate: -0.1"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=-0.5), ValueError, "SGD: invalid momentum value: -0.5"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), ValueError, "SGD: Nesterov"),
    (lambda p: optim.SGD([{"params": [p], "lr": -1.0}], lr=0.1), ValueError, "invalid learning rate: -1.0"),
    (lambda p: optim.Adam([p], betas=(0.9, 1.0)), ValueError, "Adam: invalid beta parameter at index 1: 1.0"),
    (lambda p: optim.AdamW([p], betas=(-0.1, 0.9)), ValueError, "AdamW: invalid beta parameter at index 0"),
    (lambda p: optim.Adam([p], betas=0.9), ValueError, "Adam: betas must be a pair"),
    (lambda p: optim.Adam([p], eps=-1e-8), ValueError, "Adam: invalid epsilon value: -1e-08"),
    (lambda p: optim.RMSprop([p], alpha=-0.9), ValueError, "RMSprop: invalid alpha value"),
    (lambda p: optim.Adagrad([p], lr_decay=-1.0), ValueError, "Adagrad: invalid lr_decay"),
    (lambda p: optim.Adagrad([p], weight_decay=-1.0), ValueError, "Adagrad: invalid weight_decay"),
    (lambda p: optim.SGD([p], lr="fast"), TypeError, "SGD: lr must be a number"),
])
def test_clear_errors(build, error, pattern):
    p = _param([1.0])
    with pytest.raises(error, match=pattern):
        build(p)
