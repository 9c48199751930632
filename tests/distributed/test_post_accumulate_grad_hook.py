"""Tensor.register_post_accumulate_grad_hook: hook(param) after backward wrote ``.grad``."""
import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")


def _run(lib, make):
    """Two backward passes on w * x; what the hook saw each time (the accumulated .grad)."""
    w = make([1.0, 2.0])
    x = make([3.0, 4.0], requires_grad=False)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * x).sum().backward()
    (w * w).sum().backward()
    handle.remove()
    (w * x).sum().backward()                 # removed: not called
    return seen, w.grad.tolist()


def test_sees_the_accumulated_grad_once_per_backward_like_pytorch():
    ours = _run(autodiff, lambda v, requires_grad=True: autodiff.tensor(v, requires_grad=requires_grad,
                                                                        dtype=autodiff.float64))
    theirs = _run(torch, lambda v, requires_grad=True: torch.tensor(v, requires_grad=requires_grad,
                                                                    dtype=torch.float64))
    assert ours == theirs == ([[3.0, 4.0], [5.0, 8.0]], [8.0, 12.0])


def test_each_leaf_hook_sees_its_own_grad_and_none_run_for_autodiff_grad():
    a = autodiff.tensor([1.0], requires_grad=True)
    b = autodiff.tensor([2.0], requires_grad=True)
    calls = []
    a.register_post_accumulate_grad_hook(lambda p: calls.append(("a", p is a, p.grad.tolist())))
    b.register_post_accumulate_grad_hook(lambda p: calls.append(("b", p is b, p.grad.tolist())))
    (a * b).sum().backward()
    assert sorted(calls) == [("a", True, [2.0]), ("b", True, [1.0])]
    calls.clear()
    autodiff.grad((a * b).sum(), [a])       # nothing is accumulated: no hook
    assert calls == []


def test_a_failing_backward_calls_no_hook():
    w = autodiff.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda p: calls.append(1))

    def broken(grad):
        raise ValueError("hook failed")
    y = w * 2
    y.register_hook(broken)
    with pytest.raises(ValueError, match="hook failed"):
        y.sum().backward()
    assert calls == [] and w.grad is None


def test_errors_on_non_leaves_and_tensors_without_grad():
    w = autodiff.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        autodiff.tensor([1.0]).register_post_accumulate_grad_hook(lambda p: None)


def test_the_hook_may_change_the_grad_in_place():
    """What fused optimizers (and DDP) do: update or replace .grad after accumulation."""
    w = autodiff.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(0.5))
    (3 * w).sum().backward()
    assert w.grad.tolist() == [1.5, 1.5]
