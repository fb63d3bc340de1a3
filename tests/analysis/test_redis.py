"""Exporting and reading a Redis stream written by RedisStreamHandler, on a real redis-server."""

from __future__ import annotations

import json
import logging

import pyarrow.parquet as pq
import pytest
from expected import counts, envelopes
from recorded_events import CELL_EXECUTION, SCHEMA_DIR, simulate

from jupyter_events_ext.analysis import SourceError, export_events, read_events, sources
from jupyter_events_ext.events import EventLogger
from jupyter_events_ext.events.exit_code import ExitCode
from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler

STREAM = "jupyter_events"


def record(url: str, count: int, seed: int = 1) -> list[str]:
    """Emit ``count`` simulated events through a real EventLogger into the stream."""
    import datetime as dt

    handler = RedisStreamHandler(url, STREAM, batch_size=200)
    lines: list[str] = []
    capture = logging.Handler()
    capture.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger = EventLogger(handlers=[handler, capture])
    for schema_file in sorted(SCHEMA_DIR.glob("*/v1.yaml")):
        logger.register_event_schema(schema_file)
    for moment, schema_id, data, meta in simulate(count, seed):
        logger.emit(
            schema_id=schema_id,
            data=data,
            timestamp_override=dt.datetime.fromtimestamp(moment, dt.timezone.utc),
            metadata=meta,
        )
    assert handler.flush() is not False
    handler.close()
    return lines


def test_export_a_stream(tmp_path, redis_server, export_cli):
    lines = record(redis_server.url, 600)
    (tmp_path / "sent.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = export_cli(f"{redis_server.url}#{STREAM}", "-o", out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sources"] == [f"{redis_server.url}#{STREAM}"]
    written = {
        (t["schema"], t["version"]): pq.read_table(out / t["file"]) for t in manifest["tables"]
    }
    events = envelopes(tmp_path / "sent.jsonl")
    assert {key: table.num_rows for key, table in written.items()} == counts(events)
    ids = sorted(e["__id__"] for e in events if e["__schema__"] == CELL_EXECUTION)
    assert sorted(written[(CELL_EXECUTION, "1")]["__id__"].to_pylist()) == ids


def test_entries_that_are_not_events_are_counted(tmp_path, redis_server, export_cli, monkeypatch):
    record(redis_server.url, 50)
    with redis_server.client() as client:
        client.xadd(STREAM, {"schema": "x", "note": "no event field"})
        bad_id = client.xadd(STREAM, {"event": '{"__timestamp__": "2026-11-2'}).decode()
        client.xadd(STREAM, {"event": b"\xff not utf-8"})
    record(redis_server.url, 50, seed=2)
    # Small batches, so that reading crosses batch boundaries.
    monkeypatch.setattr(sources, "STREAM_BATCH", 7)
    out = tmp_path / "out"
    result = export_cli(f"{redis_server.url}#{STREAM}", "-o", out)
    assert result.exit_code == 0, result.output
    lines = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["lines"]
    assert lines["by_kind"] == {"ok": 100, "foreign": 1, "torn": 2}
    assert f"#{STREAM}: entry {bad_id}: torn (not JSON)" in result.output
    assert "foreign (no event field)" in result.output


def test_a_stream_and_files_together(tmp_path, redis_server, validated_events):
    record(redis_server.url, 200)
    table = read_events([validated_events, f"{redis_server.url}#{STREAM}"], schema=CELL_EXECUTION)
    in_file = sum(1 for e in envelopes(validated_events) if e["__schema__"] == CELL_EXECUTION)
    in_stream = sum(1 for _, schema_id, _, _ in simulate(200, 1) if schema_id == CELL_EXECUTION)
    assert table.num_rows == in_file + in_stream
    stamps = table["__timestamp__"].to_pylist()
    assert stamps == sorted(stamps)


def test_the_default_stream_name(redis_server):
    record(redis_server.url, 20)
    assert read_events(redis_server.url).num_rows == 20  # no #fragment: "jupyter_events"


def test_a_missing_stream_is_not_found(tmp_path, redis_server, export_cli):
    result = export_cli(f"{redis_server.url}#nothing-here", "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "no stream 'nothing-here' in this database" in result.output
    assert not (tmp_path / "out").exists()


def test_a_key_of_another_type_is_refused(tmp_path, redis_server, export_cli):
    with redis_server.client() as client:
        client.set("plain", "value")
    result = export_cli(f"{redis_server.url}#plain", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "'plain' is a string, not a stream" in result.output


def test_an_unreachable_redis_is_reported_without_its_password(tmp_path, redis_server, export_cli):
    redis_server.stop()
    url = f"redis://:s3cret-pw@127.0.0.1:{redis_server.port}/0#events"
    result = export_cli(url, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert f"redis://127.0.0.1:{redis_server.port}/0#events: Redis did not answer" in result.output
    assert "s3cret" not in result.output


def test_redis_going_away_midway_is_an_error_and_writes_nothing(
    tmp_path, redis_server, monkeypatch
):
    record(redis_server.url, 100)
    monkeypatch.setattr(sources, "STREAM_BATCH", 10)

    class StopRedisAfterTheFirstBatch:
        def start(self, name, size):
            pass

        def advance(self, amount):
            redis_server.stop()

        def finish(self):
            pass

    with pytest.raises(SourceError, match=r"#jupyter_events: reading the stream failed \("):
        export_events(
            f"{redis_server.url}#{STREAM}", tmp_path / "out", progress=StopRedisAfterTheFirstBatch()
        )
    assert list(tmp_path.iterdir()) == [tmp_path / "redis"]
