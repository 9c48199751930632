"""Shape ops and indexing: values against numpy, gradients against central differences
(they move values around, so their derivatives must move gradients back exactly)."""
import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autodiff as ad
from autodiff.testing import (assert_gradgrad_match, assert_gradients_match, index_expressions,
                              shapes, tensors, valid_dims)

SHAPES = shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def factorizations(n, parts):
    """Every shape of ``parts`` sides whose product is ``n``."""
    return [s for s in itertools.product(range(1, n + 1), repeat=parts) if int(np.prod(s)) == n]


@st.composite
def reshapes(draw, shape):
    n = int(np.prod(shape))
    target = list(draw(st.sampled_from([()] * (n == 1) + factorizations(n, 1) + factorizations(n, 2)
                                       + factorizations(n, 3))))
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


@pytest.mark.parametrize("method", ["reshape", "view"])
@given(data=st.data())
def test_reshape_view(method, data):
    # view needs a layout that allows it (as in PyTorch): contiguous inputs; reshape takes any
    x = data.draw(tensors(shape=SHAPES, contiguous=None if method == "reshape" else True), label="x")
    new = data.draw(reshapes(x.shape), label="shape")
    out = getattr(x, method)(*new) if data.draw(st.booleans()) else getattr(x, method)(new)
    np.testing.assert_array_equal(out._data, x._data.reshape(new))
    assert_gradients_match(lambda t: getattr(t, method)(new), x)
    assert_gradgrad_match(lambda t: getattr(t, method)(new) ** 2, x)


@given(data=st.data())
def test_flatten(data):
    x = data.draw(tensors(shape=SHAPES, contiguous=None), label="x")
    n = max(x.ndim, 1)
    start = data.draw(st.integers(0, n - 1), label="start")
    end = data.draw(st.integers(start, n - 1), label="end")
    start, end = start - n * data.draw(st.booleans()), end - n * data.draw(st.booleans())
    out = x.flatten(start, end)
    s, lo, hi = x.shape, start % n, end % n
    expected = (1,) if x.ndim == 0 else s[:lo] + (int(np.prod(s[lo:hi + 1])),) + s[hi + 1:]
    assert out.shape == expected
    np.testing.assert_array_equal(out._data.ravel(), x._data.ravel())
    assert_gradients_match(lambda t: ad.flatten(t, start, end), x)


@given(data=st.data())
def test_transpose(data):
    x = data.draw(tensors(shape=shapes(1, 3, 1, 3), contiguous=None), label="x")
    d0 = data.draw(valid_dims(x.ndim, allow_none=False, allow_tuple=False), label="dim0")
    d1 = data.draw(valid_dims(x.ndim, allow_none=False, allow_tuple=False), label="dim1")
    np.testing.assert_array_equal(x.transpose(d0, d1)._data, np.swapaxes(x._data, d0, d1))
    assert_gradients_match(lambda t: t.transpose(d0, d1), x)
    assert_gradgrad_match(lambda t: t.transpose(d0, d1) ** 2, x)


@given(data=st.data())
def test_t_and_T_and_mT(data):
    x = data.draw(tensors(shape=shapes(2, 3, 1, 3), contiguous=None), label="x")
    np.testing.assert_array_equal(x.T._data, x._data.T)
    np.testing.assert_array_equal(x.mT._data, np.swapaxes(x._data, -1, -2))
    assert_gradients_match(lambda t: t.T, x)
    assert_gradients_match(lambda t: t.mT, x)
    if x.ndim == 2:
        assert_gradients_match(lambda t: t.t(), x)


@given(data=st.data())
def test_permute(data):
    x = data.draw(tensors(shape=SHAPES, contiguous=None), label="x")
    dims = data.draw(st.permutations(range(x.ndim)), label="dims")
    dims = [d - x.ndim * data.draw(st.booleans()) for d in dims]   # negative dims too
    np.testing.assert_array_equal(x.permute(*dims)._data, np.transpose(x._data, [d % x.ndim for d in dims]))
    assert_gradients_match(lambda t: t.permute(dims), x)
    assert_gradgrad_match(lambda t: t.permute(*dims) ** 2, x)


