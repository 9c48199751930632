"""The tape of a captured step: slots (array values), entries (numpy calls, host calls,
checks) and its replay, generated as one straight-line Python function.

Replay is a flat run of numpy calls on plain arrays: ``s7 = F3(s2, s5)`` for each entry,
no Tensor, no graph node, no topological sort. Entries whose results nothing needs
(shape checks, copies made only for the graph's bookkeeping) are dropped first.
"""
import math

import numpy as np

from ..cuda.devices import DeviceArray


class Slot:
    """Where an array value sits on the tape (``s{index}`` in the replay's code)."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"s{self.index}"


class Entry:
    """One step of the tape.

    kind: ``call`` (a numpy call on slots), ``draw`` (a random draw), ``host`` (a Python call
    run eagerly at replay: optimizer step, scheduler, clipping), ``bind`` (point tensors'
    ``.grad`` at slots), ``check`` (a value autodiff read into Python, checked unchanged).
    """

    __slots__ = ("kind", "func", "name", "args", "kwargs", "outputs", "mutates", "scalar_result",
                 "expected", "where", "bindings", "tensor_result", "fast", "host", "guard")

    def __init__(self, kind, func, name, args, kwargs, mutates=(), expected=None, where="",
                 bindings=(), fast=(), host=None, guard=None):
        self.kind, self.func, self.name, self.args, self.kwargs = kind, func, name, args, kwargs
        self.outputs = None
        self.mutates = mutates
        self.scalar_result = False
        self.expected = expected
        self.where = where
        self.bindings = bindings
        self.tensor_result = False
        self.fast, self.host, self.guard = fast, host, guard   # a branch: fast entries or host

    @property
    def pure(self):
        return self.kind == "call" and not self.mutates

    def input_slots(self):
        found = []
        _collect(self.args, found)
        _collect(self.kwargs, found)
        for binding in self.bindings:
            if binding[1] is not None:
                found.append(binding[1])
        for entry in self.fast:
            found.extend(entry.input_slots())
            found.extend(entry.mutates)
        return found

    def output_slots(self):
        found = []
        _collect(self.outputs, found)
        return found


def leaves(nest):
    """What a nest of tuples, lists and dicts (their values) holds, in order, containers
    walked into: the one walk over call arguments, results and templates in this package."""
    if isinstance(nest, (tuple, list)):
        for x in nest:
            yield from leaves(x)
    elif type(nest) is dict:
        for x in nest.values():
            yield from leaves(x)
    else:
        yield nest


def _collect(template, found):
    found.extend(x.index for x in leaves(template) if isinstance(x, Slot))


class ReplayMismatch(RuntimeError):
    """A value the capture read into Python changed: the tape no longer describes the step."""


class Tape:
    """Slots and entries of one captured signature, and the generated replay."""

    def __init__(self, name):
        self.name = name
        self.slot_kind = []       # "input" (read from a tensor at every replay) or "new"
        self.slot_shape = []
        self.slot_dtype = []
        self.slot_source = []     # for inputs: ("data" | "grad", tracked index) or ("arg", i)
        self.entries = []
        self.tensors = []         # the tracked tensors (index -> tensor)
        self.extra = []           # optimizer-state tensors a traced optimizer step reads
        self.outputs = None       # template of the function's result
        self.live = None          # entries kept for replay (after dropping unneeded ones)
        self.source = None
        self.function = None
        self.alias, self.buffers = {}, {}   # (plan_memory)
        self.views = {}                     # slot -> (a tensor's array, its view) (hoist_views)
        self.constants = {}                 # slot -> the capture's array (fold_constants)
        self.fuser = None
        self.slot_contiguous = []
        self.slot_on_host = []    # numpy arrays (False: CUDA arrays, which get no out= buffers)

    def add_slot(self, array, kind, source):
        self.slot_kind.append(kind)
        self.slot_shape.append(array.shape)
        self.slot_dtype.append(array.dtype)
        self.slot_source.append(source)
        self.slot_contiguous.append(array.flags.c_contiguous)
        self.slot_on_host.append(isinstance(array, np.ndarray))

    def append(self, entry):
        self.entries.append(entry)

    # ---- analysis
    def prune(self, roots):
        """Entries that replay must run: every impure one, and the pure ones whose results an
        impure entry, a binding or the output needs (one pass backwards)."""
        needed = set(roots)
        live = []
        for entry in reversed(self.entries):
            if entry.pure and not needed.intersection(entry.output_slots()):
                continue
            live.append(entry)
            needed.update(entry.input_slots())
            needed.update(entry.mutates)
        live.reverse()
        self.live = live
        self.needed = needed
        return live

    def counts(self):
        """(array calls replayed, buffers preallocated, their bytes, entries dropped)."""
        live = self.live if self.live is not None else self.entries
        flat = [x for e in live for x in (e, *e.fast)]
        calls = sum(1 for e in flat if e.kind in ("call", "draw") and
                    not (isinstance(e.outputs, Slot) and e.outputs.index in self.alias))
        made = [s for e in flat if e.kind in ("call", "draw", "host") for s in e.output_slots()
                if s not in self.alias]
        preallocated = [s for s in made if s in self.buffers]
        nbytes = sum(int(np.prod(self.slot_shape[s])) * self.slot_dtype[s].itemsize for s in preallocated)
        return calls, len(preallocated), nbytes, len(self.entries) - len(live)

    # ---- replay
    def plan_memory(self, output_slots):
        """Savings, each measured on the lecture step (see benchmarks/bench_compile.py): a copy
        of a fresh array nothing else reads becomes that array (``np.array(g)`` where backward
        stores a gradient), the transpose of a transposed matrix is the matrix (``w.T`` in
        forward, ``.T`` of it in backward), and a ufunc or a ufunc's reduction whose result
        does not outlive the replay writes into a buffer made once (``out=``) instead of a
        new array each time."""
        entries = []
        for entry in self.live:
            entries.append(entry)
            entries.extend(entry.fast)
        producer, uses = {}, {}
        for entry in entries:
            for slot in entry.output_slots():
                producer[slot] = entry
            for slot in entry.input_slots() + list(entry.mutates):
                uses[slot] = uses.get(slot, 0) + 1
        for slot in output_slots:
            uses[slot] = uses.get(slot, 0) + 1
        self.alias = {}
        for entry in entries:
            if (entry.kind == "call" and entry.name == "array" and len(entry.args) == 1
                    and isinstance(entry.args[0], Slot) and isinstance(entry.outputs, Slot)):
                source = entry.args[0].index
                # (order="C", a gradient's copy: any layout is C-ordered in one dimension)
                same_layout = not entry.kwargs or (entry.kwargs == {"order": "C"}
                                                   and len(self.slot_shape[source]) <= 1)
                if same_layout and self.slot_kind[source] == "new" and uses.get(source) == 1 and \
                        _fresh(producer.get(source)):
                    self.alias[entry.outputs.index] = source
            middle = self._transposed(entry)
            if middle is not None and self._transposed(producer.get(middle)) is not None:
                self.alias[entry.outputs.index] = self.alias.get(
                    self._transposed(producer[middle]), self._transposed(producer[middle]))
        escapes = set(output_slots)
        for entry in entries:
            if entry.kind == "bind":
                escapes.update(b[1] for b in entry.bindings if b[1] is not None)
        for entry in reversed(entries):     # a view (or anything not a ufunc) of an escaping
            outs = entry.output_slots()     # array may share its memory: its inputs escape too
            if any(s in escapes for s in outs) and not _fresh(entry):
                escapes.update(entry.input_slots())
        for target, source in self.alias.items():
            if target in escapes:
                escapes.add(source)
        self.buffers = {}
        for entry in entries:
            if (entry.kind == "call" and isinstance(entry.outputs, Slot)
                    and (_positional_out(entry) or _plain_reduce(entry))):
                slot = entry.outputs.index
                if slot not in escapes and slot not in self.alias and self.slot_on_host[slot]:
                    self.buffers[slot] = np.empty(self.slot_shape[slot], self.slot_dtype[slot])

    def _transposed(self, entry):
        """The matrix an entry transposes (``m.T``, ``m.transpose()``, ``m.swapaxes(0, 1)``:
        a view), or None."""
        if entry is None or entry.kind != "call" or entry.kwargs or not entry.args or \
                not isinstance(entry.args[0], Slot) or not isinstance(entry.outputs, Slot):
            return None
        source = entry.args[0].index
        if len(self.slot_shape[source]) != 2:
            return None
        axes = entry.args[1:]
        if entry.name == "transpose" and axes in ((), ((1, 0),), (1, 0)):
            return source
        if entry.name == "swapaxes" and len(axes) == 2 and all(type(a) is int for a in axes) \
                and axes[0] % 2 != axes[1] % 2:
            return source
        return None

    def hoist_views(self, values):
        """A view of a tensor's array (``w.T`` of a parameter) is made once: replay takes the
        capture's view while the tensor holds the same array (``s is I``), which costs a
        tenth of making it. ``values[slot]``: the capture's arrays."""
        self.views = {}
        for entry in self.live:
            if entry.kind != "call" or entry.name not in _VIEWS or not isinstance(entry.outputs, Slot):
                continue
            slots = entry.input_slots()
            if len(slots) != 1 or not isinstance(entry.args[0], Slot) or \
                    self.slot_kind[slots[0]] != "input" or entry.outputs.index in self.alias:
                continue
            source, view = values[slots[0]], values[entry.outputs.index]
            if isinstance(view, np.ndarray) and view.base is not None and np.shares_memory(view, source):
                self.views[entry.outputs.index] = (source, view)

    def fold_constants(self, output_slots, values):
        """Values that depend only on shapes (``ones_like`` of the loss, the seed of backward,
        and what is computed from it alone) are taken from the capture instead of being
        computed again: ``values[slot]`` is the capture's array."""
        mutated, escapes = set(), set(output_slots)
        for entry in self.live:
            for inner in (entry, *entry.fast):
                mutated.update(inner.mutates)
                escapes.update(b[1] for b in inner.bindings if b[1] is not None)
        constant = {}
        kept = []
        for entry in self.live:
            outs = entry.output_slots()
            inputs = entry.input_slots()
            foldable = (entry.pure and outs and not any(s in mutated or s in escapes for s in outs)
                        and (entry.name in _SHAPE_ONLY or (inputs and all(s in constant for s in inputs))))
            if foldable:
                for slot in outs:
                    constant[slot] = values[slot]
                continue
            kept.append(entry)
        self.live = kept
        self.constants = constant

    def constant_arrays(self):
        """The arrays frozen into the tape (made from Python data during the capture)."""
        return [x for entry in self.live or () for inner in (entry, *entry.fast)
                if inner.kind == "call" for x in leaves((inner.args, inner.kwargs))
                if isinstance(x, np.ndarray) and x.size > 1]

    def build(self, output_slots, output_builder, fuser=None, examples=None):
        """Generate the replay function: reads inputs, runs the live entries, returns outputs.
        With a ``fuser`` (``fused.Fuser``), runs of entries it can translate become calls of
        Numba-compiled functions."""
        self.output_slots, self.output_builder = output_slots, output_builder
        if self.live is None:
            self.prune(output_slots)
            if examples is not None:
                self.fold_constants(output_slots, examples)
            self.plan_memory(output_slots)
            if examples is not None:
                self.hoist_views(examples)
        self.fuser = fuser
        names = {f"s{slot}": value for slot, value in self.constants.items()}
        names.update({"asarray": np.asarray, "_same": _same, "_mismatch": self._mismatch,
                 "_wrap": _wrapper(), "_OUT": output_builder})
        lines = ["def replay(A):"]
        for slot, kind in enumerate(self.slot_kind):
            if kind != "input" or slot not in self.needed:
                continue
            what, index = self.slot_source[slot]
            if what == "arg":
                lines.append(f"    s{slot} = A[{index}]._data")
            elif what == "extra":
                names[f"X{index}"] = self.extra[index]
                lines.append(f"    s{slot} = X{index}._data")
            elif what == "data":
                names[f"T{index}"] = self.tensors[index]
                lines.append(f"    s{slot} = T{index}._data")
            else:
                names[f"T{index}"] = self.tensors[index]
                lines.append(f"    s{slot} = T{index}._grad._data")
        if fuser is not None:
            fuser.prepare(self, output_slots)
        lines.extend("    " + line for line in self._block(self.live, "", names))
        outputs = ", ".join(f"s{s}" for s in output_slots)
        lines.append(f"    return _OUT(({outputs}{',' if len(output_slots) == 1 else ''}))")
        self.source = "\n".join(lines) + "\n"
        namespace = dict(names)
        exec(compile(self.source, f"<autodiff.compile replay of {self.name}>", "exec"), namespace)
        self.function = namespace["replay"]
        return self.function

    def _hoisted(self, names):
        """Fused only: when nothing but numpy calls and gradient bindings comes before the
        optimizer's traced step, its guard is checked first, so that forward, backward and
        the update can be one compiled function (bindings move after it: only the eager
        update reads ``.grad``). Lecture step: 2 compiled calls -> 1, 26 -> 21 us."""
        live = self.live
        first = next((i for i, e in enumerate(live) if e.kind == "branch"), None)
        if first is None or any(e.kind not in ("call", "bind") for e in live[:first]):
            return None
        before, branch, after = live[:first], live[first], live[first + 1:]
        calls = [e for e in before if e.kind == "call"]
        binds = [e for e in before if e.kind == "bind"]
        bound = [b[1] for e in binds for b in e.bindings if b[1] is not None]
        names[f"GUARD{first}"] = branch.guard
        fast = self._block(calls + list(branch.fast), "a", names, extra_uses=bound)
        for k, entry in enumerate(binds):
            fast.extend(self._code(f"ab{k}", entry, names))
        slow = self._block(before, "b", names) + self._code(f"b{first}_host", branch.host, names)
        return ([f"if GUARD{first}():"] + ["    " + line for line in fast] + ["else:"] +
                ["    " + line for line in slow] + self._block(after, "c", names))

    def _block(self, entries, prefix, names, extra_uses=()):
        """The code of a list of entries (the tape, or a branch's fast path)."""
        if self.fuser is not None and entries is self.live:
            hoisted = self._hoisted(names)
            if hoisted is not None:
                return hoisted
        lines, run = [], []
        for k, entry in enumerate(entries):
            number = f"{prefix}{k}"
            if self.fuser is not None and self.fuser.can(entry):
                run.append((number, entry))
                continue
            if run:
                lines.extend(self.fuser.segment(run, names, extra_uses))
                run = []
            lines.extend(self._code(number, entry, names))
        if run:
            lines.extend(self.fuser.segment(run, names, extra_uses))
        return lines

    def _code(self, number, entry, names):
        kind = entry.kind
        if kind == "bind":
            out = []
            for tensor, slot, same_object in entry.bindings:
                index = self._tensor_index(tensor, names)
                if slot is None:
                    out.append(f"T{index}._grad = None")
                elif same_object:
                    out.append(f"T{index}._grad._data = s{slot}")
                else:
                    out.append(f"T{index}._grad = _wrap(s{slot})")
            return out
        func = f"F{number}"
        if kind == "branch":
            names[f"GUARD{number}"] = entry.guard
            out = [f"if GUARD{number}():"]
            out.extend("    " + line for line in self._block(entry.fast, f"{number}_", names))
            if not entry.fast:
                out.append("    pass")
            out.append("else:")
            out.extend("    " + line for line in self._code(f"{number}_host", entry.host, names))
            return out
        if kind == "host":
            names[func] = _host(entry)
            call = f"{func}()"
        else:
            names[func] = np.dot if self._is_2d_matmul(entry) else entry.func
            ufunc = entry.func if isinstance(entry.func, np.ufunc) else None
            parts = [_expr(a, names) for a in self._typed_scalars(entry, ufunc)]
            kwargs = dict(entry.kwargs)
            positional_out = ufunc is not None and len(entry.args) == ufunc.nin and ufunc.nout == 1 \
                and ufunc not in _KEYWORD_OUT
            # ufuncs and reductions parse keyword arguments slowly: out= and axis= go by
            # position (about 0.1 us a call on the lecture step's small arrays)
            if positional_out and "casting" in kwargs and self._same_dtypes(entry):
                del kwargs["casting"]           # (the in-place ops of inplace.py: no cast happens)
            if positional_out and set(kwargs) == {"out"} and type(kwargs["out"]) is tuple \
                    and len(kwargs["out"]) == 1:
                parts.append(_expr(kwargs.pop("out")[0], names))
            if _plain_reduce(entry):
                parts.append(_expr(kwargs.pop("axis", 0), names))
                kwargs.pop("keepdims", None)
            parts += [f"{k}={_expr(v, names)}" for k, v in kwargs.items()]
            call = f"{func}({', '.join(parts)})"
        if kind == "check":
            names[f"E{number}"] = entry.expected
            names[f"W{number}"] = entry
            return [f"if not _same({call}, E{number}): _mismatch(W{number})"]
        if isinstance(entry.outputs, Slot):
            slot = entry.outputs.index
            if slot in self.alias:
                return [f"s{slot} = s{self.alias[slot]}"]
            if slot in self.buffers:     # (a ufunc with inputs only: its out goes by position)
                names[f"B{slot}"] = self.buffers[slot]
                out = f"out=B{slot}" if entry.func in _KEYWORD_OUT else f"B{slot}"
                if _plain_reduce(entry):
                    out = f"None, B{slot}"      # (reduce(array, axis, dtype, out))
                call = call[:-1] + f", {out})"
                return [f"s{slot} = {call}"]    # (out= returns the array, even a 0-d one)
            if slot in self.views:
                names[f"I{slot}"], names[f"V{slot}"] = self.views[slot]
                source = entry.args[0].index
                return [f"s{slot} = V{slot} if s{source} is I{slot} else {call}"]
        if entry.scalar_result:
            call = f"asarray({call})"
        target = _target(entry.outputs)
        return [f"{target} = {call}" if target else call]

    def _is_2d_matmul(self, entry):
        """``np.matmul`` of two 2-D float32/float64 host arrays: ``np.dot`` makes the same BLAS
        call (bit for bit: checked over 1,200 shapes, layouts and both dtypes) in 0.25-0.3 us
        less on the lecture step's arrays, which run 11 matmuls a step."""
        if entry.func is not np.matmul or len(entry.args) != 2 or set(entry.kwargs) - {"out"}:
            return False
        if not all(isinstance(a, Slot) and self.slot_on_host[a.index] and
                   len(self.slot_shape[a.index]) == 2 for a in entry.args):
            return False
        dtypes = {self.slot_dtype[a.index] for a in entry.args}
        return len(dtypes) == 1 and dtypes.pop() in _BLAS_FLOATS

    def _typed_scalars(self, entry, ufunc):
        """A ufunc's arguments with its number operands as 0-d arrays of the dtype numpy would
        cast them to, where that picks the same loop (``v * 0.9`` on float32 runs the float32
        loop either way): numpy converts a Python number at every call, a 0-d array it takes
        as it is. 0.5 -> 0.3 us a call on the lecture step's arrays (~20 such calls a step)."""
        args = entry.args
        if ufunc is None or not self.slot_on_host or set(entry.kwargs) - {"out", "casting"}:
            return args
        dtypes = {self.slot_dtype[a.index] for a in args if isinstance(a, Slot)}
        if len(dtypes) != 1 or not all(self.slot_on_host[a.index] for a in args if isinstance(a, Slot)):
            return args
        dtype = dtypes.pop()
        kinds = []
        for a in args:
            if isinstance(a, Slot) or (isinstance(a, np.generic) and a.dtype == dtype):
                kinds.append(dtype)
            elif type(a) in (int, float, bool):
                kinds.append(type(a))
            else:
                return args
        if all(isinstance(a, Slot) for a in args):
            return args
        try:
            if ufunc.resolve_dtypes(tuple(kinds) + (None,)) != \
                    ufunc.resolve_dtypes((dtype,) * len(args) + (None,)):
                return args
            return tuple(a if isinstance(a, Slot) else np.array(a, dtype) for a in args)
        except (TypeError, ValueError, OverflowError):   # (no such loop; a number out of range)
            return args

    def _same_dtypes(self, entry):
        """Whether a ufunc's array operands and its ``out`` all have one dtype and its other
        operands are Python numbers (so numpy computes in that dtype: no casting at all)."""
        out = entry.kwargs.get("out")
        if not (type(out) is tuple and len(out) == 1 and isinstance(out[0], Slot)):
            return False
        dtype = self.slot_dtype[out[0].index]
        for a in entry.args:
            if isinstance(a, Slot):
                if self.slot_dtype[a.index] != dtype:
                    return False
            elif type(a) not in (int, float, bool) or (type(a) is float and dtype.kind != "f"):
                return False
        return True

    def _tensor_index(self, tensor, names):
        for i, t in enumerate(self.tensors):
            if t is tensor:
                names[f"T{i}"] = t
                return i
        raise AssertionError("binding of an untracked tensor")

    def _mismatch(self, entry):
        raise ReplayMismatch(
            f"autodiff.compile: a value autodiff read during capture ({entry.name} at "
            f"{entry.where}) is different now, so the captured step no longer applies. Parameters "
            "may be partly updated. Run this step eagerly (call the function uncompiled).")


