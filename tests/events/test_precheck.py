"""The precheck (the fast path of validation) against jsonschema, on every schema in the suite.

EventSchema.validate runs jsonschema whenever the precheck is not sure, so validation
equals jsonschema's exactly if the precheck never accepts what jsonschema rejects.
Hypothesis hunts for such an instance, formats included, and also checks the end result:
EventSchema.validate raises exactly when a plain jsonschema validator says invalid.
"""

from __future__ import annotations

import collections
import decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, ValidationError
from schemas_under_test import (
    FILE_SAVED,
    JUPYTER_SERVER_SCHEMA_FILES,
    LOCAL_SCHEMAS,
    README_0_1_0_SCHEMA,
    RICH,
)

from jupyter_events_ext.events import yaml
from jupyter_events_ext.events.schema import EventSchema

ALL_SCHEMAS = [
    *LOCAL_SCHEMAS,
    README_0_1_0_SCHEMA,
    *(yaml.load(path) for path in JUPYTER_SERVER_SCHEMA_FILES),
]

# Per format: values that conform, then values that do not (or only look like they do).
FORMAT_SAMPLES = {
    "date-time": (
        ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123456+02:00"],
        [
            "2024-01-01t00:00:00z",
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-01-01 00:00:00",
            "2024-01-01T00:00:00+00:00Z",
            "yesterday",
        ],
    ),
    "date": (["2024-01-01"], ["2024-1-1", "2024-02-30", "20240101"]),
    "uri": (
        ["https://x.org", "https://x.org/a?b=c#d", "urn:isbn:0451450523"],
        ["not a uri", "x", "/relative/path", "http://exa mple.org"],
    ),
    "email": (["a@b.c"], ["nope", "@", "a@", "a@@b"]),
    "ipv4": (["127.0.0.1"], ["256.0.0.1", "1.2.3", "1.2.3.4.5", "a.b.c.d"]),
}

# Python values outside plain JSON, where types are easy to get wrong.
ODD_VALUES = st.sampled_from(
    [
        True,
        False,
        0,
        1.0,
        2.5,
        -0.0,
        float("inf"),
        decimal.Decimal("1.5"),
        collections.OrderedDict(a=1),
        (1, 2),
        b"bytes",
        "",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 20) | st.floats(-2, 2) | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=6,
)
ANY_VALUE = JSON_VALUES | ODD_VALUES

# Per JSON type: near misses that a type check could let through.
NEAR_MISSES = {
    "string": [1, None, b"s", True],
    "integer": [1.0, 3.0, 2.5, True, False, "1", 2**70, decimal.Decimal(2), decimal.Decimal(-7)],
    "number": [
        True,
        "1.5",
        decimal.Decimal("0.5"),
        decimal.Decimal(99),
        float("inf"),
        -0.0,
        10**20,
    ],
    "boolean": [0, 1, "true", None],
    "null": [0, "", False, "null"],
    "array": [(1,), "abc", {"0": 1}],
    "object": [collections.OrderedDict(flag=True), [], "{}"],
}


def _types(schema: dict[str, Any]) -> list[str]:
    types = schema.get("type", [])
    return [types] if isinstance(types, str) else list(types)


def fitting(schema: Any) -> st.SearchStrategy[Any]:
    """Values meant to be valid (the schema's constraints permitting)."""
    if not isinstance(schema, dict):
        return ANY_VALUE
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "format" in schema and schema["format"] in FORMAT_SAMPLES:
        return st.sampled_from(FORMAT_SAMPLES[schema["format"]][0])
    options = []
    for kind in _types(schema) or (["object"] if "properties" in schema else []):
        if kind == "string":
            low, high = schema.get("minLength", 0), schema.get("maxLength", 8)
            if "pattern" in schema:
                text = st.from_regex(schema["pattern"], fullmatch=True)
                options.append(text.filter(lambda t, lo=low, hi=high: lo <= len(t) <= hi))
            else:
                options.append(st.text(min_size=low, max_size=high))
        elif kind == "integer":
            options.append(st.integers(schema.get("minimum", -3), schema.get("maximum", 12)))
        elif kind == "number":
            low, high = schema.get("minimum", -1), schema.get("maximum", 2)
            options += [st.floats(low, high), st.integers(int(low), int(high))]
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind == "null":
            options.append(st.none())
        elif kind == "array":
            options.append(
                st.lists(
                    fitting(schema.get("items", {})),
                    min_size=schema.get("minItems", 0),
                    max_size=schema.get("maxItems", 4),
                )
            )
        elif kind == "object":
            properties = schema.get("properties", {})
            required = schema.get("required", [])
            options.append(
                st.fixed_dictionaries(
                    {name: fitting(properties.get(name, {})) for name in required},
                    optional={
                        name: fitting(sub)
                        for name, sub in properties.items()
                        if name not in required
                    },
                )
            )
    return st.one_of(options) if options else ANY_VALUE


