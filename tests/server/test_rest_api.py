"""rest-api.yml is valid OpenAPI, names every route, and real responses follow it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from posted_events import CELL, COMMAND, DOCUMENT, command
from referencing import Registry, Resource

import jupyter_events_ext.server
from jupyter_events_ext.server import events_socket, rest, snapshots, stream_socket
from jupyter_events_ext.server.app import SHIPPED_SCHEMAS

SPEC_PATH = Path(jupyter_events_ext.server.__file__).parent / "rest-api.yml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
SPEC_URI = "urn:jupyter-events-ext:rest-api"
REGISTRY = Registry().with_resource(SPEC_URI, Resource.opaque(SPEC))


def pointer(*parts: str) -> str:
    return SPEC_URI + "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def check_response(path: str, method: str, status: int, body: bytes) -> None:
    """Fail unless the spec lists ``status`` for the route and ``body`` follows it."""
    responses = SPEC["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered {status}, not in the spec"
    response = responses[str(status)]
    base = pointer("paths", path, method, "responses", str(status))
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[1]
        response = SPEC["components"]["responses"][name]
        base = pointer("components", "responses", name)
    if "content" not in response:
        assert body == b"", f"{status} promises no body, got {body[:200]!r}"
        return
    schema = {"$ref": base + "/content/application~1json/schema"}
    Draft202012Validator(schema, registry=REGISTRY).validate(json.loads(body))


def test_spec_is_valid_openapi():
    validate_spec(SPEC)


def test_spec_names_every_route_and_no_other():
    every = [
        *rest.default_handlers,
        *events_socket.default_handlers,
        *stream_socket.default_handlers,
        *snapshots.default_handlers,
    ]
    routes = {pattern for pattern, _ in every}
    assert {"/" + path.strip("/") for path in SPEC["paths"]} == routes


async def test_every_route_answers_as_the_spec_says(jp_fetch, jp_ws_fetch, post):
    for route in ("schemas", "info"):
        response = await jp_fetch("jupyter-events-ext", route)
        check_response(f"/jupyter-events-ext/{route}", "get", response.code, response.body)
    path = "/jupyter-events-ext/events"
    for body in (
        command(),
        {"events": [command(), {"schema_id": COMMAND}]},
        {"schema_id": "nope", "version": 1, "data": {}},
        {"events": [command()] * 1001},
    ):
        response = await post(body)
        check_response(path, "post", response.code, response.body)
    denied = await jp_fetch(
        "jupyter-events-ext", "info", headers={"Authorization": ""}, raise_error=False
    )
    check_response("/jupyter-events-ext/info", "get", denied.code, denied.body)

    ws = await jp_ws_fetch("jupyter-events-ext", "stream", params={"after": "0"})
    stream_schema = {
        "$ref": pointer("paths", "/jupyter-events-ext/stream", "get", "responses", "101")
        + "/content/application~1json/schema"
    }
    for _ in range(2):  # the run's name, then an event
        message = await ws.read_message()
        Draft202012Validator(stream_schema, registry=REGISTRY).validate(json.loads(message))
    ws.close()

    socket_path = "/jupyter-events-ext/events/socket"
    answer_schema = {
        "$ref": pointer("paths", socket_path, "get", "responses", "101")
        + "/content/application~1json/schema"
    }
    ws = await jp_ws_fetch("jupyter-events-ext", "events", "socket")
    statuses = set()
    for body in (
        command(),
        {"events": [command(), {"schema_id": COMMAND}]},
        {"schema_id": "nope", "version": 1, "data": {}},
        {"events": [command()] * 1001},
    ):
        await ws.write_message(json.dumps(body))
        answer = json.loads(await ws.read_message())
        Draft202012Validator(answer_schema, registry=REGISTRY).validate(answer)
        statuses.add(answer["status"])
    ws.close()
    assert statuses == {204, 200, 400, 413}


# -- a property-based run against the spec ------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def property_values(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of one schema property: mostly of its enum or types, sometimes anything."""
    if "enum" in prop:
        typed = st.sampled_from(prop["enum"])
    else:
        by_type = {
            "string": st.text(max_size=30),
            "integer": st.integers(min_value=-5, max_value=10**6),
            "number": st.floats(min_value=-1, max_value=1e6, allow_nan=False),
            "boolean": st.booleans(),
            "null": st.none(),
            "object": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
            "array": st.lists(st.text(max_size=10), max_size=3),
        }
        types = prop.get("type", [])
        types = [types] if isinstance(types, str) else types
        typed = st.one_of(*(by_type[t] for t in types)) if types else json_values
    return st.one_of(typed, typed, typed, json_values)


def shipped_event(path: Path) -> st.SearchStrategy[dict[str, Any]]:
    """Events of a shipped schema, their data drawn from its properties (valid or not)."""
    schema = yaml.safe_load(path.read_text())
    required = set(schema.get("required", []))
    properties = {name: property_values(prop) for name, prop in schema["properties"].items()}
    data = st.fixed_dictionaries(
        {name: value for name, value in properties.items() if name in required},
        optional={name: value for name, value in properties.items() if name not in required},
    )
    return st.fixed_dictionaries(
        {
            "schema_id": st.just(schema["$id"]),
            "version": st.sampled_from([1, "1", 2]),
            "data": data,
        },
        optional={
            "id": st.text(min_size=1, max_size=8),
            "timestamp": st.sampled_from(["2999-01-01T00:00:00Z", "nope", "2026-11-01T00:00:00Z"]),
        },
    )


any_event = st.fixed_dictionaries(
    {
        "schema_id": st.sampled_from([COMMAND, "https://example.org/x", ""]) | st.text(max_size=10),
        "version": json_values,
        "data": json_values,
    },
    optional={"id": json_values, "timestamp": json_values, "__schema__": json_values},
)
events = st.one_of(
    *(shipped_event(path) for path in sorted(SHIPPED_SCHEMAS.glob("*/v1.yaml"))),
    any_event,
    json_values,
)
bodies = st.one_of(
    events,
    st.fixed_dictionaries({"events": st.lists(events, max_size=5)}),
    st.fixed_dictionaries({"events": json_values}),
).map(json.dumps) | st.binary(max_size=40)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_no_body_makes_a_5xx_or_an_answer_outside_the_spec(jp_asyncio_loop, post, body):
    response = jp_asyncio_loop.run_until_complete(post(body))
    assert response.code < 500, response.body
    check_response("/jupyter-events-ext/events", "post", response.code, response.body)


@pytest.mark.parametrize("schema_id", [COMMAND, DOCUMENT, CELL])
async def test_generated_valid_events_are_recorded(jp_fetch, post, read_sink, schema_id):
    response = await jp_fetch("jupyter-events-ext", "schemas")
    (entry,) = [s for s in json.loads(response.body)["schemas"] if s["id"] == schema_id]
    schema = entry["schema"]
    assert entry["client"] is True
    # A minimal valid event: only the required properties, each from its enum or type
    # (the last of an enum: for path_mode, the most protected, which every policy allows).
    data = {}
    for name in schema.get("required", []):
        prop = schema["properties"][name]
        data[name] = prop["enum"][-1] if "enum" in prop else "x"
    assert (await post({"schema_id": schema_id, "version": 1, "data": data})).code == 204
    assert len(read_sink(schema_id)) == 1
