"""Losses: every loss and option against PyTorch (values and gradients), finite differences,
hand-computed values, extreme logits and error messages."""
import math

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
import autodiff.nn.functional as F

RNG = np.random.default_rng(2024)


def _cases():
    x = RNG.standard_normal((6, 4))
    y = RNG.standard_normal((6, 4))
    probs = RNG.uniform(0.05, 0.95, (6, 4))
    soft = RNG.uniform(0, 1, (6, 4))
    hard = (RNG.random((6, 4)) < 0.5).astype(np.float64)
    w_elem = RNG.uniform(0.5, 2.0, (6, 4))
    w_class = RNG.uniform(0.5, 2.0, 4)
    pos_weight = RNG.uniform(0.5, 3.0, 4)
    t = np.array([0, 3, 1, 2, 3, 1])
    t_ignore = np.array([0, 3, -100, 2, 3, 1])
    t_ignore1 = np.array([0, 3, 1, 2, 1, 1])
    log_p = x - np.log(np.exp(x).sum(1, keepdims=True))
    x3 = RNG.standard_normal((3, 4, 5))
    t3 = RNG.integers(0, 4, (3, 5))
    t3[0, 1] = -100
    x4 = RNG.standard_normal((2, 4, 3, 2))
    t4 = RNG.integers(0, 4, (2, 3, 2))
    p_target = RNG.random((6, 4))
    p_target /= p_target.sum(1, keepdims=True)
    p3 = RNG.random((3, 4, 5))
    # id: (function name, options (numpy arrays become tensors), input, target)
    return {
        "mse": ("mse_loss", {}, x, y),
        "l1": ("l1_loss", {}, x, y),
        "bce": ("binary_cross_entropy", {}, probs, soft),
        "bce-hard-weight": ("binary_cross_entropy", {"weight": w_elem}, probs, hard),
        "bce-row-weight": ("binary_cross_entropy", {"weight": w_class}, probs, soft),
        "bce-logits": ("binary_cross_entropy_with_logits", {}, 3 * x, soft),
        "bce-logits-weight": ("binary_cross_entropy_with_logits", {"weight": w_elem}, 3 * x, hard),
        "bce-logits-pos-weight": ("binary_cross_entropy_with_logits",
                                  {"pos_weight": pos_weight, "weight": w_class}, 3 * x, soft),
        "nll": ("nll_loss", {}, log_p, t),
        "nll-weight-ignore": ("nll_loss", {"weight": w_class, "ignore_index": 1}, log_p, t_ignore1),
        "nll-3d": ("nll_loss", {"weight": w_class}, x3, t3),
        "ce": ("cross_entropy", {}, x, t),
        "ce-ignore": ("cross_entropy", {}, x, t_ignore),
        "ce-weight": ("cross_entropy", {"weight": w_class}, x, t_ignore),
        "ce-smoothing": ("cross_entropy", {"label_smoothing": 0.15}, x, t_ignore),
        "ce-weight-smoothing-ignore": ("cross_entropy", {"weight": w_class, "label_smoothing": 0.3,
                                                         "ignore_index": 1}, x, t_ignore1),
        "ce-3d": ("cross_entropy", {"weight": w_class, "label_smoothing": 0.1}, x3, t3),
        "ce-4d": ("cross_entropy", {}, x4, t4),
        "ce-unbatched": ("cross_entropy", {}, x[0], np.array(2)),
        "ce-probs": ("cross_entropy", {}, x, p_target),
        "ce-probs-weight-smoothing": ("cross_entropy", {"weight": w_class, "label_smoothing": 0.2},
                                      x, p_target),
        "ce-probs-3d": ("cross_entropy", {}, x3, p3),
    }


CASES = _cases()


