"""Engine integrity: every path that used to give a silently wrong gradient or leave state
half-changed (issue 11), each checked against PyTorch's behaviour where torch is installed:
saved values changed in place, views, fill_/zero_/copy_, in-place dtype rules, concurrent
backward, .grad/.data assignment, atomic backward and optimizer steps, no-op shape ops."""
import threading

import numpy as np
import pytest

import autodiff as ad
from autodiff import optim
from autodiff.testing import assert_gradients_match, assert_gradgrad_match

try:
    import torch
except ImportError:            # the checks against PyTorch are skipped without it
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
INPLACE_ERROR = "modified by an inplace operation"


def leaf(values, dtype=np.float64):
    return ad.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def torch_leaf(values, dtype=np.float64):
    return torch.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def run_both(program, values):
    """``program(lib, x)`` -> output tensor, in autodiff and in torch: (values, x.grad) of each,
    or the error message each raised."""
    results = []
    for lib, make in ((ad, leaf), (torch, torch_leaf)):
        x = make(values)
        try:
            out = program(lib, x)
            out_values = out.detach().numpy().copy()
            out.sum().backward()
            results.append((out_values, None if x.grad is None else x.grad.numpy().copy()))
        except RuntimeError as exc:
            results.append(str(exc))
    return results


# ---------------------------------------------------------------------- 1. saved outputs
SAVES_OUTPUT = {
    "exp": lambda t: t.exp(), "sigmoid": lambda t: t.sigmoid(), "tanh": lambda t: t.tanh(),
    "sqrt": lambda t: t.sqrt(), "relu": lambda t: t.relu(), "softmax": lambda t: t.softmax(0),
}
CHANGES = {
    "no_grad mul_": lambda y, lib: _under_no_grad(lib, lambda: y.mul_(0.5)),
    "detach().zero_()": lambda y, lib: y.detach().zero_(),
    ".data mul_": lambda y, lib: y.data.mul_(0.5),
    ".data assigned": lambda y, lib: setattr(y, "data", y.detach() * 0.5),
}


def _under_no_grad(lib, fn):
    with lib.no_grad():
        fn()


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("op", list(SAVES_OUTPUT))
def test_a_saved_output_changed_in_place_is_caught(op, change):
    x = leaf([0.5, 1.5, 2.0])
    y = SAVES_OUTPUT[op](x)
    CHANGES[change](y, ad)
    with pytest.raises(RuntimeError, match=INPLACE_ERROR):
        y.sum().backward()
    assert x.grad is None


@needs_torch
@pytest.mark.parametrize("op", list(SAVES_OUTPUT))
def test_a_saved_output_changed_in_place_raises_in_torch_too(op):
    for lib, make in ((ad, leaf), (torch, torch_leaf)):
        y = SAVES_OUTPUT[op](make([0.5, 1.5, 2.0]))
        CHANGES["no_grad mul_"](y, lib)
        with pytest.raises(RuntimeError, match=INPLACE_ERROR):
            y.sum().backward()


def test_a_saved_input_changed_by_an_optimizer_step_is_caught():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    w.grad = ad.tensor(np.ones(2))
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=INPLACE_ERROR):
        loss.backward()


def test_an_unchanged_saved_output_still_backpropagates_after_other_changes():
    x = leaf([0.5, 1.5])
    y = x.exp()
    other = ad.tensor([1.0, 2.0])
    other.mul_(2)                       # a change elsewhere: y's node must still work
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, np.exp([0.5, 1.5]))


# ---------------------------------------------------------------------- 2. views
VIEWS = {
    "index": lambda t: t[0],
    "slice": lambda t: t[:, 1:],
    "view": lambda t: t.view(6)[1:4],
    "reshape": lambda t: t.reshape(3, 2),
    "transpose": lambda t: t.transpose(0, 1),
    "t": lambda t: t.t(),
    "permute": lambda t: t.permute(1, 0),
    "unsqueeze": lambda t: t.unsqueeze(0),
    "squeeze": lambda t: t[0:1].squeeze(0),
    "unbind": lambda t: t.unbind(1)[2],
    "split": lambda t: t.split(1, dim=0)[1],
    "chunk": lambda t: t.chunk(3, dim=1)[0],
    "view of a view": lambda t: t.t()[1:],
}
VALUES = np.arange(1.0, 7.0).reshape(2, 3)
MULTI_OUTPUT_VIEWS = {"unbind", "split", "chunk"}


