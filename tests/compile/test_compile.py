"""autodiff.compile: 50 steps eager and compiled give the same parameters, bit for bit (CPU),
for every optimizer, schedulers, dropout, BatchNorm, accumulation and clipping; guards
recapture; what cannot be captured raises a clear error."""
import contextlib
import io
import warnings

import numpy as np
import pytest

import autodiff
from autodiff import nn, optim
from autodiff.compiler import CaptureError

STEPS = 50


def _data(dtype, batch=10):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, 2)).astype(dtype)
    y = (rng.random((batch, 1)) < 0.5).astype(dtype)
    return autodiff.tensor(x), autodiff.tensor(y)


def _model(dtype, extra=()):
    autodiff.manual_seed(0)
    layers = [nn.Linear(2, 20), *(extra() if callable(extra) else extra), nn.ReLU(), nn.Linear(20, 40), nn.Tanh(), nn.Linear(40, 1)]
    model = nn.Sequential(*layers)
    return model.double() if dtype == np.float64 else model


OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.05),
    "sgd-momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "sgd-nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "sgd-weight-decay": lambda p: optim.SGD(p, lr=0.05, momentum=0.5, weight_decay=0.01),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.05),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01),
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "adamw": lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
}


def _train(compiled, dtype, make_opt, extra=(), scheduler=None, clip=None, accumulate=1,
           mode="replay"):
    """Parameters, buffers and losses after STEPS steps, eager or compiled."""
    model = _model(dtype, extra)
    opt = make_opt(model.parameters())
    sched = scheduler(opt) if scheduler else None
    criterion = nn.BCEWithLogitsLoss()
    x, y = _data(dtype)
    autodiff.manual_seed(123)

    def step(x, y):
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if sched:
            sched.step()
        return loss

    def accumulate_grads(x, y):
        loss = criterion(model(x), y) / accumulate
        loss.backward()
        return loss

    losses = []
    if accumulate == 1:
        fn = autodiff.compile(step, mode=mode) if compiled else step
        for _ in range(STEPS):
            losses.append(fn(x, y).item())
    else:
        fn = autodiff.compile(accumulate_grads, mode=mode) if compiled else accumulate_grads
        for i in range(STEPS):
            opt.zero_grad()
            for k in range(accumulate):
                losses.append(fn(x[k * 5:(k + 1) * 5], y[k * 5:(k + 1) * 5]).item())
            opt.step()
    state = [p.detach().numpy().copy() for p in model.parameters()]
    state += [b.numpy().copy() for b in model.buffers()]
    return state, losses, fn


def _assert_same(eager, compiled):
    (params_e, losses_e, _), (params_c, losses_c, fn) = eager, compiled
    assert losses_e == losses_c
    for a, b in zip(params_e, params_c):
        np.testing.assert_array_equal(a, b)
    assert fn.stats["replays"] >= STEPS - 3, fn.stats


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_match_eager_bit_for_bit(name, dtype):
    make = OPTIMIZERS[name]
    _assert_same(_train(False, dtype, make), _train(True, dtype, make))


@pytest.mark.parametrize("case", ["scheduler", "dropout", "batchnorm", "clip", "accumulate"])
def test_training_features_match_eager(case):
    kwargs = {"scheduler": dict(scheduler=lambda o: optim.lr_scheduler.StepLR(o, 7, gamma=0.5)),
              "dropout": dict(extra=lambda: (nn.Dropout(0.3),)),
              "batchnorm": dict(extra=lambda: (nn.BatchNorm1d(20),)),
              "clip": dict(clip=0.05),
              "accumulate": dict(accumulate=2)}[case]
    for make in (OPTIMIZERS["sgd-momentum"], OPTIMIZERS["adam"]):
        _assert_same(_train(False, np.float32, make, **kwargs), _train(True, np.float32, make, **kwargs))


