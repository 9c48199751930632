"""Op table rows: matrix products, einsum, norms, diagonals and triangles (see ``autodiff.ops.table``)."""
import numpy as np

from . import OpInfo, Sample, arr


def _pairs(*pairs, zero=None):
    """Samples of two float arrays per shape pair; the last pair again non-contiguous."""
    def samples(rng):
        out = [Sample(arr(rng, a), arr(rng, b)) for a, b in pairs]
        a, b = pairs[-1]
        out.append(Sample(arr(rng, a), arr(rng, b), kind="noncontiguous"))
        if zero:
            out.append(Sample(np.zeros(zero[0]), np.zeros(zero[1]), kind="zero"))
        return out
    return samples


def _einsum(lib, *operands, equation):
    return lib.einsum(equation, *operands)


def _einsum_samples(rng):
    cases = [("ij,jk->ik", (2, 3), (3, 4)), ("ii->", (3, 3)), ("ii->i", (3, 3)), ("ij->ji", (2, 3)),
             ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)), ("i,i->", (3,), (3,)), ("i,j->ij", (2,), (3,)),
             ("...ij,...jk->...ik", (2, 2, 3), (2, 3, 2)), ("ij,jk", (2, 3), (3, 2)), ("ij->", (2, 3)),
             ("ij,ij,ij->i", (2, 3), (2, 3), (2, 3)), ("iij->j", (2, 2, 3)), ("ij,k->ijk", (2, 1), (3,)),
             ("ij->j", (2, 3))]
    out = [Sample(*[arr(rng, s) for s in shapes], equation=eq) for eq, *shapes in cases]
    out.append(Sample(arr(rng, (3, 4)), arr(rng, (4, 3)), equation="ij,jk->ik", kind="noncontiguous"))
    out.append(Sample(np.zeros((0, 3)), np.zeros((3, 2)), equation="ij,jk->ik", kind="zero"))
    return out


def _norm_samples(rng):
    x = arr(rng, (3, 4), avoid=(0,))
    out = [Sample(x), Sample(x, 1), Sample(x, 3), Sample(x, float("inf")), Sample(x, -float("inf")),
           Sample(x, "fro"), Sample(x, 2, 1), Sample(x, 2, 1, True), Sample(x, 1, (0, 1)),
           Sample(x, 0.5, 0), Sample(x, 2, -1, keepdim=True), Sample(arr(rng, (), avoid=(0,))),
           Sample(x, 0), Sample(arr(rng, (3, 4), avoid=(0,)), kind="noncontiguous")]
    out.append(Sample(np.zeros(3), kind="special"))                   # the gradient at a zero norm is 0
    out.append(Sample(np.array([1.0, -1.0, 0.5]), float("inf"), kind="special"))   # tied inf-norm
    out.append(Sample(np.zeros((0, 3)), 2, 1, kind="zero"))
    return out


def _dist_samples(rng):
    a, b = arr(rng, (3, 4)), arr(rng, (3, 4))
    return [Sample(a, b), Sample(a, b, 1), Sample(a, b, float("inf")), Sample(a, arr(rng, (4,)), 3),
            Sample(a, b, kind="noncontiguous"), Sample(np.ones(3), np.ones(3), kind="special")]


def _matrix(*cases):
    def samples(rng):
        out = [Sample(arr(rng, shape), *args) for shape, *args in cases]
        shape, *args = cases[0]
        out.append(Sample(arr(rng, shape), *args, kind="noncontiguous"))
        return out
    return samples


def _addmm(rng):
    return [Sample(arr(rng, (2, 4)), arr(rng, (2, 3)), arr(rng, (3, 4))),
            Sample(arr(rng, (4,)), arr(rng, (2, 3)), arr(rng, (3, 4)), beta=0.5, alpha=2.0),
            Sample(arr(rng, ()), arr(rng, (2, 3)), arr(rng, (3, 4)), alpha=-1.0),
            Sample(arr(rng, (2, 4)), arr(rng, (2, 3)), arr(rng, (3, 4)), kind="noncontiguous"),
            Sample(np.full((2, 2), np.nan), arr(rng, (2, 3)), arr(rng, (3, 2)), beta=0, kind="special"),
            Sample(np.zeros((0, 2)), np.zeros((0, 3)), np.zeros((3, 2)), kind="zero")]