def _change_base(lib, x, view_fn):
    a = x * 1
    v = view_fn(a)
    a.mul_(10)
    return v * 1


def _change_view(lib, x, view_fn):
    a = x * 1
    v = view_fn(a)
    v.mul_(x.sum())          # depends on x itself: both paths must carry gradient
    return a * 1


def _change_view_then_use_both(lib, x, view_fn):
    a = x * 1
    v = view_fn(a)
    other = a[1]             # another view of the same base, made before the change
    v.add_(x.mean())
    return lib.cat([a.reshape(-1), other * 2, v.reshape(-1) * 3])


@needs_torch
@pytest.mark.parametrize("program", [_change_base, _change_view, _change_view_then_use_both])
@pytest.mark.parametrize("view", list(VIEWS))
def test_views_share_memory_and_gradients_with_their_base_as_in_torch(view, program):
    ours, theirs = run_both(lambda lib, x: program(lib, x, VIEWS[view]), VALUES)
    assert not isinstance(ours, str), ours
    if view in MULTI_OUTPUT_VIEWS:
        # PyTorch refuses in-place changes that touch the outputs of functions returning
        # several views; autodiff gives the right result (finite differences, below)
        assert "returns multiple views" in theirs
        return
    assert not isinstance(theirs, str), theirs
    np.testing.assert_allclose(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1])


@pytest.mark.parametrize("program", [_change_base, _change_view, _change_view_then_use_both])
@pytest.mark.parametrize("view", ["index", "transpose", "view of a view", "unbind", "split",
                                  "chunk"])
def test_inplace_through_views_matches_finite_differences(view, program):
    fn = lambda x: program(ad, x, VIEWS[view])   # noqa: E731
    assert_gradients_match(fn, leaf(VALUES))
    assert_gradgrad_match(fn, leaf(VALUES))


def test_the_issue_example_row_sees_the_change_of_its_base():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    a = x * 1
    row = a[0]
    a.mul_(10)
    np.testing.assert_array_equal(row._data, [10.0, 20.0])
    row.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[10.0, 10.0], [0.0, 0.0]])


def test_a_view_of_a_plain_tensor_changed_by_a_tensor_that_requires_grad():
    base = ad.zeros(3)
    w = leaf([1.0, 2.0])
    part = base[:2]
    part.copy_(w * 3)
    assert base.requires_grad and base.grad_fn.name() == "CopySlices"
    np.testing.assert_array_equal(base._data, [3.0, 6.0, 0.0])
    (base * ad.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(w.grad._data, [3.0, 30.0])


def test_a_view_of_a_leaf_that_requires_grad_cannot_be_changed_in_place():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x[0:1].mul_(2)
    np.testing.assert_array_equal(x._data, [1.0, 2.0])
    with ad.no_grad():
        x[0:1].mul_(2)           # allowed, as in PyTorch
    np.testing.assert_array_equal(x._data, [2.0, 2.0])


def test_a_view_made_under_no_grad_cannot_be_changed_with_grad_mode_on():
    a = leaf([1.0, 2.0]) * 1
    with ad.no_grad():
        v = a[0:1]
    with pytest.raises(RuntimeError, match="no_grad mode"):
        v.mul_(leaf([2.0]))


def test_an_expanded_view_cannot_be_written_in_place():
    a = leaf([1.0, 2.0]) * 1
    with pytest.raises(RuntimeError, match="single memory location"):
        a.expand(3, 2).mul_(2)
    with pytest.raises(RuntimeError, match="single memory location"):
        ad.tensor([1.0]).expand(3).mul_(2)


def test_a_saved_base_changed_through_a_view_is_caught():
    x = leaf([0.5, 1.5])
    a = x * 1
    s = a.sin()                 # saves a
    a[0:1].mul_(2)
    with pytest.raises(RuntimeError, match=INPLACE_ERROR):
        s.sum().backward()


# ---------------------------------------------------------------------- 3. fill_, zero_, copy_
@pytest.mark.parametrize("change, expected", [
    (lambda y: y.zero_(), [0.0, 0.0]),
    (lambda y: y.fill_(2.5), [2.5, 2.5]),
    (lambda y: y.copy_(ad.tensor([7.0, 8.0])), [7.0, 8.0]),
])
def test_overwriting_ignores_inf_and_nan_in_the_old_values(change, expected):
    x = leaf([np.inf, np.nan], dtype=np.float32)
    y = x * 1
    change(y)
    np.testing.assert_array_equal(y._data, expected)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0])   # as PyTorch: zeros, not nan


