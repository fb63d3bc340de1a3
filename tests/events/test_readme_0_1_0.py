"""The jupyter_events 0.1.0 README example, as written there, with this package's import."""

from __future__ import annotations

import json
import logging

from schemas_under_test import README_0_1_0_SCHEMA


def test_readme_example_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schema.json").write_text(json.dumps(README_0_1_0_SCHEMA, indent=2))

    # --- from the README (only the import line differs) ---
    from jupyter_events_ext.events import EventLogger

    logger = EventLogger(
        # Use logging handlers to route where events
        # should be record.
        handlers=[logging.FileHandler("events.log")],
        # List schemas of events that should be recorded.
        allowed_schemas=["url.to.event.schema"],
    )
    # Register the schema.
    logger.register_schema_file("schema.json")
    # Record an example event.
    event = {"name": "example event"}
    logger.record_event(schema_id="url.to.event.schema", version=1, event=event)
    # --- end of README ---

    logger.handlers[0].close()
    (line,) = (tmp_path / "events.log").read_text().splitlines()
    recorded = json.loads(line)
    assert recorded.pop("__timestamp__").endswith("Z")
    assert recorded == {
        "__schema__": "url.to.event.schema",
        "__schema_version__": "1",
        "__metadata_version__": 1,
        "name": "example event",
    }


def test_register_schema_dict_and_emit_with_the_0_12_api(jp_event_logger, jp_read_emitted_events):
    jp_event_logger.register_schema(README_0_1_0_SCHEMA)
    jp_event_logger.emit(schema_id="url.to.event.schema", data={"name": "x"})
    assert jp_read_emitted_events()[0]["name"] == "x"
    # The caller's dict is left alone: version stays an integer there.
    assert README_0_1_0_SCHEMA["version"] == 1


def test_the_0_12_methods_keep_their_stricter_checks(jp_event_logger):
    import pytest
    from jsonschema import ValidationError

    with pytest.raises(ValidationError, match="is not a 'uri'"):
        jp_event_logger.register_event_schema({**README_0_1_0_SCHEMA, "version": "1"})
