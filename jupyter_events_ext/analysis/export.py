"""Writing recorded events out as one table per schema version.

The output path is a directory (created; it must not exist or be empty), holding one
file per schema version and a ``manifest.json``::

    out/
      events.jupyter.org_jupyter_events_ext_cell-execution_v1.v1.parquet
      events.jupyter.org_jupyter_events_ext_command_v1.v1.parquet
      manifest.json

A file is named after its schema's ``$id`` (scheme dropped, every run of characters other
than letters, digits, ``.``, ``_`` and ``-`` made one ``_``), then ``.v<version>`` and the
format's extension; a name that two schemas would share, or that is too long, gets a
short hash of the ``$id`` appended. ``manifest.json`` lists each file with its schema,
version, row count and columns, and what reading the sources found (events kept, lines
filtered out, bad lines per kind and source, a few examples).

The directory appears whole or not at all: everything is written into a hidden sibling
directory, renamed into place at the end (the engine spills there too, so the disk of the
output holds the temporary data, not ``/tmp``).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import hashlib
import json
import os
import pathlib
import re
import secrets
import shutil
import threading
from collections.abc import Iterable
from typing import Any

from .columns import FORMATS, TablePlan
from .engine import connect, require
from .errors import OutputExistsError
from .filters import EventFilter, TimeBound
from .sources import SourceLike, parse_sources
from .sql import literal
from .staging import STAGED, LineCounts, NoProgress, Progress, groups, stage

MANIFEST = "manifest.json"
EXTENSIONS = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl"}
_COPY_OPTIONS = {
    # zstd's fastest level: at 1M events, 0.1 s less than the default (3), files no bigger.
    "parquet": "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1",
    "csv": "FORMAT csv, HEADER true",
    "jsonl": "FORMAT json",
}
# Tables written at once (see _write_tables).
_WRITERS = 2
_MAX_STEM = 80
_MAX_VERSION = 20


@dataclasses.dataclass(frozen=True)
class TableFile:
    """One file written: which schema version it holds, how many rows, which columns."""

    schema: str
    version: str
    file: str  # relative to the output directory
    rows: int
    columns: list[str]


@dataclasses.dataclass
class ExportSummary:
    """What an export wrote and what it found in its sources."""

    output: pathlib.Path
    format: str
    tables: list[TableFile]
    lines: LineCounts

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "tables": [dataclasses.asdict(table) for table in self.tables],
            "lines": self.lines.as_dict(),
        }


def table_file_names(plans: Iterable[TablePlan], fmt: str) -> list[str]:
    """A distinct, portable file name for each plan's table (see the module docstring)."""
    names: list[str] = []
    taken: set[str] = set()
    for plan in plans:
        digest = hashlib.sha1(f"{plan.schema}\0{plan.version}".encode()).hexdigest()[:8]
        stem = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", plan.schema)
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-") or "schema"
        if len(stem) > _MAX_STEM:
            stem = f"{stem[:_MAX_STEM]}-{digest}"
        version = re.sub(r"[^A-Za-z0-9._-]+", "_", plan.version)[:_MAX_VERSION]
        name = f"{stem}.v{version}"
        # Case-insensitive file systems would merge names differing only in case.
        if name.lower() in taken:
            name = f"{name}-{digest}"
        taken.add(name.lower())
        names.append(name + EXTENSIONS[fmt])
    return names


