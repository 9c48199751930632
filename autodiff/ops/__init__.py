"""Every built-in differentiable operation: forward on numpy arrays, derivative beside it.

- ``elementwise``: arithmetic and activations
- ``reduction``: sum, mean, max/min, logsumexp, softmax, log_softmax
- ``linalg``: matmul and the fused linear layer
- ``shape``: reshape, transpose, expand, cat, stack, indexing, tril/triu, masked_fill
- ``scan``: cumsum, cumprod, prod
- ``linalg`` also: einsum, vector norms
- ``dims``: the shared shape rules (dim normalisation, broadcasting)
"""
