"""Op table rows: embeddings and attention (see ``autodiff.ops.table``); the recurrent layers
themselves are modules, tested in tests/nn/test_nn_rnn.py."""
import numpy as np

from . import OpInfo, Sample, arr, binary_samples, reduction_samples, unary_samples  # noqa: F401


def _embedding_samples(rng):
    return [Sample(arr(rng, (5, 3)), np.array([[0, 2], [4, 2]])),
            # padding_idx's row gets no gradient on purpose: compared with PyTorch only
            Sample(arr(rng, (4, 2)), np.array([3, 3, 1]), padding_idx=3, kind="special"),
            Sample(arr(rng, (4, 2)), np.array(1)),
            Sample(arr(rng, (4, 3)), np.array([1, 0]), kind="noncontiguous")]


def _embedding_bag_samples(rng):
    return [Sample(arr(rng, (6, 3)), np.array([0, 2, 5, 5, 1]), np.array([0, 2, 2]), mode="mean"),
            Sample(arr(rng, (6, 3)), np.array([0, 2, 5, 5, 1]), np.array([0, 3]), mode="sum"),
            Sample(arr(rng, (6, 2)), np.array([[0, 1], [4, 4]]), None, mode="max"),
            Sample(arr(rng, (5, 2)), np.array([[0, 1, 2]]), None, mode="mean", kind="noncontiguous")]


def _attention_samples(rng):
    q, k, v = (2, 3, 4), (2, 5, 4), (2, 5, 3)
    return [Sample(arr(rng, q), arr(rng, k), arr(rng, v)),
            Sample(arr(rng, (2, 2, 3, 4)), arr(rng, (2, 2, 3, 4)), arr(rng, (2, 2, 3, 2)), is_causal=True),
            Sample(arr(rng, q), arr(rng, k), arr(rng, v), arr(rng, (3, 5))),          # a float mask: a bias
            Sample(arr(rng, q), arr(rng, k), arr(rng, v), rng.random((2, 3, 5)) < 0.8, scale=0.3),
            Sample(arr(rng, (3, 4)), arr(rng, (5, 4)), arr(rng, (5, 2)), kind="noncontiguous"),
            Sample(np.zeros((2, 0, 4)), arr(rng, k), arr(rng, v), kind="zero")]


ROWS = [
    OpInfo("embedding", samples=_embedding_samples,
           call=lambda lib, weight, indices, **k: lib.nn.functional.embedding(indices, weight, **k)),
    OpInfo("embedding_bag", samples=_embedding_bag_samples,
           call=lambda lib, weight, indices, offsets, **k: lib.nn.functional.embedding_bag(
               indices, weight, offsets, **k)),
    OpInfo("scaled_dot_product_attention", samples=_attention_samples, atol=1e-5,
           call=lambda lib, q, k, v, *mask, **kw: lib.nn.functional.scaled_dot_product_attention(q, k, v, *mask, **kw)),
]
