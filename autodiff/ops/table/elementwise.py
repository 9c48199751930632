"""Op table rows: elementwise ops (see ``autodiff.ops.table``)."""
from . import OpInfo, Sample, arr, binary_samples, reduction_samples, unary_samples  # noqa: F401

ROWS = [
    OpInfo("exp", samples=unary_samples(-3, 3)),
    OpInfo("mul", samples=binary_samples()),
]
