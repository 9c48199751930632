"""Recurrent layers and cells, packed sequences and gradient clipping: values and gradients
against PyTorch (weights copied in), against central differences, state_dict keys, reprs, errors."""
import math
import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
from autodiff.nn.utils.rnn import pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence
from autodiff.ops.recurrent import Recurrent
from autodiff.testing import assert_gradgrad_match, assert_gradients_match

RNG = np.random.default_rng(7)


def copy_to_torch(torch, ours, theirs):
    """Load our state_dict (as numpy arrays) into the PyTorch module."""
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


def leaf(array):
    return ad.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def flat_outputs(result):
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in flat_outputs(r)]
    return [result]


def run_both(torch, ours, theirs, *inputs, modules=None):
    """Compare outputs and input/parameter gradients of both (modules, or functions of the
    ``modules`` pair) for the same float64 inputs."""
    ad_in = [leaf(x) if x is not None else None for x in inputs]
    t_in = [torch.tensor(x, requires_grad=True) if x is not None else None for x in inputs]
    out_a, out_t = flat_outputs(ours(*ad_in)), flat_outputs(theirs(*t_in))
    upstream = [RNG.standard_normal(tuple(o.shape)) for o in out_t]
    sum(((a * ad.tensor(u)).sum() for a, u in zip(out_a, upstream)), ad.tensor(0.0)).backward()
    sum((t * torch.tensor(u)).sum() for t, u in zip(out_t, upstream)).backward()
    for a, t in zip(out_a, out_t):
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-12)
    for a, t in zip(ad_in, t_in):
        if a is not None:
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    ours, theirs = modules or (ours, theirs)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


