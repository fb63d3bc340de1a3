"""jupyter_server's own POST /api/events, guarded: a client can never make an event that
passes for one the server emitted."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
from posted_events import CONTENTS, KERNEL_ACTIONS

from jupyter_events_ext.server.policy import ClientSchemaPolicy

# A schema another server extension registers with jupyter_server's logger, whose events
# a frontend posts through /api/events (JupyterLab's IEventManager does).
WIDGET = {
    "$id": "https://example.org/widget-clicked/v1",
    "version": "1",
    "type": "object",
    "properties": {"widget": {"type": "string"}},
    "required": ["widget"],
}

server_sink = io.StringIO()


@pytest.fixture
def extra_config():
    """jupyter_server's own sink (c.EventLogger.handlers), beside this extension's."""
    server_sink.seek(0)
    server_sink.truncate()
    return {"EventLogger": {"handlers": [logging.StreamHandler(server_sink)]}}


@pytest.fixture
def widget_schema(jp_serverapp):
    jp_serverapp.event_logger.register_event_schema(WIDGET)
    return WIDGET["$id"]


@pytest.fixture
def post_api_events(jp_fetch):
    async def post(schema_id: str, data: dict, **fields):
        body = {"schema_id": schema_id, "version": 1, "data": data, **fields}
        return await jp_fetch(
            "api", "events", method="POST", body=json.dumps(body), raise_error=False
        )

    return post


def server_lines() -> list[dict]:
    return [json.loads(line) for line in server_sink.getvalue().splitlines()]


def upstream_time(moment: datetime) -> str:
    """A timestamp as /api/events reads it: ``%Y-%m-%dT%H:%M:%S%zZ``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")[:-2] + ":00Z"


@pytest.mark.parametrize(
    ("schema_id", "data"),
    [
        (CONTENTS, {"action": "save", "path": "forged.ipynb"}),
        (KERNEL_ACTIONS, {"action": "start", "msg": "forged", "kernel_id": "k"}),
    ],
)
async def test_jupyter_servers_own_events_cannot_be_posted(
    post_api_events, read_sink, schema_id, data
):
    response = await post_api_events(schema_id, data)
    assert response.code == 400
    message = json.loads(response.body)["message"]
    assert "one of jupyter_server's own schemas, which only the server emits" in message
    # Nowhere: neither this extension's sink nor jupyter_server's own.
    assert read_sink(schema_id) == []
    assert server_lines() == []


async def test_a_posted_event_is_recorded_marked_as_a_clients(
    post_api_events, read_sink, widget_schema
):
    response = await post_api_events(widget_schema, {"widget": "run-button"})
    assert response.code == 204
    (recorded,) = read_sink(widget_schema)
    assert recorded["widget"] == "run-button"
    assert recorded["__client_posted__"] is True
    assert "__user__" not in recorded  # stamp_user is off
    # jupyter_server's own sink is jupyter_server's: as it always wrote it.
    assert [line["widget"] for line in server_lines()] == ["run-button"]


@pytest.mark.parametrize("events_config", [{"stamp_user": True}])
async def test_with_stamp_user_it_carries_the_user(
    post_api_events, read_sink, widget_schema, jp_serverapp, events_config
):
    assert (await post_api_events(widget_schema, {"widget": "w"})).code == 204
    (recorded,) = read_sink(widget_schema)
    assert recorded["__client_posted__"] is True
    assert isinstance(recorded["__user__"], str)
    assert recorded["__user__"]


async def test_server_emitted_events_stay_unmarked(
    jp_fetch, read_sink, widget_schema, jp_serverapp
):
    jp_serverapp.event_logger.emit(schema_id=widget_schema, data={"widget": "from-server"})
    await jp_fetch("api", "contents", method="POST", body=json.dumps({"type": "file"}))
    for schema_id in (widget_schema, CONTENTS):
        (recorded,) = read_sink(schema_id)
        assert "__client_posted__" not in recorded


@pytest.mark.parametrize("events_config", [{"max_event_size": 100}])
async def test_an_oversized_event_is_413_and_recorded_nowhere(
    post_api_events, read_sink, widget_schema, events_config
):
    response = await post_api_events(widget_schema, {"widget": "x" * 200})
    assert response.code == 413
    assert "over max_event_size (100 bytes)" in json.loads(response.body)["message"]
    assert read_sink(widget_schema) == []
    assert server_lines() == []


@pytest.mark.parametrize("days", [-40, 1])
async def test_a_timestamp_out_of_range_is_400(post_api_events, read_sink, widget_schema, days):
    moment = datetime.now(timezone.utc) + timedelta(days=days)
    response = await post_api_events(
        widget_schema, {"widget": "w"}, timestamp=upstream_time(moment)
    )
    assert response.code == 400
    assert "'timestamp'" in json.loads(response.body)["message"]
    assert read_sink(widget_schema) == []


async def test_a_timestamp_in_range_is_kept(post_api_events, read_sink, widget_schema):
    moment = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    response = await post_api_events(
        widget_schema, {"widget": "w"}, timestamp=upstream_time(moment)
    )
    assert response.code == 204
    (recorded,) = read_sink(widget_schema)
    assert recorded["__timestamp__"] == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("events_config", [{"api_events": "refuse"}])
async def test_refuse_closes_api_events_to_every_schema(
    post_api_events, read_sink, widget_schema, events_config
):
    response = await post_api_events(widget_schema, {"widget": "w"})
    assert response.code == 400
    assert "api_events" in json.loads(response.body)["message"]
    assert read_sink(widget_schema) == []
    assert server_lines() == []


async def test_upstreams_own_answers_are_kept(post_api_events, widget_schema):
    response = await post_api_events(widget_schema, {"widget": 1})  # invalid: upstream says
    assert response.code == 400
    response = await post_api_events("https://example.org/unknown/v1", {})
    assert response.code == 400


async def test_it_needs_write_on_events(jp_fetch, widget_schema):
    response = await jp_fetch(
        "api",
        "events",
        method="POST",
        body=json.dumps({"schema_id": CONTENTS, "version": 1, "data": {}}),
        headers={"Authorization": ""},
        raise_error=False,
    )
    assert response.code == 403


def test_the_policy_is_the_one_place_that_decides():
    marking = ClientSchemaPolicy([], api_events="mark")
    assert not marking.may_post_to_api_events(CONTENTS)
    assert marking.may_post_to_api_events(WIDGET["$id"])
    refusing = ClientSchemaPolicy([], api_events="refuse")
    assert not refusing.may_post_to_api_events(WIDGET["$id"])
