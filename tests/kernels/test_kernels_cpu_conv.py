"""The CNN Numba kernels (col2im, max-pooling indices) against the numpy paths they replace."""
import numpy as np
import pytest

from autodiff import backends
from autodiff.ops.conv import Geometry, col2im
from autodiff.ops.pooling import max_pool_indices, pool_output_size

GEOMETRIES = [((3, 3), (1, 1), (1, 1, 1, 1), (1, 1)), ((2, 3), (2, 1), (0, 0, 2, 2), (1, 2)),
              ((1, 1), (1, 1), (0, 0, 0, 0), (1, 1)), ((3, 2), (2, 3), (1, 2, 0, 1), (2, 1))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_col2im_kernel_matches_numpy(geometry, dtype):
    g = Geometry(*geometry)
    x_shape = (2, 3, 7, 6)
    oh, ow = g.output_size(*x_shape[2:])
    cols = np.random.default_rng(0).standard_normal((2, 3) + g.kernel + (oh, ow)).astype(dtype)
    with backends.use("numpy"):
        expected = col2im(cols, g, x_shape)
    with backends.use("numba"):
        got = col2im(cols, g, x_shape)
    assert got.dtype == dtype and got.shape == x_shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", [
    ((2, 2), (2, 2), (0, 0), (1, 1), False), ((3, 3), (2, 2), (1, 1), (1, 1), True),
    ((2, 3), (1, 2), (1, 0), (2, 1), False), ((3, 2), (3, 1), (0, 1), (1, 2), True)])
def test_max_pool_indices_kernel_matches_numpy(kernel, stride, padding, dilation, ceil_mode, dtype):
    x = np.random.default_rng(1).permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8).astype(dtype)
    x[0, 0, 1, 1] = np.nan                  # a NaN is the maximum of its windows
    with backends.use("numpy"):
        expected = max_pool_indices(x, kernel, stride, padding, dilation, ceil_mode)
    with backends.use("numba"):
        got = max_pool_indices(x, kernel, stride, padding, dilation, ceil_mode)
    oh = pool_output_size(7, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    assert got.dtype == np.int64 and got.shape == (2, 3, oh, expected.shape[3])
    np.testing.assert_array_equal(got, expected)


def test_max_pool_kernel_ties_take_the_first_maximum_as_pytorch():
    torch = pytest.importorskip("torch")
    x = np.array([[[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 0.0, 3.0]]]], dtype=np.float32)
    with backends.use("numba"):
        got = max_pool_indices(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    _, theirs = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    np.testing.assert_array_equal(got, theirs.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_im2col_kernel_matches_numpy(geometry, dtype):
    from autodiff.ops.conv import im2col
    g = Geometry(*geometry)
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6)).astype(dtype)
    out_size = g.output_size(7, 6)
    with backends.use("numpy"):
        expected = im2col(x, g, out_size)
    with backends.use("numba"):
        got = im2col(x, g, out_size)
    assert got.dtype == dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_im2col_uses_the_kernel_only_on_small_inputs():
    contended = getattr(backends, "openmp_contended", lambda: False)()   # (then no kernel at all)
    if not contended:
        assert backends.kernel("im2col", np.zeros(100, np.float32)) is not None
    assert backends.kernel("im2col", np.zeros(backends.MAX_SIZE["im2col"] + 1, np.float32)) is None
    with backends.use("numba"):
        assert backends.kernel("im2col", np.zeros(backends.MAX_SIZE["im2col"] + 1, np.float32)) is not None