CONFIGS = [
    ("RNN", dict()), ("RNN", dict(nonlinearity="relu", bias=False)),
    ("RNN", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", dict()), ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(proj_size=3, batch_first=True)), ("LSTM", dict(proj_size=2, bidirectional=True, num_layers=2)),
    ("GRU", dict()), ("GRU", dict(bias=False, batch_first=True)),
    ("GRU", dict(num_layers=2, bidirectional=True)),
]


@pytest.mark.parametrize("kind,kwargs", CONFIGS, ids=[f"{k}-{sorted(kw)}" for k, kw in CONFIGS])
def test_layer_matches_pytorch(torch, kind, kwargs):
    ours = getattr(nn, kind)(4, 5, **kwargs).double()
    theirs = getattr(torch.nn, kind)(4, 5, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    copy_to_torch(torch, ours, theirs)
    x = RNG.standard_normal((3, 6, 4) if kwargs.get("batch_first") else (6, 3, 4))
    run_both(torch, ours, theirs, x)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_initial_states_and_unbatched_input_match_pytorch(torch, kind):
    ours = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    copy_to_torch(torch, ours, theirs)
    for batch_shape in [(2,), ()]:
        x = RNG.standard_normal((5,) + batch_shape + (3,))
        h0 = RNG.standard_normal((4,) + batch_shape + (4,))
        if kind == "LSTM":
            c0 = RNG.standard_normal((4,) + batch_shape + (4,))
            run_both(torch, lambda x, h, c: ours(x, (h, c)), lambda x, h, c: theirs(x, (h, c)), x, h0, c0,
                     modules=(ours, theirs))
        else:
            run_both(torch, ours, theirs, x, h0)
        for m in (ours, theirs):
            m.zero_grad()


def test_loading_a_pytorch_state_dict_gives_the_same_outputs(torch):
    theirs = torch.nn.LSTM(3, 6, num_layers=2, proj_size=2).double()
    ours = nn.LSTM(3, 6, num_layers=2, proj_size=2).double()
    ours.load_state_dict({k: ad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((4, 2, 3))
    out, (h, c) = ours(ad.tensor(x))
    t_out, (t_h, t_c) = theirs(torch.tensor(x))
    for a, t in ((out, t_out), (h, t_h), (c, t_c)):
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_cells_match_pytorch(torch, kind):
    ours = getattr(nn, kind + "Cell")(3, 4).double()
    theirs = getattr(torch.nn, kind + "Cell")(3, 4).double()
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    copy_to_torch(torch, ours, theirs)
    x, h = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    if kind == "LSTM":
        c = RNG.standard_normal((2, 4))
        run_both(torch, lambda x, h, c: ours(x, (h, c)), lambda x, h, c: theirs(x, (h, c)), x, h, c,
                 modules=(ours, theirs))
    else:
        run_both(torch, ours, theirs, x, h)
    ours.zero_grad(), theirs.zero_grad()
    run_both(torch, ours, theirs, RNG.standard_normal(3))       # unbatched, zero state


def test_rnn_relu_cell_repr_matches_pytorch(torch):
    assert repr(nn.RNNCell(2, 3, nonlinearity="relu")) == repr(torch.nn.RNNCell(2, 3, nonlinearity="relu"))
    assert repr(nn.RNN(2, 3, 1, "relu")) == repr(torch.nn.RNN(2, 3, 1, "relu"))


# ---------------------------------------------------------------------- against central differences
def _op(mode, reverse=False, lengths=None, proj=False):
    def fn(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr=None):
        return Recurrent.apply(x, h0, c0 if mode == "LSTM" else None, w_ih, w_hh, b_ih, b_hh, w_hr,
                               mode, reverse, lengths)
    return fn


def _op_inputs(mode, hidden=2, proj=0, steps=3, batch=2, features=2):
    gates = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}[mode] * hidden
    state = proj or hidden
    arrays = [RNG.uniform(-1, 1, s) for s in [(steps, batch, features), (batch, state), (batch, hidden),
                                               (gates, features), (gates, state), (gates,), (gates,)]]
    if proj:
        arrays.append(RNG.uniform(-1, 1, (proj, hidden)))
    return [leaf(a) for a in arrays]


@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
def test_recurrent_op_gradients_match_finite_differences(mode, reverse):
    inputs = _op_inputs(mode)
    if mode != "LSTM":
        inputs[2] = inputs[2].detach()
    assert_gradients_match(_op(mode, reverse), *inputs)
    assert_gradients_match(_op(mode, reverse, lengths=np.array([3, 1])), *inputs)


def test_lstm_projection_gradients_match_finite_differences():
    assert_gradients_match(_op("LSTM", proj=True), *_op_inputs("LSTM", hidden=3, proj=2))


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
def test_recurrent_op_second_derivatives_match_finite_differences(mode):
    inputs = _op_inputs(mode, steps=2)
    if mode != "LSTM":
        inputs[2] = inputs[2].detach()
    assert_gradgrad_match(_op(mode, lengths=np.array([2, 1])), *inputs)


def test_fused_lstm_second_derivatives_match_finite_differences():
    from autodiff import backends
    with backends.use("numba"):       # forward through kernels.cpu; create_graph recomputes with tensors
        assert_gradgrad_match(_op("LSTM", reverse=True), *_op_inputs("LSTM", steps=2))


def test_lstm_projection_second_derivatives_match_finite_differences():
    assert_gradgrad_match(_op("LSTM", reverse=True, proj=True), *_op_inputs("LSTM", hidden=2, proj=1, steps=2))


def test_cell_second_derivatives_via_autodiff_grad():
    cell = nn.GRUCell(2, 2).double()
    x = leaf(RNG.standard_normal((1, 2)))
    h = cell(x)
    (g,) = ad.grad(h.sum(), x, create_graph=True)
    assert g.requires_grad
    assert_gradgrad_match(lambda x, h: cell(x, h), x, leaf(RNG.standard_normal((1, 2))))


# ---------------------------------------------------------------------- packed sequences
def test_pad_and_pack_match_pytorch(torch):
    seqs = [RNG.standard_normal((n, 3)) for n in (2, 4, 1)]
    ours = pad_sequence([ad.tensor(s) for s in seqs], batch_first=True, padding_value=-1.0)
    theirs = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=True, padding_value=-1.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    packed = pack_padded_sequence(ours, [2, 4, 1], batch_first=True, enforce_sorted=False)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(theirs, [2, 4, 1], batch_first=True, enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.numpy(), t_packed.data.numpy())
    for a, t in zip(packed[1:], t_packed[1:]):
        np.testing.assert_array_equal(a.numpy(), t.numpy())
    padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=7.0, total_length=5)
    t_padded, t_lengths = torch.nn.utils.rnn.pad_packed_sequence(t_packed, batch_first=True, padding_value=7.0,
                                                                 total_length=5)
    np.testing.assert_array_equal(padded.numpy(), t_padded.numpy())
    np.testing.assert_array_equal(lengths.numpy(), t_lengths.numpy())
    assert lengths.dtype == ad.int64


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_layers_accept_packed_sequences_like_pytorch(torch, kind):
    ours = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    copy_to_torch(torch, ours, theirs)
    lengths = [3, 5, 2]
    x = RNG.standard_normal((5, 3, 3))
    xa, xt = leaf(x), torch.tensor(x, requires_grad=True)
    out_a, h_a = ours(pack_padded_sequence(xa, lengths, enforce_sorted=False))
    out_t, h_t = theirs(torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, enforce_sorted=False))
    pa, _ = pad_packed_sequence(out_a)
    pt, _ = torch.nn.utils.rnn.pad_packed_sequence(out_t)
    results = [(pa, pt)] + (list(zip(h_a, h_t)) if kind == "LSTM" else [(h_a, h_t)])
    for a, t in results:
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-12)
    upstream = [RNG.standard_normal(tuple(t.shape)) for _, t in results]
    sum(((a * ad.tensor(u)).sum() for (a, _), u in zip(results, upstream)), ad.tensor(0.0)).backward()
    sum((t * torch.tensor(u)).sum() for (_, t), u in zip(results, upstream)).backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_pack_sequence_and_errors():
    packed = pack_sequence([ad.ones(3, 2), ad.ones(2, 2)])
    assert packed.batch_sizes.tolist() == [2, 2, 1] and packed.sorted_indices is None
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_sequence([ad.ones(2, 2), ad.ones(3, 2)])
    with pytest.raises(RuntimeError, match="greater than 0"):
        pack_padded_sequence(ad.ones(3, 2, 1), [3, 0])
    with pytest.raises(ValueError, match="total_length"):
        pad_packed_sequence(packed, total_length=2)


