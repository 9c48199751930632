"""saved_tensors_hooks and save_on_cpu (autodiff.autograd.graph), as PyTorch's: hooks see every
saved tensor, backward sees what unpack returns, and the in-place check still holds."""
import numpy as np
import pytest

import autodiff as ad
from autodiff.autograd.graph import save_on_cpu, saved_tensors_hooks
from autodiff.testing import assert_gradients_match

INPLACE_ERROR = "modified by an inplace operation"


def test_pack_and_unpack_see_every_saved_tensor_and_backward_uses_the_unpacked_values():
    packed, unpacked = [], []

    def pack(t):
        packed.append(t.shape)
        return ("box", t._data.copy())

    def unpack(box):
        unpacked.append(box[0])
        return ad.tensor(box[1])

    x = ad.tensor([0.5, 1.5], requires_grad=True, dtype=ad.float64)
    w = ad.tensor([2.0, 3.0], requires_grad=True, dtype=ad.float64)
    with saved_tensors_hooks(pack, unpack):
        y = (x * w).exp().sum()         # mul saves x and w; exp saves its output
    assert len(packed) == 3
    y.backward()
    assert unpacked == ["box"] * 3
    e = np.exp(x._data * w._data)
    np.testing.assert_allclose(x.grad._data, e * w._data)
    np.testing.assert_allclose(w.grad._data, e * x._data)


def test_hooks_are_not_used_outside_the_block():
    calls = []
    with saved_tensors_hooks(lambda t: calls.append(t) or t, lambda t: t):
        pass
    (ad.tensor([1.0], requires_grad=True).exp()).sum().backward()
    assert calls == []


@pytest.mark.parametrize("change", ["no_grad", "detach", "data"])
def test_the_inplace_check_holds_for_a_saved_input_under_hooks(change):
    x = ad.tensor([0.5, 1.5], requires_grad=True, dtype=ad.float64) * 1
    with saved_tensors_hooks(lambda t: t._data.copy(), lambda a: ad.tensor(a)):
        y = x.sin()
    if change == "no_grad":
        with ad.no_grad():
            x.mul_(2)
    elif change == "detach":
        x.detach().zero_()
    else:
        x.data.add_(1)
    with pytest.raises(RuntimeError, match=INPLACE_ERROR):
        y.sum().backward()


def test_the_inplace_check_holds_for_a_saved_output_under_hooks():
    x = ad.tensor([0.5, 1.5], requires_grad=True, dtype=ad.float64)
    with saved_tensors_hooks(lambda t: t._data.copy(), lambda a: ad.tensor(a)):
        y = x.exp()
    with ad.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="output 0 of ExpBackward"):
        y.sum().backward()


def test_save_on_cpu_gives_the_same_gradients():
    def fn(x):
        with save_on_cpu():
            return (x.sin() * x).tanh()
    assert_gradients_match(fn, ad.tensor([0.3, -1.2, 2.0], requires_grad=True, dtype=ad.float64))


def test_torch_semantics_match():
    torch = pytest.importorskip("torch")
    counts = {}
    for lib, hooks in ((ad, saved_tensors_hooks), (torch, torch.autograd.graph.saved_tensors_hooks)):
        seen = []
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        with hooks(lambda t: seen.append(1) or t, lambda t: t):
            y = (x.exp() * x).sum()
        y.backward()
        counts[lib.__name__] = (len(seen), np.asarray(x.grad.detach().numpy()).tolist())
    assert counts["autodiff"][0] == counts["torch"][0]
    np.testing.assert_allclose(counts["autodiff"][1], counts["torch"][1], rtol=1e-6)
