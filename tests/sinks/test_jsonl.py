"""JsonLinesFileHandler against real OS faults: a file-size limit, a crash mid-line, FIFOs."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap

import pytest

from jupyter_events_ext.events import EventLogger
from jupyter_events_ext.events.errors import SinkError
from jupyter_events_ext.sinks import owned_files
from jupyter_events_ext.sinks.jsonl import (
    TORN_SUFFIX,
    JsonLinesFileHandler,
    recorded_ids,
    repair,
)
from jupyter_events_ext.sinks.owned_files import FileInUse

N_SCHEMA = {
    "$id": "https://example.org/n/v1",
    "version": "1",
    "type": "object",
    "properties": {"n": {"type": "integer"}, "pad": {"type": "string"}},
}

# A child process whose files may not grow past LIMIT bytes (RLIMIT_FSIZE); writes past it
# fail with EFBIG instead of killing it (SIGXFSZ ignored): a full disk, without root.
FULL_DISK = textwrap.dedent(
    """
    import json, logging, resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    logging.raiseExceptions = False
    from jupyter_events_ext.events import EventLogger
    from jupyter_events_ext.events.errors import SinkError
    from jupyter_events_ext.sinks.jsonl import JsonLinesFileHandler
    logger = EventLogger(handlers=[JsonLinesFileHandler(sys.argv[1])])
    logger.register_event_schema({
        "$id": "https://example.org/n/v1", "version": "1", "type": "object",
        "properties": {"n": {"type": "integer"}, "pad": {"type": "string"}},
    })
    written, failed = [], []
    for n in range(int(sys.argv[3])):
        try:
            logger.emit(schema_id="https://example.org/n/v1",
                        data={"n": n, "pad": "x" * (n % 97)}, durable=True)
            written.append(n)
        except SinkError as err:
            failed.append((n, err.failures[0][1].errno))
    print(json.dumps({"written": written, "failed": failed}))
    """
)


def test_a_full_disk_leaves_only_whole_lines_and_names_every_failure(tmp_path):
    sink = tmp_path / "events.jsonl"
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(sink), "20000", "300"],
        capture_output=True,
        text=True,
        check=True,
    )
    outcome = json.loads(result.stdout)
    written = outcome["written"]
    assert written, "some events fit"
    assert outcome["failed"], "the limit was reached"
    assert {errno for _, errno in outcome["failed"]} == {27}  # EFBIG
    data = sink.read_bytes()
    assert data.endswith(b"\n")
    # Exactly the events reported written, each once, in order; no fragment of the others.
    assert [json.loads(line)["n"] for line in data.splitlines()] == written
    assert written + [n for n, _ in outcome["failed"]] == list(range(300))
    # Once there is room again, a failed event is written whole after the others.
    handler = JsonLinesFileHandler(sink)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(N_SCHEMA)
    retried = outcome["failed"][0][0]
    logger.emit(schema_id=N_SCHEMA["$id"], data={"n": retried}, durable=True)
    handler.close()
    assert sink.read_bytes().startswith(data)
    assert [json.loads(line)["n"] for line in sink.read_bytes().splitlines()] == [
        *written,
        retried,
    ]


def test_a_line_torn_by_a_crash_is_set_aside_at_start_up(tmp_path):
    sink = tmp_path / "events.jsonl"
    sink.write_bytes(b'{"n": 1, "__id__": "a"}\n{"n": 2, "__id__": "b"}\n{"n": 3, "__i')
    handler = JsonLinesFileHandler(sink)
    handler.claim()  # what the server does at start-up
    handler.close()
    assert sink.read_bytes() == b'{"n": 1, "__id__": "a"}\n{"n": 2, "__id__": "b"}\n'
    assert (tmp_path / ("events.jsonl" + TORN_SUFFIX)).read_bytes() == b'{"n": 3, "__i\n'
    assert recorded_ids(str(sink)) == ["a", "b"]
    assert repair(str(sink)) == 0  # nothing torn any more


def test_a_torn_file_without_any_newline_is_emptied(tmp_path):
    sink = tmp_path / "events.jsonl"
    sink.write_bytes(b"x" * 200_000)  # longer than one block read back
    assert repair(str(sink)) == 200_000
    assert sink.read_bytes() == b""


def test_a_fifo_is_never_read_back_or_repaired(tmp_path):
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, as a log shipper is
    handler = JsonLinesFileHandler(fifo)
    # Neither of these may open the FIFO for reading: that would wait for a writer's end.
    assert recorded_ids(str(fifo)) == []
    assert repair(str(fifo)) == 0
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(N_SCHEMA)
    logger.emit(schema_id=N_SCHEMA["$id"], data={"n": 1}, durable=True)
    handler.close()
    received = os.read(reader, 65536)
    os.close(reader)
    assert [json.loads(line)["n"] for line in received.splitlines()] == [1]


@pytest.mark.parametrize("path", ["/dev/null", "/dev/stdout"])
def test_devices_are_never_read_back(path):
    assert recorded_ids(path) == []
    assert repair(path) == 0


def test_a_fifo_without_a_reader_fails_the_event_instead_of_blocking(tmp_path):
    fifo = tmp_path / "nobody-reads.fifo"
    os.mkfifo(fifo)
    handler = JsonLinesFileHandler(fifo)  # a plain FileHandler would wait here forever
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(N_SCHEMA)
    with pytest.raises(SinkError) as failed:
        logger.emit(schema_id=N_SCHEMA["$id"], data={"n": 1}, durable=True)
    assert failed.value.failures[0][1].errno == errno.ENXIO  # no reader
    handler.close()


def test_rotation_keeps_whole_lines_and_a_bounded_count(tmp_path):
    sink = tmp_path / "events.jsonl"
    handler = JsonLinesFileHandler(sink, max_bytes=1000, backup_count=2)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(N_SCHEMA)
    for n in range(100):
        logger.emit(
            schema_id=N_SCHEMA["$id"], data={"n": n}, metadata={"__id__": f"e{n}"}, durable=True
        )
    handler.close()
    files = [tmp_path / "events.jsonl.2", tmp_path / "events.jsonl.1", sink]
    lock = tmp_path / ".events.jsonl.lock"  # the writer's, which rotation leaves in place
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in [*files, lock])
    kept = [json.loads(line)["n"] for path in files for line in path.read_bytes().splitlines()]
    assert kept == list(range(100 - len(kept), 100))  # the newest, in order, none torn
    assert all(0 < path.stat().st_size <= 1000 for path in files)
    in_last_two = [
        json.loads(line)["__id__"] for path in files[1:] for line in path.read_bytes().splitlines()
    ]
    assert recorded_ids(str(sink) + ".1") + recorded_ids(str(sink)) == in_last_two
    assert in_last_two == [f"e{n}" for n in kept[-len(in_last_two) :]]


@pytest.fixture
def usual_umask():
    """The umask most users have (022), which leaves new files readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return os.stat(path).st_mode & 0o777


