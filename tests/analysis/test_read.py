"""``read_events``: one Arrow table, for pandas or SQL."""

from __future__ import annotations

import datetime as dt
import json
import logging

import duckdb
import pyarrow as pa
import pytest
from expected import ENVELOPE, by_time_and_id, envelopes, rows, timestamp
from recorded_events import CELL_EXECUTION, COMMAND, DOCUMENT

from jupyter_events_ext.analysis import (
    LINES_METADATA_KEY,
    SourceNotFound,
    read_events,
)


def test_one_schema_as_a_typed_table(validated_events):
    table = read_events(validated_events, schema=CELL_EXECUTION)
    assert isinstance(table, pa.Table)
    assert table.column_names[: len(ENVELOPE)] == list(ENVELOPE)
    assert table.schema.field("__timestamp__").type == pa.timestamp("us", tz="UTC")
    assert by_time_and_id(table.to_pylist()) == rows(
        envelopes(validated_events), CELL_EXECUTION, table.column_names
    )


def test_every_schema_in_one_table_oldest_first(validated_events):
    table = read_events(validated_events)
    events = envelopes(validated_events)
    assert table.num_rows == len(events)
    assert set(table.column_names) >= {"command_id", "duration_ms", "action", "args.path"}
    stamps = table["__timestamp__"].to_pylist()
    assert stamps == sorted(stamps)
    # Each row carries only its own schema's fields.
    documents = table.filter(pa.compute.equal(table["__schema__"], DOCUMENT))
    assert set(documents["command_id"].to_pylist()) == {None}


def test_to_pandas_and_sql(validated_events):
    events = read_events(validated_events, schema=[CELL_EXECUTION, COMMAND])
    frame = events.to_pandas()
    assert str(frame["__timestamp__"].dtype) == "datetime64[us, UTC]"
    assert len(frame) == events.num_rows
    finished = frame[frame["phase"] == "finished"]
    # DuckDB finds the Arrow table by its variable's name.
    failures = duckdb.sql(
        "SELECT count(*) FROM events WHERE phase = 'finished' AND NOT success"
    ).fetchall()[0][0]
    assert failures == int((~finished["success"].astype(bool)).sum()) > 0


def test_time_window(validated_events):
    since = dt.datetime(2026, 11, 24, 12, tzinfo=dt.timezone.utc)
    table = read_events(validated_events, since=since, until="2026-11-26")
    expected = [
        e
        for e in envelopes(validated_events)
        if since <= timestamp(e["__timestamp__"]) < timestamp("2026-11-26T00:00:00Z")
    ]
    assert table.num_rows == len(expected) > 0
    # A naive datetime is UTC, like the envelopes.
    naive = read_events(validated_events, since=since.replace(tzinfo=None), until="2026-11-26")
    assert naive.num_rows == table.num_rows


def test_bad_lines_are_logged_and_counted_in_the_metadata(tmp_path, validated_events, caplog):
    path = tmp_path / "events.jsonl"
    path.write_bytes(validated_events.read_bytes() + b'{"torn": \n[1]\n')
    with caplog.at_level(logging.WARNING, logger="jupyter_events_ext.analysis"):
        table = read_events(path)
    assert table.num_rows == len(envelopes(validated_events))
    assert "skipped 2 bad lines (1 torn, 1 foreign) while reading events" in caplog.text
    assert f"{path}: line 3001: torn (not JSON): " in caplog.text
    lines = json.loads(table.schema.metadata[LINES_METADATA_KEY])
    assert lines["by_kind"] == {"ok": 3000, "torn": 1, "foreign": 1}


def test_nothing_found_is_an_empty_table_with_the_envelope_columns(validated_events):
    table = read_events(validated_events, schema="https://example.org/none/v1")
    assert table.num_rows == 0
    assert table.column_names == list(ENVELOPE)
    assert table.schema.field("__timestamp__").type == pa.timestamp("us", tz="UTC")


def test_errors(tmp_path, validated_events):
    with pytest.raises(SourceNotFound, match="no such file"):
        read_events(tmp_path / "missing.jsonl")
    with pytest.raises(FileNotFoundError):  # SourceNotFound is one
        read_events([validated_events, tmp_path / "missing.jsonl"])
    with pytest.raises(ValueError, match="not an ISO 8601 date or time"):
        read_events(validated_events, since="soon")
    with pytest.raises(TypeError, match="since must be a str, datetime or date"):
        read_events(validated_events, since=12)
