"""Op table rows: nn ops (see ``autodiff.ops.table``)."""
from . import OpInfo, Sample, arr, binary_samples, reduction_samples, unary_samples  # noqa: F401

ROWS = [
]
