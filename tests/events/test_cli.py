from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from schemas_under_test import FILE_SAVED, JUPYTER_SERVER_SCHEMA_DIR, README_0_1_0_SCHEMA

from jupyter_events_ext.events import EventLogger, yaml
from jupyter_events_ext.events.cli import RC, main
from jupyter_events_ext.events.log_check import check_lines, check_log, jupyter_server_schema_dir
from jupyter_events_ext.events.schema_registry import SchemaRegistry

SAVED = {"action": "save", "path": "a.ipynb", "user": "ada", "size": 3, "duration_ms": 1}


def invoke(*args: str):
    """Run the drop-in's command, jupyter_events' ``jupyter events``."""
    return CliRunner().invoke(main, list(args))


def check_log_of(*args: str):
    return CliRunner().invoke(check_log, list(args))


# -- validate -----------------------------------------------------------------------------


def test_validate_a_valid_schema_string():
    result = invoke("validate", json.dumps(FILE_SAVED))
    assert result.exit_code == RC.OK == 0
    assert "This schema is valid" in result.output


def test_validate_a_valid_schema_file(tmp_path):
    path = tmp_path / "schema.yaml"
    yaml.dump(FILE_SAVED, path)
    assert invoke("validate", str(path)).exit_code == RC.OK


def test_validate_an_invalid_schema():
    result = invoke("validate", json.dumps({**FILE_SAVED, "properties": {"__x": {}}}))
    assert result.exit_code == RC.INVALID == 1
    assert "failed to validate" in result.output
    assert "reserved as special meta-fields" in result.output


@pytest.mark.parametrize("argument", ["missing.yaml", "just words"])
def test_validate_something_unreadable(argument):
    result = invoke("validate", argument)
    assert result.exit_code == RC.UNPARSABLE == 2
    assert "ERROR" in result.output


def test_version_and_help():
    assert invoke("--version").exit_code == 0
    # As upstream's: validate only (`jupyter events-ext` has the rest).
    assert "validate" in invoke("--help").output
    assert "check-log" not in invoke("--help").output


def test_run_as_a_program(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({**FILE_SAVED, "$id": "not a uri"}))
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_events_ext.events.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "is not a 'uri'" in result.stderr


# -- check-log ----------------------------------------------------------------------------


@pytest.fixture
def schema_file(tmp_path):
    path = tmp_path / "schemas" / "file_saved.json"
    path.parent.mkdir()
    path.write_text(json.dumps(FILE_SAVED))
    return path


@pytest.fixture
def recorded_log(tmp_path, schema_file):
    path = tmp_path / "events.log"
    logger = EventLogger(handlers=[__import__("logging").FileHandler(path)])
    logger.register_event_schema(FILE_SAVED)
    for _ in range(3):
        logger.emit(schema_id=FILE_SAVED["$id"], data=SAVED)
    logger.handlers[0].close()
    return path


def test_check_log_all_valid(recorded_log, schema_file):
    result = check_log_of(str(recorded_log), "--schema", str(schema_file))
    assert result.exit_code == RC.OK, result.output
    assert "all 3 lines valid" in result.output


def test_check_log_accepts_metadata_fields_beside_a_strict_schema(tmp_path):
    strict = {**FILE_SAVED, "$id": "https://example.org/strict/v1", "additionalProperties": False}
    schema_path = tmp_path / "strict.json"
    schema_path.write_text(json.dumps(strict))
    log = tmp_path / "events.log"
    logger = EventLogger(handlers=[__import__("logging").FileHandler(log)])
    logger.register_event_schema(strict)
    logger.emit(schema_id=strict["$id"], data=SAVED, metadata={"__id__": "a", "__user__": "ada"})
    logger.handlers[0].close()
    extra = {**json.loads(log.read_text()), "unexpected": 1}
    log.write_text(log.read_text() + json.dumps(extra) + "\n")

    result = check_log_of(str(log), "-s", str(schema_path))

    assert result.exit_code == RC.INVALID
    reported = [line for line in result.output.splitlines() if line.startswith(str(log))]
    assert len(reported) == 1
    assert reported[0].startswith(f"{log}:2:")
    assert "'unexpected' was unexpected" in reported[0]


