"""WS jupyter-events-ext/stream: live delivery, filters, resume, late schemas, slow subscribers."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct

import pytest
from posted_events import COMMAND, DOCUMENT, command
from stream_client import open_stream, read_hello, receive
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

LATE = "https://example.org/late-schema/v1"
LATE_SCHEMA = {
    "$id": LATE,
    "version": "1",
    "title": "Registered after the socket opened",
    "type": "object",
    "properties": {"n": {"type": "integer"}},
}


@pytest.fixture
def connect(jp_ws_fetch, jp_http_port, jp_base_url, jp_auth_header):
    """Open the stream with a raw query string (jp_ws_fetch's params cannot repeat a key)."""

    async def open_stream(query: str):
        url = f"ws://localhost:{jp_http_port}{jp_base_url}jupyter-events-ext/stream?{query}"
        ws = await websocket_connect(HTTPRequest(url, headers=jp_auth_header))
        await read_hello(ws)
        return ws

    return open_stream


async def test_events_arrive_live_as_seq_and_envelope(jp_ws_fetch, post, read_sink):
    ws = await open_stream(jp_ws_fetch)
    await post({"events": [command("a"), command("b")]})
    messages = await receive(ws, 2)
    assert [m["seq"] for m in messages] == [1, 2]
    assert [m["event"] for m in messages] == read_sink()
    ws.close()


async def test_filter_by_schema_id(jp_ws_fetch, post):
    only_documents = await open_stream(jp_ws_fetch, params={"schema_id": DOCUMENT})
    everything = await open_stream(jp_ws_fetch)
    document = {
        "schema_id": DOCUMENT,
        "version": 1,
        "data": {"action": "saved", "path_mode": "omitted"},
    }
    await post({"events": [command(), document, command(), document]})
    filtered = await receive(only_documents, 2)
    assert [m["seq"] for m in filtered] == [2, 4]
    assert {m["event"]["__schema__"] for m in filtered} == {DOCUMENT}
    assert len(await receive(everything, 4)) == 4
    only_documents.close()
    everything.close()


async def test_repeated_filter_keeps_each_schema(jp_fetch, connect, post):
    ws = await connect(f"schema_id={COMMAND}&schema_id={DOCUMENT}")
    document = {
        "schema_id": DOCUMENT,
        "version": 1,
        "data": {"action": "saved", "path_mode": "omitted"},
    }
    await jp_fetch("api", "contents", method="POST", body=json.dumps({"type": "file"}))
    await post({"events": [command(), document]})
    messages = await receive(ws, 2)
    assert [m["event"]["__schema__"] for m in messages] == [COMMAND, DOCUMENT]
    ws.close()


async def test_resume_after_reconnect_misses_nothing(jp_ws_fetch, post):
    ws = await open_stream(jp_ws_fetch)
    await post({"events": [command("1"), command("2")]})
    last = (await receive(ws, 2))[-1]["seq"]
    ws.close()
    await post({"events": [command("3"), command("4")]})  # while disconnected
    ws = await open_stream(jp_ws_fetch, params={"after": str(last)})
    await post(command("5"))
    messages = await receive(ws, 3)
    assert [m["event"]["command_id"] for m in messages] == ["3", "4", "5"]
    assert [m["seq"] for m in messages] == [3, 4, 5]
    ws.close()


async def test_after_beyond_the_last_event_replays_the_buffer(jp_ws_fetch, post):
    await post({"events": [command("1"), command("2")]})
    # A client that saw seq 900 of an earlier run of the server, and gives no run id.
    ws = await open_stream(jp_ws_fetch, params={"after": "900"})
    notice, *messages = await receive(ws, 3)
    assert notice == {"missed": 0, "restarted": True}
    assert [m["seq"] for m in messages] == [1, 2]
    ws.close()


@pytest.mark.parametrize("events_config", [{"stream_buffer_size": 3}])
async def test_events_no_longer_buffered_are_counted(jp_ws_fetch, post, events_config):
    await post({"events": [command(str(i)) for i in range(1, 6)]})
    ws = await open_stream(jp_ws_fetch, params={"after": "0"})
    missed, *messages = await receive(ws, 4)
    assert missed == {"missed": 2}
    assert [m["seq"] for m in messages] == [3, 4, 5]
    ws.close()


@pytest.mark.parametrize("events_config", [{"allowed_client_schemas": [LATE]}])
async def test_schema_registered_after_the_socket_opened(
    jp_ws_fetch, post, events_app, read_sink, events_config
):
    filtered = await open_stream(jp_ws_fetch, params={"schema_id": LATE})
    everything = await open_stream(jp_ws_fetch)
    rejected = await post({"schema_id": LATE, "version": 1, "data": {"n": 0}})
    assert rejected.code == 400

    events_app.event_logger.register_event_schema(LATE_SCHEMA)
    events_app.event_logger.emit(schema_id=LATE, data={"n": 1})
    assert (await post({"schema_id": LATE, "version": 1, "data": {"n": 2}})).code == 204
    for ws in (filtered, everything):
        assert [m["event"]["n"] for m in await receive(ws, 2)] == [1, 2]
        ws.close()
    assert [e["n"] for e in read_sink(LATE)] == [1, 2]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("after=-1", "'after' must be a non-negative integer, not '-1'"),
        ("after=soon", "'after' must be a non-negative integer, not 'soon'"),
        ("schema_id=", "'schema_id' must not be empty"),
    ],
)
async def test_bad_query_is_400_before_the_upgrade(connect, query, message):
    with pytest.raises(HTTPClientError) as error:
        await connect(query)
    assert error.value.code == 400
    assert json.loads(error.value.response.body)["message"] == message


