"""Random numbers: ``Generator``, the default generator that ``manual_seed`` seeds, and every
sampling function (rand, randn, randint, randperm, normal, bernoulli, multinomial, poisson,
the ``*_like`` forms and the in-place ``Tensor.uniform_`` ... methods).

A ``Generator`` is a numpy ``Generator`` (PCG64) with PyTorch's methods, so code that draws
with numpy calls (nn.init, dropout, DataLoader shuffling, the datasets) and code that passes
``generator=`` share one stream. ``manual_seed`` reseeds the default generator in place: every
holder of it sees the new seed. As in PyTorch, a fresh generator (and the default one at
import) starts from the seed 67280421310721, so programs are reproducible without a seed.

Values are drawn on the host, in float64, then cast and (for ``device='cuda'``) copied, so a
seed gives the same numbers on every device. The streams are not PyTorch's: the same seed
gives other numbers than in PyTorch, with the same distributions.

Sampling is not differentiable here: ``normal(mean, std)``, ``bernoulli(p)`` and
``poisson(rates)`` return tensors outside the graph (PyTorch records them with zero gradients).
"""
import builtins
import json
import numbers
import operator

import numpy as np

from . import dtypes
from .autograd.grad_mode import _state
from .cuda import devices as _devices
from .tensor import Tensor

DEFAULT_SEED = 67280421310721   # PyTorch's default CPU seed
_STATE_FORMAT = "autodiff.Generator/PCG64/1"


class Generator(np.random.Generator):
    """A random number generator with PyTorch's API (``manual_seed``, ``seed``,
    ``initial_seed``, ``get_state``, ``set_state``) that is also a numpy Generator."""

    def __init__(self, device="cpu"):
        super().__init__(np.random.PCG64(DEFAULT_SEED))
        self.device = _devices.canonical(device)
        self._initial_seed = DEFAULT_SEED

    def manual_seed(self, seed):
        """Reseed in place; returns this generator. Any Python int (negative ones wrap, as in
        PyTorch)."""
        if isinstance(seed, (builtins.bool, np.bool_)) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"manual_seed: the seed must be an int, got {type(seed).__name__} "
                            f"({seed!r})")
        seed = builtins.int(seed) % 2 ** 64
        self.bit_generator.state = np.random.PCG64(seed).state
        self._initial_seed = seed
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = builtins.int(np.random.SeedSequence().entropy) % 2 ** 64
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._initial_seed

    def get_state(self):
        """The state, as a uint8 tensor (as PyTorch's ByteTensor); ``set_state`` replays it."""
        state = {"format": _STATE_FORMAT, "seed": self._initial_seed,
                 "bit_generator": self.bit_generator.state}
        return Tensor._wrap(np.frombuffer(json.dumps(state).encode(), dtype=np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from ``get_state``; returns this generator."""
        if not isinstance(new_state, Tensor) or new_state.dtype != dtypes.uint8:
            raise TypeError(f"set_state: expected the uint8 tensor that get_state returns, got "
                            f"{_describe(new_state)}")
        try:
            state = json.loads(new_state.numpy().tobytes().decode())
            if state.get("format") != _STATE_FORMAT:
                raise ValueError
            self.bit_generator.state = state["bit_generator"]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise RuntimeError("set_state: not a state from autodiff.Generator.get_state "
                               "(corrupt or from another library)") from None
        self._initial_seed = state["seed"]
        return self

    def __repr__(self):
        return f"<autodiff.Generator object, device={self.device.type!r}>"

    def __reduce__(self):
        """Copies and pickles stay autodiff Generators, at the same point of their stream."""
        return _restore_generator, (str(self.device), self._initial_seed, self.bit_generator.state)


def _restore_generator(device, initial_seed, bit_state):
    g = Generator(device)
    g.bit_generator.state = bit_state
    g._initial_seed = initial_seed
    return g


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (and with it rand, randn, dropout, nn.init, shuffling ...);
    returns it."""
    return default_generator.manual_seed(seed)


def seed():
    """Seed the default generator from the OS's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _describe(value):
    if isinstance(value, Tensor):
        return f"a {dtypes.name(value.dtype)} tensor of shape {tuple(value.shape)}"
    return f"{type(value).__name__} ({value!r})"


def _rng(generator, name):
    """The numpy Generator to draw from: ``generator`` or the default one."""
    if generator is None:
        return default_generator
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{name}: generator must be an autodiff.Generator, got {_describe(generator)}")


# ---------------------------------------------------------------------- argument checks
def size_arg(name, size, size_kw=None):
    """The shape from ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])``, ``f(Size(...))`` or ``size=``.
    No size at all gives a 0-d tensor (PyTorch raises; ``f(*shape)`` with ``shape == ()`` is
    too common in tests to break)."""
    if size_kw is not None:
        if size:
            raise TypeError(f"{name}: got the size both as arguments {size} and as size={size_kw}")
        size = (size_kw,)

    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = []
    for i, n in enumerate(size):
        if isinstance(n, (builtins.bool, np.bool_)):
            n = builtins.int(n)
        try:
            n = operator.index(n)
        except TypeError:
            raise TypeError(f"{name}: size must be ints (or a tuple of ints), but element {i} is "
                            f"{type(n).__name__} ({n!r})") from None
        shape.append(n)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"{name}: trying to create tensor with negative dimension: {shape}")
    return tuple(shape)


def _out_dtype(dtype, out):
    """With ``out=`` and no dtype, the result takes out's dtype."""
    return out.dtype if dtype is None and isinstance(out, Tensor) else dtype


