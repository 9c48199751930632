"""Shape, indexing, linalg, sorting and statistics ops beyond what the op table checks:
PyTorch's indexing rule for ints mixed with index arrays, zero-size pieces, the in-place
forms without a graph, the result types, and the errors (each names the op and the argument)."""
import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")


def _both(values, dtype=np.float64, requires_grad=False):
    values = np.asarray(values, dtype=dtype)
    return (ad.tensor(values, requires_grad=requires_grad),
            torch.tensor(values, requires_grad=requires_grad))


# ---------------------------------------------------------------------- mixed advanced indexing
@pytest.mark.parametrize("key", [
    (0, slice(None), [0, 1]), (slice(None), 0, [0, 1]), ([1, 0], slice(None), 0), (0, [0, 1], slice(None)),
    (Ellipsis, 0, [0, 1]), (1, None, slice(1, 3), [2, 0]), (0, slice(None), [[0, 1], [2, 3]]),
    ([0, 1], 1, [2, 3]), (1, slice(None), [True, False, True, True]),
])
def test_ints_mixed_with_index_arrays_follow_pytorch(key):
    """PyTorch selects with the ints first: x[0, :, [0, 1]] on (2, 3, 4) has shape (3, 2)
    (numpy: (2, 3)); values, gradients and x[key] = value agree with PyTorch."""
    rng = np.random.default_rng(0)
    ours, theirs = _both(rng.standard_normal((2, 3, 4)), requires_grad=True)
    torch_key = tuple(torch.tensor(k) if isinstance(k, list) else k for k in key)
    out, expected = ours[key], theirs[torch_key]
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy())
    upstream = rng.standard_normal(tuple(expected.shape))
    out.backward(ad.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())

    value = rng.standard_normal(tuple(expected.shape))
    target, reference = _both(rng.standard_normal((2, 3, 4)))
    target[key] = ad.tensor(value)
    reference[torch_key] = torch.tensor(value)
    np.testing.assert_allclose(target.numpy(), reference.numpy())


def test_the_issue_example_has_pytorch_shape():
    x = ad.arange(24.0).reshape(2, 3, 4)
    assert x[0, :, [0, 1]].shape == (3, 2)
    assert x[ad.tensor(0), :, [0, 1]].shape == (3, 2)     # a 0-d integer tensor counts as an int


# ---------------------------------------------------------------------- zero-size tensors
@pytest.mark.parametrize("shape, op", [
    ((0, 3), lambda lib, x: x.chunk(2)), ((0, 3), lambda lib, x: x.chunk(3)),
    ((3, 0), lambda lib, x: x.chunk(2, 1)), ((0,), lambda lib, x: x.split(1)),
    ((0, 3), lambda lib, x: x.split(2)), ((0, 3), lambda lib, x: x.split([0, 0])),
    ((0, 3), lambda lib, x: x.split(0)), ((0, 3), lambda lib, x: (x.flatten(1),)),
    ((2, 0, 3), lambda lib, x: (x.flatten(),)), ((2, 3), lambda lib, x: (x[[]],)),
    ((0, 3), lambda lib, x: (x[[]],)), ((5,), lambda lib, x: x.chunk(4)),
])
def test_zero_size_pieces_match_pytorch(shape, op):
    ours, theirs = _both(np.zeros(shape))
    pieces, expected = op(ad, ours), op(torch, theirs)
    assert [tuple(p.shape) for p in pieces] == [tuple(p.shape) for p in expected]