def near(schema: Any) -> st.SearchStrategy[Any]:
    """Values just outside ``schema`` (or inside it: it is not always easy to miss)."""
    if not isinstance(schema, dict):
        return ANY_VALUE
    options = [ANY_VALUE]
    if "enum" in schema or "const" in schema:
        options.append(st.sampled_from([True, 1.0, "HIGH", 0, None]))
    if "format" in schema and schema["format"] in FORMAT_SAMPLES:
        options.append(st.sampled_from(FORMAT_SAMPLES[schema["format"]][1]))
    for kind in _types(schema):
        options.append(st.sampled_from(NEAR_MISSES[kind]))
    if "pattern" in schema or "maxLength" in schema or "minLength" in schema:
        options.append(st.text(max_size=12))
    if "items" in schema or "minItems" in schema or "maxItems" in schema:
        options.append(st.lists(near(schema.get("items", {})), max_size=5))
    if "minimum" in schema or "maximum" in schema:
        options.append(st.integers(-100, 100) | st.floats(-100, 100))
    if "properties" in schema:
        options.append(mutated(schema))
    return st.one_of(options)


def mutated(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A fitting instance of ``schema``, possibly with one thing wrong."""
    properties = schema.get("properties", {})

    def mutate(instance: Any) -> st.SearchStrategy[Any]:
        if not isinstance(instance, dict):
            return st.just(instance)
        options = [st.just(instance)]
        if instance:
            options.append(
                st.sampled_from(
                    [{k: v for k, v in instance.items() if k != key} for key in instance]
                )
            )
        options.append(st.builds(lambda k, v: {**instance, k: v}, st.text(max_size=3), ANY_VALUE))
        if properties:
            options.append(
                st.sampled_from(sorted(properties)).flatmap(
                    lambda key: near(properties[key]).map(lambda v: {**instance, key: v})
                )
            )
        return st.one_of(options)

    return fitting(schema).flatmap(mutate)


def instances_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    return mutated(schema) | near(schema)


def instances_missing_on(schema: dict[str, Any], name: str) -> st.SearchStrategy[Any]:
    """Fitting instances of ``schema`` whose property ``name`` is a near miss."""
    miss = near(schema["properties"][name])
    return fitting(schema).flatmap(lambda instance: miss.map(lambda v: {**instance, name: v}))


def reference_validator(schema: dict[str, Any]) -> Draft7Validator:
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def compiled(schema: dict[str, Any]) -> EventSchema:
    return EventSchema(schema, strict=False)


@pytest.mark.parametrize("schema", ALL_SCHEMAS, ids=lambda s: s["$id"])
def test_precheck_agrees_with_jsonschema(schema):
    event_schema = compiled(schema)

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(instances_for(schema))
    def agree(instance):
        assert_agree(event_schema, instance)

    agree()


def assert_agree(event_schema: EventSchema, instance: Any) -> None:
    valid = reference_validator(event_schema.schema).is_valid(instance)
    if event_schema._precheck is not None and event_schema._precheck(instance):
        assert valid, f"precheck accepted {instance!r}, jsonschema rejects it"
    try:
        event_schema.validate(instance)
    except ValidationError:
        assert not valid
    else:
        assert valid


@pytest.mark.parametrize(
    ("schema", "name"),
    [(schema, name) for schema in ALL_SCHEMAS for name in schema["properties"]],
    ids=lambda value: value if isinstance(value, str) else value["$id"],
)
def test_precheck_agrees_on_each_property(schema, name):
    event_schema = compiled(schema)

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(instances_missing_on(schema, name))
    def agree(instance):
        assert_agree(event_schema, instance)

    agree()


@pytest.mark.parametrize(
    "schema",
    [s for s in ALL_SCHEMAS if s is not LOCAL_SCHEMAS[3]],
    ids=lambda s: s["$id"],
)
def test_schemas_in_the_subset_get_a_precheck(schema):
    assert compiled(schema)._precheck is not None


def test_schemas_outside_the_subset_get_none():
    from schemas_under_test import WITH_COMBINATORS

    assert compiled(WITH_COMBINATORS)._precheck is None


def test_precheck_takes_the_fast_path_for_valid_events():
    assert compiled(FILE_SAVED)._precheck(
        {"action": "save", "path": "p", "user": "u", "size": 1, "duration_ms": 2}
    )
    rich = {
        "when": "2024-01-01T00:00:00Z",
        "where": "https://x.org",
        "tags": ["a", "b"],
        "count": 3,
        "ratio": 0.5,
        "kind": "rich",
        "level": "high",
        "note": None,
        "nested": {"flag": True, "other": "text"},
    }
    assert compiled(RICH)._precheck(rich)


@pytest.mark.parametrize(
    "instance",
    [
        {"size": 1.0},  # an integral float is an integer to jsonschema, not certainly to us
        {"level": 1.0},
        collections.OrderedDict(when="2024-01-01T00:00:00Z", where="https://x.org", tags=["a"]),
    ],
)
def test_precheck_defers_when_unsure_and_jsonschema_decides(instance):
    schema = compiled(RICH)
    assert not schema._precheck(instance)
    reference_ok = reference_validator(schema.schema).is_valid(instance)
    try:
        schema.validate(instance)
        assert reference_ok
    except ValidationError:
        assert not reference_ok
