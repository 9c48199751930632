"""Random numbers: Generator (manual_seed, seed, initial_seed, get_state/set_state), generator=
on every sampler, the samplers' distributions (fixed seeds; means and variances within a few
standard errors), in-place fills, and one default generator behind nn.init, dropout and shuffling."""
import math

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
from autodiff.data import DataLoader, TensorDataset

N = 20_000   # samples per statistical check: standard error of a mean = sd / 141


def _close_mean(values, mean, sd, k=4.0):
    values = np.asarray(values, dtype=np.float64).ravel()
    assert abs(values.mean() - mean) < k * sd / math.sqrt(values.size), (values.mean(), mean)


def _close_var(values, var, k=5.0):
    values = np.asarray(values, dtype=np.float64).ravel()
    # standard error of the sample variance ~ var * sqrt(2 / n) for normal-ish data; 5 se
    assert abs(values.var() - var) < k * var * math.sqrt(2.0 / values.size) * 1.5, (values.var(), var)


SAMPLERS = {
    "rand": lambda g: ad.rand(5, generator=g),
    "randn": lambda g: ad.randn(2, 3, generator=g),
    "randint": lambda g: ad.randint(0, 100, (5,), generator=g),
    "randperm": lambda g: ad.randperm(10, generator=g),
    "normal_tensors": lambda g: ad.normal(ad.zeros(4), ad.ones(4), generator=g),
    "normal_floats": lambda g: ad.normal(2.0, 3.0, (4,), generator=g),
    "bernoulli": lambda g: ad.bernoulli(ad.full((8,), 0.5), generator=g),
    "multinomial": lambda g: ad.multinomial(ad.ones(10), 5, generator=g),
    "multinomial_replacement": lambda g: ad.multinomial(ad.ones(2, 10), 5, True, generator=g),
    "poisson": lambda g: ad.poisson(ad.full((6,), 3.0), generator=g),
    "rand_like": lambda g: ad.rand_like(ad.zeros(4), generator=g),
    "randn_like": lambda g: ad.randn_like(ad.zeros(4), generator=g),
    "randint_like": lambda g: ad.randint_like(ad.zeros(4), 10, generator=g),
    "uniform_": lambda g: ad.zeros(5).uniform_(-1, 1, generator=g),
    "normal_": lambda g: ad.zeros(5).normal_(1, 2, generator=g),
    "random_": lambda g: ad.zeros(5).random_(0, 50, generator=g),
    "exponential_": lambda g: ad.zeros(5).exponential_(2.0, generator=g),
    "bernoulli_": lambda g: ad.zeros(8).bernoulli_(0.5, generator=g),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_same_seed_same_draws_and_generators_are_independent(name):
    sample = SAMPLERS[name]
    a = sample(ad.Generator().manual_seed(7)).tolist()
    g = ad.Generator().manual_seed(7)
    ad.manual_seed(123)
    ad.rand(100)                                   # the default generator moves; g does not
    assert sample(g).tolist() == a
    # and the default generator is what runs without generator=
    ad.manual_seed(7)
    default_draw = SAMPLERS[name](None).tolist()
    assert default_draw == a


def test_generator_state_replays_and_seed_bookkeeping():
    g = ad.Generator()
    assert g.initial_seed() == 67280421310721 == ad.Generator().initial_seed()
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    state = g.get_state()
    assert state.dtype == ad.uint8 and state.ndim == 1
    first = ad.randn(10, generator=g).tolist()
    assert ad.randn(10, generator=g).tolist() != first
    g.set_state(state)
    assert ad.randn(10, generator=g).tolist() == first
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s
    assert g.manual_seed(-1).initial_seed() == 2 ** 64 - 1      # wraps, as in PyTorch


def test_default_generator_state_functions():
    ad.manual_seed(3)
    assert ad.initial_seed() == 3
    state = ad.get_rng_state()
    a = ad.rand(4).tolist()
    ad.set_rng_state(state)
    assert ad.rand(4).tolist() == a
    assert ad.manual_seed(3) is ad.default_generator


def test_set_state_rejects_foreign_states():
    g = ad.Generator()
    with pytest.raises(TypeError, match="uint8"):
        g.set_state(ad.zeros(3))
    with pytest.raises(RuntimeError, match="not a state"):
        g.set_state(ad.tensor(np.frombuffer(b"garbage", dtype=np.uint8)))
    with pytest.raises(TypeError, match="seed must be an int"):
        g.manual_seed(1.5)
    with pytest.raises(TypeError, match="generator"):
        ad.rand(2, generator=3)


def test_uniform_normal_and_the_like_forms_have_their_moments():
    g = ad.Generator().manual_seed(0)
    u = ad.rand(N, generator=g).numpy()
    assert u.min() >= 0 and u.max() < 1
    _close_mean(u, 0.5, math.sqrt(1 / 12))
    _close_var(u, 1 / 12)
    z = ad.randn(N, generator=g, dtype=ad.float64).numpy()
    _close_mean(z, 0.0, 1.0)
    _close_var(z, 1.0)
    x = ad.normal(2.0, 3.0, (N,), generator=g).numpy()
    _close_mean(x, 2.0, 3.0)
    _close_var(x, 9.0)
    m = ad.normal(ad.full((N,), -1.0), ad.full((N,), 0.5), generator=g).numpy()
    _close_mean(m, -1.0, 0.5)
    # broadcast mean tensor with float std, and float mean with std tensor
    b = ad.normal(ad.tensor([0.0, 10.0]).reshape(2, 1).expand(2, N // 2), 1.0, generator=g).numpy()
    _close_mean(b[1], 10.0, 1.0)
    c = ad.normal(5.0, ad.full((N,), 2.0), generator=g).numpy()
    _close_mean(c, 5.0, 2.0)
    _close_var(c, 4.0)
    like = ad.randn_like(ad.zeros(N, dtype=ad.float64), generator=g)
    assert like.dtype == ad.float64
    _close_mean(like.numpy(), 0.0, 1.0)


def test_integer_samplers_cover_their_range_uniformly():
    g = ad.Generator().manual_seed(1)
    r = ad.randint(3, 9, (N,), generator=g)
    assert r.dtype == ad.int64 and set(r.tolist()) == set(range(3, 9))
    _close_mean(r.numpy(), 5.5, math.sqrt((6 ** 2 - 1) / 12))
    assert ad.randint(10, (3,), generator=g).shape == (3,)       # randint(high, size)
    p = ad.randperm(50, generator=g)
    assert sorted(p.tolist()) == list(range(50)) and p.dtype == ad.int64
    ri = ad.randint_like(ad.zeros(N, dtype=ad.int32), 2, 5, generator=g)
    assert ri.dtype == ad.int32 and set(ri.tolist()) == {2, 3, 4}


def test_bernoulli_and_poisson_moments():
    g = ad.Generator().manual_seed(2)
    p = ad.tensor([0.1, 0.5, 0.9]).expand(N, 3).contiguous()
    draws = ad.bernoulli(p, generator=g).numpy()
    assert set(np.unique(draws)) <= {0.0, 1.0} and draws.dtype == np.float32
    for j, q in enumerate([0.1, 0.5, 0.9]):
        _close_mean(draws[:, j], q, math.sqrt(q * (1 - q)))
    fixed = ad.bernoulli(ad.zeros(N), 0.25, generator=g).numpy()
    _close_mean(fixed, 0.25, math.sqrt(0.25 * 0.75))
    counts = ad.poisson(ad.full((N,), 4.0), generator=g).numpy()
    _close_mean(counts, 4.0, 2.0)
    _close_var(counts, 4.0, k=8)
    assert np.all(counts == np.round(counts))


def test_multinomial_with_replacement_follows_the_weights():
    g = ad.Generator().manual_seed(3)
    weights = ad.tensor([1.0, 2.0, 0.0, 5.0])       # need not sum to 1
    draws = ad.multinomial(weights, N, replacement=True, generator=g).numpy()
    assert draws.dtype == np.int64 and 2 not in draws
    frequencies = np.bincount(draws, minlength=4) / N
    for k, q in enumerate([1 / 8, 2 / 8, 0, 5 / 8]):
        assert abs(frequencies[k] - q) < 4 * math.sqrt(q * (1 - q) / N) + 1e-12
    rows = ad.multinomial(ad.tensor([[1.0, 0.0], [0.0, 1.0]]), 7, replacement=True, generator=g)
    assert rows.tolist() == [[0] * 7, [1] * 7]


def test_multinomial_without_replacement_never_repeats_and_favours_heavy_categories():
    g = ad.Generator().manual_seed(4)
    weights = ad.tensor([[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [10.0, 1.0, 1.0, 1.0, 0.0, 1.0]])
    first = []
    for _ in range(2000):
        s = ad.multinomial(weights, 4, generator=g).numpy()
        assert s.shape == (2, 4)
        for row in s:
            assert len(set(row.tolist())) == 4
        assert 4 not in s[1]                          # zero weight: never drawn
        first.append(s[1, 0])
    # P(first draw of row 1 is category 0) = 10 / 14
    _close_mean(np.asarray(first) == 0, 10 / 14, math.sqrt(10 / 14 * 4 / 14))
    everything = ad.multinomial(ad.ones(5), 5, generator=g)
    assert sorted(everything.tolist()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("call, match", [
    (lambda: ad.multinomial(ad.ones(3), 4), "without replacement"),
    (lambda: ad.multinomial(ad.tensor([1.0, 0.0, 0.0]), 2), "not enough"),
    (lambda: ad.multinomial(ad.tensor([1.0, -1.0]), 1), "element < 0"),
    (lambda: ad.multinomial(ad.zeros(3), 1, True), "sum of probabilities"),
    (lambda: ad.multinomial(ad.ones(2, 2, 2), 1), "1 or 2 dim"),
    (lambda: ad.multinomial(ad.ones(3), 0), "num_samples"),
    (lambda: ad.bernoulli(ad.tensor([1.5])), "p to be in"),
    (lambda: ad.poisson(ad.tensor([-1.0])), "non-negative"),
    (lambda: ad.normal(0.0, -1.0, (2,)), "std >= 0"),
    (lambda: ad.normal(ad.zeros(2), ad.tensor([1.0, -1.0])), "std >= 0"),
    (lambda: ad.normal(0.0, 1.0), "size"),
    (lambda: ad.randint(5, 3, (2,)), "from=5 >= to=3"),
    (lambda: ad.randint(5), "size"),
    (lambda: ad.zeros(3).exponential_(0.0), "lambda"),
    (lambda: ad.zeros(3).uniform_(2, 1), "from <= to"),
    (lambda: ad.zeros(3, dtype=ad.int64).normal_(), "dtype int64"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_sampler_errors_name_the_op_and_value(call, match):
    with pytest.raises((RuntimeError, TypeError, ValueError), match=match):
        call()


def test_in_place_fills_have_their_moments_and_keep_dtype():
    g = ad.Generator().manual_seed(5)
    u = ad.zeros(N, dtype=ad.float64).uniform_(-2, 4, generator=g)
    assert u.dtype == ad.float64 and u.numpy().min() >= -2 and u.numpy().max() < 4
    _close_mean(u.numpy(), 1.0, 6 / math.sqrt(12))
    n = ad.zeros(N).normal_(3.0, 0.5, generator=g)
    _close_mean(n.numpy(), 3.0, 0.5)
    e = ad.zeros(N).exponential_(4.0, generator=g)
    _close_mean(e.numpy(), 0.25, 0.25)
    assert e.numpy().min() >= 0
    r = ad.zeros(N, dtype=ad.int64).random_(0, 10, generator=g)
    assert r.dtype == ad.int64 and set(r.tolist()) == set(range(10))
    r1 = ad.zeros(N).random_(5, generator=g)              # random_(to)
    assert set(r1.tolist()) == {0.0, 1.0, 2.0, 3.0, 4.0}
    b = ad.zeros(N).bernoulli_(ad.full((N,), 0.3), generator=g)
    _close_mean(b.numpy(), 0.3, math.sqrt(0.21))
    full_range = ad.zeros(1000, dtype=ad.uint8).random_(generator=g)
    assert full_range.numpy().max() > 200


def test_in_place_fills_follow_pytorch_autograd_rules():
    leaf = ad.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.uniform_()
    with ad.no_grad():
        leaf.normal_()                                  # as nn.init does
    assert leaf.is_leaf and leaf.requires_grad and leaf._version == 1
    x = ad.ones(3, requires_grad=True)
    y = x * 2
    y.uniform_()                                        # recorded: the old values get zero gradient
    (y * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_manual_seed_drives_init_dropout_and_shuffling():
    def run():
        ad.manual_seed(11)
        layer = nn.Linear(4, 3)
        mask = nn.functional.dropout(ad.ones(20), 0.5)
        order = [b[0].tolist() for b in DataLoader(TensorDataset(ad.arange(10)), batch_size=3,
                                                   shuffle=True)]
        return layer.weight.detach().numpy().copy(), mask.numpy().copy(), order

    (w1, m1, o1), (w2, m2, o2) = run(), run()
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(m1, m2)
    assert o1 == o2
    ad.manual_seed(12)
    assert not np.array_equal(nn.Linear(4, 3).weight.detach().numpy(), w1)


def test_generator_keyword_reaches_init_and_dataloader():
    g1, g2 = ad.Generator().manual_seed(9), ad.Generator().manual_seed(9)
    a = nn.init.normal_(ad.zeros(5), generator=g1).tolist()
    assert nn.init.normal_(ad.zeros(5), generator=g2).tolist() == a
    orders = [[b[0].tolist() for b in DataLoader(TensorDataset(ad.arange(8)), batch_size=8, shuffle=True,
                                                 generator=ad.Generator().manual_seed(2))]
              for _ in range(2)]
    assert orders[0] == orders[1]


@pytest.mark.parametrize("device", ["cpu"])
def test_samplers_take_dtype_device_requires_grad_and_out(device):
    g = ad.Generator().manual_seed(0)
    x = ad.randn(2, 3, dtype=ad.float64, device=device, requires_grad=True, generator=g)
    assert x.dtype == ad.float64 and x.requires_grad and x.is_leaf
    out = ad.empty(0)
    result = ad.rand(size=(2, 2), out=out, generator=g)
    assert result is out and out.shape == (2, 2)
    assert ad.rand(ad.Size([3, 1])).shape == (3, 1) and ad.randn([2]).shape == (2,)


def test_copies_of_a_generator_continue_its_stream():
    import copy
    g = ad.Generator().manual_seed(8)
    ad.rand(3, generator=g)
    h = copy.deepcopy(g)
    assert isinstance(h, ad.Generator) and h.initial_seed() == 8
    assert ad.rand(4, generator=h).tolist() == ad.rand(4, generator=g).tolist()