def test_raw_tensor_step_matches_eager():
    def run(compiled):
        autodiff.manual_seed(0)
        w1 = autodiff.randn(2, 16, requires_grad=True)
        b1 = autodiff.zeros(16, requires_grad=True)
        w2 = autodiff.randn(16, 1, requires_grad=True)
        x, y = _data(np.float32)

        def step(x, y):
            h = (x @ w1 + b1).relu()
            loss = ((h @ w2 - y) ** 2).mean()
            loss.backward()
            with autodiff.no_grad():
                for p in (w1, b1, w2):
                    p -= 0.01 * p.grad
                    p.grad.zero_()
            return loss
        fn = autodiff.compile(step) if compiled else step
        losses = [fn(x, y).item() for _ in range(20)]
        return [w1.detach().numpy().copy(), b1.detach().numpy().copy(), w2.detach().numpy().copy()], losses
    (pe, le), (pc, lc) = run(False), run(True)
    assert le == lc
    for a, b in zip(pe, pc):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lecture_raw_step_matches_eager_when_a_weight_array_is_replaced(dtype):
    """bench_core's step (``x @ w.T``, a stable BCE, momentum by hand): the replay's hoisted
    views of ``w.T`` follow a weight whose array is replaced, and Python numbers made 0-d
    arrays of the operand's dtype compute the same bits."""
    def run(compiled):
        rng = np.random.default_rng(0)
        sizes = (2, 20, 40, 1)
        params = []
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            params += [autodiff.tensor(rng.uniform(-0.5, 0.5, (fan_out, fan_in)).astype(dtype),
                                       requires_grad=True),
                       autodiff.tensor(rng.uniform(-0.5, 0.5, fan_out).astype(dtype), requires_grad=True)]
        velocity = [autodiff.zeros_like(p) for p in params]
        x, y = _data(dtype)

        def step(x, y):
            h = x
            for i in range(0, len(params), 2):
                h = h @ params[i].T + params[i + 1]
                if i + 2 < len(params):
                    h = h.relu()
            loss = (h.clamp(min=0) - h * y + (-h.abs()).exp().log1p()).mean()
            for p in params:
                p.grad = None
            loss.backward()
            with autodiff.no_grad():
                for p, v in zip(params, velocity):
                    v.mul_(0.9).add_(p.grad)
                    p.sub_(v, alpha=0.01)
            return loss
        fn = autodiff.compile(step) if compiled else step
        losses = [fn(x, y).item() for _ in range(10)]
        params[2].data = params[2].detach() * 0.5       # (a new array: the views follow it)
        losses += [fn(x, y).item() for _ in range(10)]
        if compiled:
            assert fn.stats["replays"] == 18
        return [p.detach().numpy().copy() for p in params + velocity], losses
    (pe, le), (pc, lc) = run(False), run(True)
    assert le == lc
    for a, b in zip(pe, pc):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.float32, np.float64, np.bool_])
def test_python_numbers_in_a_compiled_forward_compute_as_eager(dtype):
    """Numbers mixed with arrays of every kind (int * 0.5 runs float64's loop, uint8 + 3
    uint8's, bool + 1 int64's): the replay computes what eager does."""
    def forward(x):
        return (x * 0.5 + 1, x + 3, x > 1, x * 2, (x + 1.5) / 2)
    fn = autodiff.compile(forward)
    x = autodiff.tensor(np.arange(6).astype(dtype))
    for _ in range(4):
        got, want = fn(x), forward(x)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert fn.stats["replays"] == 2


def test_guards_recapture_on_new_shape_and_mode():
    model = _model(np.float32, (nn.Dropout(0.2),))
    fn = autodiff.compile(model)
    x, _ = _data(np.float32)
    with autodiff.no_grad():
        for _ in range(3):
            out = fn(x)
        np.testing.assert_array_equal(out.numpy(), model(x).numpy()) if not model.training else None
        model.eval()
        for _ in range(3):
            a = fn(x[:4])
        np.testing.assert_array_equal(a.numpy(), model(x[:4]).numpy())
    assert len(fn.tapes()) == 2
    assert "new signature" in fn.explain(file=io.StringIO())


