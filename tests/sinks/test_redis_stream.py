"""RedisStreamHandler against a real redis-server."""

from __future__ import annotations

import json
import logging
import logging.config
import multiprocessing
import pathlib
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import pytest
from sink_schemas import OTHER_SCHEMA_ID, SCHEMA_ID, SCHEMAS
from traitlets.config import Config

from jupyter_events_ext.events.logger import EventLogger
from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler

STREAM = "events"


@pytest.fixture
def handlers(closed_after):
    """Make a RedisStreamHandler that is closed after the test."""

    def make(url: str, **kwargs) -> RedisStreamHandler:
        kwargs.setdefault("stream", STREAM)
        return closed_after(RedisStreamHandler(url, **kwargs))

    return make


def numbers(entries: list[dict[str, bytes]]) -> list[int]:
    return [json.loads(entry["event"])["n"] for entry in entries]


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def emit_numbered(
    logger: EventLogger, numbers: range, source: str = "test", ids: bool = False
) -> None:
    """Emit events numbered ``numbers``; with ``ids``, each with the id ``<source>-<n>``."""
    for n in numbers:
        metadata = {"__id__": f"{source}-{n}"} if ids else None
        logger.emit(schema_id=SCHEMA_ID, data={"source": source, "n": n}, metadata=metadata)


def test_each_event_becomes_one_entry_with_its_envelope_and_schema(
    redis_server, handlers, event_logger
):
    handler = handlers(redis_server.url)
    logger = event_logger(handler)
    sent = [
        logger.emit(schema_id=SCHEMA_ID if n % 2 else OTHER_SCHEMA_ID, data={"source": "a", "n": n})
        for n in range(50)
    ]

    assert handler.flush(10)
    entries = redis_server.entries(STREAM)
    assert [json.loads(entry["event"]) for entry in entries] == sent
    assert [entry["schema"].decode() for entry in entries] == [e["__schema__"] for e in sent]
    assert all(set(entry) == {"event", "schema"} for entry in entries)
    assert (handler.sent, handler.dropped, handler.pending) == (50, 0, 0)


def test_records_that_are_not_envelopes_keep_their_text_and_order(redis_server, handlers):
    handler = handlers(redis_server.url)
    log = logging.Logger("plain")
    log.addHandler(handler)
    messages = ["one line", "two\nlines", "", '{"__schema__": "https://a/\\"quoted\\""}', "last"]
    for message in messages:
        log.warning(message)

    assert handler.flush(10)
    entries = redis_server.entries(STREAM)
    assert [entry["event"].decode() for entry in entries] == messages
    # A $id with JSON escapes is decoded; text that is not an envelope gets no schema field.
    assert [entry.get("schema") for entry in entries] == [
        None,
        None,
        None,
        b'https://a/"quoted"',
        None,
    ]


EMITTER = textwrap.dedent(
    """
    import sys
    from jupyter_events_ext.events.logger import EventLogger
    from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler
    from sink_schemas import SCHEMAS, SCHEMA_ID

    url, stream, source, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    handler = RedisStreamHandler(url, stream, batch_size=64)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(SCHEMAS[0])
    for n in range(count):
        logger.emit(schema_id=SCHEMA_ID, data={"source": source, "n": n})
    handler.close()
    sys.exit(0 if handler.sent == count else 1)
    """
)


def test_events_from_several_processes_arrive_exactly_once(redis_server):
    processes, count = 4, 2000
    emitters = [
        subprocess.Popen(
            [sys.executable, "-c", EMITTER, redis_server.url, STREAM, f"p{i}", str(count)],
            cwd=str(pathlib.Path(__file__).parent),
        )
        for i in range(processes)
    ]
    assert [emitter.wait(60) for emitter in emitters] == [0] * processes

    events = [json.loads(entry["event"]) for entry in redis_server.entries(STREAM)]
    assert len(events) == processes * count
    arrived = {(event["source"], event["n"]) for event in events}
    assert arrived == {(f"p{i}", n) for i in range(processes) for n in range(count)}
    # Each process's events keep their order in the shared stream.
    for i in range(processes):
        assert [e["n"] for e in events if e["source"] == f"p{i}"] == list(range(count))