@given(data=st.data())
def test_squeeze(data):
    x = data.draw(tensors(shape=shapes(0, 4, 1, 2), contiguous=None), label="x")
    dim = data.draw(valid_dims(x.ndim, allow_tuple=False), label="dim")
    out = x.squeeze(dim)
    if dim is None:
        ref = np.squeeze(x._data)
    elif x.ndim and x.shape[dim] == 1:
        ref = np.squeeze(x._data, dim)
    else:
        ref = x._data           # squeezing a side longer than 1 is a no-op, as in PyTorch
    assert out.shape == ref.shape
    np.testing.assert_array_equal(out._data, ref)
    assert_gradients_match(lambda t: t.squeeze(dim), x)


@given(data=st.data())
def test_unsqueeze(data):
    x = data.draw(tensors(shape=SHAPES, contiguous=None), label="x")
    dim = data.draw(st.integers(-x.ndim - 1, x.ndim), label="dim")
    out = x.unsqueeze(dim)
    np.testing.assert_array_equal(out._data, np.expand_dims(x._data, dim))
    assert_gradients_match(lambda t: ad.unsqueeze(t, dim), x)


@st.composite
def expandable(draw):
    """(source shape, target shape, target as passed with some -1)."""
    target = draw(shapes(0, 3, 1, 3))
    lead = draw(st.integers(0, len(target)))
    source = tuple(n if draw(st.booleans()) else 1 for n in target[lead:])
    passed = tuple(-1 if i >= lead and source[i - lead] == n and draw(st.booleans()) else n
                   for i, n in enumerate(target))
    return source, target, passed


@given(data=st.data())
def test_expand_broadcast_to(data):
    source, target, passed = data.draw(expandable(), label="shapes")
    x = data.draw(tensors(shape=source, contiguous=None), label="x")
    np.testing.assert_array_equal(x.expand(*passed)._data, np.broadcast_to(x._data, target))
    np.testing.assert_array_equal(x.broadcast_to(target)._data, np.broadcast_to(x._data, target))
    assert_gradients_match(lambda t: t.expand(passed), x)
    assert_gradients_match(lambda t: ad.broadcast_to(t, target), x)
    assert_gradgrad_match(lambda t: t.expand(*passed) ** 2, x)


@st.composite
def same_but_one(draw, count):
    """``count`` shapes equal except along one dim, and that dim."""
    base = list(draw(shapes(1, 3, 1, 3)))
    dim = draw(st.integers(0, len(base) - 1))
    out = []
    for _ in range(count):
        base[dim] = draw(st.integers(1, 3))
        out.append(tuple(base))
    return out, dim - len(base) * draw(st.booleans())


@given(data=st.data(), count=st.integers(1, 3))
def test_cat(data, count):
    in_shapes, dim = data.draw(same_but_one(count), label="shapes")
    xs = [data.draw(tensors(shape=s, contiguous=None), label=f"x{i}") for i, s in enumerate(in_shapes)]
    np.testing.assert_array_equal(ad.cat(xs, dim)._data, np.concatenate([x._data for x in xs], dim))
    assert_gradients_match(lambda *ts: ad.cat(ts, dim), *xs)
    assert_gradgrad_match(lambda *ts: ad.cat(ts, dim) ** 2, *xs)


@given(data=st.data(), count=st.integers(1, 3))
def test_stack(data, count):
    shape = data.draw(SHAPES, label="shape")
    xs = [data.draw(tensors(shape=shape, contiguous=None), label=f"x{i}") for i in range(count)]
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    np.testing.assert_array_equal(ad.stack(xs, dim)._data, np.stack([x._data for x in xs], dim))
    assert_gradients_match(lambda *ts: ad.stack(ts, dim), *xs)


def test_cat_and_stack_same_tensor_twice():
    x = ad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (ad.cat([x, x, x * 2]) * ad.tensor(np.arange(6.0))).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0 + 2 + 2 * 4, 1 + 3 + 2 * 5])
    x.grad = None
    ad.stack([x, x], 1).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0])


@given(data=st.data())
def test_split(data):
    x = data.draw(tensors(shape=shapes(1, 3, 1, 4), contiguous=None), label="x")
    dim = data.draw(valid_dims(x.ndim, allow_none=False, allow_tuple=False), label="dim")
    n = x.shape[dim]
    if data.draw(st.booleans()):
        size = data.draw(st.integers(1, n + 1), label="size")
        expected = [min(size, n - i) for i in range(0, n, size)]
    else:
        cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3), label="cuts"))
        expected = size = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    pieces = x.split(size, dim)
    assert [p.shape[dim] for p in pieces] == expected
    np.testing.assert_array_equal(ad.cat(pieces, dim)._data, x._data)
    assert_gradients_match(lambda t: ad.split(t, size, dim), x)


