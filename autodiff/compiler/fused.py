"""``mode="fused"``: runs of a tape's numpy calls become Numba-compiled functions.

Each maximal run of entries that have a Numba spelling (ufuncs, matmul, sums, transposes,
copies) becomes one ``@njit`` function: the step's arithmetic as compiled loops with no
Python between them. What has none (host calls, random draws, indexing, a ufunc Numba
lacks) stays a numpy call between the compiled runs, so any tape can be fused.

The generated source is written to a file named by its hash (the tape's content) under
``$AUTODIFF_CACHE_DIR`` (default ``~/.cache/autodiff/compile``) and compiled with
``cache=True``: a second process with the same step loads the machine code from disk.

Results: the operations are the same in the same order, but Numba's loops are not numpy's.
``+ - * /``, comparisons, maximum/minimum and copies give identical bits; ``exp``, ``log``,
``tanh``, ``logaddexp`` come from LLVM's math library and may differ from numpy's SIMD
versions in the last place (1 ulp); sums over many elements add in a different order
(numpy sums pairwise). Tests compare fused to eager within a few ulps per step.
"""
import hashlib
import importlib.util
import os
import sys

import numpy as np

from .tape import Slot

_UFUNCS = {"add", "subtract", "multiply", "divide", "true_divide", "negative", "exp", "log",
           "log1p", "expm1", "logaddexp", "maximum", "minimum", "tanh", "sqrt", "square",
           "absolute", "sign", "greater", "less", "equal", "not_equal", "greater_equal",
           "less_equal", "power", "reciprocal", "fmin", "fmax", "sin", "cos", "floor",
           "logical_and", "logical_or", "logical_not"}
_FORMAT = "autodiff.compile fused v5\n"   # (in the cache key: bump when the generated code changes meaning)
_MATMUL_LIMIT = 200_000     # multiply-adds: above, numpy's BLAS call stays (it is multithreaded)
# Numba's matmul of a transposed (not C-contiguous) operand does not call BLAS: on the MNIST
# step, (128x128) @ (128x10).T took 43 ms fused against 0.05 ms in numpy. Small ones pay.
_STRIDED_MATMUL_LIMIT = 20_000
_HAVE_BLAS = importlib.util.find_spec("scipy") is not None   # (Numba's np.dot calls scipy's BLAS)