def _emit_in_child(handler: RedisStreamHandler, count: int) -> None:
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(SCHEMAS[0])
    logger.emit(schema_id=SCHEMA_ID, data={"source": "child", "n": 0})
    sys.exit(0 if handler.flush(10) and handler.sent == count else 1)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork()")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_sends_its_own_events_not_its_parents(make_redis_server, handlers):
    # The parent's events wait (Redis is down) when it forks: the child must not send them.
    server = make_redis_server(start=False)
    handler = handlers(server.url, socket_timeout=1)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(SCHEMAS[0])
    emit_numbered(logger, range(1, 11), source="parent")
    server.start()

    child = multiprocessing.get_context("fork").Process(target=_emit_in_child, args=(handler, 1))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert handler.flush(10)

    events = [json.loads(entry["event"]) for entry in server.entries(STREAM)]
    assert sorted((e["source"], e["n"]) for e in events) == [("child", 0)] + [
        ("parent", n) for n in range(1, 11)
    ]


@pytest.mark.parametrize("ids", [True, False], ids=["with ids", "without ids"])
def test_events_wait_while_redis_is_down_and_none_is_lost(make_redis_server, handlers, caplog, ids):
    # Stopping Redis may lose the answer to a batch it ran: that batch is sent again.
    # With ids, the script skips it (exactly once); without, it is there twice.
    server = make_redis_server(durable=True)
    handler = handlers(server.url, queue_size=100_000, batch_size=100, socket_timeout=2)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(SCHEMAS[0])
    emitted = 0

    def emit_for(seconds: float) -> None:
        nonlocal emitted
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            emit_numbered(logger, range(emitted, emitted + 50), ids=ids)
            emitted += 50
            time.sleep(0.005)

    emit_for(0.5)
    server.stop()
    sent_when_stopped = handler.sent
    emit_for(1.0)
    # Nothing can have been sent meanwhile; the events wait in the queue.
    assert handler.sent == sent_when_stopped
    assert handler.pending >= emitted - sent_when_stopped > 0
    server.start()
    emit_for(0.5)

    assert handler.flush(20)
    assert handler.dropped == 0
    arrived = numbers(server.entries(STREAM))
    if ids:
        assert arrived == list(range(emitted))
    else:
        # In order, once each, but for one batch at most sent again whole (a batch holds
        # what waited when it was taken, up to batch_size: not always 100).
        assert list(dict.fromkeys(arrived)) == list(range(emitted))
        assert 0 <= len(arrived) - emitted <= 100
    assert handler.sent == emitted
    # The skipped batch, if any; events without ids are never deduplicated.
    assert 0 <= handler.duplicates <= (100 if ids else 0)
    messages = [
        r.getMessage() for r in caplog.records if r.name.startswith("jupyter_events_ext.sinks")
    ]
    assert any("Cannot send events to the Redis stream" in m for m in messages)
    assert any("again after" in m for m in messages)


def test_a_full_queue_drops_the_oldest_counts_them_and_warns(make_redis_server, handlers, caplog):
    server = make_redis_server(start=False)
    handler = handlers(server.url, queue_size=100, batch_size=30, socket_timeout=1)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(SCHEMAS[0])

    emit_numbered(logger, range(250))
    # A batch the sender had taken returns to the queue when its send fails, and is then
    # the oldest: only from that moment is the count final.
    assert wait_until(lambda: handler.dropped == 150), handler.dropped
    assert handler.pending == 100
    server.start()
    assert handler.flush(20)
    handler.close()

    assert numbers(server.entries(STREAM)) == list(range(150, 250))
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Dropped ")]
    # Rate-limited: one warning as drops begin at most, plus the rest reported at close.
    assert 1 <= len(warnings) <= 2
    assert sum(int(message.split()[1]) for message in warnings) == 150


def test_close_flushes_what_is_waiting(redis_server, handlers, event_logger):
    handler = handlers(redis_server.url, batch_size=10)
    logger = event_logger(handler)
    emit_numbered(logger, range(5000))
    handler.close()

    assert numbers(redis_server.entries(STREAM)) == list(range(5000))


# close() must return within flush_timeout whatever Redis does; this much more is
# allowed for the threads to be scheduled on a busy machine.
CLOSE_SLACK = 0.25


