"""The package's import graph: layered, no cycle, and nothing below the root imports the root.

Read from the installed sources with ``ast``: every import that runs (at module level or inside a
function), not those under ``if TYPE_CHECKING:``, which exist for annotations only.
"""

import ast
import importlib.machinery
from pathlib import Path

import glorot_ext

ROOT = Path(glorot_ext.__file__).parent


def _modules():
    """{dotted name: source path} of every Python module of the installed package."""
    out = {}
    for f in sorted(ROOT.rglob("*.py")):
        parts = ("glorot_ext",) + f.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _extensions():
    """Dotted names of the compiled modules (glorot_ext._core and the kernel builds)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    names = {"glorot_ext." + f.name.split(".")[0] for f in ROOT.iterdir() if f.name.endswith(suffixes)}
    return names | {"glorot_ext._core"}  # installed at import by _dispatch from one of the builds


def _runtime_imports(tree):
    """The import nodes that run: all of them but those inside ``if TYPE_CHECKING:``."""
    found = []

    def visit(node):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph():
    """{module: {(imported module, what: 'module' or a name from the package root)}}."""
    modules, extensions = _modules(), _extensions()
    known = set(modules) | extensions
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges |= {(a.name, "module") for a in node.names if a.name.split(".")[0] == "glorot_ext"}
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "glorot_ext":
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                edges.add((sub, "module") if sub in known else (target, a.name))
        graph[name] = {e for e in edges if e[0] != name}
    return graph


def test_the_graph_reader_sees_the_imports_it_must():
    graph = _graph()
    assert {("glorot_ext.stats", "module"), ("glorot_ext.record", "Record")} <= graph["glorot_ext.monitor"]
    assert ("glorot_ext._core", "module") in graph["glorot_ext.runtime"]
    assert ("glorot_ext.datasets", "MinibatchIterator") in graph["glorot_ext.training"]
    assert len(graph) > 30


def test_no_module_below_the_root_imports_the_package_root():
    offenders = {
        name: sorted(what for target, what in edges if target == "glorot_ext")
        for name, edges in _graph().items()
        if name not in ("glorot_ext", "glorot_ext.__main__")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def _cycles(graph):
    """Each cycle a depth-first search meets in {node: [successors]}, as "a -> b -> a"."""
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return cycles


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a -> b -> c -> a"]
    assert _cycles({"a": ["b", "c"], "b": ["c"], "c": []}) == []


def test_the_import_graph_has_no_cycle():
    names = set(_modules())
    graph = {name: sorted({t for t, _ in edges if t in names}) for name, edges in _graph().items()}
    graph.pop("glorot_ext")  # the root re-exports its modules; nothing imports it (test above)
    assert _cycles(graph) == []


def test_every_module_is_the_attribute_of_its_package_that_bears_its_name():
    # A function re-exported under its module's name (experiments.run was both) makes
    # `import glorot_ext.experiments.run as m` give the function and monkeypatching miss the module.
    import importlib
    import types

    for name in _modules():
        if name == "glorot_ext" or name.rsplit(".", 1)[-1] == "__main__":
            continue
        module = importlib.import_module(name)
        parent, leaf = name.rsplit(".", 1)
        attr = getattr(importlib.import_module(parent), leaf)
        assert isinstance(attr, types.ModuleType) and attr is module, f"{parent}.{leaf} is {attr!r}, not the module"