@pytest.mark.usefixtures("usual_umask")
def test_every_file_it_makes_is_the_owners_only(tmp_path):
    sink = tmp_path / "events.jsonl"
    handler = JsonLinesFileHandler(sink, max_bytes=200, backup_count=3)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(N_SCHEMA)
    for n in range(10):  # several rotations: each makes a new file
        logger.emit(schema_id=N_SCHEMA["$id"], data={"n": n, "pad": "x" * 50}, durable=True)
    handler.close()
    made = [sink, *(tmp_path / f"events.jsonl.{n}" for n in (1, 2, 3))]
    assert {path.name: mode(path) for path in made} == {path.name: 0o600 for path in made}

    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(b'{"n": 1}\n{"n": 2')
    repair(str(torn))
    assert mode(tmp_path / ("torn.jsonl" + TORN_SUFFIX)) == 0o600


def test_one_writer_per_file_until_it_lets_go(tmp_path):
    sink = tmp_path / "events.jsonl"
    first = JsonLinesFileHandler(sink)
    first.claim()
    second = JsonLinesFileHandler(sink)
    with pytest.raises(FileInUse, match=rf"is written by another process \(pid {os.getpid()}\)"):
        second.claim()
    logger = EventLogger(handlers=[second])
    logger.register_event_schema(N_SCHEMA)
    with pytest.raises(SinkError):  # nor does its first write take the file
        logger.emit(schema_id=N_SCHEMA["$id"], data={"n": 1}, durable=True)
    first.close()
    second.claim()
    logger.emit(schema_id=N_SCHEMA["$id"], data={"n": 2}, durable=True)
    second.close()
    assert [json.loads(line)["n"] for line in sink.read_bytes().splitlines()] == [2]