# ---------------------------------------------------------------------- in-place forms without a graph
@pytest.mark.parametrize("name, args", [
    ("scatter_", (1, [[1, 0], [2, 3]], "src")), ("scatter_", (0, [[1, 0, 1]], 7.0)),
    ("scatter_add_", (1, [[1, 1], [0, 3]], "src")), ("index_add_", (1, [3, 0], "src")),
    ("masked_fill_", ("mask", -1.5)), ("tril_", (1,)), ("triu_", (-1,)),
])
def test_in_place_forms_change_the_tensor_itself(name, args):
    rng = np.random.default_rng(1)
    values = rng.standard_normal((2, 4))
    src = rng.standard_normal((2, 2))
    mask = values > 0

    def run(lib, x):
        converted = []
        for a in args:
            if a == "src":
                a = lib.tensor(src)
            elif a == "mask":
                a = lib.tensor(mask)
            elif isinstance(a, list):
                a = lib.tensor(a)
            converted.append(a)
        return getattr(x, name)(*converted)

    ours, theirs = _both(values)
    assert run(ad, ours) is ours
    run(torch, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    x = ad.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="masked_fill_"):
        x.masked_fill_(ad.ones(2, 3).bool(), 0.0)
    assert x.grad is None and np.all(x.detach().numpy() == 1)


def test_in_place_with_a_source_that_requires_grad_records_the_graph():
    src = ad.tensor([[1.0, 2.0]], requires_grad=True)
    x = ad.zeros(2, 3)
    x.index_add_(0, ad.tensor([1]), ad.tensor([[1.0, 2.0, 3.0]]))
    y = ad.zeros(2, 2).scatter_(1, ad.tensor([[1, 0]]), src)
    (y * ad.tensor([[3.0, 5.0], [0.0, 0.0]])).sum().backward()
    np.testing.assert_allclose(src.grad.numpy(), [[5.0, 3.0]])
    np.testing.assert_allclose(x.numpy(), [[0, 0, 0], [1, 2, 3]])


# ---------------------------------------------------------------------- results as PyTorch returns them
def test_named_results():
    x = ad.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 5.0]])
    assert x.sort().values.tolist() == [[1.0, 2.0, 3.0], [0.0, 5.0, 5.0]]
    assert x.sort(descending=True).indices.tolist() == [[0, 2, 1], [1, 2, 0]]
    assert x.topk(1).indices.shape == (2, 1)
    assert x.aminmax().min.item() == 0.0 and x.aminmax().max.item() == 5.0
    assert x.kthvalue(2, 1).values.tolist() == [2.0, 5.0]
    assert x.median(1).indices.dtype == ad.int64
    hist = ad.histogram(ad.tensor([1.0, 2.0, 1.0]), bins=4)
    assert hist.hist.tolist() == [2.0, 0.0, 0.0, 1.0] and hist.bin_edges.shape == (5,)
    assert x.nelement() == 6


@pytest.mark.parametrize("op", [
    lambda lib, x: x.all(1, keepdims=True), lambda lib, x: x.any(0, keepdims=True),
    lambda lib, x: x.prod(1, keepdims=True), lambda lib, x: x.median(0, keepdims=True).values,
    lambda lib, x: x.mode(0, keepdims=True).values, lambda lib, x: x.kthvalue(1, 0, keepdims=True).values,
    lambda lib, x: x.aminmax(dim=0, keepdims=True).max,
])
def test_keepdims_is_another_spelling_of_keepdim(op):
    ours, theirs = _both([[1.0, 0.0, 2.0], [3.0, 3.0, 1.0]])
    out, expected = op(ad, ours), op(torch, theirs)
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.numpy())


def test_repeat_interleave_of_counts_and_cartesian_prod():
    counts = [2, 0, 3]
    assert ad.repeat_interleave(ad.tensor(counts)).tolist() == torch.repeat_interleave(torch.tensor(counts)).tolist()
    a, b = ad.tensor([1, 2]), ad.tensor([3, 4, 5])
    assert ad.cartesian_prod(a, b).tolist() == torch.cartesian_prod(torch.tensor([1, 2]), torch.tensor([3, 4, 5])).tolist()


