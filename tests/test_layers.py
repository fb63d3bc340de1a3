"""The package's layers depend one way and no module imports itself back through others.

Every import counts, those inside functions too: an import deferred for speed is still a
dependency, and so is a module named in a string for someone to import later
(``"jupyter_events_ext.sinks.tail:tail"``, ``Instance("jupyter_events_ext.x.Class")``).
The one exception is the root package's entry points, the functions jupyter_server and
JupyterLab call to find the extension; what they import is where the graph starts, not a
dependency of the package on its parts. Modules at the root (``jupyter_events_ext.cli``,
the command) sit above every layer.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jupyter_events_ext

PACKAGE = Path(jupyter_events_ext.__file__).parent
ROOT = "jupyter_events_ext"
# A dotted name, maybe with ":attribute": how a module is named for importlib, entry points
# and traitlets.
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.\w+)+(?::[\w.]+)?")


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
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(named_module(node.value, modules))
    return {module for module in found if module in modules and module != name}


def named_module(text: str, modules: set[str]) -> set[str]:
    """The module ``text`` names, if it is a module (or a module's attribute) written out:
    ``"a.b"``, ``"a.b:attribute"``, ``"a.b.Attribute"``."""
    if not _DOTTED.fullmatch(text):
        return set()
    dotted = text.partition(":")[0]
    for candidate in (dotted, dotted.rpartition(".")[0]):
        if candidate in modules:
            return {candidate}
    return set()


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


# What each layer may depend on (a root module, such as the command, may depend on any).
BELOW = {
    "events": {"events"},
    "sinks": {"events", "sinks"},
    "analysis": {"events", "analysis"},
    "server": {"events", "sinks", "server"},
}


def layer_of(module: str) -> str | None:
    """The layer a module is in: ``events`` for ``jupyter_events_ext.events.logger``; its
    own name for a module at the root (``cli``); None for the root package."""
    return module.split(".")[1] if "." in module else None


def wrong_way(graph: dict[str, set[str]]) -> list[str]:
    """Each dependency of a layer on what is not below it, as "module -> target"."""
    wrong = []
    for module, targets in sorted(graph.items()):
        layer = layer_of(module)
        for target in sorted(targets):
            target_layer = layer_of(target)
            if layer in BELOW and target_layer is not None and target_layer not in BELOW[layer]:
                wrong.append(f"{module} -> {target}")
    return wrong


def test_layers_depend_one_way():
    assert wrong_way(import_graph()) == []


def test_module_names_written_as_strings_are_dependencies(tmp_path):
    # The drop-in's command once named the commands of other layers for importlib.
    old_cli = tmp_path / "cli.py"
    old_cli.write_text(
        "SUBCOMMANDS = {\n"
        '    "check-log": "jupyter_events_ext.events.log_check:check_log",\n'
        '    "export": "jupyter_events_ext.analysis.command:export",\n'
        '    "tail": "jupyter_events_ext.sinks.tail:tail",\n'
        "}\n"
        '"""Not a name: jupyter_events_ext.sinks.tail follows a stream."""\n'
    )
    graph = import_graph()
    name = "jupyter_events_ext.events.cli"
    graph[name] = imports_of(old_cli, name, set(graph))
    assert graph[name] == {
        "jupyter_events_ext.events.log_check",
        "jupyter_events_ext.analysis.command",
        "jupyter_events_ext.sinks.tail",
    }
    assert wrong_way(graph) == [
        "jupyter_events_ext.events.cli -> jupyter_events_ext.analysis.command",
        "jupyter_events_ext.events.cli -> jupyter_events_ext.sinks.tail",
    ]


def test_a_dotted_attribute_names_its_module():
    modules = {"jupyter_events_ext.events.schema_registry"}
    assert named_module("jupyter_events_ext.events.schema_registry.SchemaRegistry", modules) == {
        "jupyter_events_ext.events.schema_registry"
    }
    assert named_module("jupyter_events_ext.events.schema_registry", modules) == {
        "jupyter_events_ext.events.schema_registry"
    }
    assert named_module("see jupyter_events_ext.events.schema_registry", modules) == set()
