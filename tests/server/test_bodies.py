"""Request bodies are refused by their announced size before they are read: a client
cannot make the server read (and hold) more than each route's limit."""

from __future__ import annotations

import asyncio
import json

import pytest

# Far over every limit, and never sent: the server must answer without reading it.
ANNOUNCED = 100 * 1024 * 1024


async def announce(port: int, path: str, token: str, length: int, method: str = "POST"):
    """Send only the headers of a request whose body is ``length`` bytes; return what the
    server answers before any of the body is sent (status line, headers, body) and whether
    it then closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: token {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    try:
        # A server that waits for the body never answers: the guard turns that into a failure.
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        status, *header_lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in header_lines if line)
        body = await asyncio.wait_for(reader.readexactly(int(headers["Content-Length"])), 10)
        closed = await asyncio.wait_for(reader.read(), 10) == b""
    finally:
        writer.close()
    return status, json.loads(body), closed


@pytest.fixture
def announce_to(http_server_client, jp_http_port, jp_base_url, jp_serverapp):
    token = jp_serverapp.identity_provider.token

    async def send(route: str, length: int = ANNOUNCED, method: str = "POST"):
        return await announce(
            jp_http_port, f"{jp_base_url}jupyter-events-ext/{route}", token, length, method
        )

    return send


async def test_an_events_body_over_the_limit_is_refused_unread(announce_to, read_sink):
    status, reply, closed = await announce_to("events")
    assert status.startswith("HTTP/1.1 413 ")
    assert reply["message"] == (
        f"request body is {ANNOUNCED} bytes, over max_body_size (1048576 bytes)"
    )
    assert closed  # the body is never read: the connection cannot go on
    assert read_sink() == []


@pytest.mark.parametrize("events_config", [{"snapshot_dir": "snapshots"}])
async def test_a_snapshot_over_the_limit_is_refused_unread(announce_to, events_config):
    status, reply, closed = await announce_to("snapshots")
    assert status.startswith("HTTP/1.1 413 ")
    assert reply["message"] == (
        f"snapshot is {ANNOUNCED} bytes, over snapshot_max_bytes (10485760 bytes)"
    )
    assert closed


@pytest.mark.parametrize("route", ["schemas", "info"])
async def test_a_get_with_a_body_is_refused_unread(announce_to, route):
    status, reply, closed = await announce_to(route, method="GET")
    assert status.startswith("HTTP/1.1 413 ")
    assert reply["message"] == f"request body is {ANNOUNCED} bytes, over 0 bytes"
    assert closed


@pytest.mark.parametrize("events_config", [{"max_body_size": 1000}])
async def test_a_chunked_body_is_cut_off_at_the_limit(
    http_server_client, jp_http_port, jp_base_url, jp_serverapp, read_sink, events_config
):
    # No length announced: the server reads up to the limit, then drops the connection.
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    writer.write(
        (
            f"POST {jp_base_url}jupyter-events-ext/events HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: token {jp_serverapp.identity_provider.token}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
    )
    chunk = b"x" * 600
    try:
        for _ in range(3):
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert read_sink() == []
