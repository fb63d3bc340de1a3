"""WS jupyter-events-ext/stream: live delivery, filters, resume, late schemas, slow subscribers."""

from __future__ import annotations

import asyncio
import json

import pytest
from posted_events import COMMAND, DOCUMENT, command
from raw_socket import close_frame, open_raw_socket
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


@pytest.mark.parametrize("events_config", [{"subscriber_queue_size": 200}])
async def test_a_stalled_subscriber_is_closed_and_never_slows_a_healthy_one(
    jp_ws_fetch, jp_http_port, jp_base_url, jp_serverapp, events_app, events_config
):
    token = jp_serverapp.identity_provider.token
    reader, writer = await open_raw_socket(
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
    assert reason == (
        "fell behind by over 200 events or 4194304 bytes; reconnect with after=<last seq received>"
    )
    writer.close()
    healthy.close()


@pytest.mark.parametrize("events_config", [{"subscriber_queue_bytes": 1024 * 1024}])
async def test_a_stalled_subscriber_holds_no_more_than_its_bytes(
    http_server_client, jp_http_port, jp_base_url, jp_serverapp, events_app, events_config
):
    """Few events, each large: far below the count bound, the bytes bound closes it."""
    token = jp_serverapp.identity_provider.token
    reader, writer = await open_raw_socket(
        jp_http_port, f"{jp_base_url}jupyter-events-ext/stream", token
    )
    padding = "x" * 30_000
    (subscription,) = events_app.stream._subscriptions
    held = 0
    try:
        for i in range(400):  # 12 MB: more than the socket's buffers and the bound together
            events_app.event_logger.emit(
                schema_id=COMMAND, data={"command_id": f"c{i}", "args": {"p": padding}}
            )
            held = max(held, sum(map(len, subscription._queue)))
            await asyncio.sleep(0)
        assert subscription.closed
        assert held <= 1024 * 1024
        assert events_app.stream.subscriber_count == 0
        data = await asyncio.wait_for(reader.read(), 30)
        code, reason = close_frame(data) or (None, "")
        assert code == 4429
        assert reason == (
            "fell behind by over 5000 events or 1048576 bytes; "
            "reconnect with after=<last seq received>"
        )
    finally:
        writer.close()


# -- bounded, honest, ordered --------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("after=%D9%A1%D9%A2", "'after' must be a non-negative integer, not '\u0661\u0662'"),
        ("after=" + "9" * 30, f"'after' must be a non-negative integer, not '{'9' * 30}'"),
        ("after=", "'after' must be a non-negative integer, not ''"),
        ("run_id=" + "Z" * 10, f"'run_id' must be a run id from GET info, not '{'Z' * 10}'"),
    ],
)
async def test_hostile_positions_are_400_json(connect, query, message):
    with pytest.raises(HTTPClientError) as error:
        await connect(query)
    assert error.value.code == 400
    assert json.loads(error.value.response.body) == {"message": message}


async def test_a_long_bad_after_is_not_echoed_whole(connect):
    with pytest.raises(HTTPClientError) as error:
        await connect("after=" + "x" * 20_000)
    assert error.value.code == 400
    assert len(json.loads(error.value.response.body)["message"]) < 400


@pytest.mark.parametrize("events_config", [{"max_subscribers": 2}])
async def test_subscribers_are_capped_with_a_reason(jp_ws_fetch, connect, events_config):
    first = await open_stream(jp_ws_fetch)
    second = await open_stream(jp_ws_fetch)
    with pytest.raises(HTTPClientError) as error:
        await connect("")
    assert error.value.code == 429
    assert json.loads(error.value.response.body) == {
        "message": "the live stream has its maximum of 2 subscribers"
    }
    first.close()
    for _ in range(100):  # the server notices the close
        try:
            third = await connect("")
            break
        except HTTPClientError:
            await asyncio.sleep(0.02)
    else:
        pytest.fail("a freed place was never given again")
    second.close()
    third.close()


