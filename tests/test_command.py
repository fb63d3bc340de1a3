"""The installed command, ``jupyter-events-ext`` (``jupyter events-ext``): every subcommand,
each imported only when it runs or is listed."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from click.testing import CliRunner

from jupyter_events_ext.cli import SUBCOMMANDS, main

SCHEMA = {
    "$id": "https://example.org/saved/v1",
    "version": "1",
    "title": "saved",
    "description": "A file was saved.",
    "type": "object",
    "properties": {"path": {"type": "string", "title": "path"}},
}


def test_help_lists_validate_and_every_subcommand():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ["validate", *SUBCOMMANDS]:
        assert f"  {name}" in result.output


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("jupyter-events-ext, version ")


def test_validate_is_the_drop_ins(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({**SCHEMA, "$id": "not a uri"}))
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_events_ext.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "is not a 'uri'" in result.stderr


def test_a_subcommand_imports_only_its_own_module():
    # check-log runs without the export's DuckDB or the tail's Redis being imported.
    code = (
        "import sys\n"
        "from jupyter_events_ext.cli import main\n"
        "try:\n"
        "    main(['check-log', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('jupyter_events_ext.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = result.stdout.splitlines()[-1]
    assert "jupyter_events_ext.events.log_check" in loaded
    assert "jupyter_events_ext.analysis" not in loaded
    assert "jupyter_events_ext.sinks" not in loaded


def test_installed_as_a_jupyter_subcommand(tmp_path):
    # `jupyter events-ext` finds the `jupyter-events-ext` script installed beside Python.
    bin_dir = pathlib.Path(sys.executable).parent
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA))
    result = subprocess.run(
        [str(bin_dir / "jupyter"), "events-ext", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stderr
    assert "This schema is valid" in result.stdout