def float_dtype(name, dtype):
    """The dtype of a sampler that makes floating point values (the default float if None)."""
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if dtype.kind not in "fc":     # (NotImplementedError, a RuntimeError, as PyTorch raises)
        raise NotImplementedError(f"{name}: dtype {dtypes.name(dtype)} is not supported: {name} "
                                  "makes floating point values (use randint for integers)")
    return dtype


def finish(name, values, dtype, out=None, device=None, requires_grad=False):
    """A new tensor (or ``out``, resized and overwritten) holding ``values`` as ``dtype``."""
    array = np.asarray(values).astype(dtype, copy=False)
    if out is not None:
        return write_out(name, array, out, explicit_dtype=dtype)
    if device is not None:
        array = _devices.move(array, _devices.canonical(device))
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def write_out(name, array, out, explicit_dtype=None):
    """``out=``: resize ``out`` to the result's shape and write the result into it."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: out must be a tensor, got {_describe(out)}")
    if explicit_dtype is not None and np.dtype(explicit_dtype) != out.dtype:
        raise RuntimeError(f"{name}: expected out tensor to have dtype "
                           f"{dtypes.name(explicit_dtype)}, but got {dtypes.name(out.dtype)} instead")
    if out._requires_grad and _state.enabled:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad")
    if isinstance(out._data, _devices.DeviceArray):
        out._data = _devices.move(np.asarray(array, dtype=out.dtype), out.device)
    elif out._data.shape == array.shape:
        np.copyto(out._data, array, casting="unsafe")
    else:
        out._data = np.array(array, dtype=out.dtype)
    out._bump_version()
    return out


def _check_tensor(name, value, argument="input"):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: argument '{argument}' must be a tensor, not "
                        f"{type(value).__name__}")
    return value


# ---------------------------------------------------------------------- samplers
def rand(*size, generator=None, out=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """Uniform on [0, 1)."""
    shape = size_arg("rand", size, kwargs.pop("size", None))
    _no_extra("rand", kwargs)
    dtype = float_dtype("rand", _out_dtype(dtype, out))
    return finish("rand", _rng(generator, "rand").random(shape), dtype, out, device, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """Standard normal."""
    shape = size_arg("randn", size, kwargs.pop("size", None))
    _no_extra("randn", kwargs)
    dtype = float_dtype("randn", _out_dtype(dtype, out))
    return finish("randn", _rng(generator, "randn").standard_normal(shape), dtype, out, device,
                  requires_grad)


def _no_extra(name, kwargs):
    if kwargs:
        raise TypeError(f"{name}: unexpected keyword argument(s) {sorted(kwargs)}")


def _check_range(name, low, high):
    for label, v in (("low", low), ("high", high)):
        if isinstance(v, Tensor):
            v = v.item()
        if not isinstance(v, numbers.Real) or isinstance(v, (builtins.bool, np.bool_)):
            raise TypeError(f"{name}: {label} must be a number, got {_describe(v)}")
    low, high = builtins.int(low), builtins.int(high)
    if low >= high:
        raise RuntimeError(f"{name}: expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    return low, high


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if isinstance(high, (tuple, list)) and size is None:     # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing the size argument: randint(high, size) or "
                        "randint(low, high, size)")
    low, high = _check_range("randint", low, high)
    shape = size_arg("randint", (size,))
    dtype = _out_dtype(dtype, out)
    dtype = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    values = _rng(generator, "randint").integers(low, high, size=shape)
    return finish("randint", values, dtype, out, device, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0 .. n-1."""
    if isinstance(n, (builtins.bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"randperm: n must be an int, got {_describe(n)}")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    dtype = _out_dtype(dtype, out)
    dtype = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    return finish("randperm", _rng(generator, "randperm").permutation(builtins.int(n)), dtype, out,
                  device, requires_grad)


def _like(name, input, dtype, device, requires_grad):
    _check_tensor(name, input)
    return (input.dtype if dtype is None else dtypes.as_dtype(dtype),
            input.device if device is None else device)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    dtype, device = _like("rand_like", input, dtype, device, requires_grad)
    float_dtype("rand_like", dtype)
    return rand(tuple(input.shape), dtype=dtype, device=device, requires_grad=requires_grad,
                generator=generator)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    dtype, device = _like("randn_like", input, dtype, device, requires_grad)
    float_dtype("randn_like", dtype)
    return randn(tuple(input.shape), dtype=dtype, device=device, requires_grad=requires_grad,
                 generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 generator=None):
    dtype, device = _like("randint_like", input, dtype, device, requires_grad)
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype, device=device,
                   requires_grad=requires_grad, generator=generator)


