"""Pictures of the computation graph behind a Tensor or a Scalar.

    import autodiff
    from autodiff.viz import draw_graph

    x = autodiff.tensor(-2.0, requires_grad=True); x.name = "x"
    y = autodiff.tensor(5.0, requires_grad=True); y.name = "y"
    z = autodiff.tensor(-4.0, requires_grad=True); z.name = "z"
    f = (x + y) * z
    f.backward()
    picture = draw_graph(f, labels={f: "f"})
    picture                      # in Jupyter: shown inline as SVG
    picture.render("graph.svg")  # or .png / .pdf
    print(picture.source)        # the DOT text

The picture reads like the lecture drawings: data flows left to right (or top
down with ``rankdir="TB"``) from the inputs through operation nodes (ellipses,
labelled ``+``, ``*``, ``matmul``, ``relu`` ...) to the output. Value nodes
(boxes) show a name, the shape and dtype, the value of small tensors and, once
``backward()`` has run, the gradient. Colours tell the kinds apart:

    blue    an input: a leaf that requires grad (a Scalar without operands)
    green   a parameter (from ``module.named_parameters()``, or an ``nn.Parameter``)
    orange  the output (the root you asked to draw)
    dimmed  data that feeds the graph without requiring grad (a network's input ``x``):
            drawn where an operation keeps it for backward, i.e. until backward frees
            the graph (call ``backward(retain_graph=True)`` to draw it afterwards too)
    white   an intermediate value; grey ellipses are operations
    dashed  a constant: a Scalar without a label or operands, like the 2 in ``x * 2``

A Tensor's graph stores operations, not intermediate results, so an
intermediate value is drawn only when you name it with ``labels={q: "q"}`` (its
gradient shows when you called ``q.retain_grad()`` before backward). A Scalar
keeps every intermediate value, so all of them are drawn.

Only the DOT text is built here (with the ``graphviz`` package, no system
program needed). Rendering uses Graphviz's ``dot`` program when it is on PATH,
otherwise ``pygraphviz``, whose wheels bundle the Graphviz layout engine.
"""
import os
import shutil
import subprocess

import graphviz
import numpy as np

from . import dtypes
from .autograd.engine import topological_order
from .autograd.function import op_name
from .scalar import Scalar
from .tensor import Tensor

__all__ = ["draw_graph", "draw_tape", "GraphPicture", "RendererNotFoundError"]

_RANKDIRS = ("LR", "TB", "RL", "BT")
_FORMATS = ("svg", "png", "pdf")
_SMALL = 6   # tensors with at most this many elements show their values

# op_name(...) -> the label of the operation node
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "mat_mul": "matmul",
            "log_sum_exp": "logsumexp"}

_STYLE = {
    "input": {"shape": "box", "style": "rounded,filled", "fillcolor": "#cfe2ff"},
    "param": {"shape": "box", "style": "rounded,filled", "fillcolor": "#c7ebd1"},
    "output": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffd59e"},
    "value": {"shape": "box", "style": "rounded"},
    "const": {"shape": "box", "style": "rounded,dashed", "color": "#868e96"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#e9ecef"},
    "data": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f8f9fa", "color": "#ced4da",
             "fontcolor": "#868e96"},
    "note": {"shape": "note", "style": "filled", "fillcolor": "#fff3cd"},
}
_LEGEND = (("input", "input (leaf)"), ("param", "parameter"), ("output", "output"),
           ("value", "intermediate value"), ("const", "constant"), ("op", "operation"),
           ("data", "data (no grad)"))


class RendererNotFoundError(RuntimeError):
    """Neither Graphviz's ``dot`` program nor ``pygraphviz`` is available."""