def test_batch_puts_each_write_on_the_disk_before_it_counts(tmp_path, fsyncs):
    sink = tmp_path / "events.jsonl"
    handler = JsonLinesFileHandler(sink, fsync="batch")
    handler.claim()
    assert fsyncs == [str(tmp_path)]  # the new file's name is on the disk too
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(N_SCHEMA)
    with handler.holding():  # a request's 100 events: one write, one fsync
        for n in range(100):
            logger.emit(schema_id=N_SCHEMA["$id"], data={"n": n}, durable=True)
    assert fsyncs == [str(tmp_path), str(sink)]
    logger.emit(schema_id=N_SCHEMA["$id"], data={"n": 100}, durable=True)  # alone: its own
    assert fsyncs == [str(tmp_path), str(sink), str(sink)]
    handler.close()
    assert len(sink.read_bytes().splitlines()) == 101


def test_never_leaves_writes_to_the_system_but_syncs_renames(tmp_path, fsyncs):
    sink = tmp_path / "events.jsonl"
    handler = JsonLinesFileHandler(sink, max_bytes=500, backup_count=2)  # fsync="never"
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(N_SCHEMA)
    for n in range(20):
        logger.emit(schema_id=N_SCHEMA["$id"], data={"n": n, "pad": "x" * 40}, durable=True)
    handler.close()
    assert (tmp_path / "events.jsonl.2").exists()  # rotated, more than once
    assert set(fsyncs) == {str(tmp_path)}  # the directory after each rotation, no event
    assert len(fsyncs) >= 3


@pytest.mark.parametrize(("fsync", "mode"), [(True, "batch"), (False, "never")])
def test_fsync_takes_the_old_booleans(tmp_path, fsync, mode):
    assert JsonLinesFileHandler(tmp_path / "events.jsonl", fsync=fsync).fsync == mode


def test_an_unknown_fsync_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="fsync must be one of never, batch, not 'always'"):
        JsonLinesFileHandler(tmp_path / "events.jsonl", fsync="always")


@pytest.mark.usefixtures("usual_umask")
def test_an_operator_can_open_the_files_to_a_log_shippers_group(tmp_path):
    handler = JsonLinesFileHandler(tmp_path / "events.jsonl", permissions=0o640)
    handler.claim()
    handler.close()
    assert mode(tmp_path / "events.jsonl") == 0o640


def test_a_file_system_that_cannot_lock_is_warned_about_not_fatal(tmp_path, monkeypatch, caplog):
    # NFS mounted with "nolock" answers flock with ENOLCK; it cannot be made here for real.
    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(owned_files.fcntl, "flock", no_locks)
    sink = tmp_path / "events.jsonl"
    handler = JsonLinesFileHandler(sink)
    handler.claim()
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(N_SCHEMA)
    logger.emit(schema_id=N_SCHEMA["$id"], data={"n": 1}, durable=True)
    handler.close()
    assert [json.loads(line)["n"] for line in sink.read_bytes().splitlines()] == [1]
    assert f"{sink} cannot be locked (No locks available)" in caplog.text
