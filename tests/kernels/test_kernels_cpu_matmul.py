"""kernels.cpu matmul, matmul_tn, matmul_nt against numpy (computed in float64), for shapes
that are not multiples of the blocking (register tile 4 x 32/16, slices 256 deep), float32
and float64, and inputs that are transposed views or strided slices."""
import numpy as np
import pytest

from kernels import cpu

# A kernel whose loop Numba cannot parallelise warns when it compiles: make that a failure.
pytestmark = pytest.mark.filterwarnings("error::numba.NumbaPerformanceWarning")

DTYPES = [np.float32, np.float64]
# (m, k, n): single elements, single rows/columns, k = 1, ragged edges, k > one slice.
SHAPES = [(1, 1, 1), (1, 17, 40), (40, 17, 1), (9, 1, 33), (33, 129, 65), (70, 300, 37)]


def tolerances(dtype, k):
    eps = np.finfo(dtype).eps
    return dict(rtol=20 * eps, atol=20 * eps * np.sqrt(k))


def layout(x, kind):
    """x (a fresh C array) presented as C-contiguous, as a transposed view (F-contiguous),
    or as a strided slice (neither): same values, different strides."""
    if kind == "C":
        return x
    if kind == "F":
        return np.ascontiguousarray(x.T).T
    wide = np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)
    wide[:, ::2] = x
    return wide[:, ::2]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("layouts", ["CC", "FC", "CF", "SS"])
def test_matmul_matches_numpy(rng, dtype, m, k, n, layouts):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    a_in, b_in = layout(a, layouts[0]), layout(b, layouts[1])
    result = cpu.matmul(a_in, b_in)
    assert result.dtype == dtype and result.shape == (m, n)
    np.testing.assert_allclose(result, a.astype(np.float64) @ b, **tolerances(dtype, k))
    np.testing.assert_array_equal(a_in, a)  # inputs untouched


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_matmul_tn_and_nt(rng, dtype, m, k, n):
    a = rng.standard_normal((k, m)).astype(dtype)   # used as a.T
    g = rng.standard_normal((k, n)).astype(dtype)
    np.testing.assert_allclose(cpu.matmul_tn(a, g), a.T.astype(np.float64) @ g,
                               **tolerances(dtype, k))
    h = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype)   # used as b.T
    np.testing.assert_allclose(cpu.matmul_nt(h, b), h.astype(np.float64) @ b.T,
                               **tolerances(dtype, k))
    # strided operands take the copying path
    np.testing.assert_allclose(cpu.matmul_nt(layout(h, "S"), layout(b, "S")),
                               h.astype(np.float64) @ b.T, **tolerances(dtype, k))


def test_matmul_hand_computed():
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
    b = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]], np.float32)
    np.testing.assert_array_equal(cpu.matmul(a, b),
                                  [[5.0, 2.0, 0.0], [11.0, 4.0, -1.0], [17.0, 6.0, -2.0]])


def test_matmul_into_out_and_empty_depth(rng):
    a = rng.standard_normal((5, 3))
    b = rng.standard_normal((3, 4))
    out = np.full((5, 4), np.nan)
    assert cpu.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)
    np.testing.assert_array_equal(cpu.matmul(np.ones((2, 0)), np.ones((0, 3))), np.zeros((2, 3)))
    assert cpu.matmul(np.ones((0, 3)), np.ones((3, 2))).shape == (0, 2)


def test_matmul_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: mat1 and mat2 shapes cannot be multiplied \(10x2 and 3x4\)"):
        cpu.matmul(np.ones((10, 2)), np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"matmul_tn: .*\(3x2 and 4x5\)"):
        cpu.matmul_tn(np.ones((3, 2)), np.ones((4, 5)))
    with pytest.raises(TypeError, match="matmul: expected one dtype, got a float32, b float64"):
        cpu.matmul(np.ones((2, 2), np.float32), np.ones((2, 2)))
    with pytest.raises(TypeError, match="matmul: a must be float32 or float64, got int64"):
        cpu.matmul(np.ones((2, 2), np.int64), np.ones((2, 2)))
    with pytest.raises(ValueError, match="matmul: expected 2-D arrays, got 1-D and 2-D"):
        cpu.matmul(np.ones(2), np.ones((2, 2)))
    a = np.ones((3, 3))
    with pytest.raises(ValueError, match="matmul: out must not overlap an input"):
        cpu.matmul(a, np.ones((3, 3)), out=a)
    with pytest.raises(ValueError, match=r"matmul: out must be a C-contiguous float64 array of shape \(3, 3\)"):
        cpu.matmul(a, a, out=np.empty((3, 3), np.float32))
