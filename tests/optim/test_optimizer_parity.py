"""Every optimizer and option against PyTorch's single-tensor implementation, in float64.

Both sides receive the same gradients (a numpy function of the current parameters), so
after 50 steps the parameters agree to rounding (rtol 1e-9).
"""
import numpy as np
import pytest

import autodiff
from autodiff import optim

torch = pytest.importorskip("torch")

from pytorch_parity import (assert_same as _assert_same, grad as _grad,  # noqa: E402,F401
                            initial as _initial, pair as _pair, run as _run)

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1, nesterov=True, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.5, weight_decay=0.01, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-3)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, momentum=0.5, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.4))),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.5, 0.9))),
    ("AdamW", dict(lr=0.01, weight_decay=0.05, maximize=True)),
]


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_50_steps_match_pytorch(name, options):
    ours, theirs, opt, topt = _pair(name, options)
    _run(ours, theirs, opt, topt, 50, skip=1)
    moved = max(np.abs(p.detach().numpy() - a).max() for p, a in zip(ours, _initial()))
    assert moved > 1e-3          # the test would be empty if nothing moved
    _assert_same(ours, theirs)


@pytest.mark.parametrize("name,options", [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
])
def test_param_groups_with_their_own_options(name, options):
    groups = [([0, 2], {}), ([1], {"lr": 0.002, "weight_decay": 0.3})]
    ours, theirs, opt, topt = _pair(name, options, groups)
    _run(ours, theirs, opt, topt, 50)
    _assert_same(ours, theirs)
    assert opt.param_groups[1]["lr"] == 0.002 and opt.param_groups[0]["lr"] == options["lr"]


@pytest.mark.parametrize("name,options", [c for c in CASES if c[0] in ("SGD", "Adam", "AdamW")
                                          or c[1].get("momentum") or c[1].get("centered")
                                          or c[0] == "Adagrad"][::2])
def test_state_dict_round_trip_continues_identically(name, options, tmp_path):
    ours, theirs, opt, topt = _pair(name, options)
    _run(ours, theirs, opt, topt, 20)
    path = tmp_path / "opt.safetensors"
    autodiff.save({"params": [p.detach() for p in ours], "optim": opt.state_dict()}, path)
    loaded = autodiff.load(path)
    # a fresh model and optimizer, restored from the checkpoint
    restored = [autodiff.tensor(a.numpy(), requires_grad=True) for a in loaded["params"]]
    opt2 = getattr(optim, name)(restored, lr=123.0)
    opt2.load_state_dict(loaded["optim"])
    assert opt2.param_groups[0]["lr"] == options.get("lr", opt.defaults["lr"])
    _run(ours, theirs, opt, topt, 30)          # the original goes on, next to PyTorch
    sign = -1.0 if options.get("maximize") else 1.0
    for t in range(30):
        for k, p in enumerate(restored):
            p.grad = autodiff.tensor(sign * _grad(p.detach().numpy(), k))
        opt2.step()
    _assert_same(restored, theirs)


def test_state_dict_layout_is_pytorchs():
    ours, theirs, opt, topt = _pair("Adam", dict(lr=0.01, amsgrad=True))
    _run(ours, theirs, opt, topt, 3)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"] == [0, 1, 2]
    assert sorted(sd["state"]) == sorted(tsd["state"])
    assert set(sd["state"][0]) == set(tsd["state"][0])
    assert isinstance(sd["state"][0]["exp_avg"], autodiff.Tensor)
    assert sd["state"][0]["step"].item() == tsd["state"][0]["step"].item() == 3.0
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        np.testing.assert_allclose(sd["state"][2][key].numpy(), tsd["state"][2][key].numpy(),
                                   rtol=1e-12)
    for key in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"):
        assert sd["param_groups"][0][key] == tsd["param_groups"][0][key]


def test_backward_through_a_model_then_adam_matches_pytorch():
    """End to end: gradients from each library's own backward of the same MLP loss."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    w = [rng.standard_normal((8, 3)) * 0.5, np.zeros(8), rng.standard_normal((1, 8)) * 0.5, np.zeros(1)]
    ours = [autodiff.tensor(a, requires_grad=True) for a in w]
    theirs = [torch.tensor(a, requires_grad=True) for a in w]
    opt = optim.Adam(ours, lr=0.01)
    topt = torch.optim.Adam(theirs, lr=0.01, foreach=False)
    xa, ya, xt, yt = autodiff.tensor(x), autodiff.tensor(y), torch.tensor(x), torch.tensor(y)
    for _ in range(50):
        h = (xa @ ours[0].T + ours[1]).tanh()
        loss = ((h @ ours[2].T + ours[3] - ya) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        ht = (xt @ theirs[0].T + theirs[1]).tanh()
        tloss = ((ht @ theirs[2].T + theirs[3] - yt) ** 2).mean()
        topt.zero_grad()
        tloss.backward()
        topt.step()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-9)
    _assert_same(ours, theirs)
