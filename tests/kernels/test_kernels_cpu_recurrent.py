"""The fused LSTM kernels (kernels.cpu.lstm_sequence_*) against the numpy path of the same op."""
import numpy as np
import pytest

import autodiff as ad
from autodiff import backends, nn
from autodiff.ops.recurrent import Recurrent


def _run(mode, arrays, reverse, dtype, upstream):
    with backends.use(mode):
        leaves = [None if a is None else ad.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out = Recurrent.apply(*leaves[:7], None, "LSTM", reverse, None)
        out.backward(ad.tensor(upstream.astype(dtype)))
        return [out.detach().numpy()] + [t.grad.numpy() for t in leaves if t is not None]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hidden", [6, 128])      # (128: the recurrent product in 64-column blocks)
def test_fused_lstm_matches_the_numpy_path(reverse, dtype, hidden):
    rng = np.random.default_rng(0)
    steps, batch, features = 5, 3, 4
    arrays = [rng.standard_normal(s) for s in [(steps, batch, features), (batch, hidden), (batch, hidden),
                                                (4 * hidden, features), (4 * hidden, hidden), (4 * hidden,),
                                                (4 * hidden,)]]
    arrays[3:] = [w / np.sqrt(hidden) for w in arrays[3:]]     # (weights of PyTorch's scale: gates not saturated)
    upstream = rng.standard_normal((steps + 1, batch, 2 * hidden))
    fused = _run("numba", arrays, reverse, dtype, upstream)
    plain = _run("numpy", arrays, reverse, dtype, upstream)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fused, plain):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("zero_h0", [False, True])
def test_fused_lstm_recurrent_weight_gradient_on_short_sequences(reverse, steps, zero_h0):
    """dW_hh sums every step's gates gradient times the state it started from: h0 for the first
    step (skipped when h0 is zeros), the output rows for the others (read in place)."""
    arrays = _lstm_case(np.random.default_rng(10 + steps), steps, 3, 4, 5)
    if zero_h0:
        arrays[1][:] = 0
    upstream = np.random.default_rng(11).standard_normal((steps + 1, 3, 10))
    fused = _run("numba", arrays, reverse, np.float64, upstream)
    plain = _run("numpy", arrays, reverse, np.float64, upstream)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_fused_lstm_layer_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.LSTM(3, 4, bidirectional=True).double(), torch.nn.LSTM(3, 4, bidirectional=True).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((6, 2, 3))
    with backends.use("numba"):
        xa = ad.tensor(x, requires_grad=True)
        out, (h, c) = ours(xa)
        (out.sum() + h.sum() * 2 + c.sum() * 3).backward()
    xt = torch.tensor(x, requires_grad=True)
    t_out, (t_h, t_c) = theirs(xt)
    (t_out.sum() + t_h.sum() * 2 + t_c.sum() * 3).backward()
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def _lstm_case(rng, steps, batch, features, hidden, bias=True):
    shapes = [(steps, batch, features), (batch, hidden), (batch, hidden), (4 * hidden, features),
              (4 * hidden, hidden)] + ([(4 * hidden,), (4 * hidden,)] if bias else [])
    return [rng.standard_normal(s) for s in shapes] + ([] if bias else [None, None])


@pytest.mark.parametrize("wanted", [(0,), (3, 4), (1, 2), (5,), (6,), (0, 1, 2, 3, 4, 5, 6)])
def test_fused_lstm_computes_only_the_gradients_asked_for(wanted):
    """Leaves that do not require grad get none, the others the numpy path's (b_ih and b_hh:
    equal values in arrays of their own)."""
    arrays = _lstm_case(np.random.default_rng(2), 4, 3, 5, 6)
    upstream = np.random.default_rng(3).standard_normal((5, 3, 12))
    results = {}
    for mode in ("numba", "numpy"):
        with backends.use(mode):
            leaves = [ad.tensor(a, requires_grad=i in wanted) for i, a in enumerate(arrays)]
            Recurrent.apply(*leaves, None, "LSTM", False, None).backward(ad.tensor(upstream))
            results[mode] = [t.grad for t in leaves]
    for i, (fused, plain) in enumerate(zip(results["numba"], results["numpy"])):
        assert (fused is None) == (i not in wanted) == (plain is None)
        if fused is not None:
            np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-12, atol=1e-12)
    if 5 in wanted and 6 in wanted:
        assert not np.shares_memory(results["numba"][5].numpy(), results["numba"][6].numpy())