def _host(name, t):
    """A tensor argument's values on the host, as float64 (the sampler's parameters)."""
    data = t._data.get() if isinstance(t._data, _devices.DeviceArray) else t._data
    return np.asarray(data, dtype=np.float64)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False):
    """Normal samples. ``normal(mean_tensor, std_tensor)`` (broadcast), ``normal(mean_tensor,
    std=1.0)``, ``normal(mean, std_tensor)``, or ``normal(mean, std, size)`` with numbers."""
    rng = _rng(generator, "normal")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:
            raise TypeError("normal: size= is for float mean and std; with tensor arguments the "
                            "shape is theirs")
        like = mean if isinstance(mean, Tensor) else std
        float_dtype("normal", like.dtype)
        m = _host("normal", mean) if isinstance(mean, Tensor) else np.float64(mean)
        s = _host("normal", std) if isinstance(std, Tensor) else np.float64(std)
        if np.any(s < 0):
            raise RuntimeError(f"normal: expects all elements of std >= 0.0, got {s.min()}")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        values = m + s * rng.standard_normal(shape)
        dtype = like.dtype if dtype is None else dtypes.as_dtype(dtype)
        return finish("normal", values, dtype, out, like.device if device is None else device,
                      requires_grad)
    if size is None:
        raise TypeError("normal: with float mean and std, give the size: normal(0.0, 1.0, (2, 3))")
    for label, v in (("mean", mean), ("std", std)):
        if not isinstance(v, numbers.Real):
            raise TypeError(f"normal: {label} must be a number or a tensor, got {_describe(v)}")
    if std < 0:
        raise RuntimeError(f"normal: expects std >= 0.0, but found std {std}")
    shape = size_arg("normal", (size,))
    dtype = float_dtype("normal", _out_dtype(dtype, out))
    return finish("normal", mean + std * rng.standard_normal(shape), dtype, out, device,
                  requires_grad)


def _probabilities(name, p):
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        bad = p[np.isnan(p) | (p < 0) | (p > 1)].flat[0]
        raise RuntimeError(f"{name}: expects p to be in [0, 1], but got p={bad}")
    return p


def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability ``input`` (or ``p``, a number, for every element), else 0; the
    input's dtype and shape."""
    _check_tensor("bernoulli", input)
    probabilities = _probabilities("bernoulli", _host("bernoulli", input) if p is None
                                   else np.full(tuple(input.shape), builtins.float(p)))
    draws = _rng(generator, "bernoulli").random(probabilities.shape) < probabilities
    return finish("bernoulli", draws, input.dtype, out, input.device)


