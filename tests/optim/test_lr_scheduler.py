"""Learning-rate schedulers: PyTorch's values over 100 steps, state dicts, hand-computed cases."""
import math

import numpy as np
import pytest

import autodiff
from autodiff import optim
from autodiff.optim import lr_scheduler as S


def _ours(kind="SGD", lrs=(0.1, 0.02), **options):
    params = [autodiff.zeros(2, requires_grad=True) for _ in lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)]
    return getattr(optim, kind)(groups, **options)


def _scheduler_cases():
    return [
        ("StepLR", dict(step_size=7, gamma=0.5), "SGD", {}),
        ("MultiStepLR", dict(milestones=[10, 30, 30, 80], gamma=0.3), "SGD", {}),
        ("ExponentialLR", dict(gamma=0.97), "SGD", {}),
        ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (1.0 + 0.3 * e) + 0.01 * (e % 5)), "SGD", {}),
        ("LambdaLR", dict(lr_lambda=[lambda e: 0.9 ** e, lambda e: 1.0 + e]), "SGD", {}),
        ("PolynomialLR", dict(total_iters=60, power=2.0), "SGD", {}),
        ("PolynomialLR", dict(total_iters=30, power=0.5), "SGD", {}),
        ("CosineAnnealingLR", dict(T_max=30, eta_min=0.001), "SGD", {}),
        ("CosineAnnealingLR", dict(T_max=17), "SGD", {}),
        ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=7, step_size_down=5),
         "SGD", dict(momentum=0.9)),
        ("CyclicLR", dict(base_lr=[0.01, 0.001], max_lr=[0.1, 0.05], step_size_up=6,
                          mode="triangular2", base_momentum=0.7, max_momentum=0.95),
         "SGD", dict(momentum=0.9)),
        ("CyclicLR", dict(base_lr=0.001, max_lr=0.01, step_size_up=10, mode="exp_range",
                          gamma=0.97), "Adam", {}),
        ("CyclicLR", dict(base_lr=0.001, max_lr=0.01, step_size_up=4, cycle_momentum=False),
         "Adagrad", {}),
    ]


CASES = _scheduler_cases()
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def _trace(opt, sched, steps, metrics=None):
    lrs, momenta = [], []
    for t in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[t])
        lrs.append(list(sched.get_last_lr()))
        momenta.append([g["betas"][0] if "betas" in g else g.get("momentum")
                        for g in opt.param_groups])
    return lrs, momenta


@pytest.mark.parametrize("name,options,kind,opt_options", CASES, ids=IDS)
def test_100_steps_match_pytorch(name, options, kind, opt_options):
    torch = pytest.importorskip("torch")
    opt = _ours(kind, **opt_options)
    params = [torch.zeros(2, requires_grad=True) for _ in range(2)]
    topt = getattr(torch.optim, kind)([{"params": [params[0]], "lr": 0.1},
                                       {"params": [params[1]], "lr": 0.02}], **opt_options)
    sched = getattr(S, name)(opt, **options)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **options)
    assert sched.get_last_lr() == tsched.get_last_lr()
    lrs, momenta = _trace(opt, sched, 100)
    tlrs, tmomenta = _trace(topt, tsched, 100)
    np.testing.assert_allclose(lrs, tlrs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.array(momenta, dtype=float), np.array(tmomenta, dtype=float),
                               rtol=1e-12)
    assert sched.last_epoch == tsched.last_epoch == 100


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.7, 0.7, 0.7, 0.69999, 0.7, 0.7, 0.7,
                   0.7, 0.7, 0.7, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6] * 4 + [0.4] * 8


@pytest.mark.parametrize("options", [
    dict(patience=3),
    dict(patience=2, cooldown=2, factor=0.5),
    dict(patience=1, threshold=0.05, threshold_mode="abs", min_lr=0.004),
    dict(mode="max", patience=2, factor=0.3, min_lr=[0.001, 0.0005]),
    dict(mode="max", patience=0, threshold_mode="abs", threshold=0.0, eps=1e-3),
], ids=str)
def test_reduce_lr_on_plateau_matches_pytorch(options):
    torch = pytest.importorskip("torch")
    opt = _ours("SGD")
    params = [torch.zeros(2, requires_grad=True) for _ in range(2)]
    topt = torch.optim.SGD([{"params": [params[0]], "lr": 0.1},
                            {"params": [params[1]], "lr": 0.02}])
    sched = S.ReduceLROnPlateau(opt, **options)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **options)
    metrics = PLATEAU_METRICS if options.get("mode") != "max" else [-m for m in PLATEAU_METRICS]
    lrs, _ = _trace(opt, sched, len(metrics), metrics)
    tlrs, _ = _trace(topt, tsched, len(metrics), metrics)
    assert lrs == tlrs
    assert lrs[-1] != lrs[0]                 # it did reduce


