"""The margin, robust-regression and likelihood losses as modules: PyTorch's constructors,
attributes and values, the legacy reduction flags, and the errors PyTorch raises.

(Values and gradients of the function forms are checked row by row in the op table:
``autodiff/ops/table/nn.py``.)
"""

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
from autodiff.nn import functional as F

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
X, Y = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
SIGNS = rng.choice([-1.0, 1.0], size=(4, 5))
ROW_SIGNS = rng.choice([-1.0, 1.0], size=(4,))
CASES = [
    ("SmoothL1Loss", dict(beta=0.5), (X, Y)),
    ("SmoothL1Loss", dict(beta=0.0, reduction="sum"), (X, Y)),
    ("HuberLoss", dict(delta=0.3, reduction="none"), (X, Y)),
    ("KLDivLoss", dict(reduction="batchmean"), (-np.abs(X), np.abs(Y) / 3)),
    ("KLDivLoss", dict(reduction="sum", log_target=True), (-np.abs(X), -np.abs(Y))),
    ("SoftMarginLoss", dict(), (X, SIGNS)),
    ("MultiLabelSoftMarginLoss", dict(reduction="none"), (X, (Y > 0) * 1.0)),
    ("MarginRankingLoss", dict(margin=0.2), (X[0], Y[0], SIGNS[0])),
    ("HingeEmbeddingLoss", dict(margin=0.5), (np.abs(X), SIGNS)),
    ("CosineEmbeddingLoss", dict(margin=0.1, reduction="sum"), (X, Y, ROW_SIGNS)),
    ("TripletMarginLoss", dict(margin=2.0, p=1.0, swap=True), (X, Y, X[::-1].copy())),
    ("MultiMarginLoss", dict(p=2, margin=0.7), (X, np.array([0, 4, 2, 2]))),
    ("PoissonNLLLoss", dict(full=True), (X, np.abs(Y) * 3)),
    ("GaussianNLLLoss", dict(full=True, eps=1e-3), (X, Y, np.abs(X[:, :1]) + 0.01)),
]


@pytest.mark.parametrize("name,options,args", CASES, ids=[c[0] + str(c[1]) for c in CASES])
def test_modules_match_pytorch(name, options, args):
    ours = getattr(nn, name)(**options)
    theirs = getattr(torch.nn, name)(**options)
    assert repr(ours) == repr(theirs)
    for key, value in options.items():
        assert getattr(ours, key) == getattr(theirs, key)
    assert ours.reduction == theirs.reduction
    ours_in = [ad.tensor(a, requires_grad=i == 0) for i, a in enumerate(args)]
    theirs_in = [torch.tensor(a, requires_grad=i == 0) for i, a in enumerate(args)]
    out, expected = ours(*ours_in), theirs(*theirs_in)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours_in[0].grad.numpy(), theirs_in[0].grad.numpy(), rtol=1e-9, atol=1e-12)


def test_legacy_size_average_and_reduce_map_as_in_pytorch():
    x, y = ad.tensor(X), ad.tensor(Y)
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert nn.SmoothL1Loss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.SoftMarginLoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning):
        total = F.smooth_l1_loss(x, y, size_average=False)
    np.testing.assert_allclose(total.item(), F.smooth_l1_loss(x, y, reduction="sum").item())


def test_kl_div_mean_warns_as_pytorch_and_batchmean_divides_by_the_batch():
    x, y = ad.tensor(-np.abs(X)), ad.tensor(np.abs(Y))
    with pytest.warns(UserWarning, match="batchmean"):
        mean = F.kl_div(x, y)
    np.testing.assert_allclose(mean.item() * X.size, F.kl_div(x, y, reduction="sum").item())
    np.testing.assert_allclose(F.kl_div(x, y, reduction="batchmean").item() * 4,
                               F.kl_div(x, y, reduction="sum").item())
    zero = ad.tensor([[0.0, 1.0]])          # 0 log 0 = 0, and no NaN in the gradient
    inp = ad.tensor([[-1.0, -0.5]], requires_grad=True)
    loss = F.kl_div(inp, zero, reduction="sum")
    assert loss.item() == pytest.approx(0.5)
    loss.backward()
    assert inp.grad.tolist() == [[0.0, -1.0]]


