"""autodiff.viz: the DOT text of known graphs, the options, and rendering without system Graphviz."""
import os
import re
import sys

import numpy as np
import pytest

import autodiff
from autodiff import viz
from autodiff.viz import RendererNotFoundError, draw_graph


# ---------------------------------------------------------------------- helpers
def lecture_tensors():
    """f = (x + y) * z at x=-2, y=5, z=-4, after backward; q = x + y keeps its gradient."""
    x = autodiff.tensor(-2.0, requires_grad=True)
    y = autodiff.tensor(5.0, requires_grad=True)
    z = autodiff.tensor(-4.0, requires_grad=True)
    x.name, y.name, z.name = "x", "y", "z"
    q = x + y
    q.retain_grad()
    f = q * z
    f.backward()
    return x, y, z, q, f


def lecture_scalars():
    x, y, z = autodiff.Scalar(-2.0, label="x"), autodiff.Scalar(5.0, label="y"), autodiff.Scalar(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    f.backward()
    return x, y, z, q, f


def only(picture, name):
    ids = picture.find(name)
    assert len(ids) == 1, (name, picture.nodes)
    return ids[0]


def raw_mlp(sizes=(2, 4, 3, 1), batch=8):
    """An MLP from named raw tensors ("fc1.weight", ...), as nn.Linear computes it."""
    autodiff.manual_seed(0)
    h = autodiff.randn(batch, sizes[0])
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), 1):
        w = autodiff.randn(n_out, n_in, requires_grad=True)
        b = autodiff.zeros(n_out, requires_grad=True)
        w.name, b.name = f"fc{i}.weight", f"fc{i}.bias"
        h = h @ w.T + b
        if i < len(sizes) - 1:
            h = h.relu()
    loss = (h * h).mean()
    loss.backward()
    return loss


def clusters_of(source):
    """{node id: label of the innermost cluster it is declared in (None outside)}."""
    where, stack = {}, []
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("subgraph cluster_"):
            stack.append(None)
        elif stack and stack[-1] is None and re.search(r"\blabel=", line) and "[" not in line:
            stack[-1] = re.search(r'\blabel="?([^" ]+)', line).group(1)
        elif line == "}" and stack:
            stack.pop()
        else:
            m = re.match(r"(n\d+) \[", line)
            if m:
                where[m.group(1)] = stack[-1] if stack else None
    return where


# ---------------------------------------------------------------------- the lecture graph
def test_lecture_graph_with_tensors():
    x, y, z, q, f = lecture_tensors()
    picture = draw_graph(f, labels={f: "f"})
    nodes = picture.nodes
    ix, iy, iz, i_f = (only(picture, n) for n in "xyzf")
    assert nodes[ix] == ["x", "() float32", "data -2", "grad -4"]
    assert nodes[iy] == ["y", "() float32", "data 5", "grad -4"]
    assert nodes[iz] == ["z", "() float32", "data -4", "grad 3"]
    assert nodes[i_f] == ["f", "() float32", "data -12"]
    add, mul = only(picture, "+"), only(picture, "*")
    assert sorted(picture.edges) == sorted([(ix, add), (iy, add), (add, mul), (iz, mul), (mul, i_f)])
    # the same in the DOT text, with node ids in topological order (inputs first)
    source = picture.source
    assert 'n0 [label="x\\n() float32\\ndata -2\\ngrad -4"' in source
    assert 'n4 [label="*"' in source and 'n5 [label="f\\n() float32\\ndata -12"' in source
    for tail, head in picture.edges:
        assert f"{tail} -> {head}" in source
    assert "rankdir=LR" in source


def test_naming_an_intermediate_tensor_draws_its_value_and_retained_grad():
    x, y, z, q, f = lecture_tensors()
    picture = draw_graph(f, labels={q: "q", f: "f"})
    iq = only(picture, "q")
    assert picture.nodes[iq] == ["q", "() float32", "data 3", "grad -4"]
    assert (only(picture, "+"), iq) in picture.edges
    assert (iq, only(picture, "*")) in picture.edges


