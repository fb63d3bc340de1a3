from __future__ import annotations

import json
import pathlib

import pytest
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT7
from schemas_under_test import FILE_SAVED, FILE_SAVED_V2, README_0_1_0_SCHEMA, WITH_COMBINATORS

from jupyter_events_ext.events import yaml
from jupyter_events_ext.events.errors import (
    EventSchemaUnresolvableRef,
    JupyterEventsVersionWarning,
    SchemaNotFound,
)
from jupyter_events_ext.events.schema import (
    EventSchema,
    EventSchemaFileAbsent,
    EventSchemaLoadingError,
    EventSchemaUnrecognized,
    load_schema,
)
from jupyter_events_ext.events.schema_registry import (
    SchemaRegistry,
    SchemaRegistryException,
    version_key,
)
from jupyter_events_ext.events.validators import JUPYTER_EVENTS_CORE_VALIDATOR, validate_schema

# -- loading ------------------------------------------------------------------------------


def test_load_schema_forms(tmp_path):
    assert load_schema(FILE_SAVED) is FILE_SAVED
    assert load_schema(json.dumps(FILE_SAVED)) == FILE_SAVED
    assert load_schema(yaml.dumps(FILE_SAVED)) == FILE_SAVED
    path = tmp_path / "s.yaml"
    yaml.dump(FILE_SAVED, path)
    assert load_schema(path) == FILE_SAVED
    assert yaml.load(path) == FILE_SAVED


def test_load_schema_errors(tmp_path):
    with pytest.raises(EventSchemaUnrecognized, match="received int"):
        load_schema(42)
    with pytest.raises(EventSchemaFileAbsent, match="not present"):
        load_schema(tmp_path / "missing.yaml")
    with pytest.raises(EventSchemaLoadingError, match="explicitly wrapped in a Pathlib"):
        load_schema("my_schema.yaml")
    with pytest.raises(EventSchemaLoadingError, match="proper form"):
        load_schema("just words")
    with pytest.raises(EventSchemaLoadingError, match="Could not parse"):
        load_schema("{unclosed: [")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe{")
    with pytest.raises(EventSchemaLoadingError, match="Could not parse"):
        load_schema(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(EventSchemaLoadingError, match="dictionary"):
        load_schema(listed)


# -- EventSchema --------------------------------------------------------------------------


def test_event_schema_properties():
    schema = EventSchema(FILE_SAVED)
    assert schema.id == FILE_SAVED["$id"]
    assert schema.version == "1"
    assert schema.properties == FILE_SAVED["properties"]
    assert schema.schema == FILE_SAVED
    assert schema.schema is not FILE_SAVED  # a copy: later changes to the dict do not leak in
    assert json.loads(repr(schema)) == FILE_SAVED
    assert EventSchema._load_schema is load_schema


def test_integer_version_is_coerced_with_a_warning_in_strict_mode():
    with pytest.warns(JupyterEventsVersionWarning, match="must be a string"):
        schema = EventSchema({**FILE_SAVED, "version": 2})
    assert schema.version == "2"


def test_legacy_mode_accepts_0_1_0_schemas_silently():
    schema = EventSchema(README_0_1_0_SCHEMA, strict=False)
    assert (schema.id, schema.version) == ("url.to.event.schema", "1")


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({**FILE_SAVED, "properties": {"x": {"type": "strin"}}}, "'strin' is not valid"),
        ({k: v for k, v in FILE_SAVED.items() if k != "version"}, "'version' is a required"),
        ({k: v for k, v in FILE_SAVED.items() if k != "$id"}, "'$id' is a required"),
        ({k: v for k, v in FILE_SAVED.items() if k != "properties"}, "'properties' is a required"),
        ({**FILE_SAVED, "$id": "url.to.event.schema"}, "is not a 'uri'"),
        ({**FILE_SAVED, "version": 1.5}, "1.5 is not of type 'string'"),
        ({**FILE_SAVED, "required": "action"}, "'action' is not of type 'array'"),
        (
            {**FILE_SAVED, "properties": {"n": {"minimum": "zero"}}},
            "'zero' is not of type 'number'",
        ),
        ({**FILE_SAVED, "properties": {"p": {"pattern": "("}}}, "is not a 'regex'"),
    ],
)
def test_invalid_schemas_are_refused_at_registration(schema, message):
    with pytest.raises(ValidationError, match=message.replace("$", r"\$").replace("(", r"\(")):
        EventSchema(schema)


@pytest.mark.parametrize(
    "properties",
    [
        {"__timestamp__": {"type": "string"}},
        {"outer": {"type": "object", "properties": {"__inner": {}}}},
        {"list": {"items": {"properties": {"__in_items": {}}}}},
        {"choice": {"anyOf": [{"properties": {"__in_anyof": {}}}]}},
        {
            "deep": {
                "properties": {"a": {"properties": {"b": {"not": {"properties": {"__x": {}}}}}}}
            }
        },
    ],
)
def test_dunder_property_names_are_reserved_at_any_depth(properties):
    with pytest.raises(ValidationError, match="reserved as special meta-fields"):
        EventSchema({**FILE_SAVED, "properties": properties})
    with pytest.raises(ValidationError, match="reserved as special meta-fields"):
        EventSchema({**README_0_1_0_SCHEMA, "properties": properties}, strict=False)