# ---------------------------------------------------------------------- errors
def test_bad_inputs_raise_clear_errors():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match=r"LSTM: input.size\(-1\) must be equal to input_size. Expected 3, got 5"):
        lstm(ad.zeros(2, 1, 5))
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D"):
        lstm(ad.zeros(2, 1, 1, 3))
    with pytest.raises(RuntimeError, match=r"LSTM: Expected hidden size \(1, 2, 4\), got \[1, 3, 4\]"):
        lstm(ad.zeros(5, 2, 3), (ad.zeros(1, 3, 4), ad.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match="GRU: input must have the type float32, got type float64"):
        nn.GRU(3, 4)(ad.zeros(2, 1, 3, dtype=ad.float64))
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        nn.RNN(3, 0)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 2, nonlinearity="sigmoid")
    with pytest.raises(RuntimeError, match="LSTMCell: input has inconsistent input_size: got 2 expected 3"):
        nn.LSTMCell(3, 2)(ad.zeros(4, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.LSTM(3, 4, dropout=0.5)
    assert any("num_layers greater than 1" in str(w.message) for w in caught)


def test_dropout_between_layers_only_in_training():
    ad.manual_seed(0)
    lstm = nn.LSTM(2, 3, num_layers=2, dropout=0.5)
    x = ad.randn(4, 1, 2)
    lstm.eval()
    a, b = lstm(x)[0].detach(), lstm(x)[0].detach()
    assert np.array_equal(a.numpy(), b.numpy())
    lstm.train()
    assert not np.array_equal(lstm(x)[0].detach().numpy(), a.numpy())


def test_float32_layer_keeps_float32():
    lstm = nn.LSTM(3, 4)
    lstm.flatten_parameters()                    # (PyTorch's cuDNN call: accepted, does nothing)
    assert [w.shape for w in lstm.all_weights[0]] == [(16, 3), (16, 4), (16,), (16,)]
    out, (h, c) = lstm(ad.randn(2, 5, 3))
    assert out.dtype == h.dtype == c.dtype == ad.float32 and out.shape == (2, 5, 4)


# ---------------------------------------------------------------------- utilities
def test_clip_grad_norm_matches_pytorch(torch):
    grads = [RNG.standard_normal((3, 4)), RNG.standard_normal(5)]
    for norm_type in (2.0, 1.0, math.inf, 3.0):
        ours = [ad.zeros(*g.shape, dtype=ad.float64, requires_grad=True) for g in grads]
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = ad.tensor(g), torch.tensor(g)
        total = nn.utils.clip_grad_norm_(ours, 0.5, norm_type=norm_type)
        t_total = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type=norm_type)
        assert math.isclose(total.item(), t_total.item(), rel_tol=1e-12)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)
    p = ad.zeros(2, requires_grad=True)
    p.grad = ad.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(p, 10.0).item() == pytest.approx(5.0)
    assert p.grad.tolist() == [3.0, 4.0]            # under the limit: unchanged


def test_clip_grad_norm_error_if_nonfinite_leaves_grads():
    p = ad.zeros(2, requires_grad=True)
    p.grad = ad.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert p.grad.tolist() == [np.inf, 1.0]
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0.0


def test_clip_grad_value_and_parameter_vectors(torch):
    model = nn.Linear(3, 2)
    model(ad.randn(4, 3)).sum().backward()
    expected = np.clip(model.weight.grad.numpy(), -0.1, 0.1)
    nn.utils.clip_grad_value_(model.parameters(), 0.1)
    np.testing.assert_array_equal(model.weight.grad.numpy(), expected)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6], model.weight.detach().numpy().ravel())
    before = vec.detach().numpy().copy()
    (vec * vec).sum().backward()     # differentiable
    np.testing.assert_allclose(model.weight.grad.numpy(), expected + 2 * before[:6].reshape(2, 3), rtol=1e-6)
    nn.utils.vector_to_parameters(vec.detach() * 2, model.parameters())
    np.testing.assert_allclose(model.bias.detach().numpy(), before[6:] * 2)
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.utils.vector_to_parameters([1.0], model.parameters())
    with pytest.raises(ValueError, match="8 elements"):
        nn.utils.vector_to_parameters(ad.zeros(3), model.parameters())