def test_fused_lstm_without_bias_and_with_initial_states():
    arrays = _lstm_case(np.random.default_rng(4), 3, 2, 4, 5, bias=False)
    upstream = np.random.default_rng(5).standard_normal((4, 2, 10))
    fused = _run("numba", arrays, False, np.float64, upstream)
    plain = _run("numpy", arrays, False, np.float64, upstream)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_fused_lstm_workspace_is_never_shared_between_live_graphs():
    """Two sizes and two dtypes, forward, forward, then both backward passes (the workspace
    holds only what one call uses and drops): each result equals that of the numpy path."""
    rng = np.random.default_rng(6)
    cases = [(_lstm_case(rng, 5, 3, 4, 6), np.float32), (_lstm_case(rng, 2, 4, 3, 8), np.float64),
             (_lstm_case(rng, 5, 3, 4, 6), np.float64)]
    expected = []
    for arrays, dtype in cases:
        upstream = np.ones((arrays[0].shape[0] + 1, arrays[0].shape[1], 2 * arrays[1].shape[1]))
        expected.append(_run("numpy", arrays, True, dtype, upstream))
    with backends.use("numba"):
        runs = []
        for arrays, dtype in cases:
            leaves = [ad.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
            runs.append((leaves, Recurrent.apply(*leaves, None, "LSTM", True, None)))
        for leaves, out in reversed(runs):
            out.backward(ad.ones(*out.shape, dtype=out.dtype))
    for (leaves, out), want, (_, dtype) in zip(runs, expected, cases):
        tol = 1e-5 if dtype == np.float32 else 1e-12
        for a, b in zip([out.detach().numpy()] + [t.grad.numpy() for t in leaves], want):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_fused_lstm_nan_input_spreads_as_in_the_numpy_path():
    arrays = _lstm_case(np.random.default_rng(7), 4, 2, 3, 4)
    arrays[0][1, 0, 2] = np.nan
    upstream = np.ones((5, 2, 8))
    with np.errstate(invalid="ignore"):
        fused = _run("numba", arrays, False, np.float64, upstream)
        plain = _run("numpy", arrays, False, np.float64, upstream)
    assert np.isnan(fused[0][1:, 0]).all() and not np.isnan(fused[0][:, 1]).any()
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)     # (NaNs in the same places)


def test_lstm_workspace_keeps_small_arrays_only():
    from kernels.cpu import _recurrent
    workspace = _recurrent._Workspace()
    small = workspace.array("small", (4, 8), np.float32)
    assert workspace.array("small", (2, 8), np.float32).base is small.base     # reused, as a smaller view
    assert workspace.array("small", (4, 8), np.float64).dtype == np.float64     # another dtype: a new array
    big = (workspace.KEEP_BYTES // 8 + 1,)
    assert workspace.array("big", big, np.float64).shape == big and "big" not in workspace.arrays


def test_fused_lstm_outputs_of_live_graphs_are_never_overwritten():
    """Three graphs of one size alive at once (more than the workspace keeps), then their
    backward passes, then the same again with the gradients dropped between steps (the
    buffers are reused): outputs and gradients equal those of the numpy path."""
    rng = np.random.default_rng(8)
    cases = [_lstm_case(rng, 4, 3, 5, 6) for _ in range(3)]
    upstream = np.random.default_rng(9).standard_normal((5, 3, 12))
    expected = [_run("numpy", arrays, False, np.float32, upstream) for arrays in cases]
    for _ in range(2):
        with backends.use("numba"):
            runs = []
            for arrays in cases:
                leaves = [ad.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
                runs.append((leaves, Recurrent.apply(*leaves, None, "LSTM", False, None)))
            for leaves, out in runs:
                out.backward(ad.tensor(upstream.astype(np.float32)))
        for (leaves, out), want in zip(runs, expected):
            for a, b in zip([out.detach().numpy()] + [t.grad.numpy() for t in leaves], want):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
        del runs, leaves, out


# ---------------------------------------------------------------------- an embedding's output read as is
class _LanguageModel(nn.Module):
    def __init__(self, vocab=11, features=5, hidden=6, **embedding):
        super().__init__()
        self.embed = nn.Embedding(vocab, features, **embedding)
        self.lstm = nn.LSTM(features, hidden)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens, change=None):
        x = self.embed(tokens)
        if change is not None:
            change(self, x, tokens)
        out, _ = self.lstm(x)
        self.recurrent_node = out.grad_fn._parents[0]       # (out: a slice of the op's output)
        return self.head(out)


def _train_step(model, tokens, mode, change=None):
    with backends.use(mode):
        model.zero_grad()
        logits = model(tokens, change)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           ad.tensor(np.roll(tokens.numpy(), -1, 0).reshape(-1)))
        loss.backward()
    gathered = model.recurrent_node.cache[-1] if mode == "numba" else None
    return float(loss), [p.grad.numpy().copy() for p in model.parameters()], gathered