def poisson(input, generator=None):
    """Poisson samples with the rates in ``input`` (>= 0); the input's dtype."""
    _check_tensor("poisson", input)
    rates = _host("poisson", input)
    if np.any(np.isnan(rates)) or np.any(rates < 0):
        raise RuntimeError(f"poisson: rates must be non-negative, got {rates[~(rates >= 0)].flat[0]}")
    return finish("poisson", _rng(generator, "poisson").poisson(rates), input.dtype, None,
                  input.device)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from the categories weighted by ``input`` (1-D, or 2-D: one draw per row;
    the weights need not sum to 1). Without replacement no index repeats within a row."""
    _check_tensor("multinomial", input)
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape "
                           f"{tuple(input.shape)}")
    if isinstance(num_samples, (builtins.bool, np.bool_)) or \
            not isinstance(num_samples, numbers.Integral) or num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample {num_samples!r} samples; num_samples "
                           "must be a positive int")
    weights = np.atleast_2d(_host("multinomial", input))
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or "
                           "element < 0")
    if np.any(weights.sum(axis=1) <= 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities "
                           "<= 0)")
    rows, categories = weights.shape
    rng = _rng(generator, "multinomial")
    if replacement:
        cumulative = np.cumsum(weights, axis=1)
        cumulative /= cumulative[:, -1:]
        u = rng.random((rows, num_samples))
        samples = np.stack([np.searchsorted(cumulative[r], u[r], side="right")
                            for r in range(rows)])
        samples = np.minimum(samples, categories - 1)
    else:
        if num_samples > categories:
            raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > "
                               f"prob_dist.size(-1) ({categories}) samples without replacement")
        if np.any((weights > 0).sum(axis=1) < num_samples):
            raise RuntimeError(f"multinomial: invalid multinomial distribution (with "
                               f"replacement=False, not enough non-negative category to sample "
                               f"{num_samples})")
        # each category's exponential race time; the first num_samples to finish, in order,
        # are a draw without replacement (zero weights never finish)
        with np.errstate(divide="ignore"):
            times = rng.standard_exponential((rows, categories)) / weights
        samples = np.argsort(times, axis=1, kind="stable")[:, :num_samples]
    if input.ndim == 1:
        samples = samples[0]
    return finish("multinomial", samples, dtypes.int64, out, input.device)


# ---------------------------------------------------------------------- in place
def _recorded_fill(old, values):
    return old * 0 + values      # the old values get a zero gradient, as in PyTorch


def _raw_fill(data, values):
    np.copyto(data, values, casting="unsafe")


def _fill_in_place(name, t, values):
    values = np.asarray(values)
    if isinstance(t._data, _devices.DeviceArray):
        values = _devices.like(values.astype(t.dtype), t._data)
    elif t.dtype.kind in "iub" and values.dtype.kind == "f":
        values = values.astype(t.dtype)
    return t._inplace(name, values, _recorded_fill, _raw_fill)


def uniform_(self, a=0.0, b=1.0, *, generator=None, **kwargs):
    """Fill with U(a, b) samples (also ``from=``/``to=`` as PyTorch spells them)."""
    a, b = kwargs.pop("from", a), kwargs.pop("to", b)
    _no_extra("uniform_", kwargs)
    if a > b:
        raise RuntimeError(f"uniform_: expects from <= to, but got from={a} > to={b}")
    float_dtype("uniform_", self.dtype)
    return _fill_in_place("uniform_", self, _rng(generator, "uniform_").uniform(a, b, self.shape))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with N(mean, std^2) samples."""
    if std < 0:
        raise RuntimeError(f"normal_: expects std >= 0.0, but found std {std}")
    float_dtype("normal_", self.dtype)
    return _fill_in_place("normal_", self,
                          mean + std * _rng(generator, "normal_").standard_normal(self.shape))


def random_(self, from_=None, to=None, *, generator=None, **kwargs):
    """Fill with integers uniform on [from, to): ``random_(to)``, ``random_(from, to)``, or
    ``random_()``: [0, 2**mantissa bits] for floats, the dtype's range for integers."""
    from_ = kwargs.pop("from", from_)
    _no_extra("random_", kwargs)
    if from_ is not None and to is None:
        from_, to = 0, from_
    if from_ is None:
        from_ = 0
        if self.dtype.kind == "f":
            to = 2 ** np.finfo(self.dtype).nmant + 1
        elif self.dtype.kind == "b":
            to = 2
        else:
            to = builtins.int(np.iinfo(self.dtype).max) + 1
    low, high = _check_range("random_", from_, to)
    return _fill_in_place("random_", self,
                          _rng(generator, "random_").integers(low, high, self.shape))


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with Exponential(lambd) samples (mean 1/lambd)."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_: expects lambda > 0.0, but found lambda={lambd}")
    float_dtype("exponential_", self.dtype)
    return _fill_in_place("exponential_", self,
                          _rng(generator, "exponential_").standard_exponential(self.shape) / lambd)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 with probability ``p`` (a number, or a tensor broadcast to this shape)."""
    p = _host("bernoulli_", p) if isinstance(p, Tensor) else np.float64(p)
    p = _probabilities("bernoulli_", np.broadcast_to(p, tuple(self.shape)))
    return _fill_in_place("bernoulli_", self,
                          _rng(generator, "bernoulli_").random(self.shape) < p)


IN_PLACE_METHODS = {f.__name__: f for f in (uniform_, normal_, random_, exponential_, bernoulli_)}