def cache_dir():
    return os.environ.get("AUTODIFF_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "autodiff", "compile")


class Fuser:
    """Turns runs of a tape's entries into compiled functions (see the module docstring)."""

    def __init__(self, examples, log):
        self.examples = examples      # slot -> an array of its shape and dtype (for a dry run)
        self.log = log
        self.segments = 0
        self.fused_calls = 0
        self.failed = []

    def prepare(self, tape, output_slots):
        self.tape = tape
        self.position = {}
        self.last_use = {}
        flat = []
        for entry in tape.live:
            flat.append(entry)
            flat.extend(entry.fast)
        for i, entry in enumerate(flat):
            self.position[id(entry)] = i
            for slot in entry.input_slots() + list(entry.mutates):
                self.last_use[slot] = i
        end = len(flat)
        for slot in output_slots:
            self.last_use[slot] = end

    # ---- what has a Numba spelling
    def can(self, entry):
        return entry.kind == "call" and self.translate(entry, probe=True) is not None

    def _dtype(self, slot):
        return self.tape.slot_dtype[slot]

    def _scalar_slot(self, slot):
        return self.tape.slot_shape[slot] == ()

    def _literal(self, value, dtype):
        if isinstance(value, (bool, np.bool_)):
            return repr(bool(value))
        if isinstance(value, (int, float, np.integer, np.floating)):
            text = repr(float(value) if dtype.kind == "f" else value)
            if text in ("inf", "-inf", "nan"):
                text = f"float('{text}')"
            return f"np.{dtype.name}({text})"
        return None

    def _args(self, args, reference):
        out = []
        for a in args:
            if isinstance(a, Slot):
                out.append(f"s{a.index}")
            else:
                literal = self._literal(a, reference)
                if literal is None:
                    return None
                out.append(literal)
        return out

    def translate(self, entry, probe=False):
        """The statement computing ``entry`` in Numba, or None if there is none."""
        func, args, kwargs, name = entry.func, entry.args, entry.kwargs, entry.name
        target = entry.outputs
        if isinstance(target, Slot) and target.index in self.tape.alias:
            return f"s{target.index} = s{self.tape.alias[target.index]}"
        slots = [a.index for a in args if isinstance(a, Slot)]
        if not slots:
            return None
        reference = self._dtype(slots[0])
        if reference.kind == "b" and isinstance(target, Slot):
            reference = self._dtype(target.index)
        if reference.kind not in "fb" and not (reference.kind in "iu" and name in ("not_equal", "equal")):
            return None
        if isinstance(func, np.ufunc):
            extra = set(kwargs) - {"out"}
            if extra == {"casting"} and self.tape._same_dtypes(entry):
                extra = set()                  # (in-place ops of inplace.py: nothing is cast)
            if extra:
                return None
            out = kwargs.get("out")
            if func.__name__ == "matmul":
                if out is not None or len(args) != 2 or len(slots) != 2:
                    return None
                a, b = self.tape.slot_shape[slots[0]], self.tape.slot_shape[slots[1]]
                if len(a) != 2 or len(b) != 2 or a[0] * a[1] * b[1] > _MATMUL_LIMIT:
                    return None
                contiguous = all(self.tape.slot_contiguous[s] for s in slots)
                if not contiguous and a[0] * a[1] * b[1] > _STRIDED_MATMUL_LIMIT:
                    return None
                if not _HAVE_BLAS:
                    return None
                return self._assign(target, f"s{slots[0]} @ s{slots[1]}")
            if func.__name__ not in _UFUNCS or func.nout != 1:
                return None
            parts = self._args(args, reference)
            if parts is None:
                return None
            if out is not None:
                if not (type(out) is tuple and len(out) == 1 and isinstance(out[0], Slot)) or \
                        self._scalar_slot(out[0].index):
                    return None
                return f"np.{func.__name__}({', '.join(parts)}, s{out[0].index})"
            if all(self._scalar_slot(s) for s in slots) and not isinstance(target, Slot):
                return None
            return self._assign(target, f"np.{func.__name__}({', '.join(parts)})")
        owner = getattr(func, "__self__", None)
        if isinstance(owner, np.ufunc) and owner.__name__ == "add" and name.endswith("reduce"):
            return self._sum(target, args, kwargs)
        if name == "sum" and func is np.ndarray.sum:
            if len(args) == 2 and "axis" not in kwargs:      # (x.sum(axis) by position)
                args, kwargs = args[:1], dict(kwargs, axis=args[1])
            return self._sum(target, args, kwargs)
        if name == "__setitem__" and len(args) == 3 and not kwargs and len(slots) == 2 \
                and isinstance(args[1], Slot) and args[0].index == slots[0]:
            return self._masked_fill(args)
        if name == "where" and func is np.where and len(args) == 3 and not kwargs \
                and len(slots) == 3 and isinstance(target, Slot):
            return self._where(target, slots)
        if name in ("transpose", "swapaxes") and len(slots) == 1 and not kwargs:
            shape = self.tape.slot_shape[slots[0]]
            if len(shape) != 2 or (name == "transpose" and len(args) > 1 and
                                   tuple(args[1:]) not in ((1, 0), ((1, 0),))):
                return None
            if name == "swapaxes" and sorted(a % 2 for a in args[1:]) != [0, 1]:
                return None
            return self._assign(target, f"s{slots[0]}.T")
        if name in ("array", "copy", "__copy__") and len(args) == 1 and not kwargs:
            return self._assign(target, f"s{slots[0]}.copy()") if not self._scalar_slot(slots[0]) else None
        if name in ("ones_like", "zeros_like") and len(args) == 1 and not kwargs:
            value = "1" if name == "ones_like" else "0"
            if self._scalar_slot(slots[0]):
                return self._assign(target, f"np.{reference.name}({value})")
            return self._assign(target, f"np.{name}(s{slots[0]})")
        if name == "reshape" and len(slots) == 1 and not kwargs and self.tape.slot_contiguous[slots[0]]:
            shape = args[1] if len(args) == 2 and isinstance(args[1], tuple) else tuple(args[1:])
            if not all(isinstance(n, int) for n in shape) or self._scalar_slot(slots[0]) or \
                    not isinstance(target, Slot) or self._scalar_slot(target.index):
                return None
            return self._assign(target, f"s{slots[0]}.reshape({shape!r})")
        return None

    def _where(self, target, slots):
        """``np.where(c, a, b)`` on three arrays of one shape (relu's backward: ``where(out,
        grad, out)``); a number condition is true where nonzero or NaN, as numpy reads it."""
        shape = self.tape.slot_shape[slots[0]]
        if not shape or any(self.tape.slot_shape[s] != shape for s in slots) or \
                self._dtype(slots[1]) != self._dtype(slots[2]):
            return None
        cond = f"s{slots[0]}" if self._dtype(slots[0]).kind == "b" else f"(s{slots[0]} != 0)"
        return self._assign(target, f"np.where({cond}, s{slots[1]}, s{slots[2]})")

    def _masked_fill(self, args):
        """``x[mask] = value`` with a boolean mask of x's shape (sign's NaN fix): a loop."""
        x, mask, value = args[0].index, args[1].index, args[2]
        shape = self.tape.slot_shape[x]
        if self.tape.slot_shape[mask] != shape or self._dtype(mask).kind != "b" or not shape \
                or not self.tape.slot_contiguous[x] or not self.tape.slot_contiguous[mask]:
            return None
        literal = self._literal(value, self._dtype(x))
        if literal is None:
            return None
        return [f"_flat, _mask = s{x}.reshape(-1), s{mask}.reshape(-1)",
                "for _i in range(_flat.size):",
                "    if _mask[_i]:",
                f"        _flat[_i] = {literal}"]

    def _sum(self, target, args, kwargs):
        if len(args) != 1 or not isinstance(args[0], Slot) or not isinstance(target, Slot):
            return None
        if set(kwargs) - {"axis", "keepdims"}:
            return None
        axis, keepdims = kwargs.get("axis"), kwargs.get("keepdims", False)
        slot = args[0].index
        shape = self.tape.slot_shape[slot]
        if self._dtype(slot).kind != "f" or not shape:
            return None
        if axis is None:
            if keepdims:
                return None
            return self._assign(target, f"np.sum(s{slot})")
        if not isinstance(axis, int) or len(shape) != 2:
            return None
        expr = f"np.sum(s{slot}, axis={axis % 2})"
        if keepdims:
            expr += f".reshape({self.tape.slot_shape[target.index]!r})"
        return self._assign(target, expr)

    def _assign(self, target, expr):
        if not isinstance(target, Slot):
            return None
        return f"s{target.index} = {expr}"

    # ---- one compiled function per run
    def segment(self, run, names, extra_uses=()):
        """Lines calling the compiled function of ``run`` (or the plain replay of it, when
        Numba refuses it: noted in explain())."""
        body, defined, used = [], set(), []
        for number, entry in run:
            code = self.translate(entry)
            body.extend(code if isinstance(code, list) else [code])
            for slot in entry.input_slots() + list(entry.mutates):
                if slot not in defined and slot not in used:
                    used.append(slot)
            defined.update(entry.output_slots())
        end = self.position[id(run[-1][1])]
        outputs = [s for number, entry in run for s in entry.output_slots()
                   if self.last_use.get(s, -1) > end or s in extra_uses]
        if len(run) < 2:
            return self._plain(run, names)
        params = [s for s in used if s not in defined]
        source = _module_source(params, body, outputs)
        try:
            function = _load(source)
            _dry_run(function, params, outputs, self.examples, self.tape)
        except Exception as exc:     # (a Numba typing error: keep the numpy calls)
            self.failed.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
            return self._plain(run, names)
        number = f"SEG{self.segments}"
        self.segments += 1
        self.fused_calls += len(run)
        names[number] = function
        call_args = ", ".join(f"s{s}[()]" if self.tape.slot_shape[s] == () else f"s{s}" for s in params)
        lines = [f"{_tuple_target(outputs)} = {number}({call_args})" if outputs
                 else f"{number}({call_args})"]
        for s in outputs:
            if self.tape.slot_shape[s] == ():
                names[f"D{s}"] = self.tape.slot_dtype[s]
                lines.append(f"s{s} = asarray(s{s}, dtype=D{s})")
        return lines

    def _plain(self, run, names):
        lines = []
        for number, entry in run:
            lines.extend(self.tape._code(number, entry, names))
        return lines


def _tuple_target(slots):
    return "(" + "".join(f"s{s}, " for s in slots) + ")"


def _module_source(params, body, outputs):
    lines = ["import numpy as np", "from numba import njit", "",
             "", "@njit(cache=True, nogil=True)",
             f"def segment({', '.join(f's{s}' for s in params)}):"]
    lines += ["    " + line for line in body]
    lines.append(f"    return {_tuple_target(outputs)}" if outputs else "    return 0")
    return "\n".join(lines) + "\n"


def _load(source):
    """Import the generated module from a file named by its hash (Numba caches beside it)."""
    digest = hashlib.sha256((_FORMAT + source).encode()).hexdigest()[:24]
    directory = cache_dir()
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"step_{digest}.py")
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w") as f:
            f.write(source)
        os.replace(temporary, path)
    name = f"autodiff_compiled_step_{digest}"
    if name in sys.modules:
        return sys.modules[name].segment
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module      # (Numba's disk cache finds the function's module by name)
    spec.loader.exec_module(module)
    return module.segment


