"""Whatever a client posts, the recorder gives a verdict: recorded, a duplicate, or
rejected saying why (a 4xx). Anything else would be a 500 that fails the rest of its batch,
and that the client retries forever.

Arbitrary JSON values go through the real recorder, EventLogger (with a redaction policy
that hashes and drops), JSON-lines sink and live stream."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_events_ext.events import EventLogger
from jupyter_events_ext.server.event_shape import EventRejected
from jupyter_events_ext.server.policy import ClientSchemaPolicy
from jupyter_events_ext.server.recorder import ClientEventRecorder
from jupyter_events_ext.server.seen_ids import SeenIds
from jupyter_events_ext.server.stream import EventStream
from jupyter_events_ext.sinks.jsonl import JsonLinesFileHandler

SCHEMAS = Path(__file__).parents[2] / "jupyter_events_ext" / "server" / "event_schemas"
COMMAND = "https://events.jupyter.org/jupyter_events_ext/command/v1"

# What json.loads can make: any text (half surrogate pairs included, which JSON escapes
# allow), integers beyond 64 bits, floats up to infinity (1e400), nesting; the edge cases
# given often, and the names the redaction policy acts on.
texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["", "\ud800", "a\udfff", "path", "token", "x1234y", "__schema__", "\x00"]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.sampled_from([float("inf"), float("-inf"), 1e15, -0.0])
    | texts
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(texts | st.sampled_from(["path", "token"]), inner, max_size=3)
    ),
    max_leaves=12,
)
data = st.fixed_dictionaries(
    {"command_id": texts},
    optional={
        "args": st.dictionaries(texts, values | st.fixed_dictionaries({"path": texts}), max_size=4)
    },
)
commands = st.fixed_dictionaries(
    {"schema_id": st.just(COMMAND), "version": st.sampled_from([1, "1", 2]), "data": data},
    optional={"id": texts, "timestamp": texts | st.just("2026-11-27T12:00:00.000Z")},
)
events = commands | values | st.dictionaries(texts, values, max_size=5)


@pytest.fixture
def recorder(tmp_path):
    # One recorder for every example, as a server has one: each counts the lines it adds.
    sink = JsonLinesFileHandler(tmp_path / "events.jsonl")
    stream = EventStream(
        buffer_size=100,
        buffer_bytes=1024 * 1024,
        queue_size=100,
        queue_bytes=1024 * 1024,
        max_subscribers=1,
    )
    logger = EventLogger(
        handlers=[sink, stream],
        redactions=[
            {"path": "args.*.path", "action": "hash"},
            {"key": "(?i)token", "action": "drop"},
            {"value": "[0-9]{4}", "action": "mask"},
        ],
        redaction_secret="secret",
    )
    logger.register_event_schema(SCHEMAS / "command" / "v1.yaml")
    yield ClientEventRecorder(
        logger,
        ClientSchemaPolicy([(COMMAND, "1")]),
        SeenIds(1000, None, logging.getLogger(__name__)),
        [sink, stream],
        max_event_size=200,
        max_event_age=3600 * 24 * 365 * 10,
        max_timestamp_skew=3600 * 24 * 365 * 10,
        stamp_user=True,
    )
    sink.close()


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(batch=st.lists(events, min_size=1, max_size=4))
def test_every_event_gets_a_verdict_and_every_recorded_one_a_whole_line(recorder, batch):
    sink = recorder.holders[0]
    path = Path(sink.baseFilename)
    before = path.read_bytes().count(b"\n") if path.exists() else 0
    recorded = 0
    rejections: list[EventRejected] = []
    with recorder.request():
        for event in batch:
            try:
                recorded += recorder.record(event, user="ada")
            except EventRejected as err:
                rejections.append(err)
    assert all(400 <= err.status < 500 and len(str(err)) < 1000 for err in rejections)
    lines = path.read_bytes().split(b"\n")[before:-1] if path.exists() else []
    assert len(lines) == recorded
    for line in lines:
        assert json.loads(line)["__schema__"] == COMMAND