@given(data=st.data(), chunks=st.integers(1, 4))
def test_chunk(data, chunks):
    x = data.draw(tensors(shape=shapes(1, 3, 1, 4), contiguous=None), label="x")
    dim = data.draw(valid_dims(x.ndim, allow_none=False, allow_tuple=False), label="dim")
    pieces = x.chunk(chunks, dim)
    torch = pytest.importorskip("torch")
    expected = [p.shape for p in torch.from_numpy(np.ascontiguousarray(x._data)).chunk(chunks, dim)]
    assert [tuple(p.shape) for p in pieces] == [tuple(s) for s in expected]
    np.testing.assert_array_equal(ad.cat(pieces, dim)._data, x._data)
    assert_gradients_match(lambda t: ad.chunk(t, chunks, dim), x)


def test_unbind_and_iteration():
    x = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    a, b, c = x.unbind(1)
    (a * 1 + b * 2 + c * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[1, 2, 3], [1, 2, 3]])
    rows = list(x)
    assert len(rows) == 2
    np.testing.assert_array_equal(rows[1]._data, [3.0, 4.0, 5.0])


# ---------------------------------------------------------------------- indexing
@given(data=st.data())
def test_indexing(data):
    x = data.draw(tensors(shape=shapes(0, 3, 1, 3), contiguous=None), label="x")
    key = data.draw(index_expressions(x.shape), label="key")
    out = x[key]
    np.testing.assert_array_equal(out._data, x._data[key])
    assert_gradients_match(lambda t: t[key], x)
    assert_gradgrad_match(lambda t: t[key] ** 2, x)


@pytest.mark.parametrize("key", [
    1, -1, (slice(None), 2), (slice(None, None, 2),), (slice(None, None, -1), 0),
    (slice(3, 0, -2), slice(1, None)), (None, 1, None), (Ellipsis, 1), (1, Ellipsis, None),
    (np.array([0, 2, 0]),), (slice(None), np.array([1, 1, 3])), (np.array([0, 3]), np.array([1, 2])),
    (np.array([[3, 3], [0, 3]]), slice(None, None, 2)), ([1, 1],),
])
def test_indexing_cases(key):
    values = np.arange(16.0).reshape(4, 4)
    x = ad.tensor(values, requires_grad=True)
    out = x[key]
    np.testing.assert_array_equal(out._data, values[key if not isinstance(key, tuple) or
                                                    not isinstance(key[0], list) else np.array(key[0])])
    assert_gradients_match(lambda t: t[key], x)


def test_repeated_indices_accumulate():
    x = ad.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x[np.array([0, 0, 2, 0])]
    y.backward(ad.tensor(np.array([1.0, 10.0, 100.0, 1000.0])))
    np.testing.assert_array_equal(x.grad._data, [1011.0, 0.0, 100.0])
    x.grad = None
    x[ad.tensor([2, 2])].sum().backward()   # an index tensor works as an array
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0, 2.0])


@given(data=st.data())
def test_boolean_mask(data):
    x = data.draw(tensors(shape=shapes(1, 3, 1, 3), contiguous=None), label="x")
    mask = x > 0
    np.testing.assert_array_equal(x[mask]._data, x._data[x._data > 0])
    assert_gradients_match(lambda t: t[mask], x)
    assert_gradients_match(lambda t: t[mask._data] * 2, x)


def test_indexing_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.arange(24.0).reshape(2, 3, 4)
    up_key = (slice(None), torch.tensor([2, 0, 2]), slice(None, None, 2))
    x = ad.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    key = (slice(None), np.array([2, 0, 2]), slice(None, None, 2))
    out, tout = x[key], t[up_key]
    up = np.random.default_rng(0).standard_normal(tuple(tout.shape))
    out.backward(ad.tensor(up))
    tout.backward(torch.tensor(up))
    np.testing.assert_array_equal(out._data, tout.detach().numpy())
    np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------- ops composed
@given(data=st.data())
def test_shape_ops_on_a_tensor_used_twice(data):
    x = data.draw(tensors(shape=(2, 3), contiguous=None))
    assert_gradients_match(lambda t: t.T @ t.reshape(2, 3) + t.permute(1, 0)[:, :1], x)
    assert_gradients_match(lambda t: ad.cat([t, t[::-1]], 0).sum(0) * t.flatten()[1:4], x)
