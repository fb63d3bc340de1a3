"""The extension's Prometheus metrics, scraped from a running server's ``/metrics``.

Counters are per process and every test has a server of its own in this process, so each
test compares two scrapes of its own server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from pathlib import Path

import pytest
from http_receiver import Behaviour, Receiver
from posted_events import COMMAND, command
from prometheus_client.parser import text_string_to_metric_families
from stream_client import open_stream, receive

from jupyter_events_ext.server.metrics import UNREGISTERED, sink_label
from jupyter_events_ext.sinks.cloudevents_http import CloudEventsHTTPHandler

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(jp_fetch) -> Samples:
    """Every ``jupyter_events_ext_*`` sample: (name, sorted labels) -> value."""
    response = await jp_fetch("metrics")
    assert response.code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            if sample.name.startswith("jupyter_events_ext_"):
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_metrics_need_authentication_as_the_server_says(jp_fetch):
    # ServerApp.authenticate_prometheus defaults to True; jp_fetch sends the token.
    assert (await jp_fetch("metrics")).code == 200
    anonymous = await jp_fetch("metrics", headers={"Authorization": ""}, raise_error=False)
    assert anonymous.code == 403


async def test_posted_events_are_counted_by_registered_schema(jp_fetch, post):
    before = await scrape(jp_fetch)
    batch = {
        "events": [
            command("a", id="m1"),
            command("a", id="m1"),  # a retry: deduplicated
            command("b"),
            {"schema_id": COMMAND, "version": 1, "data": {"command_id": 5}},  # invalid
            {"schema_id": "https://attacker.example/made-up/v1", "version": 1, "data": {}},
            {"schema_id": ["not", "a", "string"], "version": 1, "data": {}},
            "not an event",
        ]
    }
    response = await post(batch)
    assert response.code == 200
    after = await scrape(jp_fetch)

    assert delta(before, after, "jupyter_events_ext_events_recorded_total", schema=COMMAND) == 2
    assert delta(before, after, "jupyter_events_ext_events_deduplicated_total", schema=COMMAND) == 1
    assert delta(before, after, "jupyter_events_ext_events_rejected_total", schema=COMMAND) == 1
    rejected_unregistered = delta(
        before, after, "jupyter_events_ext_events_rejected_total", schema=UNREGISTERED
    )
    assert rejected_unregistered == 3
    # A client cannot make up label values.
    assert not any("attacker" in str(labels) for _, labels in after)


async def test_a_sink_write_failure_is_counted_by_sink(jp_fetch, post, events_app, monkeypatch):
    monkeypatch.setattr(logging, "raiseExceptions", False)  # handleError would print it
    full = logging.FileHandler("/dev/full")  # every flush fails: No space left on device
    events_app.event_logger.register_handler(full)
    try:
        before = await scrape(jp_fetch)
        assert (await post(command("x"))).code == 503
        assert (await post(command("y"))).code == 503
        after = await scrape(jp_fetch)
    finally:
        events_app.event_logger.remove_handler(full)
        with contextlib.suppress(OSError):  # closing flushes what /dev/full refused
            full.close()
    name = "jupyter_events_ext_sink_write_failures_total"
    assert delta(before, after, name, sink="/dev/full") == 2
    # The default file sink wrote both: its own label did not move.
    default_sink = events_app.sinks[0]
    assert delta(before, after, name, sink=sink_label(default_sink)) == 0
    # Not acknowledged, so not counted as recorded.
    assert delta(before, after, "jupyter_events_ext_events_recorded_total", schema=COMMAND) == 0


async def test_stream_subscribers_and_buffer_bytes(jp_fetch, jp_ws_fetch, post, events_app):
    idle = await scrape(jp_fetch)
    assert value(idle, "jupyter_events_ext_stream_subscribers") == 0
    ws = await open_stream(jp_ws_fetch)
    try:
        assert (await post(command("streamed"))).code == 204
        (message,) = await receive(ws, 1)
        assert message["event"]["command_id"] == "streamed"
        live = await scrape(jp_fetch)
        assert value(live, "jupyter_events_ext_stream_subscribers") == 1
        buffered = value(live, "jupyter_events_ext_stream_buffer_bytes")
        assert buffered == events_app.stream.buffered_bytes > 0
    finally:
        ws.close()
    for _ in range(100):  # the server hears the close asynchronously
        if events_app.stream.subscriber_count == 0:
            break
        await asyncio.sleep(0.02)
    assert value(await scrape(jp_fetch), "jupyter_events_ext_stream_subscribers") == 0


async def test_events_sockets_and_their_answers_by_status(jp_fetch, jp_ws_fetch):
    before = await scrape(jp_fetch)
    assert value(before, "jupyter_events_ext_events_sockets") == 0
    ws = await jp_ws_fetch("jupyter-events-ext", "events", "socket")
    try:
        for body in ('{"events": []}', "not json", json.dumps(command()), json.dumps(command())):
            await ws.write_message(body)
            await ws.read_message()
        during = await scrape(jp_fetch)
        assert value(during, "jupyter_events_ext_events_sockets") == 1
        answers = "jupyter_events_ext_events_socket_answers_total"
        assert delta(before, during, answers, status="200") == 1
        assert delta(before, during, answers, status="400") == 1
        assert delta(before, during, answers, status="204") == 2
        recorded = "jupyter_events_ext_events_recorded_total"
        assert delta(before, during, recorded, schema=COMMAND) == 2
    finally:
        ws.close()
    for _ in range(100):  # the server hears the close asynchronously
        if value(await scrape(jp_fetch), "jupyter_events_ext_events_sockets") == 0:
            break
        await asyncio.sleep(0.02)
    assert value(await scrape(jp_fetch), "jupyter_events_ext_events_sockets") == 0


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed on return: connections are refused


@pytest.fixture
def unreachable_sink():
    sink = CloudEventsHTTPHandler(
        f"http://127.0.0.1:{closed_port()}/events", queue_size=2, flush_timeout=0.1
    )
    yield sink
    sink.close()


@pytest.fixture
def refusing_sink():
    """A sink whose receiver refuses every batch for good (400)."""
    receiver = Receiver(behaviour=Behaviour(refuse_with=400)).start()
    sink = CloudEventsHTTPHandler(f"{receiver.url}/events", flush_timeout=0.1)
    yield sink
    sink.close()
    receiver.stop()


@pytest.fixture
def events_config(request):
    """The default sink, or only the network one for the tests that ask for it."""
    for name in ("unreachable_sink", "refusing_sink"):
        if name in request.fixturenames:
            return {"event_handlers": [request.getfixturevalue(name)]}
    return {}


async def test_network_sink_queue_depth_and_drops(jp_fetch, post, unreachable_sink):
    label = sink_label(unreachable_sink)
    before = await scrape(jp_fetch)
    response = await post({"events": [command(f"c{i}") for i in range(5)]})
    assert response.code == 200  # handed to the sink's bounded queue: recorded
    after = await scrape(jp_fetch)
    depth = value(after, "jupyter_events_ext_sink_queue_depth", sink=label)
    dropped = delta(before, after, "jupyter_events_ext_sink_events_dropped_total", sink=label)
    # Nothing can be sent: each event is still waiting or was dropped for a newer one.
    assert depth + dropped == 5
    assert dropped >= 1
    assert (depth, dropped) == (unreachable_sink.pending, unreachable_sink.dropped)


async def test_network_sink_dead_letters(jp_fetch, post, refusing_sink, jp_data_dir):
    label = sink_label(refusing_sink)
    before = await scrape(jp_fetch)
    response = await post({"events": [command(f"c{i}") for i in range(3)]})
    assert response.code == 200
    assert refusing_sink.flush(10)
    after = await scrape(jp_fetch)
    name = "jupyter_events_ext_sink_events_dead_lettered_total"
    assert delta(before, after, name, sink=label) == 3
    # A sink without a file of its own writes to the extension's dead_letter_path.
    dead_letters = Path(jp_data_dir) / "jupyter_events_ext" / "dead-letter.jsonl"
    lines = [json.loads(line) for line in dead_letters.read_text().splitlines()]
    assert [line["event"]["data"]["command_id"] for line in lines] == ["c0", "c1", "c2"]


async def test_a_stopped_server_leaves_the_gauges(jp_fetch, events_app, unreachable_sink):
    depth = ("jupyter_events_ext_sink_queue_depth", (("sink", sink_label(unreachable_sink)),))
    assert depth in await scrape(jp_fetch)
    events_app.metrics.close()  # what stop_extension does
    assert depth not in await scrape(jp_fetch)
    events_app.metrics.open()


def test_sink_labels_are_clipped():
    handler = logging.FileHandler("/dev/null")
    handler.baseFilename = "/data/" + "x" * 500 + "/events.jsonl"
    label = sink_label(handler)
    assert len(label) == 80
    assert label.startswith("/data/xx")
    assert label.endswith("x/events.jsonl")
    handler.close()