def test_gaussian_nll_clamps_the_variance_but_passes_its_gradient():
    var = ad.tensor([1e-9, 0.5], requires_grad=True)
    tvar = torch.tensor([1e-9, 0.5], dtype=torch.float32, requires_grad=True)
    x, y = ad.tensor([0.1, 0.2]), ad.tensor([0.0, 0.0])
    F.gaussian_nll_loss(x, y, var, reduction="sum").backward()
    torch.nn.functional.gaussian_nll_loss(torch.tensor([0.1, 0.2]), torch.zeros(2), tvar,
                                          reduction="sum").backward()
    np.testing.assert_allclose(var.grad.numpy(), tvar.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("call,error,match", [
    (lambda: F.gaussian_nll_loss(ad.zeros(3), ad.zeros(3), ad.tensor([1.0, -1.0, 1.0])), ValueError,
     "var has negative entry"),
    (lambda: F.gaussian_nll_loss(ad.zeros(3, 4), ad.zeros(3, 4), ad.ones(2)), ValueError,
     "var is of incorrect size"),
    (lambda: F.triplet_margin_loss(ad.zeros(2, 3), ad.zeros(2, 3), ad.zeros(2, 3), margin=0.0),
     ValueError, "margin must be greater than 0"),
    (lambda: F.multi_margin_loss(ad.zeros(2, 3), ad.tensor([0, 1]), p=3), ValueError,
     "only p == 1 and p == 2"),
    (lambda: F.multi_margin_loss(ad.zeros(2, 3), ad.tensor([0, 3])), IndexError, "out of bounds"),
    (lambda: F.kl_div(ad.zeros(3), ad.tensor([1, 0, 0])), TypeError, "integral"),
    (lambda: F.smooth_l1_loss(ad.zeros(3), ad.zeros(3), reduction="avg"), ValueError,
     "'avg' is not a valid value for reduction"),
    (lambda: F.huber_loss(ad.zeros(3), ad.zeros(3), delta=0.0), ValueError, "delta must be > 0"),
    (lambda: F.margin_ranking_loss(ad.zeros(3), ad.zeros(3), ad.zeros(1, 3)), ValueError,
     "same number of dimensions"),
    (lambda: F.cosine_embedding_loss(ad.zeros(2, 3), ad.zeros(2, 4), ad.ones(2)), ValueError,
     "same shape"),
    (lambda: F.soft_margin_loss(ad.zeros(3, dtype=ad.int64), ad.tensor([1, 1, 1])), TypeError,
     "floating point"),
])
def test_errors_name_the_loss_and_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_losses_of_a_model_train_like_pytorch():
    """SmoothL1Loss driving a Linear layer: the same loss curve as PyTorch's."""
    w = rng.standard_normal((1, 5)) * 0.3
    lin, tlin = nn.Linear(5, 1).double(), torch.nn.Linear(5, 1).double()
    lin.load_state_dict({"weight": ad.tensor(w), "bias": ad.zeros(1, dtype=ad.float64)})
    tlin.load_state_dict({"weight": torch.tensor(w), "bias": torch.zeros(1, dtype=torch.float64)})
    target = X @ np.array([1.0, -1.0, 0.5, 2.0, 0.0]) + 3.0
    losses = []
    for module, lib, loss_fn in ((lin, ad, nn.SmoothL1Loss(beta=0.5)),
                                 (tlin, torch, torch.nn.SmoothL1Loss(beta=0.5))):
        opt = (ad.optim if lib is ad else torch.optim).SGD(module.parameters(), lr=0.1)
        curve = []
        for _ in range(20):
            opt.zero_grad()
            loss = loss_fn(module(lib.tensor(X)).reshape(-1), lib.tensor(target))
            loss.backward()
            opt.step()
            curve.append(loss.item())
        losses.append(curve)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-10)
    assert losses[0][-1] < losses[0][0]


LOSS_MODULES = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss",
                "SmoothL1Loss", "HuberLoss", "KLDivLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
                "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "TripletMarginLoss",
                "MultiMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss"]
LOSS_FUNCTIONS = ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                  "nll_loss", "cross_entropy", "smooth_l1_loss", "huber_loss", "kl_div", "soft_margin_loss",
                  "multilabel_soft_margin_loss", "margin_ranking_loss", "hinge_embedding_loss",
                  "cosine_embedding_loss", "triplet_margin_loss", "multi_margin_loss", "poisson_nll_loss",
                  "gaussian_nll_loss"]


def _parameters(fn):
    import inspect
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", LOSS_MODULES)
def test_loss_constructors_take_pytorchs_arguments_in_pytorchs_order(name):
    assert _parameters(getattr(nn, name).__init__) == _parameters(getattr(torch.nn, name).__init__)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_loss_functions_take_pytorchs_arguments_in_pytorchs_order(name):
    assert _parameters(getattr(F, name)) == _parameters(getattr(torch.nn.functional, name))


def test_legacy_flags_of_the_older_losses():
    x, y = ad.tensor(X), ad.tensor(Y)
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert nn.MSELoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning):
        loss = nn.CrossEntropyLoss(None, False)(x, ad.tensor([0, 1, 2, 3]))
    np.testing.assert_allclose(loss.item(), F.cross_entropy(x, ad.tensor([0, 1, 2, 3]), reduction="sum").item())