@pytest.mark.parametrize("change", [
    lambda y, src: y.copy_(src), lambda y, src: y.add_(src), lambda y, src: y.mul_(src),
])
def test_a_recorded_inplace_op_keeps_the_destination_dtype(change):
    x = leaf([1.0, 2.0], dtype=np.float32)
    src = leaf([3.0, 4.0])                      # float64
    y = x * 1
    change(y, src)
    assert y.dtype == ad.float32
    y.sum().backward()
    assert x.grad.dtype == ad.float32 and src.grad.dtype == ad.float64


@needs_torch
@pytest.mark.parametrize("change", [
    lambda lib, y, s: y.copy_(s * 2), lambda lib, y, s: y[1:].copy_(s[0]),
    lambda lib, y, s: y.fill_(s.sum()), lambda lib, y, s: y[0].fill_(3.0),
    lambda lib, y, s: y.zero_().add_(s), lambda lib, y, s: y.t().copy_(s.t()),
])
def test_fill_and_copy_gradients_match_torch(change):
    def program(lib, x):
        y = x * 3
        change(lib, y, x.exp())
        return y * x
    ours, theirs = run_both(program, VALUES)
    np.testing.assert_allclose(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1])


# ---------------------------------------------------------------------- issue 10: dtypes in place
INT_CHANGES = [
    ("mul_", lambda t: t.mul_(1.5)), ("add_", lambda t: t.add_(0.7)), ("div_", lambda t: t.div_(2)),
    ("sub_", lambda t: t.sub_(0.5)), ("clamp_", lambda t: t.clamp_(0.5)),
]


@pytest.mark.parametrize("name, change", INT_CHANGES)
def test_an_int_tensor_cannot_take_a_float_result_in_place(name, change):
    t = ad.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output "
                                           "type Long"):
        change(t)
    np.testing.assert_array_equal(t._data, [1, 2])
    assert t._version == 0


def test_a_bool_tensor_cannot_take_an_int_result_in_place():
    t = ad.tensor([True, False])
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output "
                                           "type Bool"):
        t.add_(1)


@needs_torch
@pytest.mark.parametrize("name, change", INT_CHANGES)
def test_int_inplace_errors_match_torch(name, change):
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        change(torch.tensor([1, 2]))


@pytest.mark.parametrize("target, other, result, wanted", [
    (np.array([1, 2]), np.array([1.5, 2.0], np.float32), "Float", "Long"),   # PyTorch's promotion,
    (np.array([1, 2]), np.array(2.0), "Double", "Long"),                     # not numpy's (float64)
    (np.array([True]), np.array([3], np.int32), "Int", "Bool"),
])
def test_inplace_error_names_pytorchs_result_type(target, other, result, wanted):
    t = ad.tensor(target)
    with pytest.raises(RuntimeError, match=f"mul_: result type {result} can't be cast to the "
                                           f"desired output type {wanted}"):
        t.mul_(ad.tensor(other))
    np.testing.assert_array_equal(t._data, target)
    assert t._version == 0