_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_KEYWORD_OUT = {np.maximum, np.minimum}                 # (numpy 2 deprecates their positional out)
_SHAPE_ONLY = {"ones_like", "zeros_like", "full_like"}   # results that depend on shapes only


_VIEWS = {"transpose", "swapaxes", "reshape", "squeeze", "__getitem__", "expand_dims",
          "broadcast_to", "diagonal", "view"}   # (views, or copies: hoist_views checks which)


def _positional_out(entry):
    """A ufunc call of its inputs only (its ``out`` can go by position)."""
    func = entry.func
    return isinstance(func, np.ufunc) and not entry.kwargs and len(entry.args) == func.nin \
        and func.nout == 1


def _plain_reduce(entry):
    """``ufunc.reduce(array, axis=...)``: the axis (and an ``out``) can go by position."""
    reducer = getattr(entry.func, "__self__", None)
    return isinstance(reducer, np.ufunc) and entry.name.endswith(".reduce") and \
        len(entry.args) == 1 and isinstance(entry.args[0], Slot) and \
        set(entry.kwargs) <= {"axis", "keepdims"} and not entry.kwargs.get("keepdims", False)


def _fresh(entry):
    """Whether an entry's result is new memory (a ufunc, a ufunc's reduce, a copy made by
    ``np.array``), never a view."""
    if entry is None or entry.kind != "call":
        return False
    func = entry.func
    if func is np.array:
        return entry.kwargs.get("copy", True) is True and set(entry.kwargs) <= {"order", "copy"}
    return isinstance(func, np.ufunc) or isinstance(getattr(func, "__self__", None), np.ufunc)