@pytest.mark.parametrize("make", [
    lambda lib: [lib.tensor([]), lib.ones(2, 3)], lambda lib: [lib.ones(2, 3), lib.tensor([]), lib.ones(1, 3)],
    lambda lib: [lib.tensor([]), lib.tensor([])], lambda lib: [lib.ones(2), lib.arange(3)],
    lambda lib: [lib.arange(2), lib.ones(2, dtype=lib.float64)], lambda lib: [lib.tensor([True]), lib.arange(2)],
    lambda lib: [lib.tensor([], dtype=lib.float64), lib.ones(2, 3)],
])
def test_cat_skips_empty_vectors_and_promotes_as_pytorch(make):
    """``out = torch.tensor([]); out = torch.cat([out, x])`` is common lecture code."""
    out, expected = ad.cat(make(ad)), torch.cat(make(torch))
    assert tuple(out.shape) == tuple(expected.shape)
    assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]


def test_stack_promotes_as_pytorch():
    assert ad.stack([ad.arange(2), ad.ones(2)]).dtype == ad.float32
    assert ad.stack([ad.ones(2), ad.ones(2, dtype=ad.float64)]).dtype == ad.float64


def test_view_of_a_contiguous_copy():
    x = ad.arange(6.0).reshape(2, 3).t()
    assert x.contiguous().view(-1).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    assert x.reshape(-1).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    assert ad.ones(2, 6)[:, :4].view(2, 2, 2).shape == (2, 2, 2)   # strided, but viewable: PyTorch allows it
    with pytest.raises(RuntimeError, match="view"):
        ad.ones(2, 6)[:, :3].view(6)
    with pytest.raises(RuntimeError, match="view"):
        ad.ones(2, 3, 4, requires_grad=True).permute(2, 0, 1).view(-1)


def test_view_of_a_gradient_that_came_through_a_transpose():
    """PyTorch's gradients are contiguous: ``p.grad.view(-1)`` works whatever the graph did."""
    w = ad.randn(3, 4, requires_grad=True)
    (ad.randn(2, 4) @ w.t()).sum().backward()
    assert w.grad.view(-1).shape == (12,)


def test_gradient_of_norm_at_zero_and_of_prod_with_one_zero():
    x = ad.zeros(3, requires_grad=True)
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    y = ad.tensor([2.0, 0.0, 3.0], requires_grad=True)
    y.prod().backward()
    assert y.grad.tolist() == [0.0, 6.0, 0.0]


