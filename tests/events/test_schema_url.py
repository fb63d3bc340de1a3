"""register_schema_url, against a local HTTP server (there is no other network here)."""

from __future__ import annotations

import json
import time

import pytest
from jsonschema import ValidationError
from schemas_under_test import FILE_SAVED, README_0_1_0_SCHEMA

from jupyter_events_ext.events import EventLogger, yaml
from jupyter_events_ext.events.errors import (
    EventSchemaFetchError,
    EventSchemaLoadingError,
    EventSchemaUnresolvableRef,
)


@pytest.fixture
def logger(jp_event_handler):
    return EventLogger(handlers=[jp_event_handler])


def test_json_schema_from_url(schema_server, logger, jp_read_emitted_events):
    url = schema_server.serve("/schema.json", json.dumps(README_0_1_0_SCHEMA).encode())
    schema = logger.register_schema_url(url)
    assert schema.id == "url.to.event.schema"
    logger.record_event(schema_id="url.to.event.schema", version=1, event={"name": "n"})
    assert jp_read_emitted_events()[0]["name"] == "n"
    assert schema_server.requested == ["/schema.json"]


def test_yaml_schema_from_url(schema_server, logger):
    url = schema_server.serve("/schema.yaml", yaml.dumps(FILE_SAVED).encode())
    assert logger.register_schema_url(url).id == FILE_SAVED["$id"]


def test_id_and_remote_refs_are_never_fetched(schema_server, logger):
    referenced = schema_server.serve("/defs.json", b'{"definitions": {"n": {"type": "integer"}}}')
    schema = {
        **FILE_SAVED,
        "$id": schema_server.url + "/id-of-the-schema",
        "properties": {"n": {"$ref": referenced + "#/definitions/n"}},
    }
    url = schema_server.serve("/schema.json", json.dumps(schema).encode())
    with pytest.raises(EventSchemaUnresolvableRef, match="never fetched"):
        logger.register_schema_url(url)
    # Same for a schema given directly.
    with pytest.raises(EventSchemaUnresolvableRef):
        logger.register_event_schema(schema)
    assert schema_server.requested == ["/schema.json"]


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/schema.json", "127.0.0.1/schema.json", ""]
)
def test_only_http_and_https(logger, url):
    with pytest.raises(EventSchemaFetchError, match="must be http:// or https://"):
        logger.register_schema_url(url)


def test_http_error_status(schema_server, logger):
    with pytest.raises(EventSchemaFetchError, match="HTTP 404"):
        logger.register_schema_url(schema_server.url + "/missing.json")


def test_connection_refused(schema_server, logger):
    url = schema_server.url + "/schema.json"
    schema_server.httpd.server_close()
    with pytest.raises(EventSchemaFetchError, match="could not be fetched"):
        logger.register_schema_url(url, timeout=2)


def test_timeout(schema_server, logger):
    url = schema_server.serve("/slow.json", json.dumps(FILE_SAVED).encode())
    schema_server.delay = 1.0
    with pytest.raises(EventSchemaFetchError, match="timed out"):
        logger.register_schema_url(url, timeout=0.2)


def test_a_server_that_trickles_cannot_outlast_the_deadline(schema_server, logger):
    # Each byte comes well within the socket timeout, but the whole would take 100 s.
    url = schema_server.serve("/trickle.json", json.dumps(FILE_SAVED).encode())
    schema_server.trickle = 0.25
    started = time.monotonic()
    with pytest.raises(EventSchemaFetchError, match="timed out after 1 s"):
        logger.register_schema_url(url, timeout=1)
    assert time.monotonic() - started < 1.5


def test_redirects_share_one_deadline(schema_server, logger):
    schema_server.delay = 0.4  # per request: three hops take 1.2 s
    target = schema_server.serve("/schema.json", json.dumps(FILE_SAVED).encode())
    hop = schema_server.serve("/hop2", b"", status=302, Location=target)
    url = schema_server.serve("/hop1", b"", status=302, Location=hop)
    started = time.monotonic()
    with pytest.raises(EventSchemaFetchError, match="timed out"):
        logger.register_schema_url(url, timeout=1)
    assert time.monotonic() - started < 1.5


def test_at_most_five_redirects(schema_server, logger):
    for hop in range(9):
        schema_server.serve(f"/r{hop}", b"", status=302, Location=f"{schema_server.url}/r{hop + 1}")
    with pytest.raises(EventSchemaFetchError, match="redirect"):
        logger.register_schema_url(schema_server.url + "/r0")
    assert schema_server.requested == [f"/r{hop}" for hop in range(6)]


def test_declared_size_over_the_cap(schema_server, logger):
    url = schema_server.serve("/big.json", b"{}" * 600)
    with pytest.raises(EventSchemaFetchError, match="1200 bytes, more than the 1000 allowed"):
        logger.register_schema_url(url, max_bytes=1000)


def test_undeclared_size_over_the_cap(schema_server, logger):
    body = json.dumps({**FILE_SAVED, "description": "x" * 5000}).encode()
    # No Content-Length: the body ends when the connection closes, and the cap applies while
    # reading.
    url = schema_server.serve("/big.json", body, Transfer_Encoding="identity")
    with pytest.raises(EventSchemaFetchError, match="larger than the 1000 bytes allowed"):
        logger.register_schema_url(url, max_bytes=1000)


@pytest.mark.parametrize("location", ["ftp://127.0.0.1/schema.json", "file:///etc/passwd"])
def test_redirect_to_another_scheme_is_refused(schema_server, logger, location):
    url = schema_server.serve("/moved", b"", status=302, Location=location)
    with pytest.raises(EventSchemaFetchError, match=r"(?i)redirect"):
        logger.register_schema_url(url)


def test_redirect_within_http_is_followed(schema_server, logger):
    target = schema_server.serve("/schema.json", json.dumps(FILE_SAVED).encode())
    url = schema_server.serve("/moved", b"", status=301, Location=target)
    assert logger.register_schema_url(url).id == FILE_SAVED["$id"]


def test_body_that_is_not_text(schema_server, logger):
    url = schema_server.serve(
        "/bin", b"\xff\xfe\xfd", Content_Type="application/json; charset=utf-8"
    )
    with pytest.raises(EventSchemaFetchError, match="is not utf-8 text"):
        logger.register_schema_url(url)


def test_body_that_is_not_a_schema(schema_server, logger):
    with pytest.raises(EventSchemaLoadingError, match="Could not parse"):
        logger.register_schema_url(schema_server.serve("/broken", b"{broken: ["))
    with pytest.raises(ValidationError, match="'version' is a required property"):
        logger.register_schema_url(
            schema_server.serve("/incomplete", b'{"$id": "x", "properties": {}}')
        )