@pytest.mark.parametrize("index", [0, 1, 7, 9, 11], ids=lambda i: IDS[i])
def test_state_dict_round_trip_continues_identically(index, tmp_path):
    name, options, kind, opt_options = CASES[index]
    if name == "LambdaLR":
        pytest.skip("functions are not part of a state dict")
    opt = _ours(kind, **opt_options)
    sched = getattr(S, name)(opt, **options)
    _trace(opt, sched, 40)
    autodiff.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()},
                  tmp_path / "ckpt")
    expected, expected_m = _trace(opt, sched, 60)

    checkpoint = autodiff.load(tmp_path / "ckpt")
    opt2 = _ours(kind, lrs=(5.0, 5.0), **opt_options)
    sched2 = getattr(S, name)(opt2, **options)      # build first: it resets group["lr"]
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    assert sched2.last_epoch == 40
    got, got_m = _trace(opt2, sched2, 60)
    assert got == expected and got_m == expected_m


def test_plateau_state_dict_round_trip(tmp_path):
    opt = _ours("SGD")
    sched = S.ReduceLROnPlateau(opt, patience=2, cooldown=1)
    _trace(opt, sched, 30, PLATEAU_METRICS)
    autodiff.save(sched.state_dict(), tmp_path / "s")
    expected, _ = _trace(opt, sched, 40, PLATEAU_METRICS[30:])
    opt2 = _ours("SGD")
    for g, lr in zip(opt2.param_groups, [0.1 * 0.1, 0.02 * 0.1]):
        g["lr"] = lr
    sched2 = S.ReduceLROnPlateau(opt2)
    sched2.load_state_dict(autodiff.load(tmp_path / "s"))
    assert sched2.best == sched.best or sched2.patience == 2
    opt2.param_groups[0]["lr"], opt2.param_groups[1]["lr"] = (
        sched2.get_last_lr()[0], sched2.get_last_lr()[1])
    got, _ = _trace(opt2, sched2, 40, PLATEAU_METRICS[30:])
    assert got == expected


# ---------------------------------------------------------------------- by hand (no PyTorch)
def test_step_lr_by_hand():
    opt = _ours("SGD", lrs=(1.0,))
    sched = S.StepLR(opt, step_size=3, gamma=0.5)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(7):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_inverse_time_decay_is_the_lectures_formula():
    opt = _ours("SGD", lrs=(0.5, 0.1))
    sched = S.InverseTimeLR(opt, gamma=0.1)
    for t in range(1, 30):
        sched.step()
        assert sched.get_last_lr() == pytest.approx([0.5 / (1 + 0.1 * t), 0.1 / (1 + 0.1 * t)],
                                                    rel=1e-15)
        assert opt.param_groups[0]["lr"] == sched.get_last_lr()[0]
    with pytest.raises(ValueError, match="gamma"):
        S.InverseTimeLR(_ours("SGD"), gamma=-1.0)


def test_cosine_recursive_form_follows_the_closed_form():
    opt = _ours("SGD", lrs=(0.1,))
    sched = S.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for t in range(1, 40):
        sched.step()
        closed = 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * t / 10)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(closed, rel=1e-12, abs=1e-15)


def test_cyclic_lr_triangle_by_hand_and_momentum_in_antiphase():
    opt = _ours("SGD", lrs=(0.1,), momentum=0.9)
    sched = S.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2, base_momentum=0.8,
                       max_momentum=0.9)
    lrs, momenta = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(6):
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
    assert lrs == [0.0, 0.5, 1.0, 0.5, 0.0, 0.5, 1.0]
    assert momenta == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9, 0.85, 0.8])
    with pytest.raises(ValueError, match="cycle_momentum"):
        S.CyclicLR(_ours("Adagrad"), base_lr=0.1, max_lr=1.0)


def test_plateau_by_hand():
    opt = _ours("SGD", lrs=(1.0,))
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    for metric in [3.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]:
        sched.step(metric)
    # after 2.0: bad, bad -> halve; bad, then 1.0 improves; bad, bad -> halve again
    assert sched.get_last_lr() == [0.25]
    with pytest.raises(ValueError, match="factor"):
        S.ReduceLROnPlateau(opt, factor=1.5)


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.StepLR(object(), step_size=1)
