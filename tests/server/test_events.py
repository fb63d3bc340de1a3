"""POST jupyter-events-ext/events: batches, idempotency, timestamps, limits, hostile input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from posted_events import CELL, COMMAND, CONTENTS, DOCUMENT, KERNEL_ACTIONS, command
from stream_client import open_stream

from jupyter_events_ext.sinks.jsonl import recorded_ids


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


async def test_one_event_is_recorded_once_and_answered_204(send, read_sink):
    response = await send(command("docmanager:save"))
    assert response.code == 204
    assert response.body == b""
    (envelope,) = read_sink(COMMAND)
    assert envelope["command_id"] == "docmanager:save"
    assert envelope["__schema_version__"] == "1"
    assert envelope["__metadata_version__"] == 1
    assert envelope["__timestamp__"].endswith("Z")
    assert "__user__" not in envelope


async def test_version_may_be_a_string(post, read_sink):
    response = await post({**command(), "version": "1"})
    assert response.code == 204
    assert len(read_sink(COMMAND)) == 1


async def test_batch_records_good_events_beside_bad_ones(send, read_sink):
    events = [
        command("a"),
        {"schema_id": COMMAND, "version": 1, "data": {"command_id": 5}},
        {"schema_id": DOCUMENT, "version": 1, "data": {"action": "opened", "path_mode": "omitted"}},
        "not an event",
        command("b"),
    ]
    response = await send({"events": events})
    assert response.code == 200
    result = json.loads(response.body)
    assert result["accepted"] == 3
    assert result["duplicates"] == 0
    assert [r["index"] for r in result["rejected"]] == [1, 3]
    assert "at data/command_id: 5 is not of type 'string'" in result["rejected"][0]["message"]
    assert result["rejected"][1]["message"] == "an event must be a JSON object, not string"
    assert [e["command_id"] for e in read_sink(COMMAND)] == ["a", "b"]
    assert len(read_sink(DOCUMENT)) == 1


async def test_empty_batch_is_answered_with_nothing_recorded(send, read_sink):
    response = await send({"events": []})
    assert json.loads(response.body) == {"accepted": 0, "duplicates": 0, "rejected": []}
    assert read_sink() == []


async def test_a_retried_id_is_recorded_once(send, read_sink):
    assert (await send(command("x", id="e-1"))).code == 204
    assert (await send(command("x", id="e-1"))).code == 204
    response = await send({"events": [command("x", id="e-1"), command("y", id="e-2")] * 2})
    assert json.loads(response.body) == {"accepted": 1, "duplicates": 3, "rejected": []}
    assert [e["command_id"] for e in read_sink(COMMAND)] == ["x", "y"]


async def test_the_id_is_recorded_in_the_envelope(post, read_sink):
    await post(command("x", id="e-1"))
    await post(command("y"))
    assert [e.get("__id__") for e in read_sink(COMMAND)] == ["e-1", None]


@pytest.fixture
def sink_from_before_a_restart(sink_path):
    """What the server recorded before it restarted: one id, a torn line, a foreign line."""
    sink_path.parent.mkdir(parents=True, exist_ok=True)
    earlier = {"__schema__": COMMAND, "__id__": "sent-before", "command_id": "x"}
    sink_path.write_text(f'{json.dumps(earlier)}\n{{"__id__": "torn\n["not an object"]\n')


async def test_ids_recorded_before_a_restart_are_recognized(
    sink_from_before_a_restart, post, sink_path
):
    response = await post({"events": [command("x", id="sent-before"), command("y", id="new")]})
    assert json.loads(response.body) == {"accepted": 1, "duplicates": 1, "rejected": []}
    recorded_now = sink_path.read_text().splitlines()[3:]
    assert [json.loads(line)["__id__"] for line in recorded_now] == ["new"]


def test_recorded_ids_reads_only_the_end_of_a_sink(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps({"__id__": f"id-{i}"}) + "\n" for i in range(100)))
    line_size = len(json.dumps({"__id__": "id-99"})) + 1
    assert recorded_ids(str(path), max_bytes=3 * line_size) == ["id-97", "id-98", "id-99"]
    assert recorded_ids(str(tmp_path / "missing.jsonl")) == []


async def test_a_rejected_event_does_not_use_up_its_id(send, read_sink):
    bad = {"schema_id": COMMAND, "version": 1, "data": {}, "id": "e-9"}
    assert (await send(bad)).code == 400
    assert (await send(command("fixed", id="e-9"))).code == 204
    assert [e["command_id"] for e in read_sink(COMMAND)] == ["fixed"]


@pytest.mark.parametrize("events_config", [{"recent_ids_size": 2}])
async def test_recent_ids_are_bounded(post, read_sink, events_config):
    for event_id in ("1", "2", "3"):
        await post(command(event_id, id=event_id))
    await post(command("1", id="1"))  # forgotten: the window holds "2" and "3"
    await post(command("3", id="3"))  # remembered
    assert [e["command_id"] for e in read_sink(COMMAND)] == ["1", "2", "3", "1"]


async def test_client_timestamp_is_kept(post, read_sink):
    happened = datetime.now(timezone.utc) - timedelta(hours=2)
    response = await post(command(timestamp=rfc3339(happened)))
    assert response.code == 204
    (envelope,) = read_sink(COMMAND)
    assert envelope["__timestamp__"] == happened.isoformat(timespec="milliseconds")[:-6] + "000Z"


async def test_client_timestamp_with_an_offset_is_recorded_in_utc(post, read_sink):
    local = datetime.now(timezone(timedelta(hours=5, minutes=30))).replace(microsecond=0)
    await post(command(timestamp=local.isoformat()))
    (envelope,) = read_sink(COMMAND)
    expected = local.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    assert envelope["__timestamp__"] == expected + ".000000Z"


@pytest.mark.parametrize(
    ("timestamp", "message"),
    [
        ("yesterday", "is not an RFC 3339 date-time"),
        ("2024-05-26T13:50:00", "is not an RFC 3339 date-time"),
        ("2024-05-26T13:50:00+00:00Z", "is not an RFC 3339 date-time"),
        ("2024-02-30T13:50:00Z", "is not a valid date-time: day is out of range"),
        # The form browsers send (Date.toISOString()), read on a fast path, says the same.
        ("2024-02-30T13:50:00.000Z", "is not a valid date-time: day is out of range"),
        ("2024-05-26T13:50:00,123Z", "is not an RFC 3339 date-time"),
        # Fullwidth digits: digits, but not the ASCII ones RFC 3339 means.
        ("\uff12\uff10\uff12\uff14-05-26T13:50:00.123Z", "is not an RFC 3339 date-time"),
        ("\uff12\uff10\uff12\uff14-05-26T13:50:00Z", "is not an RFC 3339 date-time"),
        ("1970-01-01T00:00:00Z", "is older than max_event_age (2.592e+06 s)"),
        ("2999-01-01T00:00:00Z", "is in the future by more than max_timestamp_skew (300 s)"),
    ],
)
async def test_absurd_timestamps_are_rejected(post, read_sink, timestamp, message):
    response = await post(command(timestamp=timestamp))
    assert response.code == 400
    assert message in json.loads(response.body)["message"]
    assert read_sink() == []


HOSTILE = [
    (b"{not json", 400, "request body is not valid JSON: Expecting property name"),
    (b"", 400, "request body is not valid JSON"),
    (b'{"schema_id": NaN}', 400, "request body is not valid JSON: NaN is not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "request body is not valid JSON"),
    ([command()], 400, "an event must be a JSON object, not array"),
    (None, 400, "an event must be a JSON object, not null"),
    ({"version": 1, "data": {}}, 400, "missing field 'schema_id'"),
    ({"schema_id": COMMAND, "data": {}}, 400, "missing field 'version'"),
    ({"schema_id": COMMAND, "version": 1}, 400, "missing field 'data'"),
    ({**command(), "schema_id": 7}, 400, "'schema_id' must be a string, not integer"),
    ({**command(), "version": True}, 400, "'version' must be a string or an integer, not boolean"),
    ({**command(), "version": 1.5}, 400, "'version' must be a string or an integer, not number"),
    ({**command(), "data": []}, 400, "'data' must be an object, not array"),
    ({**command(), "id": ""}, 400, "'id' must be a string of 1 to 128 characters"),
    ({**command(), "id": "x" * 129}, 400, "'id' must be a string of 1 to 128 characters"),
    ({**command(), "timestamp": 5}, 400, "'timestamp' must be a string, not integer"),
    ({**command(), "user": "mallory"}, 400, "unknown field 'user'"),
    (
        {**command(), "schema_id": "https://example.org/nope/v1"},
        400,
        "unknown schema_id 'https://example.org/nope/v1'",
    ),
    ({**command(), "version": 2}, 400, "has no version '2' in the schema registry"),
    (
        {**command(), "data": {"command_id": "x", "__schema__": "forged"}},
        400,
        "data key '__schema__' is reserved",
    ),
    (
        {**command(), "data": {"command_id": "x", "source": "secret"}},
        400,
        "Additional properties are not allowed ('source' was unexpected)",
    ),
    (
        {"schema_id": CELL, "version": 1, "data": {"phase": "started", "success": True}},
        400,
        "data does not match schema",
    ),
    (
        {"schema_id": KERNEL_ACTIONS, "version": 1, "data": {"action": "start", "msg": "x"}},
        400,
        "it is one of jupyter_server's own schemas, which only the server emits",
    ),
    (
        {"schema_id": CONTENTS, "version": 1, "data": {"action": "get", "path": "x"}},
        400,
        "clients may not post schema",
    ),
    ({**command("x" * 257)}, 400, "is too long"),
    ({"events": {"a": 1}}, 400, "'events' must be an array of events"),
    ({"events": [], "extra": 1}, 400, "unknown field 'extra': a batch has only 'events'"),
]


@pytest.mark.parametrize(("body", "status", "message"), HOSTILE)
async def test_hostile_input_gets_a_precise_4xx(send, read_sink, body, status, message):
    response = await send(body if isinstance(body, bytes) else json.dumps(body))
    assert response.code == status
    reply = json.loads(response.body)
    assert message in reply["message"]
    assert read_sink() == []


async def test_hostile_batch_leaves_exactly_the_valid_events_once(send, read_sink):
    """Every hostile event of the table above in one batch, among valid ones and retries."""
    hostile = [
        body for body, _, _ in HOSTILE[4:] if isinstance(body, dict) and "events" not in body
    ]
    valid = [command(f"ok-{i}", id=f"ok-{i}") for i in range(5)]
    batch = [valid[0], *hostile, valid[1], valid[0], valid[2], *hostile, valid[3], valid[4]]
    response = await send({"events": batch})
    result = json.loads(response.body)
    assert result["accepted"] == 5
    assert result["duplicates"] == 1
    assert len(result["rejected"]) == 2 * len(hostile)
    assert [e["command_id"] for e in read_sink()] == [f"ok-{i}" for i in range(5)]


@pytest.mark.parametrize("events_config", [{"max_body_size": 1000}])
async def test_body_over_the_limit_is_413(send, read_sink, events_config):
    body = json.dumps({"events": [command("x" * 1000)]})
    response = await send(body)
    assert response.code == 413
    assert json.loads(response.body)["message"] == (
        f"request body is {len(body)} bytes, over max_body_size (1000 bytes)"
    )
    assert read_sink() == []


@pytest.mark.parametrize("events_config", [{"max_batch_size": 3}])
async def test_batch_over_the_limit_is_413_and_records_nothing(send, read_sink, events_config):
    response = await send({"events": [command()] * 4})
    assert response.code == 413
    assert json.loads(response.body)["message"] == "batch holds 4 events, over max_batch_size (3)"
    assert read_sink() == []


async def test_a_number_too_large_for_a_double_is_refused_and_the_batch_kept(send, read_sink):
    # 1e400 is valid JSON, but reads as infinity, which no JSON line can hold.
    huge = (
        f'{{"schema_id": "{CELL}", "version": 1, "data": '
        '{"phase": "finished", "success": true, "duration_ms": 1e400}}'
    )
    # The reason is Python's json's own ("Out of range float values are not JSON compliant").
    said = "event data cannot be written as JSON: Out of range float values"
    alone = await send(huge)
    assert alone.code == 400
    assert json.loads(alone.body)["message"].startswith(said)
    batch = await send(
        f'{{"events": [{json.dumps(command("before"))}, {huge}, {json.dumps(command("after"))}]}}'
    )
    result = json.loads(batch.body)
    assert (result["accepted"], result["duplicates"]) == (2, 0)
    (rejected,) = result["rejected"]
    assert rejected["index"] == 1
    assert rejected["message"].startswith(said)
    assert [e["command_id"] for e in read_sink(COMMAND)] == ["before", "after"]
    assert read_sink(CELL) == []


@pytest.mark.parametrize("events_config", [{"max_event_size": 100}])
async def test_event_over_the_limit(send, read_sink, events_config):
    big = command("x" * 100)
    response = await send(big)
    assert response.code == 413
    assert json.loads(response.body)["message"] == (
        "event data is 117 bytes, over max_event_size (100 bytes)"
    )
    response = await send({"events": [command("small"), big]})
    result = json.loads(response.body)
    assert result["accepted"] == 1
    assert result["rejected"] == [
        {"index": 1, "message": "event data is 117 bytes, over max_event_size (100 bytes)"}
    ]
    assert [e["command_id"] for e in read_sink()] == ["small"]


@pytest.mark.parametrize(
    "events_config",
    [{"allowed_client_schemas": [CONTENTS, "https://events.jupyter.org/jupyter_events_ext/x"]}],
)
async def test_allowlist_cannot_open_jupyter_servers_own_schemas(post, read_sink, events_config):
    response = await post(
        {"schema_id": CONTENTS, "version": 1, "data": {"action": "get", "path": "x"}}
    )
    assert response.code == 400
    assert "jupyter_server's own schemas" in json.loads(response.body)["message"]
    assert read_sink(CONTENTS) == []


async def test_user_is_not_stamped_by_default(post, read_sink):
    await post(command())
    assert "__user__" not in read_sink(COMMAND)[0]


class AdaIdentityProvider(IdentityProvider):
    """Token-authenticated requests are Ada's, rather than a random anonymous user's."""

    def generate_anonymous_user(self, handler):
        return User("ada", "Ada Lovelace", "Ada", "A", None, None)


@pytest.mark.parametrize("events_config", [{"stamp_user": True}])
@pytest.mark.parametrize("server_config", [{"identity_provider_class": AdaIdentityProvider}])
async def test_stamp_user_writes_the_authenticated_name(
    send, read_sink, jp_ws_fetch, events_config, server_config
):
    stream = await open_stream(jp_ws_fetch)
    response = await send(command())
    assert response.code == 204
    forged = await send({**command(), "data": {"command_id": "x", "__user__": "mallory"}})
    assert forged.code == 400
    (envelope,) = read_sink(COMMAND)
    assert envelope["__user__"] == "ada"
    assert list(envelope)[:5] == [
        "__timestamp__",
        "__schema__",
        "__schema_version__",
        "__metadata_version__",
        "__user__",
    ]
    streamed = json.loads(await stream.read_message())["event"]
    assert streamed == envelope
    stream.close()
