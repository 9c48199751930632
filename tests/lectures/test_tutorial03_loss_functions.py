"""ATML Tutorial 03 (seed 002): the table of output activations and loss functions. Each pair the
table says is the same loss ("combines Sigmoid and ...", "combines LogSoftmax and NLLLoss") gives the
same value and gradient, and the MSE row is mean([y - y']^2)."""
import autodiff as torch
import autodiff.nn as nn
import numpy as np


def _logits(*shape):
    return torch.randn(*shape, requires_grad=True)


def test_regression_rows_mse():
    torch.manual_seed(0)
    h_dim, y_dim = 5, 3
    h, y = torch.randn(8, h_dim), torch.randn(8, y_dim)
    for head in (nn.Linear(h_dim, y_dim), nn.Sequential(nn.Linear(h_dim, y_dim), nn.Tanh())):
        y_pred = head(h)
        loss = nn.MSELoss()(y_pred, y)
        np.testing.assert_allclose(loss.item(), ((y - y_pred) ** 2).mean().item(), rtol=1e-6)


def test_binary_rows_bce_and_bce_with_logits_agree():
    torch.manual_seed(0)
    u = _logits(8, 1)
    y = (torch.rand(8, 1) > 0.5).float()
    with_sigmoid = nn.BCELoss()(nn.Sigmoid()(u), y)
    (g1,) = torch.grad(with_sigmoid, u)
    with_logits = nn.BCEWithLogitsLoss()(u, y)
    (g2,) = torch.grad(with_logits, u)
    p = torch.sigmoid(u)
    by_formula = (-y * torch.log(p) - (1 - y) * torch.log(1 - p)).mean()
    np.testing.assert_allclose(with_sigmoid.item(), with_logits.item(), rtol=1e-5)
    np.testing.assert_allclose(with_logits.item(), by_formula.item(), rtol=1e-5)
    np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-4, atol=1e-7)


def test_multiclass_rows_nll_of_log_softmax_is_cross_entropy():
    torch.manual_seed(0)
    n = 4
    model_head = nn.Sequential(nn.Linear(6, n), nn.LogSoftmax(dim=1))
    h = torch.randn(5, 6)
    y = torch.tensor([0, 3, 1, 2, 3])
    nll = nn.NLLLoss()(model_head(h), y)
    ce = nn.CrossEntropyLoss()(model_head[0](h), y)
    np.testing.assert_allclose(nll.item(), ce.item(), rtol=1e-6)
    probabilities = torch.softmax(model_head[0](h), dim=1)
    by_formula = -torch.log(probabilities[torch.arange(5), y]).mean()
    np.testing.assert_allclose(ce.item(), by_formula.item(), rtol=1e-5)
