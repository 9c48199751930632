"""MultiplicativeLR, ConstantLR, LinearLR, SequentialLR, ChainedScheduler, OneCycleLR and
CosineAnnealingWarmRestarts: PyTorch's learning rates (and momenta) step for step."""
import numpy as np
import pytest

import autodiff
from autodiff import optim
from autodiff.optim import lr_scheduler as S

torch = pytest.importorskip("torch")


def _optimizers(kind="SGD", **options):
    ours = [autodiff.zeros(2, requires_grad=True) for _ in range(2)]
    theirs = [torch.zeros(2, requires_grad=True) for _ in range(2)]
    groups = lambda ps: [{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.02}]  # noqa: E731
    return getattr(optim, kind)(groups(ours), **options), getattr(torch.optim, kind)(groups(theirs), **options)


def _trace(opt, sched, steps, epochs=None):
    lrs, momenta = [list(sched.get_last_lr())], []
    for t in range(steps):
        opt.step()
        if epochs is None:
            sched.step()
        else:
            sched.step(epochs[t])
        lrs.append(list(sched.get_last_lr()))
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        momenta.append([g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups])
    return lrs, momenta


def _same(ours, theirs):
    np.testing.assert_allclose(np.array(ours[0], dtype=float), np.array(theirs[0], dtype=float),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.array(ours[1], dtype=float), np.array(theirs[1], dtype=float),
                               rtol=1e-12, atol=1e-15)


SIMPLE = [
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95 if e % 3 else 1.1), "SGD", {}),
    ("MultiplicativeLR", dict(lr_lambda=[lambda e: 0.9, lambda e: 1.0 - 0.01 * e]), "SGD", {}),
    ("ConstantLR", dict(), "SGD", {}),
    ("ConstantLR", dict(factor=0.5, total_iters=7), "Adam", {}),
    ("LinearLR", dict(), "SGD", {}),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.6, total_iters=12), "SGD", {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=5), "SGD", {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.001), "SGD", {}),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=40), "SGD", dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.05], epochs=4, steps_per_epoch=10, anneal_strategy="linear",
                        pct_start=0.25, div_factor=10.0, final_div_factor=100.0), "SGD",
     dict(momentum=0.9, nesterov=True)),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=40, three_phase=True, base_momentum=0.8,
                        max_momentum=0.9), "Adam", {}),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=40, cycle_momentum=False), "Adagrad", {}),
]


@pytest.mark.parametrize("name,options,kind,opt_options", SIMPLE,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(SIMPLE)])
def test_lr_sequences_match_pytorch(name, options, kind, opt_options):
    opt, topt = _optimizers(kind, **opt_options)
    sched = getattr(S, name)(opt, **options)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **options)
    steps = 40 if name == "OneCycleLR" else 60
    _same(_trace(opt, sched, steps), _trace(topt, tsched, steps))
    assert sched.last_epoch == tsched.last_epoch


def test_one_cycle_refuses_to_step_past_total_steps():
    opt, topt = _optimizers("SGD", momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="total steps is 3"):
        sched.step()
    with pytest.raises(ValueError, match="cycle_momentum"):
        S.OneCycleLR(_optimizers("Adagrad")[0], max_lr=0.1, total_steps=3)
    with pytest.raises(ValueError, match="total_steps OR"):
        S.OneCycleLR(opt, max_lr=0.1)


def test_warm_restarts_with_fractional_epochs_match_pytorch():
    epochs = [e + b / 4 for e in range(12) for b in range(4)][1:]
    for options in (dict(T_0=3), dict(T_0=2, T_mult=2, eta_min=0.01)):
        opt, topt = _optimizers()
        sched = S.CosineAnnealingWarmRestarts(opt, **options)
        tsched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, **options)
        _same(_trace(opt, sched, len(epochs), epochs), _trace(topt, tsched, len(epochs), epochs))
    with pytest.raises(ValueError, match="T_0"):
        S.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="T_mult"):
        S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=1.5)


def _composite(lib_sched, opt, kind):
    if kind == "sequential":
        warmup = lib_sched.LinearLR(opt, start_factor=0.1, total_iters=5)
        decay = lib_sched.CosineAnnealingLR(opt, T_max=20, eta_min=0.001)
        step = lib_sched.StepLR(opt, step_size=4, gamma=0.5)
        return lib_sched.SequentialLR(opt, [warmup, decay, step], milestones=[5, 25])
    constant = lib_sched.ConstantLR(opt, factor=0.5, total_iters=6)
    exponential = lib_sched.ExponentialLR(opt, gamma=0.93)
    return lib_sched.ChainedScheduler([constant, exponential], optimizer=opt)


@pytest.mark.parametrize("kind", ["sequential", "chained"])
def test_sequential_and_chained_match_pytorch(kind, tmp_path):
    opt, topt = _optimizers("SGD", momentum=0.5)
    sched = _composite(S, opt, kind)
    tsched = _composite(torch.optim.lr_scheduler, topt, kind)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    _same(_trace(opt, sched, 20), _trace(topt, tsched, 20))
    # a checkpoint in the middle continues identically
    autodiff.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ckpt")
    expected = _trace(opt, sched, 20)
    _same(expected, _trace(topt, tsched, 20))
    checkpoint = autodiff.load(tmp_path / "ckpt")
    opt2, _ = _optimizers("SGD", momentum=0.5)
    sched2 = _composite(S, opt2, kind)
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    got = _trace(opt2, sched2, 20)
    assert got[0][1:] == expected[0][1:]


def test_composites_check_their_schedulers():
    opt, _ = _optimizers()
    other, _ = _optimizers()
    with pytest.raises(ValueError, match="same optimizer"):
        S.SequentialLR(opt, [S.ConstantLR(opt), S.ConstantLR(other)], milestones=[3])
    with pytest.raises(ValueError, match="milestone"):
        S.SequentialLR(opt, [S.ConstantLR(opt), S.ConstantLR(opt)], milestones=[3, 4])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        S.ChainedScheduler([S.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="at least one"):
        S.ChainedScheduler([])
    with pytest.raises(ValueError, match="factor"):
        S.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="start_factor"):
        S.LinearLR(opt, start_factor=0.0)