# ---------------------------------------------------------------------- errors
ERRORS = [
    ("expand", lambda lib: lib.ones(3).expand(-1, 3), RuntimeError, "leading, non-existing dimension"),
    ("view", lambda lib: lib.ones(2, 3).t().view(-1), RuntimeError, r"Use \.reshape"),
    ("flatten", lambda lib: lib.ones(2, 3, 4).flatten(1, 0), RuntimeError, "start_dim"),
    ("split", lambda lib: lib.split(lib.ones(2), [-1, 3]), RuntimeError, r"\[-1, 3\]"),
    ("split", lambda lib: lib.ones(3).split(0), RuntimeError, "split_size"),
    ("chunk", lambda lib: lib.ones(3).chunk(-1), RuntimeError, "chunks"),
    ("chunk", lambda lib: lib.ones(3).chunk(0), RuntimeError, "chunks"),
    ("sum", lambda lib: lib.ones(2, 3).sum(dim=1.5), TypeError, "dim"),
    ("transpose", lambda lib: lib.ones(2, 3).transpose(0.0, 1), TypeError, "dim"),
    ("unsqueeze", lambda lib: lib.ones(2).unsqueeze(0.0), TypeError, "dim"),
    ("squeeze", lambda lib: lib.ones(2, 1).squeeze(1.0), TypeError, "dim"),
    ("flatten", lambda lib: lib.ones(2, 3).flatten(0.0), TypeError, "dim"),
    ("reshape", lambda lib: lib.ones(4).reshape((2.5, 2)), TypeError, "shape"),
    ("reshape", lambda lib: lib.ones(4).reshape(2.5, 2), TypeError, None),
    ("expand", lambda lib: lib.ones(3).expand(3.0), TypeError, "size"),
    ("permute", lambda lib: lib.ones(3).permute(0.0), TypeError, "dims"),
    ("cat", lambda lib: lib.cat([lib.tensor(1.0), lib.tensor(2.0)]), RuntimeError,
     r"zero-dimensional tensor \(at position 0\) cannot be concatenated"),
    ("cat", lambda lib: lib.cat([lib.ones(2), [1.0, 2.0]]), TypeError, "element 1"),
    ("index_put", lambda lib: lib.ones(3).__setitem__(0, "x"), TypeError, "str"),
    ("narrow", lambda lib: lib.ones(3).narrow(0, 2, 2), RuntimeError, "length"),
    ("gather", lambda lib: lib.ones(2, 3).gather(1, lib.tensor([0, 1])), RuntimeError, "dimensions"),
    ("gather", lambda lib: lib.ones(2, 3).gather(1, lib.tensor([[0.0]])), RuntimeError, None),
    ("scatter_add", lambda lib: lib.ones(2, 3).scatter_add(1, lib.tensor([[0]]), 1.0), TypeError, "src"),
    ("index_select", lambda lib: lib.ones(2, 3).index_select(1, lib.tensor([[0]])), IndexError, "index"),
    ("take", lambda lib: lib.ones(2, 3).take(lib.tensor([6])), IndexError, "out of"),
    ("select", lambda lib: lib.ones(2, 3).select(1, 3), IndexError, "out of range"),
    ("gather", lambda lib: lib.ones(2, 3).gather(1, lib.tensor([[-1], [0]])), RuntimeError, "-1"),
    ("index_select", lambda lib: lib.ones(2, 3).index_select(1, lib.tensor([-1])), RuntimeError, "-1"),
    ("scatter", lambda lib: lib.ones(2, 3).scatter(1, lib.tensor([[3]]), 1.0), RuntimeError, "3"),
    ("masked_fill", lambda lib: lib.ones(3).masked_fill(lib.ones(3), 0.0), RuntimeError, "mask"),
    ("masked_fill", lambda lib: lib.ones(3).masked_fill(lib.ones(3).bool(), lib.ones(2)), RuntimeError,
     "0-dim"),
    ("dot", lambda lib: lib.dot(lib.ones(2, 2), lib.ones(2, 2)), RuntimeError, "1D tensors expected"),
    ("dot", lambda lib: lib.dot(lib.ones(2), lib.ones(3)), RuntimeError, "inconsistent tensor size"),
    ("dot", lambda lib: lib.dot(lib.ones(2), lib.ones(2, dtype=lib.float64)), RuntimeError, "dtype"),
    ("mv", lambda lib: lib.mv(lib.ones(2, 3), lib.ones(2)), RuntimeError, "size mismatch"),
    ("bmm", lambda lib: lib.bmm(lib.ones(2, 3), lib.ones(2, 3, 4)), RuntimeError, "batch1 must be a 3D tensor"),
    ("bmm", lambda lib: lib.bmm(lib.ones(2, 2, 3), lib.ones(2, 4, 4)), RuntimeError, "batch2"),
    ("outer", lambda lib: lib.outer(lib.ones(2, 2), lib.ones(2)), RuntimeError, "1-D"),
    ("addmm", lambda lib: lib.addmm(lib.ones(2, 2), lib.ones(2, 3), lib.ones(2, 2)), RuntimeError,
     "cannot be multiplied"),
    ("einsum", lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3)), (RuntimeError, ValueError), None),
    ("einsum", lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3), lib.ones(2, 3)), (RuntimeError, ValueError),
     None),
    ("topk", lambda lib: lib.ones(3).topk(4), RuntimeError, "k"),
    ("kthvalue", lambda lib: lib.ones(3).kthvalue(0), RuntimeError, "k"),
    ("norm", lambda lib: lib.ones(3, dtype=lib.int64).norm(), RuntimeError, "floating point"),
    ("repeat", lambda lib: lib.ones(2, 3).repeat(2), RuntimeError, "number of dimensions"),
    ("roll", lambda lib: lib.ones(2, 3).roll((1, 1), 0), RuntimeError, "shifts"),
    ("tril", lambda lib: lib.ones(3).tril(), RuntimeError, "2"),
    ("diag", lambda lib: lib.ones(2, 2, 2).diag(), RuntimeError, None),
    ("trace", lambda lib: lib.ones(3).trace(), RuntimeError, None),
    ("bincount", lambda lib: lib.tensor([-1, 2]).bincount(), RuntimeError, "non-negative"),
    ("histc", lambda lib: lib.ones(3).histc(bins=0), RuntimeError, "bins"),
    ("quantile", lambda lib: lib.ones(3).quantile(1.5), RuntimeError, r"\[0, 1\]"),
    ("quantile", lambda lib: lib.tensor([1, 2]).quantile(0.5), RuntimeError, "float"),
    ("cdist", lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 4)), RuntimeError, "columns"),
    ("tensordot", lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(2, 3), 1), RuntimeError, "match"),
    ("fill_diagonal_", lambda lib: lib.ones(2, 3, 4).fill_diagonal_(1.0), RuntimeError, "equal length"),
    ("unflatten", lambda lib: lib.ones(2, 6).unflatten(1, (4, 2)), RuntimeError, "sizes"),
    ("movedim", lambda lib: lib.movedim(lib.ones(2, 3), (0, 1), (0,)), RuntimeError, "destination"),
    ("hstack", lambda lib: lib.hstack([lib.ones(2), [1.0]]), TypeError, "element 1"),
]


