"""``read_events``: recorded events as one Arrow table, ready for pandas or SQL."""

from __future__ import annotations

import json
import logging
import pathlib
import tempfile
from collections.abc import Iterable
from typing import Any

from .columns import ENVELOPE_COLUMNS, TablePlan
from .engine import connect, require
from .filters import EventFilter, TimeBound
from .sources import SourceLike, parse_sources
from .sql import identifier
from .staging import STAGED, NoProgress, groups, stage

log = logging.getLogger(__name__)

# Where the table's metadata holds what reading found (counts of each kind of line).
LINES_METADATA_KEY = b"jupyter_events_ext.lines"
_NUMBERS = {"BIGINT", "UBIGINT", "DOUBLE"}
# Types whose text form is plain; lists and structs become JSON text instead.
_SCALARS = _NUMBERS | {"BOOLEAN", "VARCHAR", "HUGEINT"}


def read_events(
    source: SourceLike | Iterable[SourceLike],
    schema: str | Iterable[str] | None = None,
    since: TimeBound = None,
    until: TimeBound = None,
) -> Any:
    """Read recorded events into a ``pyarrow.Table``, oldest first.

    ``source`` is a JSON-lines file (rotated and gzipped ones too), a directory (its
    ``events*.jsonl*`` files: every server's default sink), a Redis stream URL
    (``redis://host:port/db#stream``), or a list of them. ``schema`` keeps only events of
    that ``$id`` (or of any of a list of them); ``since`` (inclusive) and ``until``
    (exclusive) keep only events recorded in that window: ISO 8601 strings or datetimes,
    UTC when they name no zone.

    Columns are those of ``jupyter events-ext export`` (docs/researchers): ``__timestamp__``
    as a UTC timestamp, ``__schema__``, ``__schema_version__``, ``__metadata_version__``,
    ``__user__``, ``__id__``, then the data fields, nested objects as dotted names. Events of
    several schemas (or versions) share one table, each with null in the others' columns;
    a field whose type differs between them becomes text.

    Bad lines are skipped, counted and logged as a warning (logger
    ``jupyter_events_ext.analysis.read``); the counts are also in the table's schema
    metadata under ``LINES_METADATA_KEY``.

    With ``events = read_events(...)``, ``events.to_pandas()`` gives a DataFrame and
    ``duckdb.sql("SELECT ... FROM events")`` queries the table in place. Reading runs in
    bounded memory; the table returned is in memory, so for more events than fit, export
    them to Parquet instead and query the files.

    Raises ``MissingExtraError`` without the ``[analysis]`` extra, ``SourceNotFound`` or
    ``SourceError`` for a source that cannot be read, ``ValueError`` or ``TypeError`` for
    a bad ``since`` or ``until``.
    """
    require()
    event_filter = EventFilter.make(schema, since, until)
    sources = parse_sources(source)
    with tempfile.TemporaryDirectory(prefix="jupyter-events-read-") as spill:
        con = connect(pathlib.Path(spill))
        try:
            counts = stage(con, sources, event_filter, NoProgress())
            plans = [
                TablePlan.from_shapes(group.schema, group.version, group.shapes, group.key)
                for group in groups(con)
            ]
            table = _union(con, plans) if plans else _empty_table()
        finally:
            con.close()
    if counts.bad:
        examples = "".join(f"\n  {example}" for example in counts.examples)
        log.warning("skipped %s while reading events%s", counts.describe_bad(), examples)
    metadata = dict(table.schema.metadata or {})
    metadata[LINES_METADATA_KEY] = json.dumps(counts.as_dict()).encode()
    return table.replace_schema_metadata(metadata)


def _union(con: Any, plans: list[TablePlan]) -> Any:
    """Every plan's events in one table, oldest first.

    Each plan's rows are staged on their own first (integers exact only where they must
    be); a column whose type differs between plans becomes text, numbers excepted.
    """
    duckdb, _ = require()
    parts: list[tuple[str, dict[str, str]]] = []
    for number, plan in enumerate(plans):
        name = f"part_{number}"
        for narrow in (True, False):
            try:
                con.execute(f"CREATE TEMP TABLE {name} AS {plan.select(STAGED, 'parquet', narrow)}")
                break
            except duckdb.ConversionException:
                if not narrow or not plan.has_integers():
                    raise
        types = dict(
            con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {name})").fetchall()
        )
        parts.append((name, types))
    seen: dict[str, set[str]] = {}
    for _, types in parts:
        for column, kind in types.items():
            seen.setdefault(column, set()).add(kind)
    as_text = {column for column, kinds in seen.items() if len(kinds) > 1 and not kinds <= _NUMBERS}
    selects = []
    for name, types in parts:
        columns = []
        for column, kind in types.items():
            quoted = identifier(column)
            if column in as_text and kind != "VARCHAR":
                value = quoted if kind in _SCALARS else f"to_json({quoted})"
                columns.append(f"CAST({value} AS VARCHAR) AS {quoted}")
            else:
                columns.append(quoted)
        selects.append(f"SELECT {', '.join(columns)} FROM {name}")
    # UNION BY NAME orders columns by first appearance: the envelope's come first.
    union = " UNION ALL BY NAME ".join(selects)
    query = f"SELECT * FROM ({union}) ORDER BY {identifier('__timestamp__')}"
    return con.sql(query).to_arrow_table()


def _empty_table() -> Any:
    _, pa = require()
    types = {"__timestamp__": pa.timestamp("us", tz="UTC"), "__metadata_version__": pa.int64()}
    return pa.table({name: pa.array([], types.get(name, pa.string())) for name in ENVELOPE_COLUMNS})
