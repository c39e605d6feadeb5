"""The hand-kept stub python/glorot_ext/_core.pyi names exactly what the native module exports."""

import ast
from pathlib import Path

from glorot_ext import _core

STUB = Path(__file__).resolve().parents[1] / "python" / "glorot_ext" / "_core.pyi"
TYPE_ALIASES = {"FloatArray", "Labels"}  # the stub's own shorthands, not exports


def _public(names):
    return {n for n in names if not n.startswith("_") or n == "__version__"}


def _stub_names(body):
    names = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets)
    return _public(names)


def test_stub_lists_every_module_attribute_and_nothing_else():
    tree = ast.parse(STUB.read_text())
    assert _stub_names(tree.body) - TYPE_ALIASES == _public(dir(_core))


def test_stub_lists_every_network_method_and_property():
    tree = ast.parse(STUB.read_text())
    (network,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Network"]
    assert _stub_names(network.body) == _public(dir(_core.Network))
