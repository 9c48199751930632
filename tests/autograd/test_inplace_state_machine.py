"""A hypothesis state machine (MyGrad style) for in-place changes and views.

It interleaves out-of-place ops, in-place ops (recorded, under no_grad, through
.detach()), views of views, and backward with and without retain_graph, on tensors
derived from one leaf. Beside autodiff it keeps a reference model with no in-place
op at all: each tensor is a pure function of the leaf, and an in-place change of a
view is "the base with the view's region replaced" (a one-hot matrix product). After
every step all values must match the model; every backward must either raise
PyTorch's in-place error (or its "backward a second time" error after a backward
without retain_graph) or give the model's gradient, never anything else. With
PyTorch installed the same program runs in torch too, and autodiff must raise
exactly when torch does (the ops here save the same values in both).
"""
import numpy as np
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import autodiff as ad

try:
    import torch
except ImportError:        # the model alone then checks autodiff
    torch = None

INPLACE_ERROR = "modified by an inplace operation"
FREED_ERROR = "backward through the graph a second time"
X_VALUES = np.array([[0.3, -0.7, 1.1], [0.5, -0.2, 0.9]])

# in-place ops: (name, on autodiff, on the model); ``s`` is a 0-d tensor computed from the leaf
INPLACE_OPS = [
    ("mul_(c)", lambda t, s: t.mul_(-1.5), lambda v, s: v * -1.5),
    ("add_(c)", lambda t, s: t.add_(0.25), lambda v, s: v + 0.25),
    ("add_(s)", lambda t, s: t.add_(s), lambda v, s: v + s),
    ("mul_(s)", lambda t, s: t.mul_(s), lambda v, s: v * s),
    # (values stay finite here, so v * 0 is the zero gradient that fill_ and copy_ give)
    ("fill_(c)", lambda t, s: t.fill_(0.5), lambda v, s: v * 0 + 0.5),
    ("zero_()", lambda t, s: t.zero_(), lambda v, s: v * 0),
    ("copy_(s)", lambda t, s: t.copy_(s), lambda v, s: v * 0 + s),
    ("clamp_", lambda t, s: t.clamp_(-0.5, 0.5), lambda v, s: v.clamp(-0.5, 0.5)),
]
# out-of-place ops: the same function on both (the model never changes anything in place)
OUT_OF_PLACE_OPS = [
    ("sin", lambda t, s: t.sin()), ("tanh", lambda t, s: t.tanh()),
    ("sigmoid", lambda t, s: t.sigmoid()), ("cos", lambda t, s: t.cos()),
    ("+ 0.5", lambda t, s: t + 0.5),
    ("+ s", lambda t, s: t + s), ("square", lambda t, s: t * t),
]
VIEWS = [
    ("[0]", lambda t: t[0], lambda shape: len(shape) >= 1),
    ("[1:]", lambda t: t[1:], lambda shape: len(shape) >= 1 and shape[0] > 1),
    ("[..., ::2]", lambda t: t[..., ::2], lambda shape: len(shape) >= 1),
    ("transpose", lambda t: t.transpose(0, -1), lambda shape: len(shape) >= 2),
    ("unsqueeze", lambda t: t.unsqueeze(0), lambda shape: len(shape) <= 2),
    ("reshape", lambda t: t.reshape(-1), lambda shape: True),
]


class Handle:
    """A tensor in autodiff (and torch), and where its values live in the model: storage
    and view chain."""

    def __init__(self, ours, theirs, storage, chain, base_required_grad=True):
        self.ours, self.theirs, self.storage, self.chain = ours, theirs, storage, chain
        self.base_required_grad = base_required_grad   # (a view: did its base, when made?)


class InplaceMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        self.x = ad.tensor(X_VALUES, requires_grad=True)
        self.s = (self.x * 0.1).sum()             # a 0-d operand that carries gradient
        self.xt = self.st = None
        if torch is not None:
            self.xt = torch.tensor(X_VALUES, requires_grad=True)
            self.st = (self.xt * 0.1).sum()
        self.storages = []                        # each: a function of the model's leaf
        self.handles = []
        self.freed = False                        # a backward ran without retain_graph
        self._new_storage(self.x * 1, self._torch(lambda: self.xt * 1), lambda x, s: x * 1)
        self._new_storage(ad.tensor(X_VALUES[0] * 2),
                          self._torch(lambda: torch.tensor(X_VALUES[0] * 2)),
                          lambda x, s: ad.tensor(X_VALUES[0] * 2))

    @staticmethod
    def _torch(fn):
        return None if torch is None else fn()

    # ------------------------------------------------------------------ the model
    def _new_storage(self, ours, theirs, fn):
        self.storages.append(fn)
        self.handles.append(Handle(ours, theirs, len(self.storages) - 1, []))

    def _model(self, x):
        """Each storage's values from the model leaf ``x`` (recomputed from scratch)."""
        s = (x * 0.1).sum()
        return [fn(x, s) for fn in self.storages], s

    def _value(self, handle, roots):
        value = roots[handle.storage]
        for view in handle.chain:
            value = view(value)
        return value

    def _scatter(self, root, chain, new_view):
        """``root`` with the region ``chain`` views replaced by ``new_view``, out of place."""
        positions = ad.tensor(np.arange(root.numel()).reshape(root.shape))
        for view in chain:
            positions = view(positions)
        flat = positions._data.reshape(-1)
        one_hot = np.zeros((flat.size, root.numel()))
        one_hot[np.arange(flat.size), flat] = 1.0
        mask = one_hot.sum(0)
        new_flat = root.reshape(-1) * (1 - mask) + new_view.reshape(-1) @ ad.tensor(one_hot)
        return new_flat.reshape(root.shape)

    def _change_storage(self, handle, op, recorded):
        """Replace the handle's storage function by its value after ``op`` on the view."""
        old_fn, chain = self.storages[handle.storage], list(handle.chain)

        def changed(x, s, old_fn=old_fn, chain=chain, op=op, recorded=recorded):
            root = old_fn(x, s)
            view = root
            for v in chain:
                view = v(view)
            new_root = self._scatter(root, chain, op(view, s)) if chain else op(view, s) * 1
            return new_root if recorded else root + (new_root - root).detach()

        self.storages[handle.storage] = changed

    # ------------------------------------------------------------------ rules
    handle_index = st.integers(0, 10_000)

    def _pick(self, index):
        return self.handles[index % len(self.handles)]

    @rule(index=handle_index, op=st.sampled_from(OUT_OF_PLACE_OPS))
    def out_of_place(self, index, op):
        handle = self._pick(index)
        name, fn = op
        source = list(self.storages), handle

        def model(x, s, fn=fn, handle=handle, storages=source[0]):
            roots = [f(x, s) for f in storages]
            return fn(self._value(handle, roots), s)

        self._new_storage(fn(handle.ours, self.s), self._torch(lambda: fn(handle.theirs, self.st)),
                          model)

    @rule(index=handle_index, view=st.sampled_from(VIEWS))
    def make_view(self, index, view):
        handle = self._pick(index)
        name, fn, applies = view
        shape = tuple(handle.ours.shape)
        if not applies(shape) or 0 in shape:
            return
        if name == "reshape" and not handle.ours.is_contiguous():
            return        # reshape would copy: not a view (in PyTorch either)
        self.handles.append(Handle(fn(handle.ours), self._torch(lambda: fn(handle.theirs)),
                                   handle.storage, handle.chain + [fn], handle.ours.requires_grad))

    @rule(index=handle_index, op=st.sampled_from(INPLACE_OPS),
          how=st.sampled_from(["recorded", "no_grad", "detach"]))
    def inplace(self, index, op, how):
        handle = self._pick(index)
        name, ours_fn, model_fn = op
        uses_s = "(s)" in name
        if how == "recorded" and handle.chain and not handle.base_required_grad \
                and handle.ours.requires_grad:
            # a view made before its base gained a history in place: PyTorch then raises "a
            # leaf Variable that requires grad is being used in an in-place operation" or not,
            # depending on whether the view's grad_fn was read first; autodiff records it
            return
        for lib, t, s in ((ad, handle.ours, self.s), (torch, handle.theirs, self.st)):
            if lib is None:
                continue
            if how == "recorded":
                ours_fn(t, s)
            elif how == "no_grad":
                with lib.no_grad():
                    ours_fn(t, s)
            else:
                ours_fn(t.detach(), s.detach() if uses_s else s)
        recorded = how == "recorded"
        self._change_storage(handle, model_fn, recorded)

    @rule(index=handle_index, retain=st.booleans(), seed=st.integers(0, 3))
    def backward(self, index, retain, seed):
        handle = self._pick(index)
        x_model = ad.tensor(X_VALUES, requires_grad=True)
        roots, _ = self._model(x_model)
        expected = self._value(handle, roots)
        assert handle.ours.requires_grad == expected.requires_grad
        if not expected.requires_grad:
            return
        weights = np.random.default_rng(seed).uniform(-1, 1, tuple(handle.ours.shape))
        (expected * ad.tensor(weights)).sum().backward()
        self.x.grad = None
        freed_before = self.freed
        self.freed = self.freed or not retain    # (a pass that fails half-way frees what it ran)
        torch_error = None
        if torch is not None:
            try:
                (handle.theirs * torch.tensor(weights)).sum().backward(retain_graph=retain)
            except RuntimeError as exc:
                torch_error = str(exc)
        try:
            (handle.ours * ad.tensor(weights)).sum().backward(retain_graph=retain)
        except RuntimeError as exc:
            message = str(exc)
            assert INPLACE_ERROR in message or (freed_before and FREED_ERROR in message), message
            assert self.x.grad is None                  # a failing backward stores nothing
            if torch is not None and not (freed_before and FREED_ERROR in message):
                # (which nodes a failing pass ran, and so freed, depends on the engine's order:
                # after a freeing pass, torch may fail later or on another node than autodiff)
                assert torch_error is not None, f"autodiff raised, torch did not: {message}"
            return
        assert torch_error is None, f"torch raised, autodiff did not: {torch_error}"
        if x_model.grad is None:
            assert self.x.grad is None or not self.x.grad._data.any()
        else:
            np.testing.assert_allclose(self.x.grad._data, x_model.grad._data, atol=1e-10)

    @precondition(lambda self: len(self.handles) > 12)
    @rule()
    def forget_oldest_views(self):
        self.handles = self.handles[:2] + self.handles[-6:]

    # ------------------------------------------------------------------ invariant
    @invariant()
    def values_match_the_model(self):
        if not hasattr(self, "x"):
            return
        with ad.no_grad():
            roots, _ = self._model(ad.tensor(X_VALUES))
            for handle in self.handles:
                np.testing.assert_allclose(handle.ours._data, self._value(handle, roots)._data,
                                           atol=1e-12)


InplaceMachine.TestCase.settings = settings(stateful_step_count=15, deadline=None,
                                            max_examples=min(settings().max_examples, 25))
test_inplace_state_machine = InplaceMachine.TestCase
