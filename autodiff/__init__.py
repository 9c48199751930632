"""autodiff: a small reverse-mode automatic differentiation engine with PyTorch's API.

    import autodiff
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad   # tensor([2., 4.])
"""
from . import dtypes
from . import cuda  # noqa: F401  (autodiff.cuda.is_available(); numba is imported on first use)
from .cuda.devices import device  # noqa: F401
from .dtypes import (bool, double, float, float16, float32, float64, get_default_dtype, half,  # noqa: F401
                     int, int8, int16, int32, int64, long, set_default_dtype, short, uint8)
from .tensor import Size, Tensor, cat, chunk, concat, split, stack, tensor, where  # noqa: F401
from . import tensor_views  # noqa: F401,E402  (the view classes: before any op makes a view)
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,  # noqa: F401
                       linspace, ones, ones_like, zeros, zeros_like)
from .random import (Generator, bernoulli, default_generator, get_rng_state, initial_seed,  # noqa: F401
                     manual_seed, multinomial, normal, poisson, rand, rand_like, randint,
                     randint_like, randn, randn_like, randperm, seed, set_rng_state)
from .legacy import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,  # noqa: F401
                     HalfTensor, IntTensor, LongTensor, ShortTensor)
from .functions import *  # noqa: F401,F403
from .functions import _NAMES as _function_names
from .tensor_ops import FUNCTIONS as _tensor_op_names
from .autograd import (Function, enable_grad, grad, is_grad_enabled, no_grad,  # noqa: F401
                       set_grad_enabled)
from .autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from .scalar import Scalar  # noqa: F401
from . import autograd  # noqa: F401
from . import linalg  # noqa: F401
from . import nn  # noqa: F401
from . import optim, data, datasets  # noqa: F401
from . import distributed  # noqa: F401  (mpi4py is imported by init_process_group only)
from .serialization import save, load  # noqa: F401
from . import viz  # noqa: F401
from .compiler import compile  # noqa: F401  (autodiff.compile: capture a step, replay it)

__version__ = "0.1.0"
__all__ = ["Tensor", "Scalar", "Function", "tensor", "grad", "gradcheck", "gradgradcheck",
           "no_grad", "enable_grad", "set_grad_enabled"] + list(_function_names) + list(_tensor_op_names)


def __getattr__(name):
    # autodiff.testing needs hypothesis (a test dependency), so it is imported on first use
    if name == "testing":
        import importlib
        return importlib.import_module(".testing", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