async def test_messages_from_the_client_are_ignored(jp_ws_fetch, post):
    ws = await open_stream(jp_ws_fetch)
    await ws.write_message("hello?")
    await post(command())
    assert (await receive(ws, 1))[0]["event"]["command_id"] == "notebook:run-cell"
    ws.close()


# -- a subscriber that stops reading ---------------------------------------------------


async def open_stalled_socket(port: int, path: str, token: str):
    """A WebSocket that completes the handshake and then never reads: small buffers on
    the client side, so the server's writes back up as they would to a frozen browser.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: token {token}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101"), status
    return reader, writer


def close_frame(data: bytes) -> tuple[int, str] | None:
    """The code and reason of the close frame among the server's (unmasked) frames."""
    at = 0
    while at + 2 <= len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length == 126:
            (length,) = struct.unpack("!H", data[at : at + 2])
            at += 2
        elif length == 127:
            (length,) = struct.unpack("!Q", data[at : at + 8])
            at += 8
        payload = data[at : at + length]
        at += length
        if opcode == 0x8:
            return struct.unpack("!H", payload[:2])[0], payload[2:].decode()
    return None


@pytest.mark.parametrize("events_config", [{"subscriber_queue_size": 200}])
async def test_a_stalled_subscriber_is_closed_and_never_slows_a_healthy_one(
    jp_ws_fetch, jp_http_port, jp_base_url, jp_serverapp, events_app, events_config
):
    token = jp_serverapp.identity_provider.token
    reader, writer = await open_stalled_socket(
        jp_http_port, f"{jp_base_url}jupyter-events-ext/stream", token
    )
    healthy = await open_stream(jp_ws_fetch)
    received: list[int] = []

    async def read_healthy(total: int) -> None:
        while len(received) < total:
            received.append(json.loads(await healthy.read_message())["seq"])

    total = 3000
    reading = asyncio.ensure_future(read_healthy(total))
    padding = "x" * 4000  # big events fill the stalled socket's buffers sooner
    for start in range(0, total, 100):
        for i in range(start, start + 100):
            events_app.event_logger.emit(
                schema_id=COMMAND, data={"command_id": f"c{i}", "args": {"p": padding}}
            )
        # The healthy client keeps up (it shares this event loop, so let it read).
        while len(received) < start:
            await asyncio.sleep(0.001)
    await asyncio.wait_for(reading, 30)
    assert received == list(range(1, total + 1))
    assert events_app.stream.subscriber_count == 1  # only the healthy one is left

    # The stalled client, reading at last, finds the close frame behind what was sent.
    data = await asyncio.wait_for(reader.read(), 30)
    code, reason = close_frame(data) or (None, "")
    assert code == 4429
    assert reason == "fell behind by over 200 events; reconnect with after=<last seq received>"
    writer.close()
    healthy.close()