@pytest.mark.parametrize("embedding", [{}, {"padding_idx": 0}, {"scale_grad_by_freq": True}, {"max_norm": 1.0}])
def test_lstm_on_an_embedding_computes_with_the_table_and_matches_the_numpy_path(embedding):
    """Embedding -> LSTM: with 11 rows for 40 x 8 lookups the fused LSTM takes its input
    products from the table (V rows, picked by index) and the weight's gradient from the gates'
    gradients summed per row; loss and every gradient equal the numpy path's, and the embedding
    still gets its gradient through the graph (padding_idx, scale_grad_by_freq, max_norm)."""
    ad.manual_seed(0)
    model = _LanguageModel(**embedding).double()
    tokens = ad.tensor(np.random.default_rng(0).integers(0, 11, (40, 8)))
    fused = _train_step(model, tokens, "numba")
    plain = _train_step(model, tokens, "numpy")
    assert fused[2] is not None                      # the table's products were used
    assert fused[0] == pytest.approx(plain[0], rel=1e-14)
    for a, b in zip(fused[1], plain[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def _scale_table(model, x, tokens):
    with ad.no_grad():
        model.embed.weight.mul_(2.0)                 # x no longer equals table[tokens]


def _scale_table_through_numpy(model, x, tokens):
    model.embed.weight.detach().numpy()[:] *= 2.0    # (a numpy view: no version counted; the rows are compared)


def _scale_output(model, x, tokens):
    x.mul_(2.0)                                      # x is now the product's output, not the lookup


def _change_tokens(model, x, tokens):
    tokens.add_(1).remainder_(11)                    # the indices the rows came from have moved


@pytest.mark.parametrize("change", [_scale_table, _scale_table_through_numpy, _scale_output, _change_tokens])
def test_lstm_on_a_changed_embedding_output_reads_the_output_itself(change):
    """Once the table, the output or the indices changed in place, the table's rows no longer
    say what x holds: the LSTM reads x, and results equal the numpy path on the same x."""
    ad.manual_seed(0)
    model = _LanguageModel().double()
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 11, (40, 8))
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    fused = _train_step(model, ad.tensor(tokens), "numba", change)
    model.load_state_dict({k: ad.tensor(v) for k, v in state.items()})
    plain = _train_step(model, ad.tensor(tokens), "numpy", change)
    assert fused[2] is None
    assert fused[0] == pytest.approx(plain[0], rel=1e-14)
    for a, b in zip(fused[1], plain[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_gathered_rows_pays_only_for_a_table_of_at_most_half_the_lookups():
    from kernels.cpu import _recurrent
    x = np.zeros((4, 3, 5))
    assert _recurrent.gathered_rows((np.zeros((4, 3), np.int64), np.zeros((6, 5))), x) is not None
    assert _recurrent.gathered_rows((np.zeros((4, 3), np.int64), np.zeros((7, 5))), x) is None       # 7 > 12 / 2
    assert _recurrent.gathered_rows((np.zeros((4, 3), np.int64), np.zeros((6, 5), np.float32)), x) is None
    assert _recurrent.gathered_rows((np.zeros((3, 4), np.int64), np.zeros((6, 5))), x) is None
    assert _recurrent.gathered_rows(None, x) is None


def test_two_layer_bidirectional_lstm_on_an_embedding_matches_the_numpy_path(monkeypatch):
    """Layer 0 reads the table in both directions (layer 1 reads layer 0's output); output,
    final states and every gradient equal the numpy path's."""
    from kernels.cpu import _recurrent
    used, gathered_rows = [], _recurrent.gathered_rows

    def spy(rows, x):
        result = gathered_rows(rows, x)
        used.append(result is not None)
        return result
    monkeypatch.setattr(_recurrent, "gathered_rows", spy)
    ad.manual_seed(0)
    embed, lstm = nn.Embedding(7, 4).double(), nn.LSTM(4, 5, num_layers=2, bidirectional=True).double()
    tokens = ad.tensor(np.random.default_rng(0).integers(0, 7, (10, 3)))
    results = {}
    for mode in ("numba", "numpy"):
        with backends.use(mode):
            embed.zero_grad()
            lstm.zero_grad()
            out, (h, c) = lstm(embed(tokens))
            (out.sum() + 2 * h.sum() + 3 * c.sum()).backward()
            results[mode] = [out.detach().numpy()] + [p.grad.numpy().copy() for p in
                                                      list(embed.parameters()) + list(lstm.parameters())]
    assert used == [True, True, False, False]          # layer 0's two directions, then layer 1's
    for a, b in zip(results["numba"], results["numpy"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
