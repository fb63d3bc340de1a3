"""The package without its extra, and its place in the layers: events/ never imports it."""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys

import pytest

import jupyter_events_ext.events

INSTALL = "pip install 'jupyter_events_ext[analysis]'"


def run(hidden: list[str], code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh Python in which the ``hidden`` modules cannot be imported."""
    hide = f"import sys; sys.modules.update(dict.fromkeys({hidden!r}))\n"
    return subprocess.run(
        [sys.executable, "-c", hide + code, *args], capture_output=True, text=True, timeout=60
    )


CLI = "from jupyter_events_ext.cli import main; main()"


@pytest.mark.parametrize(
    ("hidden", "message"),
    [
        (["duckdb"], f"needs duckdb, which is not installed: {INSTALL}"),
        (["pyarrow"], f"needs pyarrow, which is not installed: {INSTALL}"),
        (["duckdb", "pyarrow"], f"needs duckdb and pyarrow, which are not installed: {INSTALL}"),
    ],
)
def test_export_without_the_extra_says_how_to_install_it(
    tmp_path, validated_events, hidden, message
):
    out = tmp_path / "out"
    result = run(hidden, CLI, "export", str(validated_events), "-o", str(out))
    assert result.returncode == 1
    assert result.stderr == f"Error: Exporting and reading events {message}\n"
    assert list(tmp_path.iterdir()) == []


def test_help_works_without_the_extra():
    result = run(["duckdb", "pyarrow"], CLI, "--help")
    assert result.returncode == 0, result.stderr
    assert "export" in result.stdout
    result = run(["duckdb", "pyarrow"], CLI, "export", "--help")
    assert result.returncode == 0, result.stderr
    assert "--format [parquet|csv|jsonl]" in result.stdout


def test_python_api_without_the_extra(validated_events):
    code = (
        "from jupyter_events_ext.analysis import read_events, MissingExtraError\n"
        "try:\n"
        f"    read_events({str(validated_events)!r})\n"
        "except ImportError as err:\n"
        "    print(type(err).__name__, err)\n"
    )
    result = run(["duckdb"], code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("MissingExtraError Exporting and reading events needs duckdb")


def test_redis_source_without_the_redis_client(tmp_path):
    result = run(
        ["redis"], CLI, "export", "redis://127.0.0.1:1/0#events", "-o", str(tmp_path / "o")
    )
    assert result.returncode == 1
    assert "pip install 'jupyter_events_ext[redis]'" in result.stderr


def test_importing_the_package_and_its_command_loads_no_engine():
    code = (
        "import sys, json\n"
        "import jupyter_events_ext.analysis, jupyter_events_ext.analysis.command\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = run([], code)
    loaded = {name.split(".")[0] for name in json.loads(result.stdout)}
    assert loaded.isdisjoint({"duckdb", "pyarrow", "pandas", "redis", "tornado", "jupyter_server"})


def test_exporting_a_file_never_imports_pandas(tmp_path, validated_events):
    # pandas is installed here (the notebook uses it), and pyarrow imports it on first
    # converting a Python value: a tenth of a second of every export's start-up.
    code = (
        "import sys\n"
        "from jupyter_events_ext.analysis import export_events\n"
        "export_events(sys.argv[1], sys.argv[2])\n"
        "print('pandas' in sys.modules)\n"
    )
    result = run([], code, str(validated_events), str(tmp_path / "out"))
    assert result.stdout == "False\n", result.stderr
    assert (tmp_path / "out" / "manifest.json").exists()


def test_events_never_imports_analysis():
    package = pathlib.Path(jupyter_events_ext.events.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any("analysis" in name for name in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
    # Nor at run time, whatever it imports.
    code = (
        "import sys, pkgutil, importlib, jupyter_events_ext.events as events\n"
        "for module in pkgutil.iter_modules(events.__path__):\n"
        "    importlib.import_module('jupyter_events_ext.events.' + module.name)\n"
        "print('jupyter_events_ext.analysis' in sys.modules)\n"
    )
    result = run([], code)
    assert result.stdout == "False\n", result.stderr