def _linalg_norms(rng):
    x = arr(rng, (3, 4), avoid=(0,))
    out = [Sample(x), Sample(x, 1), Sample(x, float("inf")), Sample(x, -1), Sample(x, -float("inf")),
           Sample(x, "fro"), Sample(x, dim=1), Sample(x, 3, 0), Sample(x, dim=(0, 1)),
           Sample(x, 1, (1, 0), True), Sample(arr(rng, (2, 3, 4), avoid=(0,)), dim=(0, 2)),
           Sample(arr(rng, (4,), avoid=(0,)), 3), Sample(x, kind="noncontiguous"),
           Sample(np.zeros((2, 2)), kind="special")]
    return out


def _vector_norms(rng):
    x = arr(rng, (3, 4), avoid=(0,))
    return [Sample(x), Sample(x, 1), Sample(x, float("inf"), 1), Sample(x, 0.5, (0, 1), True),
            Sample(arr(rng, (2, 3, 4), avoid=(0,)), 3, -1), Sample(x, kind="noncontiguous"),
            Sample(np.zeros(3), kind="special"), Sample(np.zeros((0, 3)), 2, 1, kind="zero")]


def _matrix_norms(rng):
    x = arr(rng, (2, 3, 4), avoid=(0,))
    return [Sample(x), Sample(x, 1), Sample(x, -1), Sample(x, float("inf")), Sample(x, -float("inf"), (0, 2)),
            Sample(x, "fro", (2, 1), True), Sample(arr(rng, (3, 4), avoid=(0,)), kind="noncontiguous")]


ROWS = [
    OpInfo("inner", samples=_pairs(((3,), (3,)), ((2, 3), (4, 3)), ((2, 2, 3), (3,)), ((), (2, 3)),
                                   ((3, 4), (2, 4)), zero=((0, 3), (2, 3)))),
    OpInfo("tensordot", method=False, samples=lambda rng: [
        Sample(arr(rng, (2, 3, 4)), arr(rng, (3, 4, 2))), Sample(arr(rng, (2, 3)), arr(rng, (3, 2)), 1),
        Sample(arr(rng, (2, 3)), arr(rng, (3, 2)), ([0, 1], [1, 0])), Sample(arr(rng, (2,)), arr(rng, (3,)), 0),
        Sample(arr(rng, (3, 4)), arr(rng, (4, 3)), 1, kind="noncontiguous"),
        Sample(np.zeros((0, 3)), np.zeros((3, 2)), 1, kind="zero")]),
    OpInfo("kron", samples=_pairs(((2, 2), (2, 3)), ((3,), (2,)), ((2, 1, 2), (2, 2)), ((), (2,)),
                                  ((3, 4), (2, 2)), zero=((0, 2), (2, 2)))),
    OpInfo("cdist", method=False, samples=lambda rng: [
        Sample(arr(rng, (3, 4)), arr(rng, (2, 4))), Sample(arr(rng, (3, 4)), arr(rng, (2, 4)), 1.0),
        Sample(arr(rng, (2, 3, 4)), arr(rng, (2, 5, 4)), 3.0), Sample(arr(rng, (3, 4)), arr(rng, (2, 4)), float("inf")),
        Sample(arr(rng, (3, 4)), arr(rng, (2, 4)), kind="noncontiguous"),
        Sample(np.ones((2, 3)), np.ones((2, 3)), kind="special"),            # zero distances: gradient 0
        Sample(np.zeros((0, 3)), np.zeros((2, 3)), kind="zero")]),
    OpInfo("fill_diagonal_", call=lambda lib, x, *a, **k: (x * 1).fill_diagonal_(*a, **k),
           samples=lambda rng: [Sample(arr(rng, (3, 4)), 2.0), Sample(arr(rng, (4, 3)), -1.0),
                                Sample(arr(rng, (7, 3)), 0.5, wrap=True), Sample(arr(rng, (3, 3, 3)), 1.0),
                                Sample(arr(rng, (3, 4)), 2.0, kind="noncontiguous")]),
    OpInfo("tril_indices", grad=False, dtypes=("float32",), call=lambda lib, *a, **k: lib.tril_indices(*a, **k),
           samples=lambda rng: [Sample(3, 3), Sample(3, 4, 1), Sample(4, 3, -1), Sample(0, 3, kind="zero")]),
    OpInfo("triu_indices", grad=False, dtypes=("float32",), call=lambda lib, *a, **k: lib.triu_indices(*a, **k),
           samples=lambda rng: [Sample(3, 3), Sample(3, 4, 1), Sample(4, 3, -1), Sample(0, 3, kind="zero")]),
    OpInfo("linalg.norm", call=lambda lib, *a, **k: lib.linalg.norm(*a, **k), samples=_linalg_norms),
    OpInfo("linalg.vector_norm", call=lambda lib, *a, **k: lib.linalg.vector_norm(*a, **k), samples=_vector_norms),
    OpInfo("linalg.matrix_norm", call=lambda lib, *a, **k: lib.linalg.matrix_norm(*a, **k), samples=_matrix_norms),
    OpInfo("matmul", samples=_pairs(((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                                    ((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((4, 3), (3, 4)),
                                    zero=((0, 3), (3, 2)))),
    OpInfo("mm", samples=_pairs(((2, 3), (3, 4)), ((1, 3), (3, 1)), ((4, 3), (3, 4)), zero=((0, 3), (3, 2)))),
    OpInfo("dot", samples=_pairs(((3,), (3,)), ((1,), (1,)), ((4,), (4,)), zero=((0,), (0,)))),
    OpInfo("mv", samples=_pairs(((2, 3), (3,)), ((1, 4), (4,)), ((4, 3), (3,)), zero=((0, 3), (3,)))),
    OpInfo("bmm", samples=_pairs(((2, 2, 3), (2, 3, 4)), ((1, 3, 1), (1, 1, 2)), ((2, 4, 3), (2, 3, 4)),
                                 zero=((0, 2, 3), (0, 3, 1)))),
    OpInfo("outer", samples=_pairs(((3,), (2,)), ((1,), (4,)), ((4,), (3,)), zero=((0,), (3,)))),
    OpInfo("addmm", samples=_addmm),
    OpInfo("einsum", call=_einsum, samples=_einsum_samples, method=False),
    OpInfo("norm", samples=_norm_samples),
    OpInfo("dist", samples=_dist_samples),
    OpInfo("trace", samples=_matrix(((3, 3),), ((2, 4),), ((1, 1),))),
    OpInfo("diag", samples=_matrix(((3,),), ((3,), 1), ((3,), -2), ((3, 4),), ((3, 4), 1), ((3, 4), -2),
                                   ((2, 3), 5))),
    OpInfo("diagonal", samples=_matrix(((3, 4),), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), 0, 1, 2),
                                       ((2, 3, 4), 1, -1, 0), ((2, 3), 0, 1, 0))),
    OpInfo("tril", samples=_matrix(((3, 4),), ((3, 4), 1), ((3, 4), -1), ((2, 3, 3),), ((2, 3), 5))),
    OpInfo("triu", samples=_matrix(((3, 4),), ((3, 4), 1), ((3, 4), -1), ((2, 3, 3),), ((2, 3), -5))),
    OpInfo("tril_", call=lambda lib, x, *a: (x * 1).tril_(*a), samples=_matrix(((3, 4),), ((3, 4), 1))),
    OpInfo("triu_", call=lambda lib, x, *a: (x * 1).triu_(*a), samples=_matrix(((3, 4),), ((2, 3, 3), -1))),
]
