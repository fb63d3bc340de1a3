"""WS jupyter-events-ext/events/socket: what the socket adds to POST events (which it
answers alike: the tests taking ``send`` run over both)."""

from __future__ import annotations

import asyncio
import json

import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from posted_events import COMMAND, command
from raw_socket import CLOSE, TEXT, masked_frame, open_raw_socket, read_frame
from tornado.httpclient import HTTPClientError


@pytest.fixture
def open_socket(jp_ws_fetch):
    """Open the events socket (within the test: its event loop is the server's)."""
    opened = []

    async def do_open():
        opened.append(await jp_ws_fetch("jupyter-events-ext", "events", "socket"))
        return opened[-1]

    yield do_open
    for ws in opened:
        ws.close()


async def answer(ws) -> dict:
    message = await asyncio.wait_for(ws.read_message(), 30)
    assert message is not None, "the socket closed instead of answering"
    return json.loads(message)


async def test_messages_sent_at_once_are_answered_in_order(open_socket, read_sink):
    events_socket = await open_socket()
    bodies = []
    for n in range(30):
        if n % 3 == 0:
            bodies.append(json.dumps(command(f"c{n}", id=f"e{n}")))
        elif n % 3 == 1:
            bodies.append(json.dumps({"events": [command(f"c{n}", id=f"e{n}"), {"bad": 1}]}))
        else:
            bodies.append(f"not json {n}")
    for body in bodies:
        await events_socket.write_message(body)
    answers = [await answer(events_socket) for _ in bodies]
    for n, got in enumerate(answers):
        if n % 3 == 0:
            assert got == {"status": 204}
        elif n % 3 == 1:
            assert got["status"] == 200
            assert (got["accepted"], got["duplicates"], len(got["rejected"])) == (1, 0, 1)
        else:
            assert got["status"] == 400
            assert got["message"].startswith("request body is not valid JSON")
    recorded = [e["__id__"] for e in read_sink(COMMAND)]
    assert recorded == [f"e{n}" for n in range(30) if n % 3 != 2]


async def test_an_id_posted_is_a_duplicate_on_the_socket_and_back(post, open_socket, read_sink):
    events_socket = await open_socket()
    assert (await post(command("x", id="same"))).code == 204
    await events_socket.write_message(json.dumps({"events": [command("x", id="same")]}))
    assert await answer(events_socket) == {
        "status": 200,
        "accepted": 0,
        "duplicates": 1,
        "rejected": [],
    }
    await events_socket.write_message(json.dumps({"events": [command("y", id="other")]}))
    assert (await answer(events_socket))["accepted"] == 1
    response = await post({"events": [command("y", id="other")]})
    assert json.loads(response.body)["duplicates"] == 1
    assert [e["__id__"] for e in read_sink(COMMAND)] == ["same", "other"]


async def test_a_binary_message_is_400_and_the_socket_goes_on(open_socket, read_sink):
    events_socket = await open_socket()
    await events_socket.write_message(json.dumps(command("binary")).encode(), binary=True)
    assert await answer(events_socket) == {
        "status": 400,
        "message": "send events in text messages, not binary ones",
    }
    await events_socket.write_message(json.dumps(command("text")))
    assert await answer(events_socket) == {"status": 204}
    assert [e["command_id"] for e in read_sink(COMMAND)] == ["text"]


@pytest.mark.parametrize("events_config", [{"max_body_size": 1000}])
async def test_the_size_is_counted_in_bytes_of_utf8(open_socket, read_sink, events_config):
    events_socket = await open_socket()
    body = json.dumps(command("é" * 600), ensure_ascii=False)
    assert len(body) < 1000 < len(body.encode())
    await events_socket.write_message(body)
    assert await answer(events_socket) == {
        "status": 413,
        "message": f"request body is {len(body.encode())} bytes, over max_body_size (1000 bytes)",
    }
    small = json.dumps(command("é" * 100), ensure_ascii=False)
    await events_socket.write_message(small)
    assert await answer(events_socket) == {"status": 204}
    assert [e["command_id"] for e in read_sink(COMMAND)] == ["é" * 100]


