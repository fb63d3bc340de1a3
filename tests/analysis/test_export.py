"""``jupyter events-ext export`` on real files: every format, rotated and gzipped sources,
filters, bad lines, and the errors it gives instead of writing anything."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import pathlib
import shutil
import threading
import time
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from expected import ENVELOPE, by_time_and_id, counts, envelopes, rows, timestamp
from recorded_events import CELL_EXECUTION, COMMAND, DOCUMENT, SCHEMA_IDS

from jupyter_events_ext.analysis import SourceError, sources
from jupyter_events_ext.analysis import export as export_module
from jupyter_events_ext.events.exit_code import ExitCode


def manifest(output: pathlib.Path) -> dict:
    return json.loads((output / "manifest.json").read_text(encoding="utf-8"))


def table_files(output: pathlib.Path) -> dict[tuple[str, str], pathlib.Path]:
    return {(t["schema"], t["version"]): output / t["file"] for t in manifest(output)["tables"]}


def leftovers(parent: pathlib.Path) -> list[str]:
    """Hidden work directories an export would have left behind."""
    return [path.name for path in parent.iterdir() if ".partial-" in path.name]


# -- formats ----------------------------------------------------------------------------


def test_parquet_holds_every_event_as_typed_columns(tmp_path, validated_events, export_cli):
    out = tmp_path / "out"
    result = export_cli(validated_events, "--output", out)
    assert result.exit_code == 0, result.output
    events = envelopes(validated_events)
    files = table_files(out)
    assert {key: pq.read_metadata(path).num_rows for key, path in files.items()} == counts(events)
    assert len(files) == len(SCHEMA_IDS)

    cells = pq.read_table(files[(CELL_EXECUTION, "1")])
    types = dict(zip(cells.schema.names, cells.schema.types))
    assert list(types)[: len(ENVELOPE)] == list(ENVELOPE)
    assert types["__timestamp__"] == pa.timestamp("us", tz="UTC")
    assert types["__metadata_version__"] == pa.int64()
    assert types["__user__"] == types["__id__"] == types["phase"] == pa.string()
    assert types["duration_ms"] == pa.float64()
    assert types["execution_count"] == pa.int64()
    assert types["success"] == pa.bool_()
    # Every value, compared with the file parsed independently; oldest first.
    assert cells["__timestamp__"].to_pylist() == sorted(cells["__timestamp__"].to_pylist())
    assert by_time_and_id(cells.to_pylist()) == rows(events, CELL_EXECUTION, cells.column_names)


def test_nested_objects_become_dotted_columns(tmp_path, validated_events, export_cli):
    out = tmp_path / "out"
    assert export_cli(validated_events, "-o", out, "--schema", COMMAND).exit_code == 0
    commands = pq.read_table(table_files(out)[(COMMAND, "1")])
    assert commands.column_names == [*ENVELOPE, "command_id", "args.path", "args.factory"]
    opened = [row for row in commands.to_pylist() if row["command_id"] == "docmanager:open"]
    assert opened
    assert all(row["args.factory"] == "Notebook" for row in opened)
    assert all(row["args.path"].endswith(".ipynb") for row in opened)
    assert by_time_and_id(commands.to_pylist()) == rows(
        envelopes(validated_events), COMMAND, commands.column_names
    )


def test_csv_is_text_with_rfc3339_timestamps(tmp_path, validated_events, export_cli):
    out = tmp_path / "out"
    assert export_cli(validated_events, "--format", "csv", "-o", out).exit_code == 0
    path = table_files(out)[(DOCUMENT, "1")]
    assert path.suffix == ".csv"
    with open(path, newline="", encoding="utf-8") as file:
        read = list(csv.DictReader(file))
    source = [e for e in envelopes(validated_events) if e["__schema__"] == DOCUMENT]
    assert len(read) == len(source)
    expected = {e["__id__"]: e for e in source}
    for row in read:
        event = expected[row["__id__"]]
        # The same text as the envelope: microseconds and a Z.
        assert row["__timestamp__"] == event["__timestamp__"]
        assert (row["action"], row["path"], row["path_mode"]) == (
            event["action"],
            event["path"],
            event["path_mode"],
        )
        assert row["__metadata_version__"] == "1"


def test_jsonl_is_one_flat_object_per_line(tmp_path, validated_events, export_cli):
    out = tmp_path / "out"
    assert export_cli(validated_events, "--format", "jsonl", "-o", out).exit_code == 0
    path = table_files(out)[(COMMAND, "1")]
    assert path.suffix == ".jsonl"
    read = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    source = {e["__id__"]: e for e in envelopes(validated_events) if e["__schema__"] == COMMAND}
    assert len(read) == len(source)
    for row in read:
        event = source[row["__id__"]]
        assert row["__timestamp__"] == event["__timestamp__"]
        assert row["command_id"] == event["command_id"]
        assert row["args.path"] == event.get("args", {}).get("path")


# -- sources ----------------------------------------------------------------------------


def test_rotated_and_gzipped_files_together(tmp_path, validated_events, export_cli):
    lines = validated_events.read_text(encoding="utf-8").splitlines(keepends=True)
    third = len(lines) // 3
    dated = tmp_path / "events.jsonl.2026-11-27"
    dated.write_text("".join(lines[:third]), encoding="utf-8")
    numbered = tmp_path / "events.jsonl.1.gz"
    with gzip.open(numbered, "wt", encoding="utf-8") as file:
        file.write("".join(lines[third : 2 * third]))
    # A gzipped file whose name does not say so is recognised by its content.
    unnamed = tmp_path / "events.jsonl.2"
    with gzip.open(unnamed, "wt", encoding="utf-8") as file:
        file.write("".join(lines[2 * third :]))
    out = tmp_path / "out"
    result = export_cli(dated, numbered, unnamed, "-o", out)
    assert result.exit_code == 0, result.output
    found = manifest(out)
    assert found["sources"] == [str(dated), str(numbered), str(unnamed)]
    assert found["lines"]["by_kind"] == {"ok": len(lines)}
    assert {
        key: pq.read_metadata(path).num_rows for key, path in table_files(out).items()
    } == counts(envelopes(validated_events))


def test_reading_in_tiny_chunks_gives_the_same_tables(
    tmp_path, validated_events, export_cli, monkeypatch
):
    """Lines cut across chunk boundaries are joined again, whatever the chunk size."""
    assert export_cli(validated_events, "-o", tmp_path / "whole").exit_code == 0
    monkeypatch.setattr(sources, "CHUNK_BYTES", 97)
    assert export_cli(validated_events, "-o", tmp_path / "chunked").exit_code == 0
    whole, chunked = table_files(tmp_path / "whole"), table_files(tmp_path / "chunked")
    assert whole.keys() == chunked.keys()
    for key in whole:
        assert pq.read_table(whole[key]).equals(pq.read_table(chunked[key]))


# -- filters ----------------------------------------------------------------------------


def test_schema_filter_keeps_only_those_schemas(tmp_path, validated_events, export_cli):
    out = tmp_path / "out"
    result = export_cli(validated_events, "-o", out, "--schema", COMMAND, "--schema", DOCUMENT)
    assert result.exit_code == 0, result.output
    expected = counts(envelopes(validated_events))
    kept = {key: n for key, n in expected.items() if key[0] in (COMMAND, DOCUMENT)}
    assert {k: pq.read_metadata(p).num_rows for k, p in table_files(out).items()} == kept
    lines = manifest(out)["lines"]["by_kind"]
    assert lines == {
        "ok": sum(kept.values()),
        "filtered": sum(expected.values()) - sum(kept.values()),
    }
    assert f"{lines['filtered']:,} events filtered out" in result.output


def test_time_window_includes_since_and_excludes_until(tmp_path, validated_events, export_cli):
    events = envelopes(validated_events)
    times = sorted(timestamp(e["__timestamp__"]) for e in events)
    since, until = times[100], times[2000]
    # The same instants written in another zone, and with a Z.
    since_text = since.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat()
    until_text = until.isoformat().replace("+00:00", "Z")
    assert since_text.endswith("-05:00")
    out = tmp_path / "out"
    result = export_cli(validated_events, "-o", out, "--since", since_text, "--until", until_text)
    assert result.exit_code == 0, result.output
    inside = [e for e in events if since <= timestamp(e["__timestamp__"]) < until]
    assert sum(t["rows"] for t in manifest(out)["tables"]) == len(inside) == 1900
    for path in table_files(out).values():
        stamps = pq.read_table(path, columns=["__timestamp__"])["__timestamp__"].to_pylist()
        assert all(since <= stamp < until for stamp in stamps)


def test_time_bounds_in_other_zones_and_plain_dates(tmp_path, validated_events, export_cli):
    events = envelopes(validated_events)
    # Tuesday 10:00 in UTC+1 is 09:00 UTC; the window ends at Wednesday's midnight UTC.
    out = tmp_path / "out"
    result = export_cli(
        validated_events, "-o", out, "--since", "2026-11-24T10:00+01:00", "--until", "2026-11-25"
    )
    assert result.exit_code == 0, result.output
    inside = [e for e in events if "2026-11-24T09:00" <= e["__timestamp__"] < "2026-11-25"]
    assert inside
    assert sum(t["rows"] for t in manifest(out)["tables"]) == len(inside)


# -- bad lines --------------------------------------------------------------------------

GOOD = json.dumps(
    {
        "__timestamp__": "2026-11-23T10:00:00.000000Z",
        "__schema__": COMMAND,
        "__schema_version__": "1",
        "__metadata_version__": 1,
        "command_id": "docmanager:save",
    }
)


def test_bad_lines_are_counted_reported_and_never_fatal(tmp_path, export_cli):
    path = tmp_path / "events.jsonl"
    runaway = "x" * 100_000
    path.write_bytes(
        "\n".join(
            [
                GOOD,
                GOOD[:40],  # torn by a crash
                "",  # blank: not an event, not a problem
                "2026-11-23 INFO server started",  # not JSON either: torn
                '["not", "an", "object"]',  # foreign
                '{"level": "info", "msg": "hello"}',  # foreign: no __schema__
                GOOD.replace("2026-11-23T10:00:00.000000Z", "yesterday"),  # invalid
                GOOD.replace(f'"{COMMAND}"', "5"),  # invalid
                GOOD.replace('"__schema_version__": "1", ', ""),  # invalid
                runaway,  # torn, and long
                GOOD,
            ]
        ).encode()
        + b"\n\xff\xfe not utf-8\n"
        + GOOD[:-10].encode()  # the last line, torn
    )
    out = tmp_path / "out"
    result = export_cli(path, "-o", out)
    assert result.exit_code == 0, result.output
    found = manifest(out)["lines"]
    assert found["by_kind"] == {"ok": 2, "blank": 1, "torn": 5, "foreign": 2, "invalid": 3}
    assert found["by_source"] == {str(path): found["by_kind"]}
    assert "10 bad lines (5 torn, 2 foreign, 3 invalid)" in result.output
    assert f"{path}: line 2: torn (not JSON): " in result.output
    assert f'{path}: line 7: invalid ("__timestamp__" is missing or not a date' in result.output
    assert "not UTF-8" in result.stderr
    # Never the whole of a bad line: at most an excerpt, per example, per kind.
    assert runaway[:200] not in result.output
    assert len(result.output) < 3000


def test_a_runaway_line_is_skipped_in_bounded_memory(tmp_path, export_cli, monkeypatch):
    monkeypatch.setattr(sources, "CHUNK_BYTES", 1000)
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 5000)
    path = tmp_path / "events.jsonl"
    path.write_text(f"{GOOD}\n{'y' * 20_000}\n{GOOD}\n{'z' * 6000}", encoding="utf-8")
    out = tmp_path / "out"
    result = export_cli(path, "-o", out)
    assert result.exit_code == 0, result.output
    assert manifest(out)["lines"]["by_kind"] == {"ok": 2, "torn": 2}
    assert "line 2: torn (longer than 5,000 bytes, skipped): yyy" in result.output
    assert "line 4: torn (longer than 5,000 bytes, skipped): zzz" in result.output


def test_a_gzip_file_cut_short_keeps_its_whole_lines(tmp_path, validated_events, export_cli):
    data = gzip.compress(validated_events.read_bytes())
    path = tmp_path / "events.jsonl.3.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "out"
    result = export_cli(path, "-o", out)
    assert result.exit_code == 0, result.output
    lines = manifest(out)["lines"]["by_kind"]
    assert lines["torn"] == 1
    assert 1000 < lines["ok"] < 3000
    assert "compressed data ends early" in result.output
    # What was kept is exactly the start of the file.
    kept = sum(t["rows"] for t in manifest(out)["tables"])
    held = zlib.decompressobj(wbits=31).decompress(path.read_bytes())
    assert kept == lines["ok"] == held.count(b"\n")


def test_jupyter_events_timestamps_and_integer_versions_are_read(tmp_path, export_cli):
    """jupyter_events writes "+00:00Z" and 0.1.0 integer versions; both are events."""
    path = tmp_path / "upstream.log"
    path.write_text(
        GOOD.replace("00.000000Z", "00.000000+00:00Z")
        + "\n"
        + GOOD.replace('"__schema_version__": "1"', '"__schema_version__": 1')
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert export_cli(path, "-o", out).exit_code == 0
    table = pq.read_table(table_files(out)[(COMMAND, "1")])
    assert table["__schema_version__"].to_pylist() == ["1", "1"]
    assert set(table["__timestamp__"].to_pylist()) == {timestamp("2026-11-23T10:00:00Z")}


# -- refusals ---------------------------------------------------------------------------


def test_an_existing_output_is_never_touched(tmp_path, validated_events, export_cli):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    result = export_cli(validated_events, "-o", out)
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    # An empty directory is fine: it is the one to fill.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert export_cli(validated_events, "-o", empty).exit_code == 0
    assert (empty / "manifest.json").exists()


def test_a_missing_source_writes_nothing(tmp_path, validated_events, export_cli):
    out = tmp_path / "out"
    result = export_cli(validated_events, tmp_path / "nope.jsonl", "-o", out)
    assert result.exit_code == ExitCode.NOT_FOUND == 3
    assert "nope.jsonl: no such file" in result.output
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_a_data_directory_is_read_as_every_servers_sink_files(
    tmp_path, validated_events, export_cli
):
    # Servers of one user share {jupyter_data_dir}/jupyter_events_ext, each with a sink.
    lines = validated_events.read_text(encoding="utf-8").splitlines(keepends=True)
    directory = tmp_path / "jupyter_events_ext"
    directory.mkdir()
    parts = {
        "events.jsonl.1": lines[0::4],
        "events.jsonl": lines[1::4],
        "events-lab.jsonl": lines[2::4],
        "events-2.jsonl.3.gz": lines[3::4],
    }
    for name, part in parts.items():
        opener = gzip.open if name.endswith(".gz") else open
        with opener(directory / name, "wt", encoding="utf-8") as file:
            file.write("".join(part))
    # What else lives there is not an event.
    (directory / "events.jsonl.torn").write_text('{"__timestamp__": "2026-11-27T1\n')
    (directory / "recent-ids.jsonl").write_text('"an-id"\n')
    (directory / ".events.jsonl.lock").write_text("1234\n")
    (directory / "path-hash.key").write_text("ab" * 32 + "\n")
    out = tmp_path / "out"
    result = export_cli(directory, "-o", out)
    assert result.exit_code == 0, result.output
    found = manifest(out)
    assert found["sources"] == [str(directory / name) for name in sorted(parts)]
    assert found["lines"]["by_kind"] == {"ok": len(lines)}
    assert {
        key: pq.read_metadata(path).num_rows for key, path in table_files(out).items()
    } == counts(envelopes(validated_events))


def test_a_directory_without_sink_files_is_not_found(tmp_path, export_cli):
    (tmp_path / "notes.txt").write_text("hello")
    result = export_cli(tmp_path, "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert f"{tmp_path}: a directory without events*.jsonl files" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--since", "last tuesday"], "'last tuesday' is not an ISO 8601 date or time"),
        (["--since", "2026-11-25", "--until", "2026-11-24"], "must be before until"),
        (["--since", "9" * 10_000], "not a date or time (10000 characters)"),
        (["--format", "xlsx"], "'xlsx' is not one of"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, validated_events, export_cli, options, message):
    result = export_cli(validated_events, "-o", tmp_path / "out", *options)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output) < 2000
    assert not (tmp_path / "out").exists()


def test_a_failure_midway_leaves_nothing_behind(tmp_path, validated_events, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "copy_table", fail)
    with pytest.raises(OSError, match="disk full"):
        export_module.export_events(validated_events, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


def test_a_table_failing_stops_the_one_written_beside_it(tmp_path, validated_events, monkeypatch):
    # Tables are written two at a time, each in its own thread: the failure of one is the
    # export's at once, the other's query is interrupted, and nothing is left behind.
    import duckdb

    started = threading.Event()
    interrupted = []

    def copy_table(con, plan, fmt, target):
        if plan.schema == CELL_EXECUTION:  # the largest table: written first
            started.set()
            try:  # a query that would run for minutes
                con.execute("SELECT count(*) FROM range(100_000_000_000) t(i) WHERE hash(i) = 0")
            except duckdb.InterruptException as err:
                interrupted.append(err)
                raise
            raise AssertionError("not interrupted")
        started.wait(timeout=30)
        time.sleep(0.5)  # the other query is running
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "copy_table", copy_table)
    begun = time.monotonic()
    with pytest.raises(OSError, match="disk full"):
        export_module.export_events(validated_events, tmp_path / "out")
    assert time.monotonic() - begun < 30
    assert len(interrupted) == 1
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


def test_a_read_error_midway_is_reported_and_leaves_nothing(
    tmp_path, validated_events, monkeypatch
):
    def failing(raw, gzipped):
        yield raw.read(1000)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(sources, "_chunks", failing)
    with pytest.raises(SourceError, match=r"events\.jsonl: Input/output error"):
        export_module.export_events(validated_events, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_no_events_still_writes_a_manifest(tmp_path, validated_events, export_cli):
    out = tmp_path / "out"
    result = export_cli(validated_events, "-o", out, "--schema", "https://example.org/none/v1")
    assert result.exit_code == 0
    assert "Wrote 0 events in 0 tables to " in result.output
    assert "(parquet)." in result.output
    assert "No events of --schema 'https://example.org/none/v1' were found." in result.stderr
    assert manifest(out)["tables"] == []


def test_file_names_are_distinct_and_portable():
    from jupyter_events_ext.analysis.columns import TablePlan

    plans = [
        TablePlan("https://example.org/a/b/v1", "1", 1, []),
        TablePlan("http://example.org/a/b/v1", "1", 1, []),  # the same name once cleaned
        TablePlan("https://Example.org/A/B/v1", "1", 1, []),  # differs only in case
        TablePlan("urn:x:" + "long" * 50, "2 beta", 1, []),
    ]
    names = export_module.table_file_names(plans, "parquet")
    assert names[0] == "example.org_a_b_v1.v1.parquet"
    assert len({name.lower() for name in names}) == 4
    assert all(len(name) <= 120 and "/" not in name and " " not in name for name in names)
    assert names[1].startswith("example.org_a_b_v1.v1-")
    assert names[3].endswith(".v2_beta.parquet")


def test_output_can_be_copied_and_read_by_duckdb(tmp_path, validated_events, export_cli):
    """The point of Parquet: SQL over the whole export, from anywhere."""
    import duckdb

    out = tmp_path / "out"
    assert export_cli(validated_events, "-o", out).exit_code == 0
    moved = tmp_path / "elsewhere"
    shutil.copytree(out, moved)
    path = table_files(moved)[(CELL_EXECUTION, "1")]
    failures = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{path}') WHERE phase = 'finished' AND NOT success"
    ).fetchall()[0][0]
    expected = sum(
        1
        for e in envelopes(validated_events)
        if e["__schema__"] == CELL_EXECUTION and e.get("success") is False
    )
    assert failures == expected > 0