# ---------------------------------------------------------------------- the public function
def draw_graph(root, *, module=None, labels=None, rankdir="LR", show_values=True, show_grads=True,
               max_nodes=200, group_by_module=False, legend=False):
    """Draw the graph that computed ``root`` (a Tensor or a Scalar).

    module          an ``nn.Module`` (anything with ``named_parameters()`` or
                    ``parameters()``): its parameters are drawn green, under their names
    labels          ``{tensor_or_scalar: "name"}``: names that win over every other;
                    naming a non-leaf tensor also draws its value
    rankdir         "LR" (left to right, the default) or "TB" (top down); also "RL", "BT"
    show_values     print the value of scalars and of tensors with at most 6 elements
    show_grads      print ``.grad`` where backward has set it (its norm for larger tensors)
    max_nodes       draw at most this many nodes, those nearest the output first; a
                    note node says how many were left out
    group_by_module put each module's parameters and operations in a box of their own,
                    by the prefix of the parameter names (``fc1.weight`` -> ``fc1``)
    legend          add a small key of the colours

    Returns a :class:`GraphPicture` (``.source``, ``.render(path)``, shown inline in Jupyter).
    """
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive integer, got {max_nodes!r}")
    names = _Names(module, labels)
    if isinstance(root, Scalar):
        drawing = _draw_scalars(root, names, show_values, show_grads, max_nodes)
    elif isinstance(root, Tensor):
        drawing = _draw_tensors(root, names, show_values, show_grads, max_nodes)
    else:
        raise TypeError(f"draw_graph: expected a Tensor or a Scalar, got {type(root).__name__}")
    if group_by_module:
        drawing.assign_modules()
    return drawing.picture(rankdir, legend, names.module_types)


def draw_tape(compiled, *, signature=-1, rankdir="TB", max_nodes=300):
    """Draw the tape ``autodiff.compile`` captured: what one training step really is.

    ``compiled``: what ``autodiff.compile`` returned (or one of its ``tapes()``);
    ``signature``: which captured signature (the newest by default). Boxes are arrays
    (green: the parameters' and buffers' own, read at every replay; blue: arguments;
    orange: results), ellipses the numpy calls replayed (grey) and the host calls run
    live (yellow: optimizer steps, schedulers, random draws). Entries the replay drops
    are not drawn. Returns a :class:`GraphPicture`.
    """
    tape = compiled.tapes()[signature] if hasattr(compiled, "tapes") else compiled
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_tape: max_nodes must be a positive integer, got {max_nodes!r}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw_tape: rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    names = {}
    known = getattr(tape, "tensor_names", {})
    for index, tensor in enumerate(tape.tensors):
        names[("data", index)] = known.get(id(tensor)) or getattr(tensor, "_name", None) or f"tensor {index}"
        names[("grad", index)] = f"{names[('data', index)]}.grad"
    g = graphviz.Digraph("tape", graph_attr={"rankdir": rankdir},
                         node_attr={"fontsize": "10", "fontname": "Helvetica"},
                         edge_attr={"arrowsize": "0.6"})
    nodes, edges, drawn = {}, [], set()
    outputs = set(getattr(tape, "output_slots", ()) or ())

    def slot_node(slot):
        node = f"s{slot}"
        if node in drawn:
            return node
        drawn.add(node)
        source = tape.slot_source[slot]
        kind = "value"
        first = f"s{slot}"
        if tape.slot_kind[slot] == "input":
            kind = "input" if source[0] == "arg" else "param"
            first = f"argument {source[1]}" if source[0] == "arg" else names.get(
                source, f"optimizer state {source[1]}")
        elif slot in outputs:
            kind = "output"
        lines = [first, f"{_shape(tape.slot_shape[slot])} {dtypes.name(tape.slot_dtype[slot])}"]
        nodes[node] = lines
        g.node(node, _dot_label(lines), **_STYLE[kind])
        return node

    entries = []
    for entry in tape.live:
        entries.extend(entry.fast if entry.kind == "branch" else [entry])
        if entry.kind == "branch":
            entries.append(entry.host)
    count = 0
    for number, entry in enumerate(entries):
        if count >= max_nodes:
            note = f"note{number}"
            g.node(note, _dot_label([f"... {len(entries) - number} more entries"]), **_STYLE["note"])
            nodes[note] = [f"... {len(entries) - number} more entries"]
            break
        node = f"e{number}"
        live = entry.kind in ("host", "draw", "bind")
        label = {"bind": "set .grad", "host": entry.name, "draw": f"draw {entry.name}"}.get(
            entry.kind, entry.name)
        nodes[node] = [label]
        style = dict(_STYLE["op"], fillcolor="#fff3cd") if live else _STYLE["op"]
        g.node(node, _dot_label([label]), **style)
        count += 1
        for slot in dict.fromkeys(entry.input_slots() + list(entry.mutates)):
            tail = slot_node(slot)
            g.edge(tail, node)
            edges.append((tail, node))
            count += 1
        for slot in entry.output_slots():
            head = slot_node(slot)
            g.edge(node, head)
            edges.append((node, head))
            count += 1
    return GraphPicture(g, nodes, edges)


