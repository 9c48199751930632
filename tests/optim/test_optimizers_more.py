"""Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD and LBFGS against PyTorch, in float64.

Both sides receive the same gradients (a numpy function of the current parameters) for
30 steps; the parameters must agree to 1e-9 relative. LBFGS runs through a closure on a
real loss (each library's own backward), with and without the strong Wolfe line search.
"""
import math

import numpy as np
import pytest

import autodiff
from autodiff import optim

torch = pytest.importorskip("torch")

from pytorch_parity import (assert_same as _assert_same, grad as _grad,  # noqa: E402,F401
                            initial as _initial, pair as _pair, run as _run)

CASES = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.9))),       # rho_t > 5 from step 1... of 30
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.01, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=10)),
    ("ASGD", dict(lr=0.05, t0=5, weight_decay=0.1, maximize=True)),
]


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_30_steps_match_pytorch(name, options):
    ours, theirs, opt, topt = _pair(name, options)
    _run(ours, theirs, opt, topt, 30, skip=1)
    moved = max(np.abs(p.detach().numpy() - a).max() for p, a in zip(ours, _initial()))
    assert moved > 1e-3
    _assert_same(ours, theirs)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_defaults_and_param_groups_are_pytorchs(name):
    groups = [([0, 2], {}), ([1], {"lr": 0.002})]
    ours, theirs, opt, topt = _pair(name, {}, groups)
    _run(ours, theirs, opt, topt, 25)
    _assert_same(ours, theirs)
    ignored = {"foreach", "capturable", "differentiable", "fused"}
    ours_defaults = {k: v for k, v in opt.defaults.items() if k not in ignored}
    theirs_defaults = {k: v for k, v in topt.defaults.items() if k not in ignored}
    assert ours_defaults == theirs_defaults
    assert opt.param_groups[1]["lr"] == 0.002


@pytest.mark.parametrize("name,options", [c for c in CASES if not c[1].get("maximize")][::2],
                         ids=lambda v: str(v))
def test_state_dict_keys_and_round_trip(name, options, tmp_path):
    ours, theirs, opt, topt = _pair(name, options)
    _run(ours, theirs, opt, topt, 10)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"])
    assert set(sd["state"][0]) == set(tsd["state"][0])
    for key, value in tsd["state"][0].items():
        np.testing.assert_allclose(np.asarray(sd["state"][0][key].numpy(), dtype=float),
                                   value.numpy().astype(float), rtol=1e-7, err_msg=key)
    autodiff.save({"params": [p.detach() for p in ours], "optim": sd}, tmp_path / "ckpt")
    loaded = autodiff.load(tmp_path / "ckpt")
    restored = [autodiff.tensor(a.numpy(), requires_grad=True) for a in loaded["params"]]
    opt2 = getattr(optim, name)(restored, lr=123.0)
    opt2.load_state_dict(loaded["optim"])
    _run(ours, theirs, opt, topt, 15)
    for _ in range(15):
        for k, p in enumerate(restored):
            p.grad = autodiff.tensor(_grad(p.detach().numpy(), k))
        opt2.step()
    _assert_same(restored, theirs)