def test_forward_that_requires_grad_runs_eagerly():
    model = _model(np.float32)
    fn = autodiff.compile(model)
    x, _ = _data(np.float32)
    for _ in range(3):
        out = fn(x)
        assert out.requires_grad and out.grad_fn is not None
    assert fn.stats["replays"] == 0 and "requires grad" in fn.explain(file=io.StringIO())


def test_outputs_are_fresh_tensors():
    model = _model(np.float32).eval()
    fn = autodiff.compile(lambda x: model(x) * 2)
    x, _ = _data(np.float32)
    with autodiff.no_grad():
        outs = [fn(x) for _ in range(4)]
        x._data[...] = 0          # (the tensor argument's array is read at every call)
        zero = fn(x)
    np.testing.assert_array_equal(outs[2].numpy(), outs[3].numpy())
    assert outs[2]._data is not outs[3]._data
    np.testing.assert_array_equal(zero.numpy(), (model(x) * 2).detach().numpy())


def test_cache_size_warns_once_then_runs_eagerly():
    model = _model(np.float32).eval()
    fn = autodiff.compile(model, cache_size=2)
    with autodiff.no_grad(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in (2, 3, 4, 5):
            x = autodiff.ones(n, 2)
            for _ in range(3):
                np.testing.assert_array_equal(fn(x).numpy(), model(x).numpy())
    assert len(fn.tapes()) == 2
    assert sum("cache_size" in str(w.message) for w in caught) == 1


@pytest.mark.parametrize("read, name", [(lambda t: t.item(), ".item()"),
                                        (lambda t: float(t), "float(tensor)"),
                                        (lambda t: bool(t > 0), "bool(tensor)"),
                                        (lambda t: t.tolist(), ".tolist()"),
                                        (lambda t: t.numpy(), ".numpy()"),
                                        (lambda t: print(t), "printing")])
def test_reading_a_value_during_capture_names_the_call_and_line(read, name):
    model = _model(np.float32)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = _data(np.float32)

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        read(loss.detach())
        loss.backward()
        opt.step()
        return loss
    fn = autodiff.compile(step)
    fn(x, y)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    with pytest.raises(CaptureError) as info:
        fn(x, y)
    message = str(info.value)
    assert name in message and "test_compile.py" in message and "read it outside" in message
    after = [p.detach().numpy() for p in model.parameters()]   # nothing ran past the read
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    assert all(type(p._data) is np.ndarray for p in model.parameters())


def test_error_during_capture_leaves_state_as_eager():
    model = _model(np.float64)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = _data(np.float64)
    calls = []

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        calls.append(1)
        if len(calls) == 2:
            raise KeyError("boom")
        opt.step()
        return loss
    fn = autodiff.compile(step)
    fn(x, y)
    with pytest.raises(KeyError):
        fn(x, y)
    for p in model.parameters():
        assert type(p._data) is np.ndarray and type(p.grad._data) is np.ndarray
    assert all(isinstance(s["momentum_buffer"]._data, np.ndarray) and
               type(s["momentum_buffer"]._data) is np.ndarray for s in opt.state.values())


def test_decorator_and_bad_arguments():
    @autodiff.compile(mode="replay")
    def double(x):
        return x * 2
    x = autodiff.ones(3)
    for _ in range(3):
        np.testing.assert_array_equal(double(x).numpy(), [2.0, 2.0, 2.0])
    assert double.__name__ == "double" and double.stats["replays"] == 1
    with pytest.raises(ValueError, match="mode"):
        autodiff.compile(double, mode="jit")
    with pytest.raises(TypeError, match="function or a Module"):
        autodiff.compile(3)


def test_explain_reports_calls_buffers_and_recaptures(capsys):
    model = _model(np.float32)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = _data(np.float32)

    @autodiff.compile
    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    for _ in range(3):
        step(x, y)
    for _ in range(3):
        step(x[:5], y[:5])
    text = step.explain()
    assert "2 signature(s) captured" in text and "array calls replayed" in text and "bytes" in text
    assert "new signature: changed: arguments" in text
    assert capsys.readouterr().out.strip() == text


@pytest.mark.parametrize("dtype, make, rtol", [(np.float64, OPTIMIZERS["sgd-momentum"], 1e-12),
                                               (np.float32, OPTIMIZERS["adam"], 2e-5)])
def test_fused_matches_eager_within_a_few_ulps(dtype, make, rtol, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_CACHE_DIR", str(tmp_path))
    schedule = dict(scheduler=lambda o: optim.lr_scheduler.StepLR(o, 7, gamma=0.5))
    eager = _train(False, dtype, make, **schedule)
    fused = _train(True, dtype, make, mode="fused", **schedule)
    np.testing.assert_allclose(fused[1], eager[1], rtol=rtol)
    for a, b in zip(eager[0], fused[0]):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol)
    text = fused[2].explain(file=io.StringIO())
    assert "compiled functions" in text and "fused: 0 array calls" not in text
    assert list(tmp_path.glob("step_*.py"))          # the generated code, cached on disk


def test_fused_reuses_its_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_CACHE_DIR", str(tmp_path))
    model = _model(np.float64).eval()
    x, _ = _data(np.float64)
    results = []
    for _ in range(2):
        fn = autodiff.compile(lambda x: model(x).tanh(), mode="fused")
        with autodiff.no_grad():
            results.append([fn(x).numpy() for _ in range(3)][-1])
        files = sorted(p.name for p in tmp_path.glob("step_*.py"))
    assert len(files) == 1
    np.testing.assert_allclose(results[0], results[1], rtol=0)
    with autodiff.no_grad():
        np.testing.assert_allclose(results[0], model(x).tanh().numpy(), rtol=1e-12)


def test_capture_leaves_no_hook_behind():
    from autodiff import backends, random as autodiff_random
    from autodiff.optim import optimizer as optimizer_module
    _, losses, fn = _train(True, np.float32, OPTIMIZERS["adam"], extra=lambda: (nn.Dropout(0.1),))
    assert fn.stats["replays"] > 0
    assert optimizer_module._step_recorder is None and backends.choice._traced_kernel is None
    from autodiff.compiler import tracer
    assert all(getattr(np, name) is original for name, original in tracer._ORIGINAL.items())
    assert tracer.active() is None
    assert "random" not in vars(autodiff_random.Generator)
    assert autodiff.Tensor.backward.__qualname__ == "Tensor.backward"
    assert autodiff.Tensor.numpy.__qualname__ == "Tensor.numpy"


def test_draw_tape_shows_parameters_calls_and_the_update():
    pytest.importorskip("graphviz")
    from autodiff.viz import draw_tape
    _, _, fn = _train(True, np.float32, OPTIMIZERS["sgd-momentum"])
    picture = draw_tape(fn)
    assert picture.find("0.weight") and picture.find("matmul") and picture.find("set .grad")
    assert len(draw_tape(fn, max_nodes=10).nodes) < len(picture.nodes)


def test_readme_example_runs():
    import pathlib
    import re
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S)
                 if "autodiff.compile(step)" in b)
    model = _model(np.float32)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = _data(np.float32)

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
        return loss
    namespace = {"autodiff": autodiff, "step": step, "batches": [(x, y)] * 5}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(block, namespace)
    assert namespace["step"].stats == {"eager": 1, "captures": 1, "replays": 3}
    assert "array calls replayed" in out.getvalue()