@pytest.mark.parametrize("op, call, error, pattern", ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_errors_are_pytorchs_and_name_the_op(op, call, error, pattern):
    with pytest.raises(error) as ours:
        call(ad)
    with pytest.raises(Exception) as theirs:
        call(torch)
    assert isinstance(theirs.value, error), f"PyTorch raises {type(theirs.value).__name__}: {theirs.value}"
    assert op in str(ours.value), f"the message does not name {op}: {ours.value}"
    if pattern:
        assert __import__("re").search(pattern, str(ours.value)), str(ours.value)


def test_a_failed_op_leaves_the_tensor_untouched():
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError):
        x[0] = "x"
    with pytest.raises(RuntimeError):
        x.index_add_(0, ad.tensor([5]), ad.ones(1, 2))
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]


# ---------------------------------------------------------------------- products at zeros
@pytest.mark.parametrize("values", [
    [[1.5, 0.0, 2.0, -1.0], [0.5, 0.0, 0.0, 3.0]],     # one zero; two zeros
    [[0.0, 2.0, 3.0, 0.5], [1.0, -2.0, 0.5, 0.0]],     # a zero first; a zero last
])
@pytest.mark.parametrize("op", [
    lambda x: x.prod(), lambda x: x.prod(1), lambda x: x.prod(0, keepdim=True),
    lambda x: x.cumprod(1), lambda x: x.cumprod(0),
])
def test_products_with_zeros_have_exact_gradients(values, op):
    """The gradient formulas for inputs with zeros (no division by x) against finite
    differences, second derivatives included."""
    from autodiff.testing import assert_gradgrad_match, assert_gradients_match
    x = ad.tensor(np.array(values), requires_grad=True)
    assert_gradients_match(op, x)
    assert_gradgrad_match(op, x)


def test_linalg_norms_that_need_singular_values_are_refused_clearly():
    with pytest.raises(NotImplementedError, match="nuc"):
        ad.linalg.matrix_norm(ad.ones(2, 2), "nuc")
    with pytest.raises(NotImplementedError, match="singular values"):
        ad.linalg.norm(ad.ones(2, 2), 2)
    with pytest.raises(RuntimeError, match="floating point"):
        ad.linalg.vector_norm(ad.tensor([1, 2]))


def test_diagonal_narrow_select_are_views_as_in_pytorch():
    """Changes in place through them reach the base tensor (no graph involved)."""
    ours, theirs = _both(np.arange(12.0).reshape(3, 4))
    for lib, x in ((ad, ours), (torch, theirs)):
        x.diagonal(1).fill_(-1.0)
        x.narrow(0, 2, 1).mul_(2.0)
        x.select(1, 0).add_(10.0)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