# ---------------------------------------------------------------------- names and kinds of leaves
class _Names:
    """Who is called what: labels, then the module's parameter names, then .name/.label."""

    def __init__(self, module, labels):
        self.labels = {id(k): str(v) for k, v in (labels or {}).items()}
        self.keep_alive = list(labels or ())     # so that no id is reused while drawing
        self.params = {}                         # id -> parameter name ("" when unnamed)
        self.module_types = {}                   # "fc1" -> "Linear"
        if module is not None:
            if hasattr(module, "named_parameters"):
                for name, p in module.named_parameters():
                    self.params.setdefault(id(p), name)
                    self.keep_alive.append(p)
            elif hasattr(module, "parameters"):
                for p in module.parameters():
                    self.params.setdefault(id(p), "")
                    self.keep_alive.append(p)
            else:
                raise TypeError(f"draw_graph: module must have named_parameters() or parameters(), "
                                f"got {type(module).__name__}")
            if hasattr(module, "named_modules"):
                for name, sub in module.named_modules():
                    if name:
                        self.module_types[name] = type(sub).__name__

    def name(self, value):
        key = id(value)
        if key in self.labels:
            return self.labels[key]
        if self.params.get(key):
            return self.params[key]
        if isinstance(value, Scalar):
            return value.label
        return value.name or ""

    def is_param(self, value):
        if id(value) in self.params:
            return True
        return any(cls.__name__ == "Parameter" for cls in type(value).__mro__)


# ---------------------------------------------------------------------- text of the labels
def _number(v):
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    return "0" if v == 0 else f"{v:.4g}"


def _array(a):
    if a.ndim == 0:
        return _number(a.item())
    return "[" + ", ".join(_array(row) for row in a) + "]"