def test_lecture_graph_with_scalars():
    x, y, z, q, f = lecture_scalars()
    picture = draw_graph(f)
    nodes = picture.nodes
    assert nodes[only(picture, "x")] == ["x", "data -2", "grad -4"]
    assert nodes[only(picture, "y")] == ["y", "data 5", "grad -4"]
    assert nodes[only(picture, "z")] == ["z", "data -4", "grad 3"]
    assert nodes[only(picture, "q")] == ["q", "data 3", "grad -4"]
    assert nodes[only(picture, "f")] == ["f", "data -12", "grad 1"]
    ix, iy, iz, iq, i_f = (only(picture, n) for n in "xyzqf")
    add, mul = only(picture, "+"), only(picture, "*")
    assert sorted(picture.edges) == sorted([(ix, add), (iy, add), (add, iq), (iq, mul), (iz, mul),
                                            (mul, i_f)])
    assert '"x\\ndata -2\\ngrad -4"' in picture.source


def test_colours_tell_inputs_parameters_and_the_output_apart():
    x, y, z, q, f = lecture_tensors()

    class Model:        # anything with named_parameters() works as module=
        def named_parameters(self):
            return [("scale.z", z)]

    picture = draw_graph(f, module=Model())
    lines = {m.group(1): m.group(0) for m in re.finditer(r"(n\d+) \[.*\]", picture.source)}
    assert viz._STYLE["input"]["fillcolor"] in lines[only(picture, "x")]
    assert viz._STYLE["param"]["fillcolor"] in lines[only(picture, "scale.z")]
    output = [i for i, l in picture.nodes.items() if l[:2] == ["() float32", "data -12"]]
    assert len(output) == 1 and viz._STYLE["output"]["fillcolor"] in lines[output[0]]


def test_before_backward_no_gradients_are_shown():
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    x.name = "x"
    picture = draw_graph((x * x).sum())
    assert picture.nodes[only(picture, "x")] == ["x", "(2,) float32", "data [1, 2]"]
    s = autodiff.Scalar(3.0, label="s")
    assert draw_graph(s * s).nodes[only(draw_graph(s * s), "s")] == ["s", "data 3"]


def test_values_only_for_small_tensors_and_grad_norm_for_large():
    w = autodiff.tensor(np.arange(12, dtype=np.float64).reshape(3, 4), requires_grad=True)
    w.name = "w"
    (w * 2).sum().backward()
    picture = draw_graph((w * 2).sum())
    assert picture.nodes[only(picture, "w")] == ["w", "(3, 4) float64",
                                                 f"grad norm {2 * np.sqrt(12):.4g}"]
    quiet = draw_graph((w * 2).sum(), show_values=False, show_grads=False)
    assert quiet.nodes[only(quiet, "w")] == ["w", "(3, 4) float64"]
    # an intermediate result's shape is written in its operation node
    assert ["*", "(3, 4)"] in picture.nodes.values()