@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_close_returns_within_flush_timeout_when_redis_is_down(
    make_redis_server, handlers, event_logger, caplog, outage
):
    # "stopped": nothing listens, connecting fails at once and the sender backs off.
    # "frozen" (SIGSTOP): the kernel still accepts connections but Redis never answers,
    # so a round trip would hang for socket_timeout, far beyond flush_timeout.
    server = make_redis_server(start=outage == "frozen")
    if outage == "frozen":
        server.process.send_signal(signal.SIGSTOP)
    try:
        handler = handlers(server.url, flush_timeout=0.5, socket_timeout=10)
        logger = event_logger(handler)
        emit_numbered(logger, range(10))
        time.sleep(0.2)  # the sender is now connecting, or waiting to retry

        started = time.monotonic()
        handler.close()
        took = time.monotonic() - started
    finally:
        if outage == "frozen":
            server.process.send_signal(signal.SIGCONT)

    print(f"close() took {took:.3f} s with Redis {outage}")
    assert took <= 0.5 + CLOSE_SLACK, took
    assert handler.pending == 10
    assert handler.sent == 0
    messages = [r.getMessage() for r in caplog.records]
    (warning,) = [m for m in messages if "with 10 events not sent" in m]
    # Only a round trip under way can have reached Redis with its answer lost.
    assert ("in a batch whose round trip was cut short" in warning) == (outage == "frozen")
    # Used again after close(), it opens again, as a FileHandler does: nothing is dropped.
    emit_numbered(logger, range(10, 13))
    assert (handler.dropped, handler.pending) == (0, 13)


def test_a_flush_timeout_of_zero_closes_at_once(redis_server, handlers, event_logger):
    handler = handlers(redis_server.url, flush_timeout=0)
    emit_numbered(event_logger(handler), range(10_000))
    started = time.monotonic()
    handler.close()
    assert time.monotonic() - started <= CLOSE_SLACK
    # Whatever it managed to send is there; the rest is counted as not sent
    # (a batch whose round trip was cut short may have arrived all the same).
    assert 10_000 <= len(redis_server.entries(STREAM)) + handler.pending <= 10_000 + 500


def test_emit_never_waits_for_the_network(handlers, event_logger):
    # A "server" that accepts connections and never answers: every round trip hangs.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        port = silent.getsockname()[1]
        handler = handlers(f"redis://127.0.0.1:{port}/0", socket_timeout=5, batch_size=10)
        logger = event_logger(handler)
        started = time.monotonic()
        emit_numbered(logger, range(2000))
        # Far below one socket timeout, which a single blocking send would take.
        assert time.monotonic() - started < 2.0
        assert handler.sent == 0
    finally:
        silent.close()


def test_maxlen_trims_the_stream_approximately(redis_server, handlers, event_logger):
    handler = handlers(redis_server.url, maxlen=100, batch_size=50)
    logger = event_logger(handler)
    emit_numbered(logger, range(3000))
    assert handler.flush(10)

    entries = redis_server.entries(STREAM)
    # "~" lets Redis keep up to one internal node (100 entries by default) more.
    assert 100 <= len(entries) <= 200
    assert numbers(entries) == list(range(3000 - len(entries), 3000))


def test_configured_from_a_jupyter_config_file(redis_server, tmp_path):
    config_file = tmp_path / "jupyter_server_config.py"
    config_file.write_text(
        textwrap.dedent(
            f"""
            from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler

            c.EventLogger.handlers = [
                RedisStreamHandler(url="{redis_server.url}", stream="{STREAM}", maxlen=1000,
                                   batch_size=10, queue_size=500),
            ]
            """
        )
    )
    from traitlets.config.loader import PyFileConfigLoader

    config: Config = PyFileConfigLoader(config_file.name, path=str(tmp_path)).load_config()
    logger = EventLogger(config=config)
    (handler,) = logger.handlers
    try:
        assert (handler.maxlen, handler.batch_size, handler.queue_size) == (1000, 10, 500)
        logger.register_event_schema(SCHEMAS[0])
        emit_numbered(logger, range(3))
        assert handler.flush(10)
        assert numbers(redis_server.entries(STREAM)) == [0, 1, 2]
    finally:
        handler.close()


@pytest.mark.parametrize(("option", "value"), [("maxlen", 0), ("batch_size", 0), ("queue_size", 0)])
def test_nonsense_sizes_are_refused(option, value):
    with pytest.raises(ValueError, match=option):
        RedisStreamHandler(**{option: value})


def test_without_the_redis_client_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # what Python does for a missing module
    with pytest.raises(ImportError, match=r"pip install 'jupyter_events_ext\[redis\]'"):
        RedisStreamHandler()