def _host(entry):
    func, args, kwargs = entry.func, entry.args, entry.kwargs
    if entry.tensor_result:
        def host():
            return func(*args, **kwargs)._data
    else:
        def host():
            func(*args, **kwargs)
    return host


def _wrapper():
    from ..tensor import Tensor
    return Tensor._wrap


def _same(value, expected):
    if isinstance(value, DeviceArray):
        value = value.get()
    if isinstance(value, np.ndarray):
        value = value.item() if value.size == 1 else value.tolist()
    if isinstance(value, float) and isinstance(expected, float) and math.isnan(value):
        return math.isnan(expected)
    return value == expected


def _target(template):
    if template is None:
        return ""
    if isinstance(template, Slot):
        return f"s{template.index}"
    inner = [(_target(t) or "_") for t in template]
    return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"


def _expr(template, names):
    if isinstance(template, Slot):
        return f"s{template.index}"
    kind = type(template)
    if kind is tuple and _has_slot(template):
        return "(" + "".join(_expr(x, names) + ", " for x in template) + ")"
    if isinstance(template, tuple) and _has_slot(template):    # (a tuple subclass)
        name = f"C{len(names)}"
        names[name] = kind
        return f"{name}(" + _expr(tuple(template), names) + ")"
    if kind is list and _has_slot(template):
        return "[" + ", ".join(_expr(x, names) for x in template) + "]"
    if kind is dict and _has_slot(template):
        return "{" + ", ".join(f"{k!r}: {_expr(v, names)}" for k, v in template.items()) + "}"
    if template is None or kind is bool or kind is int or kind is str:
        return repr(template)
    if kind is float and math.isfinite(template):
        return repr(template)
    name = f"C{len(names)}"
    names[name] = template
    return name


def _has_slot(template):
    return any(isinstance(x, Slot) for x in leaves(template))

