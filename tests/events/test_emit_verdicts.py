"""Whatever data a Python emitter passes, ``emit`` writes one whole JSON line or raises
one of its documented errors (invalid data, data that cannot be written as JSON), with a
redaction policy that hashes, masks and drops by path, key and value."""

from __future__ import annotations

import io
import json
import logging

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import ValidationError

from jupyter_events_ext.events import EventLogger
from jupyter_events_ext.events.errors import EventSerializationError

SCHEMA = {
    "$id": "https://example.org/anything/v1",
    "version": "1",
    "title": "Anything",
    "description": "Any object, with one property named.",
    "type": "object",
    "properties": {"note": {"title": "Note", "description": "Anything."}},
}
texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=10) | st.sampled_from(
    ["", "\ud800", "path", "token", "x1234y", "__schema__"]
)
keys = texts | st.integers() | st.none() | st.booleans() | st.floats(allow_nan=False)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | texts
    | st.sets(st.integers(), max_size=2)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.tuples(inner) | st.dictionaries(keys, inner, max_size=3)
    ),
    max_leaves=12,
)
data = st.dictionaries(keys, values | st.fixed_dictionaries({"path": texts}), max_size=5)

sink = io.StringIO()
logger = EventLogger(
    handlers=[logging.StreamHandler(sink)],
    redactions=[
        {"path": "*.path", "action": "hash"},
        {"key": "(?i)token", "action": "drop"},
        {"value": "[0-9]{4}", "action": "mask"},
    ],
    redaction_secret="secret",
)
logger.register_event_schema(SCHEMA)


@settings(max_examples=400, deadline=None)
@given(data=data)
def test_emit_writes_one_whole_line_or_raises_a_documented_error(data):
    before = sink.getvalue().count("\n")
    try:
        envelope = logger.emit(schema_id=SCHEMA["$id"], data=data)
    except (ValidationError, EventSerializationError):
        assert sink.getvalue().count("\n") == before  # nothing written
        return
    (line,) = sink.getvalue().splitlines()[before:]
    assert json.loads(line)["__schema__"] == envelope["__schema__"] == SCHEMA["$id"]