def _prepare_output(output: pathlib.Path) -> pathlib.Path:
    """A fresh hidden directory beside ``output``; refuses an output that holds anything."""
    exists = output.exists() or output.is_symlink()
    if exists and (not output.is_dir() or any(output.iterdir())):
        raise OutputExistsError(
            f"{output}: already exists; an export writes a new directory "
            "(remove it or choose another --output)"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    work = output.parent / f".{output.name}.partial-{secrets.token_hex(4)}"
    work.mkdir()
    return work


def copy_table(con: Any, plan: TablePlan, fmt: str, target: str) -> int:
    """Write ``plan``'s table with the engine's ``COPY``; the number of rows written.

    Integers are written as int64; a table with one that does not fit is written again,
    keeping them exactly.
    """
    duckdb, _ = require()
    for narrow in (True, False):
        try:
            query = plan.select(STAGED, fmt, narrow=narrow)
            written = con.execute(
                f"COPY ({query}) TO {literal(target)} ({_COPY_OPTIONS[fmt]})"
            ).fetchone()
            return int(written[0]) if written else plan.rows
        except duckdb.ConversionException:
            if not narrow or not plan.has_integers():
                raise
    raise AssertionError("unreachable")


def _write_tables(
    con: Any, plans: list[TablePlan], targets: list[str], fmt: str, progress: Progress
) -> list[int]:
    """Write each plan's table to its target, ``_WRITERS`` at a time, largest first; the
    rows written, per plan.

    One ``COPY`` alone leaves a core idle much of the time (a table of one row group is
    written by one thread); two at once, each on its own cursor, keep the engine's threads
    busy. A failure (or Ctrl-C) stops the other writer rather than wait for its table.
    """
    lock = threading.Lock()
    stopping = False
    cursors: list[Any] = []

    def write(index: int) -> int:
        with lock:
            if stopping:
                raise concurrent.futures.CancelledError
            cursor = con.cursor()
            cursors.append(cursor)
        return copy_table(cursor, plans[index], fmt, targets[index])

    pool = concurrent.futures.ThreadPoolExecutor(_WRITERS, thread_name_prefix="export-writer")
    try:
        largest_first = sorted(range(len(plans)), key=lambda index: -plans[index].rows)
        futures = {index: pool.submit(write, index) for index in largest_first}
        for future in concurrent.futures.as_completed(futures.values()):
            future.result()
            progress.advance(1)
        return [futures[index].result() for index in range(len(plans))]
    except BaseException:
        with lock:
            stopping = True
            for cursor in cursors:
                cursor.interrupt()
        raise
    finally:
        pool.shutdown(cancel_futures=True)
        for cursor in cursors:
            cursor.close()


def export_events(
    sources: SourceLike | Iterable[SourceLike],
    output: str | os.PathLike[str],
    format: str = "parquet",
    schema: str | Iterable[str] | None = None,
    since: TimeBound = None,
    until: TimeBound = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """Export the events of ``sources`` to the directory ``output``, one table per schema version.

    ``sources`` are JSON-lines files (rotated and gzipped ones too) and Redis stream URLs
    (``redis://host:port/db#stream``). ``format`` is ``parquet``, ``csv`` or ``jsonl``.
    ``schema`` keeps only events of these ``$id``s; ``since`` (inclusive) and ``until``
    (exclusive) keep only events recorded in that window (ISO 8601 strings or datetimes;
    without a zone, UTC). Bad lines are counted, never fatal.

    Raises ``MissingExtraError`` without the ``[analysis]`` extra, ``SourceNotFound`` or
    ``SourceError`` for a source that cannot be read, ``OutputExistsError`` if ``output``
    is not a new or empty directory, ``ValueError`` for a bad format or filter.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    event_filter = EventFilter.make(schema, since, until)
    require()
    checked = parse_sources(sources)
    progress = progress or NoProgress()
    output = pathlib.Path(output)
    work = _prepare_output(output)
    try:
        con = connect(work / ".spill")
        try:
            counts = stage(con, checked, event_filter, progress)
            plans = [
                TablePlan.from_shapes(group.schema, group.version, group.shapes, group.key)
                for group in groups(con)
            ]
            names = table_file_names(plans, format)
            progress.start("Writing tables", len(plans))
            written = _write_tables(
                con, plans, [str(work / name) for name in names], format, progress
            )
            progress.finish()
            tables = [
                TableFile(plan.schema, plan.version, name, rows, plan.column_names)
                for plan, name, rows in zip(plans, names, written)
            ]
        finally:
            con.close()
        shutil.rmtree(work / ".spill", ignore_errors=True)
        summary = ExportSummary(output, format, tables, counts)
        manifest = {
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "sources": [source.name for source in checked],
            "filter": {
                "schemas": list(event_filter.schemas),
                "since": event_filter.since.isoformat() if event_filter.since else None,
                "until": event_filter.until.isoformat() if event_filter.until else None,
            },
            **summary.as_dict(),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if output.is_dir():
            output.rmdir()  # empty, checked above
        work.rename(output)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return summary