def _dry_run(function, params, outputs, examples, tape):
    """Compile by calling on copies (nothing real changes) and check every result's shape and
    dtype against the capture's."""
    args = [np.array(examples[s], copy=True)[()] if tape.slot_shape[s] == ()
            else np.array(examples[s], copy=True) for s in params]
    results = function(*args)
    if not outputs:
        return
    for slot, value in zip(outputs, results):
        value = np.asarray(value, dtype=tape.slot_dtype[slot]) if tape.slot_shape[slot] == () else value
        if value.shape != tape.slot_shape[slot] or value.dtype != tape.slot_dtype[slot]:
            raise TypeError(f"s{slot}: {value.dtype}{value.shape}, expected "
                            f"{tape.slot_dtype[slot]}{tape.slot_shape[slot]}")


def fuse(tape, examples, log):
    """Rebuild ``tape``'s replay with its runs of numpy calls compiled by Numba."""
    fuser = Fuser(examples, log)
    tape.build(tape.output_slots, tape.output_builder, fuser=fuser)
    tape.fused = (fuser.segments, fuser.fused_calls)
    log.append(("fused", f"{fuser.fused_calls} array calls in {fuser.segments} compiled functions"
                + (f"; kept as numpy calls: {'; '.join(fuser.failed)}" if fuser.failed else "")))
    tape.fuser = None
    return tape