def test_int_tensor_takes_a_wider_int_in_place_as_pytorch():
    # numpy's same_kind casting refuses int64 into uint8; PyTorch (same category) allows it
    t = ad.tensor(np.array([250, 1], np.uint8))
    t.add_(ad.tensor([10, 2]))
    np.testing.assert_array_equal(t._data, np.array([4, 3], np.uint8))
    assert t.dtype == ad.uint8 and t._version == 1


def test_int_tensors_still_take_int_results_and_casting_ops():
    t = ad.tensor([1, 2])
    t.add_(3).mul_(2)
    np.testing.assert_array_equal(t._data, [8, 10])
    t.fill_(1.5)                 # fill_, copy_ and x[k] = v cast, as in PyTorch
    np.testing.assert_array_equal(t._data, [1, 1])
    t.copy_(ad.tensor([2.7, 3.2]))
    np.testing.assert_array_equal(t._data, [2, 3])
    f = ad.tensor([1.0, 2.0])
    f.add_(ad.tensor([1.0, 1.0], dtype=ad.float64))   # a float64 operand: float32 stays
    assert f.dtype == ad.float32


# ---------------------------------------------------------------------- 4. concurrent backward
def test_concurrent_backward_into_one_leaf_loses_no_update():
    x = ad.tensor(np.zeros(200_000), requires_grad=True)
    runs, threads_count = 10, 4
    errors = []

    def work():
        try:
            for _ in range(runs):
                (x * 1.0).sum().backward()
        except Exception as exc:      # pragma: no cover (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    np.testing.assert_array_equal(x.grad._data, np.full(200_000, runs * threads_count))


# ---------------------------------------------------------------------- 5. assignments, atomicity
def test_grad_assignment_is_validated_as_in_torch():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="assign a gradient of size '\\[2\\]' to a tensor of size"):
        x.grad = ad.tensor(np.zeros(2))
    with pytest.raises(RuntimeError, match="dtype"):
        x.grad = ad.tensor(np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="expected to be a Tensor or None but got grad of type int"):
        x.grad = 3
    assert x.grad is None
    x.grad = ad.tensor(np.ones(3))
    x.grad = None


def test_data_assignment_is_validated_as_in_torch():
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="has to be a tensor, but got int"):
        x.data = 3
    with pytest.raises(RuntimeError, match="floating point"):
        x.data = ad.tensor([1, 2])
    x.data = ad.tensor(np.zeros(5))     # another shape or dtype is allowed, as in PyTorch
    assert x.shape == (5,)


def test_a_failing_backward_leaves_every_grad_as_it_was():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    a.grad, b.grad = ad.tensor(np.ones(2)), ad.tensor(np.ones(2))
    b.data = ad.tensor(np.ones(3))      # allowed; b.grad no longer fits
    with pytest.raises(RuntimeError, match=r"cannot be accumulated into the existing .grad"):
        ((a * 2).sum() + (b * 2).sum()).backward()
    np.testing.assert_array_equal(a.grad._data, [1.0, 1.0])
    np.testing.assert_array_equal(b.grad._data, [1.0, 1.0])


OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    "Adam": lambda ps: optim.Adam(ps, lr=0.1),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.1),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.1, momentum=0.5),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_failing_step_leaves_params_grads_and_state_as_they_were(name):
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0, 5.0])
    opt = OPTIMIZERS[name]([a, b])
    a.grad, b.grad = leaf([0.1, 0.2]).detach(), leaf([0.3, 0.4, 0.5]).detach()
    opt.step()
    before = _snapshot_optimizer(opt, [a, b])
    b.data = ad.tensor(np.ones(2))       # b's grad (3 elements) no longer fits b
    b_values = b._data.copy()
    with pytest.raises(RuntimeError, match=f"{name}.step: the gradient of parameter 1"):
        opt.step()
    after = _snapshot_optimizer(opt, [a, b])
    np.testing.assert_array_equal(b._data, b_values)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_step_after_a_gradient_array_is_swapped_checks_again(name):
    # step checks every gradient again after any array swap, the gradient's own included
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0, 5.0])
    opt = OPTIMIZERS[name]([a, b])
    a.grad, b.grad = leaf([0.1, 0.2]).detach(), leaf([0.3, 0.4, 0.5]).detach()
    opt.step()
    opt.step()
    b.grad.data = ad.tensor(np.ones(2, np.float32))   # float32, and 2 values for b's 3
    b_values = b._data.copy()
    with pytest.raises(RuntimeError, match=f"{name}.step: the gradient of parameter 1 of a "
                                           "group has shape"):
        opt.step()
    np.testing.assert_array_equal(b._data, b_values)


