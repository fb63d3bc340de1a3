"""The package's layers depend one way and no module imports itself back through others.

Every import counts, those inside functions too: an import deferred for speed is still a
dependency. The one exception is the root package's entry points, the functions
jupyter_server and JupyterLab call to find the extension; what they import is where the
graph starts, not a dependency of the package on its parts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupyter_events_ext

PACKAGE = Path(jupyter_events_ext.__file__).parent
ROOT = "jupyter_events_ext"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:``, which never run."""
    nodes = []
    pending = [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return nodes


def imports_of(path: Path, name: str, modules: set[str]) -> set[str]:
    """The package's own ``modules`` that the module ``name`` at ``path`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from x import y" imports the module x.y if there is one, else x (for y).
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {module for module in found if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        graph[name] = imports_of(path, name, set(files))
    graph[ROOT] = set()  # its imports are the entry points (see above)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_lazy_imports():
    graph = import_graph()
    # schema.py imports download inside a function; app.py imports "from . import rest".
    assert "jupyter_events_ext.events.download" in graph["jupyter_events_ext.events.schema"]
    assert "jupyter_events_ext.server.rest" in graph["jupyter_events_ext.server.app"]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_depend_one_way():
    graph = import_graph()
    below = {
        "events": {"events"},
        "sinks": {"events", "sinks"},
        "analysis": {"events", "analysis"},
        "server": {"events", "sinks", "server"},
    }
    wrong = []
    for module, targets in graph.items():
        layer = module.split(".")[1] if "." in module else None
        for target in targets:
            target_layer = target.split(".")[1] if "." in target else None
            if layer in below and target_layer is not None and target_layer not in below[layer]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []
