"""Reading every source once into the engine, sorting good lines from bad.

All sources stream, batch by batch, into one staged table (``STAGED``), spilled to disk
beyond the engine's memory limit. Each line is looked at there and given a ``kind``:

``ok``
    an event envelope that passed the filter: kept, with (a hash of) its shape, the keys
    and JSON types of its fields, and its ``__timestamp__`` as a UTC timestamp.
``filtered``
    a good envelope of another schema or outside the time window.
``blank``
    an empty line; not an event, not a problem.
``torn``
    not JSON: cut short by a crash or a full disk, not UTF-8, or absurdly long.
``foreign``
    JSON, but not an event envelope: not an object, or no ``__schema__`` (another
    program's log line, a stream entry with no ``event`` field).
``invalid``
    an envelope with a broken field: ``__schema__`` not a non-empty string,
    ``__schema_version__`` missing or neither text nor integer, ``__timestamp__`` missing
    or not a date and time.

Bad lines (the last three kinds) are counted per source, and a few are kept, cut short,
as examples: enough to find them, never the whole line.

The table is written sorted: the good events by schema version, then time, then where
they are in their sources; the other lines after them. Writing one schema version's table
(see ``groups``) then reads one contiguous run of rows, already in time order, instead of
the whole staged table (spilled to disk for large inputs). Sorting as the table is made,
rather than sorting a copy of it, writes the lines once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, Protocol

from .engine import require
from .filters import EventFilter
from .sources import Source, batch_schema

STAGED = "staged"
BAD_KINDS = ("torn", "foreign", "invalid")
# Characters of a bad line kept as its example.
EXCERPT_CHARS = 120
EXAMPLES_PER_KIND = 5

# What a line's fields are is found the cheap way: the JSON types of its top-level values
# (one parse, which also tells whether it is JSON at all) and its keys. Together they fix
# the shape of a flat object; a line holding an object or array takes json_structure,
# which costs twice as much, to tell its shape apart. Objects are parsed once more for
# their envelope fields.
_STAGE_SQL = f"""
CREATE TABLE {STAGED} AS
WITH probed AS (
    SELECT source, lineno, entry, line, problem,
           CASE WHEN problem IS NULL THEN try(json_type(line, '$.*')) END AS types
    FROM incoming
), keyed AS (
    SELECT *,
           CASE WHEN types IS NOT NULL AND starts_with(ltrim(line), '{{')
                THEN json_keys(line) END AS keys
    FROM probed
), enveloped AS (
    SELECT *,
           CASE WHEN keys IS NOT NULL THEN json_extract_string(line, [
               '$.__schema__', '$.__schema_version__', '$.__timestamp__'
           ]) END AS envelope,
           CASE WHEN keys IS NOT NULL THEN [
               types[list_position(keys, '__schema__')],
               types[list_position(keys, '__schema_version__')],
               types[list_position(keys, '__timestamp__')]
           ] END AS envelope_types
    FROM keyed
), typed AS (
    SELECT *,
           CASE WHEN envelope_types[1] = 'VARCHAR' THEN envelope[1] END AS schema,
           CASE WHEN envelope_types[2] IN ('VARCHAR', 'UBIGINT', 'BIGINT')
                THEN envelope[2] END AS version,
           -- jupyter_events writes "+00:00Z", which is not RFC 3339; read it all the same.
           CASE WHEN envelope_types[3] = 'VARCHAR' THEN try_cast(
               CASE WHEN ends_with(envelope[3], '+00:00Z') THEN left(envelope[3], -1)
                    ELSE envelope[3] END AS TIMESTAMPTZ
           ) END AS ts
    FROM enveloped
), classified AS (
    SELECT *,
           CASE
               WHEN problem IS NOT NULL THEN split_part(problem, ':', 1)
               -- Only lines that are not JSON are looked at again.
               WHEN types IS NULL THEN
                   CASE WHEN trim(line, ' \t\r') = '' THEN 'blank' ELSE 'torn' END
               WHEN keys IS NULL OR envelope_types[1] IS NULL THEN 'foreign'
               WHEN schema IS NULL OR schema = '' OR version IS NULL OR version = ''
                    OR ts IS NULL THEN 'invalid'
               WHEN (len(CAST($schemas AS VARCHAR[])) > 0
                     AND NOT list_contains(CAST($schemas AS VARCHAR[]), schema))
                    OR ts < CAST($since AS TIMESTAMPTZ)
                    OR ts >= CAST($until AS TIMESTAMPTZ) THEN 'filtered'
               ELSE 'ok'
           END AS kind,
           CASE
               WHEN problem IS NOT NULL THEN trim(substr(problem, strpos(problem, ':') + 1))
               WHEN types IS NULL THEN 'not JSON'
               WHEN keys IS NULL THEN 'JSON, but not an object'
               WHEN envelope_types[1] IS NULL THEN 'no "__schema__"'
               WHEN schema IS NULL OR schema = '' THEN '"__schema__" is not a non-empty string'
               WHEN version IS NULL OR version = ''
                   THEN '"__schema_version__" is missing or not text'
               ELSE '"__timestamp__" is missing or not a date and time'
           END AS reason
    FROM typed
)
-- Good events keep what writing their tables needs, as compactly as it can be held:
-- their schema version and their shape as 64-bit hashes (distinct ones are few; see
-- groups()). Bad lines keep where they are and how they begin.
SELECT kind, source,
       CASE WHEN kind = 'ok' THEN hash(schema, version) END AS grp,
       CASE WHEN kind = 'ok' THEN ts END AS ts,
       CASE WHEN kind = 'ok' THEN line END AS line,
       CASE WHEN kind = 'ok' THEN
           CASE WHEN list_contains(types, 'OBJECT') OR list_contains(types, 'ARRAY')
                THEN hash(json_structure(line)) ELSE hash(keys, types) END
       END AS shape,
       CASE WHEN kind NOT IN ('blank', 'filtered') THEN lineno END AS lineno,
       CASE WHEN kind IN {BAD_KINDS} THEN entry END AS entry,
       CASE WHEN kind IN {BAD_KINDS} THEN left(line, {EXCERPT_CHARS + 1}) END AS excerpt,
       CASE WHEN kind IN {BAD_KINDS} THEN reason END AS reason
FROM classified
-- Events recorded in the same microsecond keep the order of their sources; lines that
-- are not events (no grp) come last.
ORDER BY grp, ts, source, lineno
"""


class Progress(Protocol):
    """What staging reports as it reads: one source after another, in its own units."""

    def start(self, name: str, size: int | None) -> None: ...

    def advance(self, amount: int) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    """Reports nothing."""

    def start(self, name: str, size: int | None) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclasses.dataclass(frozen=True)
class BadLine:
    """One bad line, for a report: where it is, what is wrong, how it begins."""

    source: str
    where: str  # "line 17" or "entry 1732712312-0"
    kind: str
    reason: str
    excerpt: str

    def __str__(self) -> str:
        text = _printable(self.excerpt[:EXCERPT_CHARS])
        more = "…" if len(self.excerpt) > EXCERPT_CHARS else ""
        return f"{self.source}: {self.where}: {self.kind} ({self.reason}): {text}{more}"


def _printable(text: str) -> str:
    """``text`` with control characters escaped, so that a report cannot drive a terminal."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


@dataclasses.dataclass
class LineCounts:
    """What reading the sources found, per kind of line, overall and per source."""

    by_kind: dict[str, int]
    by_source: dict[str, dict[str, int]]
    examples: list[BadLine]

    @property
    def events(self) -> int:
        """Events kept: envelopes that passed the filter."""
        return self.by_kind.get("ok", 0)

    @property
    def bad(self) -> int:
        return sum(self.by_kind.get(kind, 0) for kind in BAD_KINDS)

    def describe_bad(self) -> str:
        """``"3 bad lines (2 torn, 1 foreign)"``, or ``"no bad lines"``."""
        if not self.bad:
            return "no bad lines"
        parts = [f"{self.by_kind[kind]} {kind}" for kind in BAD_KINDS if self.by_kind.get(kind)]
        return f"{self.bad} bad line{'s' if self.bad != 1 else ''} ({', '.join(parts)})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "by_kind": self.by_kind,
            "by_source": self.by_source,
            "examples": [str(example) for example in self.examples],
        }