@pytest.mark.parametrize("events_config", [{"max_body_size": 1000}])
async def test_a_message_over_twice_the_limit_is_not_read(open_socket, read_sink, events_config):
    events_socket = await open_socket()
    await events_socket.write_message(json.dumps(command("before")))
    assert await answer(events_socket) == {"status": 204}
    await events_socket.write_message(json.dumps(command("x" * 2000)))
    assert await asyncio.wait_for(events_socket.read_message(), 10) is None
    assert events_socket.close_code == 1009
    assert [e["command_id"] for e in read_sink(COMMAND)] == ["before"]


async def test_a_client_that_does_not_read_its_answers_is_not_read_either(
    http_server_client, jp_http_port, jp_base_url, jp_serverapp, read_sink
):
    """The server reads the next message only once the answer to the last is written: the
    answers of a client that stops reading back up to it, not into the server's memory."""
    reader, writer = await open_raw_socket(
        jp_http_port,
        f"{jp_base_url}jupyter-events-ext/events/socket",
        jp_serverapp.identity_provider.token,
    )
    # Each answer is about 10 KB (99 rejections): 200 of them are far more than the
    # server's send buffer (256 KiB) and the client's receive buffer hold.
    unknown = {"schema_id": "https://example.org/unknown/v1", "version": 1, "data": {}}
    total = 200
    for n in range(total):
        writer.write(masked_frame(json.dumps({"events": [command(id=f"e{n}"), *[unknown] * 99]})))

    # Wait until the server has stopped recording (it stopped reading).
    counts = [-1]
    while True:
        await asyncio.sleep(0.5)
        counts.append(len(read_sink(COMMAND)))
        if counts[-1] == counts[-2]:
            break
    stalled_at = counts[-1]
    assert 0 < stalled_at < total / 2

    # Reading at last: every message is answered, in order, and recorded once.
    answers = []
    while len(answers) < total:
        opcode, payload = await asyncio.wait_for(read_frame(reader), 30)
        assert opcode == TEXT, (opcode, payload[:100])
        answers.append(json.loads(payload))
    assert [(a["status"], a["accepted"], len(a["rejected"])) for a in answers] == [
        (200, 1, 99)
    ] * total
    assert [e["__id__"] for e in read_sink(COMMAND)] == [f"e{n}" for n in range(total)]
    writer.write(b"\x88\x82" + b"\x00" * 4 + b"\x03\xe8")  # close, 1000
    opcode, _ = await asyncio.wait_for(read_frame(reader), 10)
    assert opcode == CLOSE
    writer.close()


async def test_a_message_counts_as_activity_as_a_post_does(
    open_socket, post, jp_serverapp, read_sink
):
    """JupyterHub's idle culler reads api_last_activity: sending events on the socket keeps
    a server as active as posting them."""
    settings = jp_serverapp.web_app.settings
    assert (await post(command("posted"))).code == 204
    after_post = settings["api_last_activity"]
    events_socket = await open_socket()
    await asyncio.sleep(0.01)
    await events_socket.write_message(json.dumps(command("sent")))
    assert await answer(events_socket) == {"status": 204}
    assert settings["api_last_activity"] > after_post


class GraceIdentityProvider(IdentityProvider):
    """Token-authenticated requests are Grace's, rather than a random anonymous user's."""

    def generate_anonymous_user(self, handler):
        return User("grace", "Grace Hopper", "Grace", "G", None, None)


@pytest.mark.parametrize("events_config", [{"max_events_sockets_per_user": 2}])
@pytest.mark.parametrize("server_config", [{"identity_provider_class": GraceIdentityProvider}])
async def test_a_user_may_open_so_many_events_sockets(
    open_socket, jp_ws_fetch, post, read_sink, events_app, events_config, server_config
):
    first = await open_socket()
    await open_socket()
    with pytest.raises(HTTPClientError) as refused:
        await jp_ws_fetch("jupyter-events-ext", "events", "socket")
    assert refused.value.code == 429
    assert json.loads(refused.value.response.body) == {
        "message": "this user has its maximum of 2 events sockets open: "
        "close one, or send by POST events"
    }
    # POST still takes the user's events, and a closed socket frees its place.
    assert (await post(command("by-post"))).code == 204
    first.close()
    sockets = events_app.events_sockets
    while sockets.open_for("grace") == 2:  # the server hears of the close a moment later
        await asyncio.sleep(0.01)
    third = await jp_ws_fetch("jupyter-events-ext", "events", "socket")
    await third.write_message(json.dumps(command("third")))
    assert await answer(third) == {"status": 204}
    third.close()
    assert [e["command_id"] for e in read_sink(COMMAND)] == ["by-post", "third"]