def _shape(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _tensor_lines(name, t, show_values, show_grads):
    data = t._data
    lines = [name] if name else []
    lines.append(f"{_shape(data.shape)} {dtypes.name(data.dtype)}")
    if show_values and data.size <= _SMALL:
        lines.append("data " + _array(data))
    if show_grads and t.grad is not None:
        g = t.grad._data
        if g.size <= _SMALL:
            lines.append("grad " + _array(g))
        else:
            lines.append("grad norm " + _number(np.linalg.norm(g.astype(np.float64).ravel())))
    return lines


def _op_label(node, out_meta):
    name = op_name(type(node))
    label = _SYMBOLS.get(name, name)
    if out_meta is not None and len(out_meta[0]):
        return [label, _shape(out_meta[0])]      # the shape of the (not drawn) result
    return [label]


# ---------------------------------------------------------------------- building the drawing
class _Node:
    __slots__ = ("id", "kind", "lines", "vertex", "group")

    def __init__(self, id, kind, lines, vertex):
        self.id, self.kind, self.lines, self.vertex, self.group = id, kind, lines, vertex, None


class _Drawing:
    """Nodes and edges in a fixed order (inputs first), then turned into DOT."""

    def __init__(self, names):
        self.names = names
        self.nodes = []
        self.edges = []          # (tail id, head id)
        self.hidden = 0          # nodes left out by max_nodes
        self.cut = []            # ids of nodes with an input that was left out
        self.leaf_group = {}     # leaf node id -> module prefix of its name ("fc1.weight" -> "fc1")
        self.op_of = {}          # op node id -> the ids of the nodes feeding it
        self.max_nodes = None

    def add(self, kind, lines, vertex=None):
        node = _Node(f"n{len(self.nodes)}", kind, lines, vertex)
        self.nodes.append(node)
        return node.id

    def add_leaf(self, kind, name, lines, vertex):
        node = self.add(kind, lines, vertex)
        if "." in name:
            self.leaf_group[node] = name.rpartition(".")[0]
        return node

    def edge(self, tail, head):
        self.edges.append((tail, head))
        self.op_of.setdefault(head, []).append(tail)

    # ---- group_by_module -------------------------------------------------
    def assign_modules(self):
        """Clusters by parameter-name prefix.

        A parameter (any leaf) named ``a.b.weight`` belongs to module ``a.b``. An
        operation belongs to the deepest module M such that it lies downstream of
        a parameter of M and upstream of (or is) an operation that consumes a
        parameter of M: in ``x @ W.T + b`` the transpose, the matmul and the add
        all sit between fc1's parameters, the ReLU after them does not.
        """
        groups = self.leaf_group
        down = {}     # id -> modules with a parameter upstream
        for node in self.nodes:                     # inputs first
            mods = {groups[node.id]} if node.id in groups else set()
            for tail in self.op_of.get(node.id, ()):
                mods |= down[tail]
            down[node.id] = mods
        up = {n.id: set() for n in self.nodes}       # modules consuming a parameter downstream
        for node in reversed(self.nodes):            # output first
            tails = self.op_of.get(node.id, ())
            if node.kind == "op":
                up[node.id].update(groups[t] for t in tails if t in groups)
            for tail in tails:
                if tail not in groups:
                    up[tail] |= up[node.id]
        for node in self.nodes:
            if node.id in groups:
                node.group = groups[node.id] or None
            elif node.kind in ("op", "value"):
                node.group = _deepest_common(down[node.id], up[node.id])

    # ---- DOT -------------------------------------------------------------
    def picture(self, rankdir, legend, module_types):
        g = graphviz.Digraph("autodiff", graph_attr={"rankdir": rankdir},
                             node_attr={"fontsize": "11", "fontname": "Helvetica"},
                             edge_attr={"arrowsize": "0.7"})
        children = {None: []}
        for node in self.nodes:
            group = node.group
            while group is not None:
                parent = group.rpartition(".")[0] or None
                kids = children.setdefault(parent, [])
                if group in kids:
                    break
                kids.append(group)
                children.setdefault(group, [])
                group = parent
        members = {}
        for node in self.nodes:
            members.setdefault(node.group, []).append(node)
        counter = [0]

        def emit(graph, group):
            for node in members.get(group, ()):
                graph.node(node.id, _dot_label(node.lines), **_STYLE[node.kind])
            for child in children.get(group, ()):
                counter[0] += 1
                with graph.subgraph(name=f"cluster_{counter[0]}") as sub:
                    label = child
                    if child in module_types:
                        label = f"{child} ({module_types[child]})"
                    sub.attr(label=_dot_label([label]), style="rounded,dashed", color="#6c757d",
                             fontname="Helvetica", fontsize="11")
                    emit(sub, child)

        emit(g, None)
        edges = list(self.edges)
        labels = {n.id: n.lines for n in self.nodes}
        if self.hidden:
            text = [f"... {self.hidden} more nodes not shown", f"(max_nodes={self.max_nodes})"]
            g.node("note", _dot_label(text), **_STYLE["note"])
            labels["note"] = text
            for head in self.cut:
                g.edge("note", head, style="dashed", color="#adb5bd")
                edges.append(("note", head))
        for tail, head in self.edges:
            g.edge(tail, head)
        if legend:
            with g.subgraph(name="cluster_legend") as sub:
                sub.attr(label="legend", style="rounded", color="#adb5bd", fontname="Helvetica",
                         fontsize="11")
                present = {n.kind for n in self.nodes}
                entries = _LEGEND if rankdir in ("TB", "BT") else reversed(_LEGEND)   # reads top-down
                for kind, text in entries:
                    if kind in present:
                        sub.node(f"legend_{kind}", text, **_STYLE[kind])
        return GraphPicture(g, labels, edges)


def _dot_label(lines):
    return "\\n".join(str(line).replace("\\", "\\\\") for line in lines)


def _deepest_common(down, up):
    """The deepest module path that prefixes one module in ``down`` and one in ``up``."""
    best = []
    for a in sorted(down):
        pa = a.split(".")
        for b in sorted(up):
            pb = b.split(".")
            common = []
            for x, y in zip(pa, pb):
                if x != y:
                    break
                common.append(x)
            if len(common) > len(best):
                best = common
    return ".".join(best) or None


def _keep(order, cost, max_nodes):
    """The longest prefix of ``order`` (output first) whose nodes fit in ``max_nodes``."""
    total = 0
    for i, vertex in enumerate(order):
        total += cost(vertex)
        if total > max_nodes and i > 0:
            return order[:i]
    return order


def _draw_tensors(root, names, show_values, show_grads, max_nodes):
    start = root.grad_fn if root.grad_fn is not None else root
    order = topological_order([start])            # output first
    named = {}                                    # id(node) -> the tensor it computed, when drawn
    for key in names.keep_alive:
        if isinstance(key, Tensor) and key.grad_fn is not None and id(key) in names.labels:
            named[id(key.grad_fn)] = key
    if root.grad_fn is not None:
        named[id(root.grad_fn)] = root

    def cost(v):    # an op node, plus a value node when its result is drawn
        return 2 if not isinstance(v, Tensor) and id(v) in named else 1

    kept = _keep(order, cost, max_nodes)
    drawing = _Drawing(names)
    drawing.max_nodes = max_nodes
    drawing.hidden = sum(cost(v) for v in order[len(kept):])
    out_meta = {}                                 # id(node) -> (shape, dtype) of its result
    for vertex in kept:
        if not isinstance(vertex, Tensor):
            for parent, meta in zip(vertex._parents, vertex._input_meta):
                if parent is not None and not isinstance(parent, Tensor):
                    out_meta.setdefault(id(parent), meta)
    drawn = {}                                    # id(vertex) -> the node that shows its result
    for vertex in reversed(kept):                 # inputs first
        if isinstance(vertex, Tensor):            # a leaf
            kind = "output" if vertex is root else ("param" if names.is_param(vertex) else "input")
            name = names.name(vertex)
            node = drawing.add_leaf(kind, name, _tensor_lines(name, vertex, show_values, show_grads),
                                    vertex)
            drawn[id(vertex)] = node
            continue
        value = named.get(id(vertex))
        meta = None if value is not None else out_meta.get(id(vertex))
        data_nodes = [_data_node(drawing, drawn, t, show_values) for t in _data_inputs(vertex)]
        op = drawing.add("op", _op_label(vertex, meta), vertex)
        for data in data_nodes:
            drawing.edge(data, op)
        cut = False
        for parent in vertex._parents:
            if parent is None:
                continue
            if id(parent) in drawn:
                drawing.edge(drawn[id(parent)], op)
            else:
                cut = True
        if cut:
            drawing.cut.append(op)
        drawn[id(vertex)] = op
        if value is not None:
            name = names.name(value)
            kind = "output" if value is root else "value"
            node = drawing.add(kind, _tensor_lines(name, value, show_values, show_grads), value)
            drawing.edge(op, node)
            drawn[id(vertex)] = node
    return drawing


def _data_inputs(node):
    """The tensors without grad that ``node`` kept for backward (its data inputs), in order."""
    saved = getattr(node, "_saved", None)
    if not isinstance(saved, tuple):      # nothing saved, or released by backward
        return []
    found, seen = [], set()
    for value in saved:
        if isinstance(value, Tensor) and not value._requires_grad and id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    return found


def _data_node(drawing, drawn, t, show_values):
    """The (dimmed) node of a data tensor, drawn once however many operations it feeds."""
    key = ("data", id(t))
    if key not in drawn:
        name = drawing.names.name(t) or "data"
        drawn[key] = drawing.add_leaf("data", name, _tensor_lines(name, t, show_values, False), t)
    return drawn[key]


def _draw_scalars(root, names, show_values, show_grads, max_nodes):
    order = topological_order([root])
    def cost(s):    # a value node, plus an op node when it has operands
        return 2 if s._parents else 1

    kept = _keep(order, cost, max_nodes)
    drawing = _Drawing(names)
    drawing.max_nodes = max_nodes
    drawing.hidden = sum(cost(v) for v in order[len(kept):])
    show_grads = show_grads and root.grad != 0     # backward() has run
    drawn = {}
    for s in reversed(kept):
        lines = []
        name = names.name(s)
        if name:
            lines.append(name)
        if show_values:
            lines.append("data " + _number(s.data))
        if show_grads:
            lines.append("grad " + _number(s.grad))
        if s is root:
            kind = "output"
        elif s._parents:
            kind = "value"
        elif names.is_param(s):
            kind = "param"
        else:
            kind = "input" if name else "const"     # an unnamed number, like the 2 in x * 2
        if s._parents:
            op = drawing.add("op", [s.op or "?"], s)
            cut = False
            for parent in s._parents:
                if id(parent) in drawn:
                    drawing.edge(drawn[id(parent)], op)
                else:
                    cut = True
            if cut:
                drawing.cut.append(op)
            node = drawing.add(kind, lines or [""], s)
            drawing.edge(op, node)
        else:
            node = drawing.add_leaf(kind, name, lines or [""], s)
        drawn[id(s)] = node
    return drawing


# ---------------------------------------------------------------------- the picture
class GraphPicture:
    """A drawn graph: ``.source`` (DOT text), ``.render(path)``, inline SVG in Jupyter.

    ``.nodes`` maps each node id to the lines of its label and ``.edges`` lists
    (tail, head) ids, in the order they were drawn (inputs first).
    """

    def __init__(self, digraph, nodes, edges):
        self.digraph = digraph
        self.nodes = nodes
        self.edges = edges
        self._svg = None

    @property
    def source(self):
        return self.digraph.source

    def __repr__(self):
        return f"<GraphPicture: {len(self.nodes)} nodes, {len(self.edges)} edges>"

    def find(self, first_line):
        """Ids of the nodes whose label starts with the line ``first_line`` (e.g. a name)."""
        return [i for i, lines in self.nodes.items() if lines and lines[0] == first_line]

    def pipe(self, format="svg"):
        """The rendered picture as bytes."""
        format = _check_format(format)
        renderer = _find_renderer()
        if renderer is None:
            raise RendererNotFoundError(_no_renderer_message(format, None, None))
        return renderer(self.source, format)

    def render(self, filename, format=None):
        """Write the picture to ``filename`` and return its path.

        The format is ``format`` or the file's suffix (svg, png, pdf; "dot" writes
        the DOT source). A suffix other than the format's is completed:
        ``render("graph", "png")`` writes ``graph.png``.
        """
        filename = os.fspath(filename)
        stem, suffix = os.path.splitext(filename)
        suffix = suffix[1:].lower()
        if format is None:
            format = suffix if suffix in _FORMATS + ("dot", "gv") else "svg"
        format = format.lower()
        if format not in ("dot", "gv"):
            format = _check_format(format)
        path = filename if suffix == format else f"{filename}.{format}"
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if format in ("dot", "gv"):
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.source)
            return path
        renderer = _find_renderer()
        if renderer is None:
            dot_path = (stem if suffix == format else filename) + ".dot"
            with open(dot_path, "w", encoding="utf-8") as f:
                f.write(self.source)
            raise RendererNotFoundError(_no_renderer_message(format, dot_path, path))
        data = renderer(self.source, format)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _repr_svg_(self):
        if self._svg is None:
            try:
                self._svg = self.pipe("svg").decode("utf-8")
            except RendererNotFoundError:
                return None
        return self._svg

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self)}
        svg = self._repr_svg_()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle


