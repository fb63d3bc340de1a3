"""Event envelopes as CloudEvents 1.0, checked by the CloudEvents Python SDK's own reader."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

import pytest
from cloudevents.core.formats.json import JSONFormat
from sink_schemas import SCHEMA_ID

from jupyter_events_ext.sinks.cloudevents import CloudEventFormat, source_fields


def read_back(cloudevent: dict):
    """The event as the CloudEvents SDK reads it: it refuses invalid attributes."""
    return JSONFormat().read(None, json.dumps(cloudevent))


@pytest.fixture
def hub_user(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.setenv("JUPYTERHUB_SERVER_NAME", "gpu")


def test_an_event_with_a_client_id_and_a_path(event_logger, hub_user):
    envelope = event_logger(logging.NullHandler()).emit(
        schema_id=SCHEMA_ID,
        data={"source": "ce", "n": 1},
        metadata={"__id__": "client-7", "__user__": "alice"},
    )
    envelope = {**envelope, "path": "work/a.ipynb"}  # as contents events have one

    cloudevent = CloudEventFormat().event(envelope)
    assert cloudevent == {
        "specversion": "1.0",
        "id": "client-7",
        "source": "/hub/user/alice/gpu",
        "type": SCHEMA_ID,
        "dataschema": f"{SCHEMA_ID}?version=1",
        "time": envelope["__timestamp__"],
        "subject": "work/a.ipynb",
        "datacontenttype": "application/json",
        "jupyteruser": "alice",
        "data": {"source": "ce", "n": 1, "path": "work/a.ipynb"},
    }
    event = read_back(cloudevent)
    assert event.get_time() == dt.datetime.fromisoformat(
        envelope["__timestamp__"].replace("Z", "+00:00")
    )
    assert event.get_extension("jupyteruser") == "alice"


def test_without_a_client_id_a_uuid_is_made_and_no_subject(event_logger, hub_user):
    envelope = event_logger(logging.NullHandler()).emit(
        schema_id=SCHEMA_ID, data={"source": "ce", "n": 2}
    )
    format_ = CloudEventFormat()

    first, second = format_.event(envelope), format_.event(envelope)
    assert uuid.UUID(first["id"]).version == 4
    assert first["id"] != second["id"]  # made per call: the sink makes it once per event
    assert "subject" not in first
    read_back(first)


def test_the_source_is_a_template(hub_user, monkeypatch):
    assert CloudEventFormat("/hub/user/{username}/{server}").source == "/hub/user/alice/gpu"
    assert CloudEventFormat("urn:jupyter:{hostname}").source == (
        f"urn:jupyter:{source_fields()['hostname']}"
    )
    monkeypatch.delenv("JUPYTERHUB_SERVER_NAME")
    assert CloudEventFormat().source == "/hub/user/alice/"  # the user's default server
    with pytest.raises(ValueError, match="may name only"):
        CloudEventFormat("/x/{user}")


def test_a_schema_id_that_is_no_uri_gets_no_dataschema():
    envelope = {
        "__schema__": "uri.to.event.schema",  # the 0.1.0 README's example
        "__schema_version__": 1,
        "__timestamp__": "2026-01-02T03:04:05.000006Z",
        "name": "x",
    }
    cloudevent = CloudEventFormat("/s").event(envelope)
    assert "dataschema" not in cloudevent
    assert cloudevent["type"] == "uri.to.event.schema"
    read_back(cloudevent)


def test_metadata_that_is_not_a_string_becomes_json_text():
    envelope = {"__schema__": "https://s/v1", "__origin__": {"tab": 2}, "__flag__": True}
    cloudevent = CloudEventFormat("/s").event(envelope)
    assert (cloudevent["jupyterorigin"], cloudevent["jupyterflag"]) == ('{"tab":2}', True)
    read_back(cloudevent)