@pytest.mark.parametrize("events_config", [{"stream_buffer_bytes": 20_000}])
async def test_the_buffer_is_bounded_in_bytes(jp_fetch, jp_ws_fetch, post, events_config):
    padded = {**command(), "data": {"command_id": "c", "args": {"p": "x" * 900}}}
    await post({"events": [padded] * 60})
    info = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)
    buffered = info["stream"]["buffered_bytes"]
    assert 18_000 < buffered <= 20_000  # whole events of about 1 KB each
    ws = await open_stream(jp_ws_fetch, params={"after": "0", "run_id": info["run_id"]})
    (missed,) = await receive(ws, 1)
    kept = 60 - missed["missed"]
    assert missed == {"missed": 60 - kept}
    replayed = await receive(ws, kept)
    assert [m["seq"] for m in replayed] == list(range(61 - kept, 61))
    assert sum(len(json.dumps({"seq": m["seq"], "event": m["event"]})) for m in replayed) > 0
    ws.close()


async def test_the_first_message_names_the_run(jp_fetch, jp_ws_fetch, post):
    await post(command())
    ws = await jp_ws_fetch("jupyter-events-ext", "stream")
    hello = await read_hello(ws)
    info = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)
    assert hello == {"run_id": info["run_id"], "last_seq": 1}
    ws.close()


async def test_resuming_from_another_run_replays_everything_and_says_so(jp_ws_fetch, post):
    await post({"events": [command("1"), command("2"), command("3")]})
    # seq 2 of an earlier run: this run's 1 and 2 are new to the client, not seen.
    ws = await open_stream(jp_ws_fetch, params={"after": "2", "run_id": "0" * 32})
    notice, *messages = await receive(ws, 4)
    assert notice == {"missed": 0, "restarted": True}
    assert [m["event"]["command_id"] for m in messages] == ["1", "2", "3"]
    ws.close()


async def test_resuming_within_the_run_is_as_before(jp_fetch, jp_ws_fetch, post):
    await post({"events": [command("1"), command("2"), command("3")]})
    run_id = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)["run_id"]
    ws = await open_stream(jp_ws_fetch, params={"after": "2", "run_id": run_id})
    await post(command("4"))
    assert [m["event"]["command_id"] for m in await receive(ws, 2)] == ["3", "4"]
    ws.close()


async def test_a_position_beyond_this_run_is_refused(connect, jp_fetch):
    run_id = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)["run_id"]
    with pytest.raises(HTTPClientError) as error:
        await connect(f"after=5&run_id={run_id}")
    assert error.value.code == 400
    assert json.loads(error.value.response.body) == {
        "message": "'after' is 5, beyond the last event of this run (0)"
    }


async def test_events_from_other_threads_arrive_in_order_never_dropped(jp_ws_fetch, events_app):
    ws = await open_stream(jp_ws_fetch)
    per_thread, threads = 300, 4

    def emit_many(name: str) -> None:
        for i in range(per_thread):
            events_app.event_logger.emit(schema_id=COMMAND, data={"command_id": f"{name}{i}"})

    loop = asyncio.get_running_loop()
    workers = [loop.run_in_executor(None, emit_many, f"t{n}-") for n in range(threads)]
    # The loop's own thread emits meanwhile, between the others' events.
    for i in range(per_thread):
        events_app.event_logger.emit(schema_id=COMMAND, data={"command_id": f"loop{i}"})
        if i % 10 == 0:
            await asyncio.sleep(0)
    await asyncio.gather(*workers)
    total = per_thread * (threads + 1)
    messages = await receive(ws, total)
    assert [m["seq"] for m in messages] == list(range(1, total + 1))
    ws.close()


async def test_a_long_replay_waits_for_the_socket(
    jp_http_port, jp_base_url, jp_serverapp, events_app, post
):
    padding = "x" * 4000
    for start in range(0, 2000, 200):
        events = [command(f"c{i}{padding}") for i in range(start, start + 200)]
        assert (await post({"events": events})).code == 200
    token = jp_serverapp.identity_provider.token
    _, writer = await open_raw_socket(
        jp_http_port, f"{jp_base_url}jupyter-events-ext/stream?after=0", token
    )
    await asyncio.sleep(0.5)  # time for the server to write all it would
    (subscription,) = events_app.stream._subscriptions
    pending_in_tornado = len(subscription._send.__self__.ws_connection.stream._write_buffer)
    # 2000 events of 4 KB are 8 MB: only a flush window's worth may sit in tornado's buffer.
    assert pending_in_tornado < 512 * 1024
    writer.close()
