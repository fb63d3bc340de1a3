"""RedisStreamHandler's exactly-once for events with ids, against a real redis-server."""

from __future__ import annotations

import json
import logging
import pathlib
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
from sink_schemas import SCHEMA_ID

from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler

STREAM = "events"
HERE = pathlib.Path(__file__).parent


@pytest.fixture
def handlers(closed_after):
    """Make a RedisStreamHandler that is closed after the test."""

    def make(url: str, **kwargs) -> RedisStreamHandler:
        kwargs.setdefault("stream", STREAM)
        return closed_after(RedisStreamHandler(url, **kwargs))

    return make


def emit(logger, n: int, event_id: str | None) -> None:
    metadata = {"__id__": event_id} if event_id is not None else None
    logger.emit(schema_id=SCHEMA_ID, data={"source": "dedup", "n": n}, metadata=metadata)


def arrived(redis_server) -> list[tuple[int, str | None]]:
    """(n, __id__) of every entry, oldest first."""
    events = [json.loads(entry["event"]) for entry in redis_server.entries(STREAM)]
    return [(event["n"], event.get("__id__")) for event in events]


def test_the_same_id_from_two_handlers_is_added_once(redis_server, handlers, event_logger):
    first, second = handlers(redis_server.url), handlers(redis_server.url)
    emit(event_logger(first), 1, "a")
    assert first.flush(10)
    # A retry of "a" through another handler (as after a server restart), and a new "b".
    logger = event_logger(second)
    emit(logger, 2, "a")
    emit(logger, 3, "b")
    assert second.flush(10)

    assert arrived(redis_server) == [(1, "a"), (3, "b")]
    assert (first.sent, first.duplicates) == (1, 0)
    assert (second.sent, second.duplicates) == (2, 1)


def test_repeats_within_one_batch_are_added_once(redis_server, handlers, event_logger):
    handler = handlers(redis_server.url, batch_size=100)
    logger = event_logger(handler)
    for n in range(6):
        emit(logger, n, f"id-{n % 3}")
    assert handler.flush(10)

    assert arrived(redis_server) == [(0, "id-0"), (1, "id-1"), (2, "id-2")]
    assert handler.duplicates == 3


def test_events_without_an_id_are_never_deduplicated(redis_server, handlers, event_logger):
    handler = handlers(redis_server.url)
    logger = event_logger(handler)
    for _ in range(3):
        emit(logger, 7, None)
    assert handler.flush(10)

    assert arrived(redis_server) == [(7, None)] * 3
    assert handler.duplicates == 0


def test_an_id_is_accepted_again_after_the_window(
    redis_server, handlers, event_logger, redis_client
):
    handler = handlers(redis_server.url, dedup_window=0.3)
    logger = event_logger(handler)
    emit(logger, 1, "a")
    assert handler.flush(10)
    emit(logger, 2, "a")  # within the window: skipped
    assert handler.flush(10)
    time.sleep(0.4)
    emit(logger, 3, "a")  # after it: a new event
    assert handler.flush(10)

    assert arrived(redis_server) == [(1, "a"), (3, "a")]
    assert handler.duplicates == 1
    # The set holds the ids of one window only, and goes away with the last of them.
    assert redis_client.zrange("events:ids", 0, -1) == [b"a"]
    assert 0 < redis_client.pttl("events:ids") <= 300
    time.sleep(0.4)
    assert not redis_client.exists("events:ids")


def test_a_window_of_none_turns_deduplication_off(
    redis_server, handlers, event_logger, redis_client
):
    handler = handlers(redis_server.url, dedup_window=None)
    logger = event_logger(handler)
    emit(logger, 1, "a")
    emit(logger, 2, "a")
    assert handler.flush(10)

    assert arrived(redis_server) == [(1, "a"), (2, "a")]
    assert not redis_client.exists("events:ids")


