"""The package's layers import one way: no module of ``autodiff`` imports, at module level,
a module that imports it back (directly or through others).

The graph is read from the source with ``ast``: every ``import``/``from ... import`` at
module level (also inside module-level ``if``/``try``), resolved to the package's own
modules. ``from . import name`` counts as an edge to the submodule ``name`` when there is
one, else to the package (``__init__``) itself. Imports inside functions are not module
level and do not count.
"""
import ast
from pathlib import Path

import autodiff

ROOT = Path(autodiff.__file__).resolve().parent.parent


def _modules():
    found = {}
    for path in (ROOT / "autodiff").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _module_level_imports(tree):
    for node in tree.body:
        inner = ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else (node,)
        for n in inner:
            if isinstance(n, (ast.Import, ast.ImportFrom)):
                yield n


def import_graph():
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        package = name.split(".") if is_package else name.split(".")[:-1]
        for node in _module_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = package[:len(package) - node.level + 1] if node.level else []
                base = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            vertex, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    break
                if succ in on_stack:
                    low[vertex] = min(low[vertex], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[vertex])
                if low[vertex] == index[vertex]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == vertex:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert "autodiff.autograd.function" in graph and "autodiff.tensor" in graph
    assert cycles(graph) == [], "modules that import each other (a cycle each)"


def test_the_cuda_array_modules_import_one_way():
    """autodiff.cuda's array modules are layered: _core at the bottom, array.py on top."""
    graph = import_graph()
    lower = ["autodiff.cuda._reductions", "autodiff.cuda._linalg", "autodiff.cuda._indexing",
             "autodiff.cuda._functions"]
    assert "autodiff.cuda.array" not in set().union(*(graph[m] for m in lower + ["autodiff.cuda._core"]))
    assert not graph["autodiff.cuda._core"] & set(lower)
    assert set(lower) <= graph["autodiff.cuda.array"]


def test_the_autograd_core_does_not_import_the_tensor_class():
    graph = import_graph()
    reach = {"autodiff.autograd.function"}
    todo = list(reach)
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in reach:
                reach.add(nxt)
                todo.append(nxt)
    assert "autodiff.tensor" not in reach
    assert "autodiff.autograd.engine" in graph and "autodiff.tensor" not in graph["autodiff.autograd.engine"]


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