def _check_format(format):
    fmt = str(format).lower()
    if fmt not in _FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(_FORMATS)} (or 'dot'), got {format!r}")
    return fmt


def _render_with_dot(program):
    def render(source, fmt):
        done = subprocess.run([program, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"render: {program} -T{fmt} failed: {done.stderr.decode(errors='replace')}")
        return done.stdout
    return render


def _render_with_pygraphviz(pygraphviz):
    def render(source, fmt):
        return pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot")
    return render


def _find_renderer():
    """Graphviz's ``dot`` program if it is on PATH, else pygraphviz, else None."""
    program = shutil.which("dot")
    if program:
        return _render_with_dot(program)
    try:
        import pygraphviz
    except ImportError:
        return None
    return _render_with_pygraphviz(pygraphviz)


def _no_renderer_message(fmt, dot_path, path):
    msg = (f"cannot render the graph as {fmt}: no Graphviz layout engine was found. "
           "Install one with `pip install pygraphviz` (its wheels bundle Graphviz), or install "
           "Graphviz itself (https://graphviz.org/download/, e.g. `apt install graphviz` or "
           "`brew install graphviz`) so that `dot` is on PATH.")
    if dot_path:
        msg += (f" The DOT source was written to {dot_path}; render it later with "
                f"`dot -T{fmt} {dot_path} -o {path}`.")
    return msg
