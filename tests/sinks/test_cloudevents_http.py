"""CloudEventsHTTPHandler against a real HTTP receiver on 127.0.0.1 that fails and recovers."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest
from cloudevents.core.formats.json import JSONFormat
from http_receiver import Behaviour, Receiver
from sink_schemas import SCHEMA_ID

from jupyter_events_ext.sinks.batching import BatchingHandler
from jupyter_events_ext.sinks.cloudevents_http import CloudEventsHTTPHandler
from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler

# close() returns within flush_timeout; this much more for the threads to be scheduled.
CLOSE_SLACK = 0.25


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def handlers(closed_after):
    """Make a CloudEventsHTTPHandler that is closed after the test."""

    def make(url: str, **kwargs) -> CloudEventsHTTPHandler:
        kwargs.setdefault("source", "/test/{hostname}")
        return closed_after(CloudEventsHTTPHandler(url, **kwargs))

    return make


def received(receiver: Receiver) -> list[dict]:
    """Every CloudEvent the receiver kept, in order, each checked by the CloudEvents SDK."""
    events = []
    for request in receiver.kept:
        assert request.headers["content-type"] == "application/cloudevents-batch+json"
        batch = json.loads(request.body)
        assert isinstance(batch, list)
        for cloudevent in batch:
            JSONFormat().read(None, json.dumps(cloudevent))
        events.extend(batch)
    return events


def refused(receiver: Receiver) -> list[dict]:
    """Every CloudEvent the receiver refused, in order."""
    return [event for request in receiver.refused for event in json.loads(request.body)]


def numbers(events: list[dict]) -> list[int]:
    return [event["data"]["n"] for event in events]


def emit_numbered(logger, numbers: range, ids: bool = False) -> None:
    for n in numbers:
        metadata = {"__id__": f"id-{n}"} if ids else None
        logger.emit(schema_id=SCHEMA_ID, data={"source": "http", "n": n}, metadata=metadata)


def test_both_network_sinks_share_one_machinery():
    assert issubclass(CloudEventsHTTPHandler, BatchingHandler)
    assert issubclass(RedisStreamHandler, BatchingHandler)
    # Nothing of the queue or the sender is redefined below the base class.
    for machinery in ("emit", "flush", "close", "_send_forever", "_put_back", "_take"):
        assert machinery not in vars(CloudEventsHTTPHandler)
        assert machinery not in vars(RedisStreamHandler)


def test_events_arrive_as_batches_of_structured_cloudevents(receiver, handlers, event_logger):
    handler = handlers(f"{receiver.url}/ingest?token=s3cret", batch_size=10)
    logger = event_logger(handler)
    sent = [
        logger.emit(
            schema_id=SCHEMA_ID, data={"source": "http", "n": n}, metadata={"__id__": f"c{n}"}
        )
        for n in range(25)
    ]
    assert handler.flush(10)

    assert {request.path for request in receiver.kept} == {"/ingest?token=s3cret"}
    assert all(len(json.loads(request.body)) <= 10 for request in receiver.kept)
    events = received(receiver)
    assert [event["id"] for event in events] == [f"c{n}" for n in range(25)]
    assert [event["data"] for event in events] == [{"source": "http", "n": n} for n in range(25)]
    assert [event["time"] for event in events] == [e["__timestamp__"] for e in sent]
    assert {event["type"] for event in events} == {SCHEMA_ID}
    assert {event["source"] for event in events} == {f"/test/{socket.gethostname()}"}
    assert (handler.sent, handler.dropped, handler.pending) == (25, 0, 0)
    assert "s3cret" not in repr(handler)


def test_headers_are_sent_with_every_request(receiver, handlers, event_logger):
    handler = handlers(receiver.url, headers={"Authorization": "Bearer t0ken"})
    emit_numbered(event_logger(handler), range(3))
    assert handler.flush(10)
    assert {request.headers["authorization"] for request in receiver.kept} == {"Bearer t0ken"}


def test_a_failing_receiver_gets_every_event_once_it_recovers(
    receiver, handlers, event_logger, caplog
):
    # 503 without keeping anything: what is refused is sent again, so once each.
    receiver.behaviour = Behaviour(refuse_with=503)
    handler = handlers(receiver.url, batch_size=20)
    logger = event_logger(handler)
    emit_numbered(logger, range(50))
    assert not handler.flush(0.5)
    assert 503 in receiver.answered
    assert handler.sent == 0

    receiver.behaviour = Behaviour()
    emit_numbered(logger, range(50, 60))
    assert handler.flush(10)
    assert numbers(received(receiver)) == list(range(60))
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "Cannot send events to the CloudEvents endpoint" in m and "503" in m for m in messages
    )
    assert any("again after" in m for m in messages)


def test_a_receiver_that_is_down_gets_every_event_once_it_is_back(handlers, event_logger):
    receiver = Receiver()  # not started: connecting is refused
    handler = handlers(receiver.url, batch_size=20)
    logger = event_logger(handler)
    emit_numbered(logger, range(40))
    assert not handler.flush(0.5)
    assert handler.pending == 40

    receiver.start()
    try:
        # And down again while it is being sent to, then back.
        emit_numbered(logger, range(40, 80))
        assert handler.flush(10)
        receiver.stop()
        emit_numbered(logger, range(80, 100))
        assert not handler.flush(0.3)
        receiver.start()
        assert handler.flush(10)
    finally:
        receiver.stop()
    assert numbers(received(receiver)) == list(range(100))


@pytest.mark.parametrize("ids", [True, False], ids=["client ids", "generated ids"])
def test_lost_answers_make_duplicates_that_a_receiver_removes_by_id(
    receiver, handlers, event_logger, ids
):
    # The receiver keeps every batch but answers 500 to the first three: to the sender
    # they failed, so it sends them again, with the same ids. At least once, then; once
    # exactly for a receiver that deduplicates by (source, id).
    receiver.behaviour = Behaviour(keep_then_fail_with=500)
    handler = handlers(receiver.url, batch_size=10)
    logger = event_logger(handler)
    emit_numbered(logger, range(30), ids=ids)

    # Three failed round trips, then the receiver recovers.
    assert_within(lambda: receiver.answered.count(500) >= 3)
    receiver.behaviour = Behaviour()
    assert handler.flush(10)

    events = received(receiver)
    assert len(events) > 30  # duplicates arrived
    assert sorted(set(numbers(events))) == list(range(30))  # nothing lost
    once = {(event["source"], event["id"]): event for event in events}
    assert sorted(event["data"]["n"] for event in once.values()) == list(range(30))
    assert len(once) == 30  # the same event always carried the same id
    if ids:
        assert {event["id"] for event in events} == {f"id-{n}" for n in range(30)}


def assert_within(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.01)


def test_a_full_queue_drops_the_oldest_and_counts_them(handlers, event_logger, caplog):
    receiver = Receiver()  # down
    handler = handlers(receiver.url, queue_size=20, batch_size=5)
    emit_numbered(event_logger(handler), range(50))
    # The batch the sender took returns to the queue when its send fails; from then on
    # the count is final.
    assert_within(lambda: handler.dropped == 30)
    assert handler.pending == 20

    receiver.start()
    try:
        assert handler.flush(10)
    finally:
        receiver.stop()
    assert numbers(received(receiver)) == list(range(30, 50))


@pytest.mark.parametrize("outage", ["refusing", "silent"])
def test_close_returns_within_flush_timeout_when_the_receiver_is_down(
    handlers, event_logger, caplog, outage
):
    # "refusing": nothing listens on the port. "silent": something accepts connections
    # and never answers, so a request would wait the whole timeout (10 s) but for
    # close() cutting it short.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    if outage == "silent":
        listener.listen()
        threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    else:
        listener.close()
    try:
        handler = handlers(f"http://127.0.0.1:{port}/", flush_timeout=0.5, timeout=10)
        emit_numbered(event_logger(handler), range(10))
        time.sleep(0.2)  # the sender is now waiting for an answer, or to retry

        started = time.monotonic()
        handler.close()
        took = time.monotonic() - started
    finally:
        listener.close()
        for connection in accepted:
            connection.close()

    assert took <= 0.5 + CLOSE_SLACK, took
    assert (handler.sent, handler.pending) == (0, 10)
    assert any("with 10 events not sent" in r.getMessage() for r in caplog.records)
    if outage == "silent":
        assert len(accepted) == 1  # the request was really under way


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "example.org/events", "http:///path-without-host"]
)
def test_only_http_urls_are_accepted(url):
    with pytest.raises(ValueError, match="http:// or https://"):
        CloudEventsHTTPHandler(url)


def test_records_that_are_not_events_are_reported_not_sent(receiver, handlers, capsys):
    handler = handlers(receiver.url)
    log = logging.Logger("plain")
    log.addHandler(handler)
    log.warning("not an event")
    assert handler.flush(1)
    assert handler.sent == 0
    assert "not an event envelope" in capsys.readouterr().err


def test_a_batch_refused_for_good_goes_to_the_dead_letter_file(
    receiver, handlers, event_logger, tmp_path, caplog
):
    # 400: the receiver will refuse this batch however often it comes. It must not be
    # retried until the queue overflows, nor hold back the events behind it.
    dead_letters = tmp_path / "dead" / "dead-letter.jsonl"
    receiver.behaviour = Behaviour(refuse_with=400)
    handler = handlers(receiver.url, batch_size=20, dead_letter_path=str(dead_letters))
    logger = event_logger(handler)
    emit_numbered(logger, range(5))
    assert handler.flush(10)
    assert handler.dead_lettered == 5
    assert handler.pending == 0
    assert numbers(refused(receiver)) == [0, 1, 2, 3, 4]  # each sent once, never again

    receiver.behaviour = Behaviour()
    emit_numbered(logger, range(5, 8))
    assert handler.flush(10)
    assert numbers(received(receiver)) == [5, 6, 7]
    assert numbers(refused(receiver)) == [0, 1, 2, 3, 4]

    lines = [json.loads(line) for line in dead_letters.read_text().splitlines()]
    assert [line["event"]["data"]["n"] for line in lines] == [0, 1, 2, 3, 4]
    assert {line["sink"] for line in lines} == {f"CloudEvents endpoint {receiver.url}"}
    assert {line["reason"] for line in lines} == {"HTTP 400 Bad Request: failing on purpose"}
    assert all(line["dead_lettered_at"].endswith("Z") for line in lines)
    assert dead_letters.stat().st_mode & 0o777 == 0o600
    assert dead_letters.parent.stat().st_mode & 0o777 == 0o700
    messages = [r.getMessage() for r in caplog.records]
    assert any("refused" in m and str(dead_letters) in m for m in messages)


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_statuses_worth_retrying_keep_the_batch_waiting(
    receiver, handlers, event_logger, tmp_path, status
):
    receiver.behaviour = Behaviour(refuse_with=status)
    handler = handlers(receiver.url, dead_letter_path=str(tmp_path / "dead.jsonl"))
    logger = event_logger(handler)
    emit_numbered(logger, range(3))
    assert not handler.flush(0.3)
    assert handler.pending == 3
    assert handler.dead_lettered == 0
    assert not (tmp_path / "dead.jsonl").exists()


def test_without_a_dead_letter_file_a_refused_batch_is_dropped_counted_and_warned(
    receiver, handlers, event_logger, caplog
):
    receiver.behaviour = Behaviour(refuse_with=413)
    handler = handlers(receiver.url)
    logger = event_logger(handler)
    emit_numbered(logger, range(4))
    assert handler.flush(10)
    assert handler.dropped == 4
    assert numbers(refused(receiver)) == [0, 1, 2, 3]
    messages = [r.getMessage() for r in caplog.records]
    assert any("refused" in m and "dropped" in m for m in messages)