def _snapshot_optimizer(opt, params):
    shot = {}
    for i, p in enumerate(params[:1]):
        shot[f"p{i}"] = p._data.copy()
        shot[f"g{i}"] = p.grad._data.copy()
        for key, value in opt.state[p].items():
            shot[f"{i}.{key}"] = np.array(value._data if hasattr(value, "_data") else value)
    return shot


# ---------------------------------------------------------------------- issue 10: no-op shape ops
NO_OPS = {
    "reshape": lambda t: t.reshape(t.shape), "view": lambda t: t.view(*t.shape),
    "squeeze": lambda t: t.squeeze(), "transpose": lambda t: t.transpose(1, 1),
    "expand": lambda t: t.expand(*t.shape), "T of 1-d": lambda t: t[0].T,
    "view_as": lambda t: t.view_as(t),
}


@pytest.mark.parametrize("op", list(NO_OPS))
def test_a_no_op_shape_op_returns_a_new_view(op):
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = NO_OPS[op](x)
    assert y is not x and y.grad_fn is not None and not y.is_leaf
    y.retain_grad()
    (y * 3).sum().backward()
    np.testing.assert_array_equal(y.grad._data, np.full(y.shape, 3.0))
    assert x.grad is not y.grad
    with ad.no_grad():
        y.mul_(2)                 # shares memory with x
    assert x._data[0, 0] == 2.0 and x._version == 1


@needs_torch
@pytest.mark.parametrize("op", list(NO_OPS))
def test_no_op_shape_ops_are_new_tensors_in_torch_too(op):
    x = torch.ones(2, 2, requires_grad=True)
    y = NO_OPS[op](x)
    assert y is not x and y.grad_fn is not None


def test_the_transpose_of_a_1d_leaf_is_a_new_tensor_in_the_graph():
    v = leaf([1.0, 2.0])
    assert v.T is not v and not v.T.is_leaf and v.T.grad_fn is not None


def test_ops_that_stay_self_as_in_torch():
    x = leaf([1.0, 2.0])
    assert x.contiguous() is x and x.to(ad.float64) is x and x.flatten() is x


def test_contiguous_copies_a_non_contiguous_tensor_in_the_graph():
    x = leaf(VALUES)
    t = x.t()
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.grad_fn.name() == "CloneBackward"
    np.testing.assert_array_equal(c._data, VALUES.T)
    assert not np.shares_memory(c._data, x._data)
    (c * ad.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad._data, np.arange(6.0).reshape(3, 2).T)


def test_a_weights_grad_is_c_ordered_like_the_weight_as_in_pytorch():
    """PyTorch's gradient layout contract: a C-contiguous parameter used through a transpose
    (every Linear layer's w.T) gets a C-contiguous .grad, with the values of x.T @ g."""
    rng = np.random.default_rng(0)
    w = ad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    (ad.tensor(x) @ w.T).backward(ad.tensor(g))
    assert w.grad.numpy().flags.c_contiguous
    np.testing.assert_allclose(w.grad.numpy(), g.T @ x, rtol=1e-12)
    f = ad.tensor(np.asfortranarray(rng.standard_normal((3, 4))), requires_grad=True)
    (ad.tensor(x) @ f).backward(ad.tensor(g))          # a Fortran-ordered leaf keeps numpy's order
    np.testing.assert_allclose(f.grad.numpy(), x.T @ g, rtol=1e-12)
