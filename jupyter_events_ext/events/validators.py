"""Validation of event schemas against the event meta-schema, and of envelopes.

Names match jupyter_events 0.12's ``validators`` module. The meta-schemas are JSON
files in ``metaschemas/``.
"""

from __future__ import annotations

import copy
import json
import pathlib
import warnings
from typing import Any

from jsonschema import Draft7Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT7

from .errors import JupyterEventsVersionWarning

draft7_format_checker = Draft7Validator.FORMAT_CHECKER

METASCHEMA_PATH = pathlib.Path(__file__).parent / "metaschemas"
EVENT_METASCHEMA_FILEPATH = METASCHEMA_PATH / "event-metaschema.json"
PROPERTY_METASCHEMA_FILEPATH = METASCHEMA_PATH / "property-metaschema.json"
EVENT_CORE_SCHEMA_FILEPATH = METASCHEMA_PATH / "event-core-schema.json"

EVENT_METASCHEMA: dict[str, Any] = json.loads(EVENT_METASCHEMA_FILEPATH.read_text("utf-8"))
PROPERTY_METASCHEMA: dict[str, Any] = json.loads(PROPERTY_METASCHEMA_FILEPATH.read_text("utf-8"))
EVENT_CORE_SCHEMA: dict[str, Any] = json.loads(EVENT_CORE_SCHEMA_FILEPATH.read_text("utf-8"))

# jupyter_events 0.1.0 accepted any $id, e.g. its README's "url.to.event.schema".
LEGACY_EVENT_METASCHEMA: dict[str, Any] = copy.deepcopy(EVENT_METASCHEMA)
LEGACY_EVENT_METASCHEMA["$id"] += "/legacy"
LEGACY_EVENT_METASCHEMA["properties"]["$id"]["format"] = "uri-reference"

SCHEMA_STORE = {
    schema["$id"]: schema
    for schema in (
        EVENT_METASCHEMA,
        LEGACY_EVENT_METASCHEMA,
        PROPERTY_METASCHEMA,
        EVENT_CORE_SCHEMA,
    )
}
METASCHEMA_REGISTRY: Registry[Any] = [
    DRAFT7.create_resource(schema) for schema in SCHEMA_STORE.values()
] @ Registry()

JUPYTER_EVENTS_SCHEMA_VALIDATOR = Draft7Validator(
    EVENT_METASCHEMA, registry=METASCHEMA_REGISTRY, format_checker=draft7_format_checker
)
LEGACY_SCHEMA_VALIDATOR = Draft7Validator(
    LEGACY_EVENT_METASCHEMA, registry=METASCHEMA_REGISTRY, format_checker=draft7_format_checker
)
JUPYTER_EVENTS_CORE_VALIDATOR = Draft7Validator(
    EVENT_CORE_SCHEMA, registry=METASCHEMA_REGISTRY, format_checker=draft7_format_checker
)


def validate_schema(
    schema: dict[str, Any],
    *,
    strict: bool = True,
    validator_class: type[Any] = Draft7Validator,
) -> None:
    """Raise ``ValidationError`` unless ``schema`` is a valid event schema.

    Checks the event meta-schema (a URI ``$id``, a ``version``, ``properties``,
    no ``__``-prefixed property name at any depth), then that ``schema`` is valid
    JSON Schema for ``validator_class``. An integer ``version`` is coerced to a string
    in place, with a ``JupyterEventsVersionWarning`` when ``strict``.

    ``strict=False`` accepts what jupyter_events 0.1.0 accepted: any URI reference as
    ``$id`` (such as ``"url.to.event.schema"``) and an integer version, silently.
    """
    version = schema.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        schema["version"] = str(version)
        if strict:
            msg = (
                "The `version` property of an event schema must be a string. It has been "
                f"coerced to one; please update schema {schema.get('$id')!r}."
            )
            warnings.warn(JupyterEventsVersionWarning(msg), stacklevel=4)

    metaschema_validator = JUPYTER_EVENTS_SCHEMA_VALIDATOR if strict else LEGACY_SCHEMA_VALIDATOR
    error = best_match(metaschema_validator.iter_errors(schema))
    if error is None:
        error = best_match(_json_schema_validator(validator_class).iter_errors(schema))
    if error is not None:
        raise _explain_reserved_name(error)


def _json_schema_validator(validator_class: type[Any]) -> Any:
    validator = _META_VALIDATORS.get(validator_class)
    if validator is None:
        meta_schema = validator_class.META_SCHEMA
        validator = _META_VALIDATORS[validator_class] = validator_class(
            meta_schema, format_checker=validator_class.FORMAT_CHECKER
        )
    return validator


_META_VALIDATORS: dict[type[Any], Any] = {}


def _explain_reserved_name(error: ValidationError) -> ValidationError:
    """Say why ``'__x' does not match '^(?!__)'``, as jupyter_events does."""
    if error.validator != "pattern" or error.validator_value != "^(?!__)":
        return error
    where = "/".join(str(part) for part in error.absolute_path) or "the schema"
    message = (
        f"{error.instance!r} (in {where}) is an invalid property name because it starts with "
        "`__`. Properties starting with 'dunder' are reserved as special meta-fields for "
        "Jupyter Events to use."
    )
    return ValidationError(
        message,
        validator=error.validator,
        path=error.absolute_path,
        schema_path=error.absolute_schema_path,
        instance=error.instance,
        schema=error.schema,
        validator_value=error.validator_value,
    )
