"""Op table rows: random fills and the new_* factories (see ``autodiff.ops.table``).

Random draws differ from PyTorch's streams, so the fills are compared in their degenerate
cases, where every library must give the same values and dtypes (``uniform_(a, a)`` is ``a``,
``normal_(m, 0)`` is ``m``, ``bernoulli_(1)`` is 1 ...); their distributions are tested in
``tests/test_random.py``. None of them is differentiable (``grad=False``).
"""
from . import OpInfo, unary_samples

_plain = unary_samples(specials=False)


def _filled(method, *args):
    return lambda lib, x: getattr(x.detach().clone(), method)(*args)


ROWS = [
    OpInfo("uniform_", call=_filled("uniform_", 2.5, 2.5), samples=_plain, grad=False),
    OpInfo("normal_", call=_filled("normal_", -1.5, 0.0), samples=_plain, grad=False),
    OpInfo("random_", call=_filled("random_", 3, 4), samples=_plain, grad=False),
    OpInfo("exponential_", call=lambda lib, x: x.detach().clone().exponential_(2.0) >= 0,
           samples=_plain, grad=False),
    OpInfo("bernoulli_", call=lambda lib, x: x.detach().clone().bernoulli_(1.0) +
           x.detach().clone().bernoulli_(0.0), samples=_plain, grad=False),
    OpInfo("new_zeros", call=lambda lib, x: x.new_zeros(2, 3), samples=_plain, grad=False),
    OpInfo("new_ones", call=lambda lib, x: x.new_ones((3,)), samples=_plain, grad=False),
    OpInfo("new_full", call=lambda lib, x: x.new_full((2, 2), 7), samples=_plain, grad=False),
    OpInfo("new_empty", call=lambda lib, x: x.new_empty(2, 1).zero_(), samples=_plain, grad=False),
    OpInfo("new_tensor", call=lambda lib, x: x.new_tensor([[1, 2], [3, 4]]), samples=_plain,
           grad=False),
]