def stage(
    con: Any, sources: list[Source], event_filter: EventFilter, progress: Progress
) -> LineCounts:
    """Read ``sources`` into the ``STAGED`` table of ``con``; count what was found."""
    duckdb, pa = require()
    # The engine reports a failure of the batches' generator as its own error, with the
    # original's text only: keep the original (a SourceError, say) to raise instead.
    failures: list[BaseException] = []

    def batches() -> Iterator[Any]:
        try:
            for index, source in enumerate(sources):
                progress.start(source.name, source.size())
                yield from source.batches(index, progress.advance)
                progress.finish()
        except BaseException as err:
            failures.append(err)
            raise

    incoming = pa.RecordBatchReader.from_batches(batch_schema(), batches())
    con.register("incoming", incoming)
    try:
        con.execute(
            _STAGE_SQL,
            {
                "schemas": list(event_filter.schemas),
                "since": event_filter.since,
                "until": event_filter.until,
            },
        )
    except duckdb.Error:
        if failures:
            raise failures[0] from None
        raise
    finally:
        con.unregister("incoming")
    # The rows are in order now: reads see them in that order from here on.
    con.execute("SET preserve_insertion_order = true")
    return _count(con, sources)


def _count(con: Any, sources: list[Source]) -> LineCounts:
    by_kind: dict[str, int] = {}
    by_source: dict[str, dict[str, int]] = {source.name: {} for source in sources}
    for source, kind, count in con.execute(
        f"SELECT source, kind, count(*) FROM {STAGED} GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        by_kind[kind] = by_kind.get(kind, 0) + count
        by_source[sources[source].name][kind] = count
    examples = [
        BadLine(
            source=sources[source].name,
            where=f"entry {entry}" if entry is not None else f"line {lineno}",
            kind=kind,
            reason=reason or kind,
            excerpt=excerpt or "",
        )
        for kind, source, lineno, entry, reason, excerpt in con.execute(
            f"""
            SELECT kind, source, lineno, entry, reason, excerpt FROM {STAGED}
            WHERE kind IN {BAD_KINDS}
            QUALIFY row_number() OVER (PARTITION BY kind ORDER BY source, lineno)
                    <= {EXAMPLES_PER_KIND}
            ORDER BY source, lineno
            """
        ).fetchall()
    ]
    return LineCounts(by_kind, by_source, examples)


@dataclasses.dataclass
class Group:
    """The events of one schema version: its key in the staged table and their shapes."""

    schema: str
    version: str
    key: int
    shapes: list[tuple[str, int]]  # (json_structure text, events), most common first


def groups(con: Any) -> list[Group]:
    """Every schema version kept, by ``$id`` and version.

    The staged table holds hashes; the ``$id``, version and shape text are read again
    from one event of each (schema version, shape).
    """
    found = con.execute(
        f"""
        SELECT grp, shape, count(*), min(rowid) FROM {STAGED}
        WHERE kind = 'ok' GROUP BY ALL
        """
    ).fetchall()
    if not found:
        return []
    examples = {
        row[0]: row[1:]
        for row in con.execute(
            f"""
            SELECT rowid, json_structure(line),
                   json_extract_string(line, '$.__schema__'),
                   json_extract_string(line, '$.__schema_version__')
            FROM {STAGED} WHERE rowid IN ?
            """,
            [[row[3] for row in found]],
        ).fetchall()
    }
    by_key: dict[int, Group] = {}
    for key, _, count, example in found:
        shape, schema, version = examples[example]
        group = by_key.setdefault(key, Group(schema, version, key, []))
        group.shapes.append((shape, count))
    for group in by_key.values():
        group.shapes.sort(key=lambda pair: (-pair[1], pair[0]))
    return sorted(by_key.values(), key=lambda group: (group.schema, group.version))