def test_a_parameter_the_function_cannot_reach_is_refused(monkeypatch):
    import types
    hidden = types.ModuleType("hidden")          # (modules are not searched for tensors)
    hidden.w = autodiff.ones(2, 1, requires_grad=True)
    x, y = _data(np.float32)

    def step(x, y):
        loss = ((x @ hidden.w - y) ** 2).mean()
        loss.backward()
        return loss
    fn = autodiff.compile(step)
    fn(x, y)
    with pytest.raises(CaptureError, match="does not reach"):
        fn(x, y)
    assert type(hidden.w._data) is np.ndarray and type(hidden.w.grad._data) is np.ndarray


def test_modules_passed_as_arguments_and_method_decorator():
    class Trainer:
        def __init__(self):
            self.model = _model(np.float64, lambda: (nn.Dropout(0.25),))
            self.opt = optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)

        @autodiff.compile
        def step(self, model, x, y):
            self.opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            self.opt.step()
            return loss

    def run(compiled):
        trainer = Trainer()
        x, y = _data(np.float64)
        autodiff.manual_seed(5)
        step = trainer.step if compiled else (lambda m, x, y: Trainer.step.fn(trainer, m, x, y))
        losses = [step(trainer.model, x, y).item() for _ in range(6)]
        trainer.model.eval()                    # another mode: captured again, not replayed
        losses += [step(trainer.model, x, y).item() for _ in range(4)]
        return losses, [p.detach().numpy().copy() for p in trainer.model.parameters()]
    (le, pe), (lc, pc) = run(False), run(True)
    assert le == lc
    for a, b in zip(pe, pc):
        np.testing.assert_array_equal(a, b)
    assert len(Trainer.step.tapes()) == 2