def _run(lib, name, options, x, target, reduction, upstream=None):
    """Loss value and gradients (input, and float target) in ``lib`` (autodiff or torch)."""
    tensor = lib.tensor
    inp = tensor(x, requires_grad=True)
    float_target = target.dtype.kind == "f"
    tgt = tensor(target, requires_grad=float_target)
    kwargs = {k: tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    functional = F if lib is ad else lib.nn.functional
    loss = getattr(functional, name)(inp, tgt, reduction=reduction, **kwargs)
    grad = np.ones(tuple(loss.shape)) if upstream is None else upstream
    loss.backward(tensor(grad))
    out = [loss.detach().numpy(), inp.grad.numpy()]
    if float_target:
        out.append(tgt.grad.numpy())
    return out


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(CASES))
def test_loss_matches_pytorch(torch, case, reduction):
    name, options, x, target = CASES[case]
    ours = _run(ad, name, options, x, target, reduction)
    shape = ours[0].shape
    upstream = RNG.standard_normal(shape) if reduction == "none" else np.ones(shape)
    ours = _run(ad, name, options, x, target, reduction, upstream)
    theirs = _run(torch, name, options, x, target, reduction, upstream)
    assert len(ours) == len(theirs)
    for what, a, b in zip(["value", "input grad", "target grad"], ours, theirs):
        assert a.shape == b.shape, what
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("case", list(CASES))
def test_loss_gradcheck(case):
    name, options, x, target = CASES[case]
    kwargs = {k: ad.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    inp = ad.tensor(x, requires_grad=True)
    tgt = ad.tensor(target, requires_grad=target.dtype.kind == "f")
    assert ad.gradcheck(lambda a, b: getattr(F, name)(a, b, **kwargs), (inp, tgt))


@pytest.mark.parametrize("case", ["bce-logits-pos-weight", "ce", "ce-weight-smoothing-ignore", "ce-probs", "mse"])
def test_loss_second_derivatives(case):
    name, options, x, target = CASES[case]
    kwargs = {k: ad.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    inp = ad.tensor(x[:2], requires_grad=True)
    tgt = ad.tensor(target[:2], requires_grad=target.dtype.kind == "f")
    assert ad.gradgradcheck(lambda a, b: getattr(F, name)(a, b, reduction="sum", **kwargs), (inp, tgt))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_plain_cross_entropy_equals_the_general_path_with_nan_and_inf(reduction):
    """Class indices without weights take a shortcut (no one-hot q); unit class weights take the
    general path: both agree, -inf, inf and NaN logits included."""
    x = np.array([[1.0, -np.inf, 0.5], [np.inf, 0.0, 1.0], [np.nan, 1.0, 2.0], [2.0, 1.0, -np.inf],
                  [0.3, 0.2, 0.1]])
    for rows in ([0, 3, 4], [0, 1, 2, 3, 4]):
        results = []
        for weight in (None, ad.ones(3, dtype=ad.float64)):
            inp = ad.tensor(x[rows], requires_grad=True)
            with np.errstate(invalid="ignore"):
                loss = F.cross_entropy(inp, ad.tensor(np.array([0, 2, 1, 1, 0])[rows]), weight, reduction=reduction)
                loss.backward()
            results.append((loss.item(), inp.grad.numpy()))
        (plain, plain_grad), (general, general_grad) = results
        np.testing.assert_allclose(plain, general, rtol=1e-12)
        np.testing.assert_allclose(plain_grad, general_grad, rtol=1e-12, atol=1e-15)
    assert np.isnan(plain) and np.isnan(plain_grad[1:3]).all()
    assert np.isfinite(results[0][1][[0, 3, 4]]).all()     # rows without inf/nan keep finite gradients


def test_loss_modules_equal_functional():
    x = ad.tensor(CASES["ce"][2])
    t = ad.tensor(CASES["ce-weight-smoothing-ignore"][3])
    w = ad.tensor(CASES["ce-weight"][1]["weight"])
    pairs = [
        (nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1, reduction="sum"),
         F.cross_entropy(x, t, w, ignore_index=1, label_smoothing=0.1, reduction="sum")),
        (nn.NLLLoss(weight=w, reduction="none"), F.nll_loss(x, t, w, reduction="none")),
        (nn.MSELoss(reduction="sum"), F.mse_loss(x, x * 2, reduction="sum")),
        (nn.L1Loss(), F.l1_loss(x, x * 2)),
    ]
    for module, expected in pairs[:2]:
        np.testing.assert_array_equal(module(x, t).numpy(), expected.numpy())
    for module, expected in pairs[2:]:
        np.testing.assert_array_equal(module(x, x * 2).numpy(), expected.numpy())
    p = ad.tensor(CASES["bce"][2])
    s = ad.tensor(CASES["bce"][3])
    pw = ad.tensor(CASES["bce-logits-pos-weight"][1]["pos_weight"])
    np.testing.assert_array_equal(nn.BCELoss(weight=w)(p, s).numpy(), F.binary_cross_entropy(p, s, w).numpy())
    np.testing.assert_array_equal(nn.BCEWithLogitsLoss(pos_weight=pw)(x, s).numpy(),
                                  F.binary_cross_entropy_with_logits(x, s, pos_weight=pw).numpy())
    assert list(nn.CrossEntropyLoss(weight=w).state_dict()) == ["weight"]     # a buffer, as PyTorch
    assert list(nn.BCEWithLogitsLoss(pos_weight=pw).state_dict()) == ["pos_weight"]
    assert list(nn.MSELoss().state_dict()) == []


def test_a_loss_is_one_graph_node():
    x = ad.randn(5, 3, requires_grad=True)
    for loss in [F.cross_entropy(x, ad.tensor([0, 1, 2, 0, 1])),
                 F.binary_cross_entropy_with_logits(x, ad.rand(5, 3)),
                 F.mse_loss(x, ad.rand(5, 3))]:
        first, *rest = loss.grad_fn.next_functions
        assert first[0].variable is x and all(node is None for node, _ in rest)   # straight to the leaf


# ---------------------------------------------------------------------- hand-computed values
def test_losses_by_hand():
    a, zero = ad.tensor([1.0, 2.0]), ad.zeros(2)
    assert F.mse_loss(a, zero).item() == 2.5
    assert F.mse_loss(a, zero, reduction="sum").item() == 5.0
    assert F.mse_loss(a, zero, reduction="none").tolist() == [1.0, 4.0]
    assert F.l1_loss(ad.tensor([1.0, -2.0]), zero).item() == 1.5

    logits = ad.tensor([[0.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(logits, ad.tensor([0]))
    assert loss.item() == pytest.approx(math.log(2))
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), [[-0.5, 0.5]])

    x = ad.tensor([0.0], requires_grad=True)
    loss = nn.BCEWithLogitsLoss()(x, ad.tensor([1.0]))
    assert loss.item() == pytest.approx(math.log(2))
    loss.backward()
    assert x.grad.tolist() == [-0.5]
    assert F.binary_cross_entropy(ad.tensor([0.5]), ad.tensor([1.0])).item() == pytest.approx(math.log(2))

    log_probs = ad.tensor([[-1.0, -2.0], [-3.0, -4.0]])
    weighted = F.nll_loss(log_probs, ad.tensor([0, 1]), weight=ad.tensor([1.0, 3.0]))
    assert weighted.item() == pytest.approx((1 * 1 + 3 * 4) / (1 + 3))    # divides by summed weights
    ignored = F.nll_loss(log_probs, ad.tensor([0, -100]))
    assert ignored.item() == 1.0                                           # mean over kept targets only


def test_bce_clamps_each_log_at_minus_100(torch):
    p = np.array([0.0, 1.0, 0.0, 1.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    ours = _run(ad, "binary_cross_entropy", {}, p, y, "none")
    np.testing.assert_array_equal(ours[0], [100.0, 100.0, 0.0, 0.0])
    assert all(np.isfinite(v).all() for v in ours)
    theirs = _run(torch, "binary_cross_entropy", {}, p, y, "none")
    for a, b in zip(ours[:2], theirs[:2]):      # value, and input gradient floored as PyTorch's
        np.testing.assert_allclose(a, b, rtol=1e-9)
    # d loss / d target is the derivative of the clamped logs: finite (PyTorch gives +-inf here)
    np.testing.assert_array_equal(ours[2], [100.0, -100.0, 100.0, -100.0])


# ---------------------------------------------------------------------- extreme logits
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_logits_stay_finite(torch, dtype):
    x = np.array([[-1000.0, 1000.0, 0.0], [1000.0, -1000.0, 500.0]], dtype=dtype)
    y = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=dtype)
    cases = [("binary_cross_entropy_with_logits", {}, x, y),
             ("binary_cross_entropy_with_logits", {"pos_weight": np.array([2.0, 0.5, 1.0], dtype=dtype)}, x, y),
             ("cross_entropy", {}, x, np.array([0, 0])),
             ("cross_entropy", {"label_smoothing": 0.1}, x, np.array([1, 2])),
             ("cross_entropy", {}, x, y / y.sum(1, keepdims=True))]
    for name, options, inp, target in cases:
        for reduction in ["mean", "none"]:
            ours = _run(ad, name, options, inp, target, reduction)
            theirs = _run(torch, name, options, inp, target, reduction)
            for a, b in zip(ours, theirs):
                assert np.isfinite(a).all(), (name, options)
                assert a.dtype == dtype
                np.testing.assert_allclose(a, b, rtol=1e-6 if dtype == np.float32 else 1e-9)
    loss = F.binary_cross_entropy_with_logits(ad.tensor(x), ad.tensor(y), reduction="none")
    assert loss.numpy()[0, 0] == 1000.0 and loss.numpy()[0, 1] == 1000.0


def test_every_target_ignored_gives_nan_and_zero_gradients(torch):
    x = RNG.standard_normal((3, 4))
    t = np.array([-100, -100, -100])
    ours = _run(ad, "cross_entropy", {}, x, t, "mean")
    theirs = _run(torch, "cross_entropy", {}, x, t, "mean")
    assert np.isnan(ours[0]) and np.isnan(theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert not ours[1].any()


# ---------------------------------------------------------------------- errors
def test_class_index_errors():
    x = ad.randn(6, 4)
    with pytest.raises(IndexError, match=r"cross_entropy: target 7 is out of bounds for 4 classes"):
        F.cross_entropy(x, ad.tensor([0, 1, 2, 3, 7, 0]))
    with pytest.raises(IndexError, match=r"nll_loss: target -1 is out of bounds"):
        nn.NLLLoss()(x, ad.tensor([0, 1, 2, 3, -1, 0]))
    with pytest.raises(TypeError, match=r"nll_loss: expected class indices as an integer tensor of "
                                        r"shape \(6,\); got a float32 tensor of shape \(6,\)"):
        F.nll_loss(x, ad.tensor([0.0, 1, 2, 3, 1, 0]))
    with pytest.raises(TypeError, match=r"cross_entropy: .*or class probabilities of shape \(6, 4\).*"
                                        r"float32 tensor of shape \(6, 3\)"):
        nn.CrossEntropyLoss()(x, ad.rand(6, 3))
    with pytest.raises(ValueError, match=r"cross_entropy: expected a class-index target of shape "
                                         r"\(6,\) for input of shape \(6, 4\), got target of shape \(6, 1\)"):
        F.cross_entropy(x, ad.zeros(6, 1, dtype=ad.int64))
    with pytest.raises(ValueError, match=r"weight should have one value per class, shape \(4,\)"):
        F.cross_entropy(x, ad.zeros(6, dtype=ad.int64), weight=ad.ones(3))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, ad.zeros(6, dtype=ad.int64), label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index is only applicable to class-index targets"):
        F.cross_entropy(x, ad.rand(6, 4), ignore_index=0)
    with pytest.raises(TypeError, match="cross_entropy: input must be a floating point tensor, got int64"):
        F.cross_entropy(ad.zeros(6, 4, dtype=ad.int64), ad.zeros(6, dtype=ad.int64))


def test_binary_and_regression_errors():
    x = ad.rand(6, 1)
    with pytest.raises(TypeError, match=r"binary_cross_entropy_with_logits: target must be a floating "
                                        r"point tensor like the input \(float32\), got int64"):
        nn.BCEWithLogitsLoss()(x, ad.ones(6, 1, dtype=ad.int64))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target shape \(6,\) differs "
                                         r"from input shape \(6, 1\)"):
        F.binary_cross_entropy_with_logits(x, ad.rand(6))
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(6,\) differs from input shape \(6, 1\)"):
        nn.MSELoss()(x, ad.rand(6))
    with pytest.raises(TypeError, match="l1_loss: target must be a Tensor, got list"):
        F.l1_loss(x, [1.0] * 6)
    with pytest.raises(ValueError, match="binary_cross_entropy: all elements of input should be between 0 and 1"):
        nn.BCELoss()(x * 3 - 1, ad.rand(6, 1))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast to the input's shape \(6, 1\)"):
        F.binary_cross_entropy_with_logits(x, ad.rand(6, 1), pos_weight=ad.ones(3))
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="avg")


def test_targets_of_another_dtype_are_promoted_as_in_pytorch():
    x = ad.randn(4, 2, requires_grad=True)
    loss = F.mse_loss(x, ad.zeros(4, 2, dtype=ad.float64))
    assert loss.dtype == ad.float64           # PyTorch promotes float32 with float64 to float64
    loss.backward()
    assert x.grad.dtype == ad.float32
    integer = ad.tensor([[1, 0], [2, 3], [0, 0], [1, 1]])
    for fn in (F.mse_loss, F.l1_loss):
        loss = fn(x, integer)
        assert loss.dtype == ad.float32       # an integer target takes the input's dtype
        np.testing.assert_allclose(loss.item(), fn(x, integer.float()).item())


# ---------------------------------------------------------------------- one_hot
def test_one_hot(torch):
    t = ad.tensor([0, 2, 1, 2])
    out = F.one_hot(t)
    assert out.dtype == ad.int64
    assert out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]
    assert F.one_hot(t, num_classes=5).shape == (4, 5)
    grid = np.array([[0, 3], [1, 1]])
    np.testing.assert_array_equal(F.one_hot(ad.tensor(grid), 4).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(grid), 4).numpy())
    with pytest.raises(ValueError, match=r"smaller than num_classes \(2\), got 2"):
        F.one_hot(t, num_classes=2)
    with pytest.raises(TypeError, match="integer tensor of class indices, got float32"):
        F.one_hot(ad.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(ad.tensor([-1, 0]), 3)
