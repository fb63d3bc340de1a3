"""Real schemas no one here wrote: the event schemas shipped inside jupyter_server."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from schemas_under_test import JUPYTER_SERVER_SCHEMA_FILES

from jupyter_events_ext.events import EventLogger, yaml


def test_jupyter_server_ships_event_schemas():
    names = {path.parent.name for path in JUPYTER_SERVER_SCHEMA_FILES}
    assert {"contents_service", "kernel_actions", "gateway_client"} <= names


def valid_value(schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "a value", "number": 200, "integer": 1, "boolean": True}[schema["type"]]


def invalid_value(schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        return "not-one-of-the-enum-values"
    return {"string": 12, "number": "200", "integer": "1", "boolean": "yes"}[schema["type"]]


@pytest.mark.parametrize("path", JUPYTER_SERVER_SCHEMA_FILES, ids=lambda p: p.parent.name)
def test_register_and_emit(path, jp_event_handler, jp_read_emitted_events):
    schema = yaml.load(path)
    logger = EventLogger(handlers=[jp_event_handler])
    logger.register_event_schema(path)
    required = schema["required"]
    valid = {name: valid_value(schema["properties"][name]) for name in schema["properties"]}
    envelope = logger.emit(schema_id=schema["$id"], data=valid)
    assert jp_read_emitted_events() == [envelope]
    assert envelope["__schema_version__"] == schema["version"]

    with pytest.raises(ValidationError, match="is a required property"):
        logger.emit(
            schema_id=schema["$id"], data={k: v for k, v in valid.items() if k != required[0]}
        )
    for name, property_schema in schema["properties"].items():
        with pytest.raises(ValidationError) as info:
            logger.emit(
                schema_id=schema["$id"], data={**valid, name: invalid_value(property_schema)}
            )
        assert list(info.value.absolute_path) == [name]
    assert jp_read_emitted_events() is None