def test_numba_kernels_are_recorded_as_calls():
    from autodiff import backends
    with backends.use("numba"):               # (the activation and Adam kernels, at any size)
        _assert_same(_train(False, np.float32, OPTIMIZERS["adam"]),
                     _train(True, np.float32, OPTIMIZERS["adam"]))
        _, _, fn = _train(True, np.float32, OPTIMIZERS["sgd-momentum"])
    names = [e.name for e in fn.tapes()[0].live]
    assert any(name.startswith("kernel ") for name in names), names


def test_numpy_array_arguments_run_eagerly():
    fn = autodiff.compile(lambda a, t: t * 2)
    data = np.ones(3)
    t = autodiff.ones(3)
    for _ in range(3):
        np.testing.assert_array_equal(fn(data, t).numpy(), [2.0, 2.0, 2.0])
    assert fn.stats["replays"] == 0 and "numpy array" in fn.explain(file=io.StringIO())


def test_drawing_batches_inside_the_function_is_refused():
    from autodiff.data import DataLoader, TensorDataset
    x, y = _data(np.float32)
    loader = DataLoader(TensorDataset(x, y), batch_size=5)
    model = _model(np.float32)

    @autodiff.compile
    def step():
        xb, yb = next(iter(loader))
        return ((model(xb) - yb) ** 2).mean().detach()
    step()
    with pytest.raises(CaptureError, match="pass each batch as an argument"):
        step()
    assert len(list(loader)) == 2                 # (the loader is itself again)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_replayed_2d_matmuls_run_as_np_dot_with_eagers_bits(dtype):
    """The replay runs a 2-D float matmul as np.dot (the same BLAS call, cheaper to enter):
    plain, transposed and column-vector operands give eager's results bit for bit."""
    rng = np.random.default_rng(3)
    a = autodiff.tensor(rng.standard_normal((17, 40)).astype(dtype))
    b = autodiff.tensor(rng.standard_normal((20, 40)).astype(dtype))
    c = autodiff.tensor(rng.standard_normal((17, 1)).astype(dtype))

    def f(a, b, c):
        h = (a @ b.T).tanh()
        return (h.T @ c, h @ h.T)

    eager = [t.numpy() for t in f(a, b, c)]
    fn = autodiff.compile(f)
    for _ in range(3):
        got = [t.numpy() for t in fn(a, b, c)]
    assert fn.stats["replays"] == 1
    for e, g in zip(eager, got):
        assert g.dtype == e.dtype and np.array_equal(g.view(np.uint8), e.view(np.uint8))
    (tape,) = [t for signature in fn._signatures.values() for _, _, t in signature.tapes]
    called = {getattr(v, "__name__", "") for v in tape.function.__globals__.values() if callable(v)}
    assert "dot" in called and "matmul" not in called