def test_required_envelope_field_is_refused():
    with pytest.raises(ValidationError, match="reserved"):
        EventSchema({**FILE_SAVED, "required": ["__schema__"]})


def test_validate_schema_other_validator_class():
    schema = {**FILE_SAVED, "properties": {"x": {"type": "strin"}}}
    with pytest.raises(ValidationError):
        validate_schema(dict(schema), validator_class=Draft202012Validator)
    event_schema = EventSchema(FILE_SAVED, validator_class=Draft202012Validator)
    with pytest.raises(ValidationError):
        event_schema.validate({})


def test_local_refs_resolve_and_validate():
    schema = EventSchema(WITH_COMBINATORS)
    schema.validate({"point": {"x": 1, "y": 2}, "value": 9})
    with pytest.raises(ValidationError, match="'y' is a required property"):
        schema.validate({"point": {"x": 1}})
    with pytest.raises(ValidationError):
        schema.validate({"value": 4})


def test_refs_into_a_given_registry():
    other = {"$id": "https://x.org/defs", "definitions": {"n": {"type": "integer"}}}
    registry = DRAFT7.create_resource(other) @ Registry()
    schema = EventSchema(
        {
            **FILE_SAVED,
            "required": [],
            "properties": {"n": {"$ref": "https://x.org/defs#/definitions/n"}},
        },
        registry=registry,
    )
    with pytest.raises(ValidationError, match="not of type 'integer'"):
        schema.validate({"n": "one"})


def test_unresolvable_ref_is_refused_at_registration():
    schema = {**FILE_SAVED, "properties": {"n": {"$ref": "#/definitions/missing"}}}
    with pytest.raises(EventSchemaUnresolvableRef, match="never fetched"):
        EventSchema(schema)


# -- the registry -------------------------------------------------------------------------


def test_registry_api():
    registry = SchemaRegistry({FILE_SAVED["$id"]: EventSchema(FILE_SAVED)})
    assert FILE_SAVED["$id"] in registry
    registry.register(FILE_SAVED_V2)
    assert registry.schema_ids == [FILE_SAVED["$id"]]
    assert registry.versions(FILE_SAVED["$id"]) == ["1", "2"]
    assert registry.get(FILE_SAVED["$id"]).version == "2"
    assert registry.get(FILE_SAVED["$id"], 1).version == "1"
    assert "https://events.example.org/file-saved/v1" in repr(registry)
    registry.validate_event(FILE_SAVED["$id"], {"action": "save", "path": "p"})
    with pytest.raises(ValidationError):
        registry.validate_event(FILE_SAVED["$id"], {"action": "save", "path": "p"}, version="1")
    with pytest.raises(SchemaRegistryException, match="already registered"):
        registry.register(EventSchema(FILE_SAVED))
    registry.remove(FILE_SAVED["$id"], "2")
    assert registry.versions(FILE_SAVED["$id"]) == ["1"]
    registry.remove(FILE_SAVED["$id"], "1")
    assert FILE_SAVED["$id"] not in registry
    registry.register(FILE_SAVED)
    registry.remove(FILE_SAVED["$id"])
    assert registry.schema_ids == []


def test_registry_lookup_errors_are_key_errors():
    registry = SchemaRegistry()
    for call in (
        lambda: registry.get("https://x.org/nope"),
        lambda: registry.remove("https://x.org/nope"),
        lambda: registry.versions("https://x.org/nope"),
    ):
        with pytest.raises(KeyError) as info:
            call()
        assert isinstance(info.value, SchemaNotFound)
        assert isinstance(info.value, SchemaRegistryException)
        assert str(info.value).startswith("The requested schema, https://x.org/nope, was not found")
    registry.register(FILE_SAVED)
    with pytest.raises(SchemaNotFound, match="registered versions: 1"):
        registry.remove(FILE_SAVED["$id"], "9")


def test_version_key_orders_numerically():
    versions = ["10", "2", "1.10", "1.9", "1", "1.0.1"]
    assert sorted(versions, key=version_key) == ["1", "1.0.1", "1.9", "1.10", "2", "10"]


# -- the envelope schema ------------------------------------------------------------------


def test_core_schema_accepts_our_envelopes_and_refuses_upstreams_timestamp():
    envelope = {
        "__timestamp__": "2024-01-01T00:00:00.000000Z",
        "__schema__": "s",
        "__schema_version__": "1",
        "__metadata_version__": 1,
    }
    JUPYTER_EVENTS_CORE_VALIDATOR.validate(envelope)
    with pytest.raises(ValidationError):
        JUPYTER_EVENTS_CORE_VALIDATOR.validate(
            {**envelope, "__timestamp__": "2024-01-01T00:00:00+00:00Z"}
        )


def test_metaschemas_ship_as_files():
    from jupyter_events_ext.events import validators

    for path in (
        validators.EVENT_METASCHEMA_FILEPATH,
        validators.PROPERTY_METASCHEMA_FILEPATH,
        validators.EVENT_CORE_SCHEMA_FILEPATH,
    ):
        assert isinstance(path, pathlib.Path)
        assert json.loads(path.read_text())["$id"] in validators.SCHEMA_STORE