# ---------------------------------------------------------------------- LBFGS
def _regression(lib, w):
    """A small nonlinear least-squares problem in each library."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((20, 3))
    y = np.sin(x @ np.array([1.0, -2.0, 0.5]))[:, None]
    if lib is torch:
        xt, yt = torch.tensor(x), torch.tensor(y)
        params = [torch.tensor(a.copy(), requires_grad=True) for a in w]
    else:
        xt, yt = autodiff.tensor(x), autodiff.tensor(y)
        params = [autodiff.tensor(a.copy(), requires_grad=True) for a in w]

    def loss_of(params):
        h = (xt @ params[0].T + params[1]).tanh()
        return ((h @ params[2].T + params[3] - yt) ** 2).mean()
    return params, loss_of


@pytest.mark.parametrize("options", [
    dict(),
    dict(line_search_fn="strong_wolfe"),
    dict(lr=0.5, history_size=3, max_iter=5),
    dict(line_search_fn="strong_wolfe", history_size=4, max_iter=7, tolerance_change=1e-12),
], ids=str)
def test_lbfgs_matches_pytorch(options):
    rng = np.random.default_rng(1)
    w = [rng.standard_normal((6, 3)) * 0.5, np.zeros(6), rng.standard_normal((1, 6)) * 0.5, np.zeros(1)]
    results = {}
    for lib, module in ((autodiff, optim), (torch, torch.optim)):
        params, loss_of = _regression(lib, w)
        opt = module.LBFGS(params, **options)
        losses = []

        def closure():
            opt.zero_grad()
            loss = loss_of(params)
            loss.backward()
            return loss
        for _ in range(4):
            losses.append(float(opt.step(closure).detach()))
        state = opt.state[params[0]]
        results[lib.__name__] = (losses, [p.detach().numpy().copy() for p in params],
                                 state["func_evals"], state["n_iter"])
    ours, theirs = results["autodiff"], results["torch"]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-8)
    assert ours[0][-1] < 0.5 * ours[0][0]                # it did optimise
    for p, q in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-8)   # 80 quasi-Newton iterations amplify rounding
    assert ours[2:] == theirs[2:]                         # the same evaluations and iterations


def test_lbfgs_state_dict_has_pytorchs_keys_and_resumes():
    rng = np.random.default_rng(2)
    w = [rng.standard_normal((6, 3)) * 0.5, np.zeros(6), rng.standard_normal((1, 6)) * 0.5, np.zeros(1)]
    runs = {}
    for lib, module in ((autodiff, optim), (torch, torch.optim)):
        params, loss_of = _regression(lib, w)
        opt = module.LBFGS(params, max_iter=3, history_size=5, line_search_fn="strong_wolfe")

        def closure(opt=opt, params=params, loss_of=loss_of):
            opt.zero_grad()
            loss = loss_of(params)
            loss.backward()
            return loss
        opt.step(closure)
        runs[lib.__name__] = (opt, params, closure, loss_of)
    ours_sd, theirs_sd = runs["autodiff"][0].state_dict(), runs["torch"][0].state_dict()
    assert set(ours_sd["state"][0]) == set(theirs_sd["state"][0])
    # a fresh optimizer, restored, goes on as the original does
    opt, params, closure, loss_of = runs["autodiff"]
    copies = [autodiff.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    restored = optim.LBFGS(copies, max_iter=3, history_size=5, line_search_fn="strong_wolfe")
    restored.load_state_dict(ours_sd)

    def closure2():
        restored.zero_grad()
        loss = loss_of(copies)
        loss.backward()
        return loss
    for _ in range(2):
        opt.step(closure)
        restored.step(closure2)
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_lbfgs_needs_a_closure_and_one_group():
    p = autodiff.zeros(2, requires_grad=True)
    opt = optim.LBFGS([p])
    with pytest.raises(RuntimeError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [p]}, {"params": [autodiff.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([p], line_search_fn="armijo")


def test_lbfgs_minimises_rosenbrock_like_pytorch():
    start = np.array([-1.5, 2.0])
    out = {}
    for lib, module in ((autodiff, optim), (torch, torch.optim)):
        xy = lib.tensor(start.copy(), requires_grad=True)
        opt = module.LBFGS([xy], lr=1, max_iter=100, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
            loss.backward()
            return loss
        opt.step(closure)
        out[lib.__name__] = xy.detach().numpy().copy()
    np.testing.assert_allclose(out["autodiff"], [1.0, 1.0], atol=1e-5)
    np.testing.assert_allclose(out["autodiff"], out["torch"], rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("name,options,match", [
    ("Adam", dict(lr=math.nan), "learning rate"),
    ("Adam", dict(eps=math.nan), "epsilon"),
    ("Adam", dict(betas=(math.nan, 0.9)), "beta"),
    ("SGD", dict(lr=math.nan), "learning rate"),
    ("SGD", dict(lr=0.1, momentum=math.nan), "momentum"),
    ("Adagrad", dict(lr_decay=-1), "lr_decay"),
    ("RMSprop", dict(alpha=math.nan), "alpha"),
    ("Adadelta", dict(rho=1.5), "rho"),
    ("Adadelta", dict(lr=-1), "learning rate"),
    ("Adadelta", dict(eps=math.nan), "epsilon"),
    ("Adamax", dict(betas=(0.9, 1.0)), "beta"),
    ("Adamax", dict(weight_decay=-0.1), "weight_decay"),
    ("NAdam", dict(momentum_decay=-1), "momentum_decay"),
    ("NAdam", dict(lr=math.nan), "learning rate"),
    ("RAdam", dict(eps=-1), "epsilon"),
    ("Rprop", dict(etas=(1.5, 1.2)), "eta"),
    ("Rprop", dict(lr=math.nan), "learning rate"),
    ("ASGD", dict(weight_decay=math.nan), "weight_decay"),
    ("LBFGS", dict(lr=-1.0), "learning rate"),
])
def test_invalid_options_raise_like_pytorch(name, options, match):
    p = autodiff.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)([p], **options)
    if name == "SGD":
        return    # PyTorch's SGD checks `lr < 0`, which lets NaN through; a NaN rate is always a bug
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **options)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_float32_parameters_stay_float32_and_follow_pytorch(name):
    init = [a.astype(np.float32) for a in _initial()]
    ours = [autodiff.tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(ours, lr=0.01)
    topt = getattr(torch.optim, name)(theirs, lr=0.01, foreach=False)
    for _ in range(10):
        for k, (p, q) in enumerate(zip(ours, theirs)):
            g = _grad(p.detach().numpy().astype(np.float64), k).astype(np.float32)
            p.grad, q.grad = autodiff.tensor(g), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    for p, q in zip(ours, theirs):
        assert p.dtype == autodiff.float32
        assert all(v.dtype == autodiff.float32 for v in opt.state[p].values()
                   if isinstance(v, autodiff.Tensor) and v.ndim)
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


ALL_OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam",
                  "Rprop", "ASGD", "LBFGS"]


def _parameters(fn):
    import inspect
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", ALL_OPTIMIZERS)
def test_constructors_and_defaults_are_pytorchs(name):
    """The same arguments in the same order (PyTorch's foreach/fused/capturable switches are
    accepted and kept in the defaults), so PyTorch code and its state dicts carry over."""
    assert _parameters(getattr(optim, name).__init__) == _parameters(getattr(torch.optim, name).__init__)
    ours = getattr(optim, name)([autodiff.zeros(2, requires_grad=True)])
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert ours.defaults == theirs.defaults
    if name != "LBFGS":
        with pytest.raises(NotImplementedError, match="differentiable=True"):
            getattr(optim, name)([autodiff.zeros(2, requires_grad=True)], differentiable=True)


@pytest.mark.parametrize("name", ["MultiplicativeLR", "ConstantLR", "LinearLR", "SequentialLR",
                                  "ChainedScheduler", "OneCycleLR", "CosineAnnealingWarmRestarts"])
def test_scheduler_constructors_are_pytorchs(name):
    assert _parameters(getattr(optim.lr_scheduler, name).__init__) == \
        _parameters(getattr(torch.optim.lr_scheduler, name).__init__)


def test_a_state_dict_without_newer_options_loads_with_their_defaults():
    p = autodiff.zeros(2, requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    saved = opt.state_dict()
    for key in ("foreach", "fused", "decoupled_weight_decay", "maximize"):
        del saved["param_groups"][0][key]
    opt.load_state_dict(saved)
    p.grad = autodiff.ones(2)
    opt.step()                      # the options missing from the dict are the defaults
    assert opt.param_groups[0]["decoupled_weight_decay"] is False and opt.param_groups[0]["lr"] == 0.01
    np.testing.assert_allclose(p.detach().numpy(), [-0.01, -0.01], rtol=1e-6)
