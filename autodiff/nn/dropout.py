"""Dropout: zero random elements while training, scaling the rest so the expectation is unchanged."""
from . import functional as F
from .module import Module


class Dropout(Module):
    """In training mode, zero each element with probability ``p`` and multiply the others by 1/(1-p);
    in eval mode, return the input unchanged. The mask is drawn from the generator that
    ``autodiff.manual_seed`` seeds."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