def test_records_whose_text_spans_lines_are_deduplicated_too(redis_server, handlers):
    # Not an EventLogger's: the id comes from the envelope itself, sent one argument each.
    handler = handlers(redis_server.url)
    log = logging.Logger("plain")
    log.addHandler(handler)
    envelope = {"__schema__": SCHEMA_ID, "__id__": "x\ny", "n": 1}
    for text in (json.dumps(envelope, indent=1), json.dumps(envelope), "free\ntext"):
        log.warning(text)
    assert handler.flush(10)

    assert [entry["event"].decode() for entry in redis_server.entries(STREAM)] == [
        json.dumps(envelope, indent=1),
        "free\ntext",
    ]
    assert handler.duplicates == 1


def test_the_dedup_key_can_be_named(redis_server, handlers, event_logger, redis_client):
    handler = handlers(redis_server.url, dedup_key="{events}:recent")
    emit(event_logger(handler), 1, "a")
    assert handler.flush(10)
    assert redis_client.zrange("{events}:recent", 0, -1) == [b"a"]


def test_an_id_costs_redis_about_150_bytes(redis_server, handlers, event_logger, redis_client):
    # The figure the docstring and docs/operators/jupyterhub.md give for sizing the window.
    handler = handlers(redis_server.url)
    logger = event_logger(handler)
    count = 5000
    for n in range(count):
        emit(logger, n, str(uuid.uuid4()))
    assert handler.flush(20)

    per_id = redis_client.memory_usage("events:ids", samples=0) / count
    assert 100 <= per_id <= 200, per_id


EMITTER = textwrap.dedent(
    """
    import sys
    from jupyter_events_ext.events.logger import EventLogger
    from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler
    from sink_schemas import SCHEMAS, SCHEMA_ID

    url, stream, source, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    handler = RedisStreamHandler(url, stream, batch_size=50)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(SCHEMAS[0])
    for n in range(count):
        logger.emit(
            schema_id=SCHEMA_ID, data={"source": source, "n": n}, metadata={"__id__": f"id-{n}"}
        )
    handler.close()
    print(handler.sent, handler.duplicates)
    """
)


def run_emitters(redis_server, sources: list[str], count: int) -> list[tuple[int, int]]:
    """Run one emitting process per source at once; (sent, duplicates) of each."""
    emitters = [
        subprocess.Popen(
            [sys.executable, "-c", EMITTER, redis_server.url, STREAM, source, str(count)],
            cwd=str(HERE),
            stdout=subprocess.PIPE,
            text=True,
        )
        for source in sources
    ]
    outputs = [emitter.communicate(timeout=60)[0] for emitter in emitters]
    assert [emitter.returncode for emitter in emitters] == [0] * len(sources)
    return [tuple(int(word) for word in output.split()) for output in outputs]


def test_the_same_ids_from_processes_at_once_and_after_a_restart_arrive_once(redis_server):
    count = 1000
    # Two server processes sending the same ids at the same time, e.g. a retry that
    # reached both of them.
    first = run_emitters(redis_server, ["p0", "p1"], count)
    events = [json.loads(entry["event"]) for entry in redis_server.entries(STREAM)]
    assert sorted(event["__id__"] for event in events) == sorted(f"id-{n}" for n in range(count))
    assert sum(sent for sent, _ in first) == 2 * count
    assert sum(duplicates for _, duplicates in first) == count

    # A process started later (a restarted server) retrying all of them adds nothing.
    (again,) = run_emitters(redis_server, ["p2"], count)
    assert again == (count, count)
    assert len(redis_server.entries(STREAM)) == count


def test_a_batch_that_fails_in_redis_is_not_remembered_as_seen(
    redis_server, handlers, event_logger, redis_client
):
    # Redis does not undo a script's writes when it fails half-way: an id must be
    # recorded only with its entry, or the retry would be skipped and the event lost.
    redis_client.set(STREAM, "not a stream")  # every XADD fails until an operator fixes it
    handler = handlers(redis_server.url)
    logger = event_logger(handler)
    for n in range(5):
        emit(logger, n, f"id-{n}")
    assert not handler.flush(0.5)
    assert redis_client.zcard("events:ids") == 0

    redis_client.delete(STREAM)
    assert handler.flush(10)
    assert arrived(redis_server) == [(n, f"id-{n}") for n in range(5)]
    assert handler.duplicates == 0