def test_the_password_in_the_url_stays_out_of_repr(redis_server, handlers):
    handler = handlers(f"redis://user:s3cret@127.0.0.1:{redis_server.port}/0")
    assert "s3cret" not in repr(handler)
    assert f"127.0.0.1:{redis_server.port}" in repr(handler)


def test_emitting_from_many_threads_loses_nothing(redis_server, handlers, event_logger):
    handler = handlers(redis_server.url)
    logger = event_logger(handler)
    threads = [
        threading.Thread(target=emit_numbered, args=(logger, range(2000), f"t{i}"))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert handler.flush(10)

    events = [json.loads(entry["event"]) for entry in redis_server.entries(STREAM)]
    assert sorted((e["source"], e["n"]) for e in events) == sorted(
        (f"t{i}", n) for i in range(8) for n in range(2000)
    )


def test_redis_errors_other_than_connection_ones_also_keep_events_waiting(
    redis_server, handlers, event_logger, redis_client
):
    # The key holds a string, so XADD fails until an operator fixes it.
    redis_client.set(STREAM, "not a stream")
    handler = handlers(redis_server.url)
    logger = event_logger(handler)
    emit_numbered(logger, range(5))
    assert not handler.flush(0.5)
    assert handler.pending == 5

    redis_client.delete(STREAM)
    assert handler.flush(10)
    assert numbers(redis_server.entries(STREAM)) == list(range(5))


def test_at_exit_logging_flushes_then_closes_each_within_flush_timeout(
    make_redis_server, handlers, event_logger
):
    # logging.shutdown(), run at interpreter exit, calls flush() and then close(): a
    # handler nobody closed before takes up to twice flush_timeout; one already closed
    # (as a server extension does at stop) takes no time.
    server = make_redis_server()
    server.process.send_signal(signal.SIGSTOP)
    try:
        handler = handlers(server.url, flush_timeout=0.4, socket_timeout=10)
        emit_numbered(event_logger(handler), range(5))
        started = time.monotonic()
        logging.shutdown([weakref.ref(handler)])
        took = time.monotonic() - started

        closed = handlers(server.url, flush_timeout=0.4, socket_timeout=10)
        emit_numbered(event_logger(closed), range(5))
        closed.close()
        started = time.monotonic()
        logging.shutdown([weakref.ref(closed)])
        took_closed = time.monotonic() - started
    finally:
        server.process.send_signal(signal.SIGCONT)

    assert 0.4 <= took <= 2 * 0.4 + CLOSE_SLACK, took
    assert took_closed <= 0.05, took_closed
    assert (handler.pending, closed.pending) == (5, 5)


def test_a_handler_closed_by_logging_configuration_still_delivers(
    redis_server, handlers, event_logger
):
    # Jupyter Server (traitlets) runs logging.config.dictConfig after reading its config
    # files, which closes every handler there is: those the files just made included.
    handler = handlers(redis_server.url)
    logger = event_logger(handler)
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    emit_numbered(logger, range(5))
    assert handler.flush(10)
    assert (handler.sent, handler.dropped, handler.pending) == (5, 0, 0)
    assert [json.loads(e["event"])["n"] for e in redis_server.entries(STREAM)] == list(range(5))


EXITS_WITHOUT_CLOSING = textwrap.dedent(
    """
    import logging.config, sys
    from jupyter_events_ext.events.logger import EventLogger
    from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler
    from sink_schemas import SCHEMAS, SCHEMA_ID

    url, stream, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    handler = RedisStreamHandler(url, stream, batch_size=10)
    # As Jupyter Server does after reading its config: logging.shutdown() no longer knows it.
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(SCHEMAS[0])
    for n in range(count):
        logger.emit(schema_id=SCHEMA_ID, data={"source": "exiting", "n": n})
    """
)


def test_a_process_that_exits_without_closing_its_handler_sends_what_waits(redis_server):
    count = 5000
    subprocess.run(
        [sys.executable, "-c", EXITS_WITHOUT_CLOSING, redis_server.url, STREAM, str(count)],
        cwd=str(pathlib.Path(__file__).parent),
        check=True,
        timeout=60,
    )
    events = [json.loads(entry["event"]) for entry in redis_server.entries(STREAM)]
    assert [e["n"] for e in events] == list(range(count))