def test_op_labels():
    a = autodiff.tensor([[1.0, -2.0]], requires_grad=True)
    b = autodiff.tensor([[3.0], [4.0]], requires_grad=True)
    out = ((a @ b).relu().sigmoid() - a.sum() / 2) ** 2
    labels = {lines[0] for lines in draw_graph(out).nodes.values()}
    assert {"matmul", "relu", "sigmoid", "sum", "/", "-", "**"} <= labels

    class Cube(autodiff.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x * x * grad

    assert "cube" in {lines[0] for lines in draw_graph(Cube.apply(a)).nodes.values()}


def test_output_is_deterministic():
    assert draw_graph(raw_mlp()).source == draw_graph(raw_mlp()).source


def test_a_leaf_alone():
    x = autodiff.tensor([1.0, 2.0])
    picture = draw_graph(x, labels={x: "x"})
    assert picture.nodes == {"n0": ["x", "(2,) float32", "data [1, 2]"]}
    assert picture.edges == []


# ---------------------------------------------------------------------- networks and big graphs
def test_network_shows_parameter_names_and_shapes():
    picture = draw_graph(raw_mlp())
    for name, shape in [("fc1.weight", "(4, 2)"), ("fc1.bias", "(4,)"), ("fc2.weight", "(3, 4)"),
                        ("fc3.weight", "(1, 3)"), ("fc3.bias", "(1,)")]:
        assert picture.nodes[only(picture, name)][1] == f"{shape} float32"
    assert "subgraph" not in picture.source


def test_group_by_module_clusters_by_name_prefix():
    picture = draw_graph(raw_mlp(), group_by_module=True)
    where = clusters_of(picture.source)
    for i in (1, 2, 3):
        w, b = only(picture, f"fc{i}.weight"), only(picture, f"fc{i}.bias")
        assert where[w] == where[b] == f"fc{i}"
    # the transpose, matmul and add of a layer sit in its box; the ReLUs between layers do not
    in_fc1 = sorted(picture.nodes[i][0] for i, c in where.items() if c == "fc1")
    assert in_fc1 == ["+", "fc1.bias", "fc1.weight", "matmul", "transpose"]
    relus = [i for i, lines in picture.nodes.items() if lines[0] == "relu"]
    assert len(relus) == 2 and all(where[i] is None for i in relus)
    assert picture.source.count("subgraph cluster_") == 3


def test_nested_modules_make_nested_clusters():
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    w1, w2 = autodiff.tensor(2.0, requires_grad=True), autodiff.tensor(3.0, requires_grad=True)
    w1.name, w2.name = "encoder.a.w", "encoder.b.w"
    picture = draw_graph(((x * w1).relu() * w2).sum(), group_by_module=True)
    where = clusters_of(picture.source)
    assert where[only(picture, "encoder.a.w")] == "encoder.a"
    relu = only(picture, "relu")
    assert where[relu] == "encoder"            # between two submodules of encoder
    assert picture.source.count("subgraph cluster_") == 3


def test_max_nodes_caps_the_picture_with_a_note():
    loss = raw_mlp()
    full = draw_graph(loss)
    assert len(full.nodes) == 20
    picture = draw_graph(loss, max_nodes=7)
    drawn = [i for i in picture.nodes if i != "note"]
    assert len(drawn) == 7
    assert picture.nodes["note"] == ["... 13 more nodes not shown", "(max_nodes=7)"]
    assert "note [label=" in picture.source
    # the output is always kept, and each kept edge joins two kept nodes
    assert ["() float32", "data 0.1367"] in picture.nodes.values()
    assert all(t in picture.nodes and h in picture.nodes for t, h in picture.edges)
    assert any(t == "note" for t, _ in picture.edges)


def test_max_nodes_for_scalars():
    x = autodiff.Scalar(0.5, label="x")
    y = x
    for _ in range(50):
        y = y * 1.01 + x
    full = draw_graph(y, max_nodes=1000)
    assert len(full.nodes) == 1 + 50 * 5        # x, then per step: 1.01, *, y * 1.01, +, y
    assert len(draw_graph(y).nodes) == 200 + 1  # the default max_nodes, and the note
    picture = draw_graph(y, max_nodes=10)
    assert len(picture.nodes) == 11 and "note" in picture.nodes
    assert picture.nodes["note"][0] == f"... {len(full.nodes) - 10} more nodes not shown"


def test_rankdir_option():
    f = lecture_tensors()[-1]
    assert "rankdir=TB" in draw_graph(f, rankdir="TB").source
    assert "rankdir=LR" in draw_graph(f).source
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(f, rankdir="sideways")
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(f, max_nodes=0)
    with pytest.raises(TypeError, match="Tensor or a Scalar"):
        draw_graph(3.0)


def test_legend():
    source = draw_graph(lecture_tensors()[-1], legend=True).source
    assert "cluster_legend" in source and "input (leaf)" in source and "output" in source
    assert "parameter" not in source          # only the kinds that are drawn


# ---------------------------------------------------------------------- rendering
@pytest.fixture
def no_dot_program(monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)


def test_render_svg_png_pdf_without_system_graphviz(tmp_path, no_dot_program):
    picture = draw_graph(lecture_tensors()[-1], labels={})
    path = picture.render(tmp_path / "graph.svg")
    assert path == str(tmp_path / "graph.svg")
    text = open(path, encoding="utf-8").read()
    assert text.startswith("<?xml") and "<svg" in text and ">x</text>" in text
    png = picture.render(tmp_path / "graph", format="png")
    assert png == str(tmp_path / "graph.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    pdf = picture.render(tmp_path / "sub" / "graph.pdf")
    assert open(pdf, "rb").read(5) == b"%PDF-"
    dot = picture.render(tmp_path / "graph.dot")
    assert open(dot, encoding="utf-8").read() == picture.source
    with pytest.raises(ValueError, match="format"):
        picture.render(tmp_path / "graph.gif", format="gif")


def test_jupyter_display_is_svg(no_dot_program):
    picture = draw_graph(lecture_scalars()[-1])
    bundle = picture._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"] and bundle["text/plain"].startswith("<GraphPicture")
    assert picture._repr_svg_() == bundle["image/svg+xml"]


def test_dot_program_is_preferred_when_on_path(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\ncat > /dev/null\necho '<svg>from dot '$1'</svg>'\n")
    fake.chmod(0o755)
    monkeypatch.setattr(viz.shutil, "which", lambda name: str(fake) if name == "dot" else None)
    path = draw_graph(lecture_scalars()[-1]).render(tmp_path / "out.svg")
    assert open(path).read().strip() == "<svg>from dot -Tsvg</svg>"


def test_without_any_renderer_the_dot_file_is_written_and_the_error_says_how_to_fix(
        tmp_path, monkeypatch, no_dot_program):
    monkeypatch.setitem(sys.modules, "pygraphviz", None)     # import pygraphviz -> ImportError
    picture = draw_graph(lecture_tensors()[-1])
    with pytest.raises(RendererNotFoundError) as info:
        picture.render(tmp_path / "graph.svg")
    message = str(info.value)
    assert "pip install pygraphviz" in message and "install Graphviz" in message
    assert str(tmp_path / "graph.dot") in message
    assert not os.path.exists(tmp_path / "graph.svg")
    assert open(tmp_path / "graph.dot", encoding="utf-8").read() == picture.source
    # in Jupyter the picture falls back to its text
    assert picture._repr_svg_() is None
    assert set(picture._repr_mimebundle_()) == {"text/plain"}
    with pytest.raises(RendererNotFoundError, match="pip install pygraphviz"):
        picture.pipe("png")


def test_nn_module_parameters_are_named_green_and_grouped():
    from autodiff import nn

    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    x = autodiff.randn(4, 2)
    loss = nn.MSELoss()(model(x), autodiff.zeros(4, 1))
    loss.backward()
    picture = draw_graph(loss, module=model, group_by_module=True)
    for name, shape in [("0.weight", "(8, 2)"), ("0.bias", "(8,)"), ("2.weight", "(1, 8)"), ("2.bias", "(1,)")]:
        node = only(picture, name)
        assert picture.nodes[node][1] == f"{shape} float32"
        assert picture.nodes[node][-1].startswith("grad ")
        assert re.search(rf'{node} \[label="{re.escape(name)}.*{viz._STYLE["param"]["fillcolor"]}', picture.source)
    assert 'label="0 (Linear)"' in picture.source and 'label="2 (Linear)"' in picture.source
    where = clusters_of(picture.source)
    assert [where[i] for i in picture.find("linear")] == ["0", "2"]
    assert [where[i] for i in picture.find("relu")] == [None]


def test_scalar_constants_are_dashed_and_module_parameters_green():
    x = autodiff.Scalar(3.0, label="x")
    w = autodiff.Scalar(0.5)

    class Neuron:
        def parameters(self):
            return [w]

    picture = draw_graph(x * w * 2, module=Neuron())
    kinds = {m.group(1): m.group(2) for m in re.finditer(r'(n\d+) \[label="([^"]*)"', picture.source)}
    lines = {m.group(1): m.group(0) for m in re.finditer(r"(n\d+) \[.*\]", picture.source)}
    const = [i for i, label in kinds.items() if label == "data 2"]
    param = [i for i, label in kinds.items() if label == "data 0.5"]
    assert len(const) == 1 and "dashed" in lines[const[0]]
    assert len(param) == 1 and viz._STYLE["param"]["fillcolor"] in lines[param[0]]