def test_check_log_reports_each_bad_line(recorded_log, schema_file):
    lines = recorded_log.read_text().splitlines()
    good = json.loads(lines[0])
    lines[1] = json.dumps({**good, "size": "big"})
    lines.append("not json")
    lines.append("")
    lines.append("[1, 2]")
    lines.append(json.dumps({**good, "__schema_version__": "9"}))
    lines.append(json.dumps({**good, "__timestamp__": "2024-01-01T00:00:00+00:00Z"}))
    recorded_log.write_text("\n".join(lines) + "\n")
    # A directory of schemas works as well as a file.
    result = check_log_of(str(recorded_log), "-s", str(schema_file.parent))
    assert result.exit_code == RC.INVALID
    reported = [line for line in result.output.splitlines() if line.startswith(str(recorded_log))]
    assert [line.split(":")[1] for line in reported] == ["2", "4", "6", "7", "8"]
    assert "'big' is not of type 'integer' (at /size)" in reported[0]
    assert "not valid JSON" in reported[1]
    assert "not a JSON object" in reported[2]
    assert "version 9 is not registered" in reported[3]
    assert "envelope" in reported[4]
    assert "5 of 8 lines invalid" in result.output


def test_check_log_from_stdin(recorded_log, schema_file):
    result = CliRunner().invoke(
        check_log, ["-", "-s", str(schema_file)], input=recorded_log.read_text()
    )
    assert result.exit_code == RC.OK


def test_check_log_with_0_1_0_schemas(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(README_0_1_0_SCHEMA))
    log = tmp_path / "events.log"
    logger = EventLogger(handlers=[__import__("logging").FileHandler(log)])
    logger.register_schema_file(schema)
    logger.record_event("url.to.event.schema", 1, {"name": "n"})
    logger.handlers[0].close()
    assert check_log_of(str(log), "-s", str(schema)).exit_code == RC.OK


def test_check_log_against_jupyter_server_schemas(tmp_path):
    log = tmp_path / "server.log"
    logger = EventLogger(handlers=[__import__("logging").FileHandler(log)])
    logger.register_event_schema(JUPYTER_SERVER_SCHEMA_DIR / "contents_service" / "v1.yaml")
    schema_id = "https://events.jupyter.org/jupyter_server/contents_service/v1"
    logger.emit(schema_id=schema_id, data={"action": "save", "path": "a.ipynb"})
    logger.handlers[0].close()
    assert jupyter_server_schema_dir() == JUPYTER_SERVER_SCHEMA_DIR
    assert check_log_of(str(log), "--jupyter-server-schemas").exit_code == RC.OK
    with log.open("a") as file:
        file.write(log.read_text().replace('"save"', '"explode"'))
    result = check_log_of(str(log), "--jupyter-server-schemas")
    assert result.exit_code == RC.INVALID
    assert ":2: " in result.output


def test_check_log_missing_files(recorded_log, schema_file, tmp_path):
    missing_log = check_log_of(str(tmp_path / "nope.log"), "-s", str(schema_file))
    assert missing_log.exit_code == RC.NOT_FOUND == 3
    missing_schema = check_log_of(str(recorded_log), "-s", str(tmp_path / "nope.json"))
    assert missing_schema.exit_code == RC.NOT_FOUND


def test_check_log_unreadable_or_invalid_schema(recorded_log, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("{broken: [")
    assert check_log_of(str(recorded_log), "-s", str(broken)).exit_code == RC.UNPARSABLE
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({**FILE_SAVED, "version": None}))
    result = check_log_of(str(recorded_log), "-s", str(invalid))
    assert result.exit_code == RC.UNPARSABLE
    assert "None is not of type 'string'" in result.output


def test_check_log_needs_schemas(recorded_log):
    result = check_log_of(str(recorded_log))
    assert result.exit_code == 2
    assert "at least one --schema" in result.output


def test_check_lines_directly():
    registry = SchemaRegistry()
    registry.register(FILE_SAVED)
    envelope = {
        "__timestamp__": "2024-01-01T00:00:00.000000Z",
        "__schema__": FILE_SAVED["$id"],
        "__schema_version__": "1",
        "__metadata_version__": 1,
        **SAVED,
    }
    lines = [json.dumps(envelope), "  ", json.dumps({**envelope, "user": 1})]
    assert [p.line_number for p in check_lines(lines, registry)] == [3]
