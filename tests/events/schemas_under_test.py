"""Every event schema the tests use, so that the precheck differential test covers them all."""

from __future__ import annotations

import pathlib

import jupyter_server

JUPYTER_SERVER_SCHEMA_DIR = pathlib.Path(jupyter_server.__file__).parent / "event_schemas"
JUPYTER_SERVER_SCHEMA_FILES = sorted(JUPYTER_SERVER_SCHEMA_DIR.rglob("*.yaml"))

# The example schema of the jupyter_events 0.1.0 README, as written there.
README_0_1_0_SCHEMA = {
    "$id": "url.to.event.schema",
    "title": "My Event",
    "description": "All events must have a name property.",
    "type": "object",
    "properties": {"name": {"title": "Name", "description": "Name of event", "type": "string"}},
    "required": ["name"],
    "version": 1,
}

# Five required properties, three strings and two integers: the benchmark's schema.
FILE_SAVED = {
    "$id": "https://events.example.org/file-saved/v1",
    "version": "1",
    "title": "File saved",
    "type": "object",
    "required": ["action", "path", "user", "size", "duration_ms"],
    "properties": {
        "action": {"type": "string"},
        "path": {"type": "string"},
        "user": {"type": "string"},
        "size": {"type": "integer"},
        "duration_ms": {"type": "integer"},
    },
}

FILE_SAVED_V2 = {
    **FILE_SAVED,
    "version": "2",
    "required": ["action", "path"],
    "properties": {
        "action": {"enum": ["save", "autosave"]},
        "path": {"type": "string", "minLength": 1},
    },
    "additionalProperties": False,
}

# Formats, nesting, arrays, bounds, patterns, const, nullable: the precheck subset.
RICH = {
    "$id": "https://events.example.org/rich/v1",
    "version": "1",
    "type": "object",
    "required": ["when", "where", "tags"],
    "properties": {
        "when": {"type": "string", "format": "date-time"},
        "where": {"type": "string", "format": "uri"},
        "email": {"type": "string", "format": "email"},
        "day": {"format": "date"},
        "host": {"type": "string", "format": "ipv4"},
        "tags": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z]+$"},
            "minItems": 1,
            "maxItems": 3,
        },
        "count": {"type": "integer", "minimum": 0, "maximum": 10},
        "ratio": {"type": "number", "minimum": 0.0, "maximum": 1.0},
        "kind": {"const": "rich"},
        "level": {"enum": [1, 2.5, "high", None]},
        "note": {"type": ["string", "null"], "maxLength": 5},
        "nested": {
            "type": "object",
            "properties": {"flag": {"type": "boolean"}, "n": {"type": "integer"}},
            "required": ["flag"],
            "additionalProperties": {"type": "string"},
        },
        "message": {"type": "string"},
    },
    "additionalProperties": False,
}

# Outside the precheck subset: validated by jsonschema alone.
WITH_COMBINATORS = {
    "$id": "https://events.example.org/combinators/v1",
    "version": "1",
    "type": "object",
    "properties": {
        "value": {"anyOf": [{"type": "string"}, {"type": "integer", "multipleOf": 3}]},
        "point": {"$ref": "#/definitions/point"},
    },
    "definitions": {
        "point": {
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
            "required": ["x", "y"],
        }
    },
}

# A property with no constraints at all.
ANYTHING = {
    "$id": "https://events.example.org/anything/v1",
    "version": "1",
    "properties": {"when": {}},
}

LOCAL_SCHEMAS = [FILE_SAVED, FILE_SAVED_V2, RICH, WITH_COMBINATORS, ANYTHING]
