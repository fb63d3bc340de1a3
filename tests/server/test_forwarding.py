"""Forwarding jupyter_server's events: a server schema this extension's stricter loader
refuses is logged and skipped, and never keeps the extension from loading."""

from __future__ import annotations

import json
import logging

import pytest
from jupyter_events import EventLogger as ServerEventLogger

from jupyter_events_ext.events import EventLogger
from jupyter_events_ext.server.forwarding import ServerEventForwarder
from jupyter_events_ext.server.policy import ClientSchemaPolicy

CONTENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"

# Valid to jupyter_events, which does not check a property's JSON Schema; ours does.
LAX = {
    "$id": "https://example.org/lax/v1",
    "version": "1",
    "type": "object",
    "properties": {"n": {"type": "string", "minLength": -1}},
}
FINE = {
    "$id": "https://example.org/fine/v1",
    "version": "1",
    "type": "object",
    "properties": {"n": {"type": "integer"}},
}


def test_a_refused_server_schema_is_skipped_and_the_others_forwarded(caplog):
    server = ServerEventLogger()
    server.register_event_schema(LAX)
    server.register_event_schema(FINE)
    ours = EventLogger()
    recorded = []
    ours.add_listener(listener=lambda *, logger, schema_id, data: recorded.append(schema_id))
    policy = ClientSchemaPolicy([])
    forwarder = ServerEventForwarder(server, ours, policy, logging.getLogger("test"))

    with caplog.at_level(logging.WARNING):
        forwarder.start([])  # jupyter_server had registered LAX before the extension loaded
        server.emit(schema_id=LAX["$id"], data={"n": "x"})
        server.emit(schema_id=FINE["$id"], data={"n": 1})
        server.emit(schema_id=LAX["$id"], data={"n": "y"})

    assert recorded == [FINE["$id"]]
    refusals = [r.getMessage() for r in caplog.records if "not forwarding" in r.getMessage()]
    assert len(refusals) == 1  # said once, not once per event
    assert LAX["$id"] in refusals[0]
    # Still jupyter_server's own: never postable by a client.
    assert policy.is_server_schema(LAX["$id"])
    assert not policy.may_post(LAX["$id"], "1")
    forwarder.stop()


async def read_file(jp_fetch, path: str) -> None:
    await jp_fetch("api", "contents", path, method="GET")


@pytest.fixture
def a_file(jp_root_dir):
    (jp_root_dir / "notes.txt").write_text("hello")
    return "notes.txt"


async def test_contents_gets_are_not_forwarded_by_default(jp_fetch, read_sink, a_file):
    await read_file(jp_fetch, a_file)
    await jp_fetch(
        "api",
        "contents",
        a_file,
        method="PUT",
        body=json.dumps({"type": "file", "format": "text", "content": "changed"}),
    )
    assert [e["action"] for e in read_sink(CONTENTS)] == ["save"]


@pytest.mark.parametrize("events_config", [{"forward_exclude": []}])
async def test_an_empty_exclude_list_forwards_everything(
    jp_fetch, read_sink, a_file, events_config
):
    await read_file(jp_fetch, a_file)
    assert [e["action"] for e in read_sink(CONTENTS)] == ["get"]


NOTES_ONLY = [{"schema_id": CONTENTS, "action": ["get", "save"], "path": "notes.txt"}]


# Paths as they are, to see them: an entry matches the path jupyter_server emitted, before
# path_mode treats what is forwarded.
@pytest.mark.parametrize("events_config", [{"forward_exclude": NOTES_ONLY, "path_mode": "as-is"}])
async def test_an_entry_matches_values_from_a_list_and_every_field(
    jp_fetch, read_sink, a_file, jp_root_dir, events_config
):
    (jp_root_dir / "other.txt").write_text("x")
    await read_file(jp_fetch, a_file)  # get, notes.txt: excluded
    await read_file(jp_fetch, "other.txt")  # get, other.txt: forwarded
    assert [(e["action"], e["path"]) for e in read_sink(CONTENTS)] == [("get", "other.txt")]


def test_an_exclude_entry_without_a_schema_id_is_refused():
    with pytest.raises(ValueError, match="needs a 'schema_id' string"):
        ServerEventForwarder(
            ServerEventLogger(),
            EventLogger(),
            ClientSchemaPolicy([]),
            logging.getLogger(),
            [{"action": "get"}],
        )
