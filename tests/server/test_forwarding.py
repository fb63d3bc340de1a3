"""Forwarding jupyter_server's events: a server schema this extension's stricter loader
refuses is logged and skipped, and never keeps the extension from loading."""

from __future__ import annotations

import logging

from jupyter_events import EventLogger as ServerEventLogger

from jupyter_events_ext.events import EventLogger
from jupyter_events_ext.server.forwarding import ServerEventForwarder
from jupyter_events_ext.server.policy import ClientSchemaPolicy

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
