"""The lecture's first examples, by hand: exact values, not just "it runs"."""
import numpy as np

import autodiff as ad


def test_lecture_graph_tensor():
    x = ad.tensor(-2.0, requires_grad=True)
    y = ad.tensor(5.0, requires_grad=True)
    z = ad.tensor(-4.0, requires_grad=True)
    f = (x + y) * z
    f.backward()
    assert f.item() == -12.0
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)


def test_lecture_graph_scalar():
    x, y, z = ad.Scalar(-2.0), ad.Scalar(5.0), ad.Scalar(-4.0)
    f = (x + y) * z
    f.backward()
    assert f.data == -12.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)


def test_quadratic_gradient():
    x = ad.tensor(2.0, requires_grad=True)
    z = 2 * x ** 2 + 5 * x
    z.backward()
    assert z.item() == 18.0
    assert x.grad.item() == 13.0

