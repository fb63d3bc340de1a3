"""From the shapes of one schema version's events to the columns of its table.

The engine reports each event's *shape* (``json_structure``: every key and the type of
its value). The shapes of one schema version are merged into one, which decides the
columns:

- Envelope fields come first, always present (null where an event lacks them):
  ``__timestamp__`` (a UTC timestamp), ``__schema__``, ``__schema_version__`` (text),
  ``__metadata_version__`` (integer), ``__user__`` and ``__id__`` (text).
- Each data field is a column of its JSON type: text, boolean, integer (int64) or
  double; a field holding integers in some events and decimals in others is a double.
- Nested objects become dotted names: ``{"args": {"path": "a.ipynb"}}`` is a column
  ``args.path``. An object is kept whole, as JSON text in one column, when flattening it
  would not give stable columns: it is sometimes empty or not an object, it has more
  than ``MAX_OBJECT_KEYS`` keys (a map keyed by data, not a record), or a dotted name
  would clash with another field's name.
- Arrays are lists in Parquet and JSON lines, JSON text in CSV.
- A field whose type varies between events (text here, a number there) is JSON text, so
  that nothing is lost or coerced.
- Integers are int64 unless one does not fit; then that table keeps them exactly
  (unsigned 64-bit, or text), which ``TablePlan.select`` is asked for on a retry.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Union

from .sql import identifier, literal

Shape = Union[str, list, dict]

# Envelope fields read from the staged table rather than from the event's text.
STAGED_FIELDS = ("__timestamp__", "__schema__", "__schema_version__")
# Envelope fields every table has, with the type they take when no event has them.
METADATA_FIELDS = {"__metadata_version__": "UBIGINT", "__user__": "VARCHAR", "__id__": "VARCHAR"}
ENVELOPE_COLUMNS = STAGED_FIELDS + tuple(METADATA_FIELDS)
MAX_OBJECT_KEYS = 100

# Integers as json_structure reports them. "HUGEINT" is ours: signed and unsigned mixed.
_INTEGERS = ("UBIGINT", "BIGINT", "HUGEINT")
_RFC3339 = "%Y-%m-%dT%H:%M:%S.%fZ"

FORMATS = ("parquet", "csv", "jsonl")
# How each kind of output holds what Parquet/Arrow hold natively.
_TEXT_TIMES = {"csv", "jsonl"}
_TEXT_LISTS = {"csv"}
_RAW_JSON = {"jsonl"}


def merge(a: Shape, b: Shape) -> Shape:
    """The shape that holds values of both shapes without loss."""
    if a == b:
        return a
    if a == "NULL":
        return b
    if b == "NULL":
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        merged = dict(a)
        for key, value in b.items():
            merged[key] = merge(merged[key], value) if key in merged else value
        return merged
    if isinstance(a, list) and isinstance(b, list):
        return [merge(a[0], b[0])]
    if isinstance(a, str) and isinstance(b, str):
        if "DOUBLE" in (a, b) and {a, b} <= {"DOUBLE", *_INTEGERS}:
            return "DOUBLE"
        if {a, b} <= set(_INTEGERS):
            return "HUGEINT"
    return "JSON"


@dataclasses.dataclass(frozen=True)
class Column:
    """One output column: its name, where its value is in the event, and its shape."""

    name: str
    path: tuple[str, ...]
    shape: Shape


def _flatten(shape: dict, prefix: tuple[str, ...], taken: frozenset[str]) -> list[Column] | None:
    """The columns of an object's fields, or None if a dotted name among them is taken."""
    columns: list[Column] = []
    used = set(taken)
    for key, value in shape.items():
        path = (*prefix, key)
        name = ".".join(path)
        if isinstance(value, dict) and len(value) <= MAX_OBJECT_KEYS:
            nested = _flatten(value, path, frozenset(used))
            if nested is not None:
                columns.extend(nested)
                used.update(column.name for column in nested)
                continue
        # Top-level names are distinct keys of one object; only dotted ones can clash.
        if prefix and name in used:
            return None
        columns.append(Column(name, path, "JSON" if isinstance(value, dict) else value))
        used.add(name)
    return columns


def _transform_shape(columns: list[Column]) -> dict:
    """The ``json_transform`` structure that extracts exactly ``columns``."""
    structure: dict = {}
    for column in columns:
        node = structure
        for key in column.path[:-1]:
            node = node.setdefault(key, {})
        node[column.path[-1]] = _engine_shape(column.shape)
    return structure


def _engine_shape(shape: Shape) -> Shape:
    """``shape`` as ``json_transform`` takes it: no NULL, our HUGEINT as DuckDB's."""
    if isinstance(shape, list):
        return [_engine_shape(shape[0])]
    if isinstance(shape, dict):
        return {key: _engine_shape(value) for key, value in shape.items()} or "JSON"
    return "VARCHAR" if shape == "NULL" else shape


def _sql_type(shape: Shape, narrow: bool, raw_json: bool) -> str:
    """The column's SQL type: integers as BIGINT when ``narrow``, else exact."""
    if isinstance(shape, list):
        return _sql_type(shape[0], narrow, raw_json) + "[]"
    if isinstance(shape, dict):
        fields = ", ".join(
            f"{identifier(key)} {_sql_type(value, narrow, raw_json)}"
            for key, value in shape.items()
        )
        return f"STRUCT({fields})" if fields else ("JSON" if raw_json else "VARCHAR")
    if shape in _INTEGERS:
        return "BIGINT" if narrow else {"HUGEINT": "VARCHAR"}.get(shape, shape)
    if shape == "JSON":
        return "JSON" if raw_json else "VARCHAR"
    if shape == "NULL":
        return "VARCHAR"
    return shape


@dataclasses.dataclass
class TablePlan:
    """The table of one schema version: how many events, which columns, how to select them."""

    schema: str
    version: str
    rows: int
    columns: list[Column]
    key: int = 0  # which rows of the staged table are this table's

    @classmethod
    def from_shapes(
        cls, schema: str, version: str, shapes: list[tuple[str, int]], key: int = 0
    ) -> TablePlan:
        """Plan from ``(json_structure text, event count)`` pairs, most common first."""
        merged: Shape = "NULL"
        for text, _ in shapes:
            merged = merge(merged, json.loads(text))
        if not isinstance(merged, dict):  # staging only keeps objects
            raise ValueError(f"shapes of {schema} are not objects")
        columns = []
        for name, default in METADATA_FIELDS.items():
            shape = merge(default, merged.get(name, "NULL"))
            columns.append(Column(name, (name,), "JSON" if isinstance(shape, dict) else shape))
        data = {k: v for k, v in merged.items() if k not in ENVELOPE_COLUMNS}
        flat = _flatten(data, (), frozenset(ENVELOPE_COLUMNS) | frozenset(data)) or []
        return cls(schema, version, sum(count for _, count in shapes), columns + flat, key)

    @property
    def column_names(self) -> list[str]:
        return [*STAGED_FIELDS, *(column.name for column in self.columns)]

    def has_integers(self) -> bool:
        """Whether a retry with exact integers could differ (see ``select``)."""
        return any(_mentions_integers(column.shape) for column in self.columns)

    def select(self, table: str, fmt: str, narrow: bool = True) -> str:
        """A ``SELECT`` of this table's events from ``table`` (``staging.STAGED``), in the
        order they are stored there: oldest first.

        ``fmt`` is ``parquet`` (also for Arrow), ``csv`` or ``jsonl``. With ``narrow``,
        integers are int64 and the query fails with a conversion error if one does not
        fit; run it again with ``narrow=False`` to keep them exactly.
        """
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        raw_json = fmt in _RAW_JSON
        timestamp = f"strftime(ts, '{_RFC3339}')" if fmt in _TEXT_TIMES else "ts"
        parts = [
            f"{timestamp} AS {identifier('__timestamp__')}",
            f"{literal(self.schema)} AS {identifier('__schema__')}",
            f"{literal(self.version)} AS {identifier('__schema_version__')}",
        ]
        for column in self.columns:
            value = "r"
            for key in column.path:
                value = f"struct_extract({value}, {literal(key)})"
            value = f"CAST({value} AS {_sql_type(column.shape, narrow, raw_json)})"
            if isinstance(column.shape, list) and fmt in _TEXT_LISTS:
                value = f"CAST(to_json({value}) AS VARCHAR)"
            parts.append(f"{value} AS {identifier(column.name)}")
        structure = literal(json.dumps(_transform_shape(self.columns)))
        return (
            f"SELECT {', '.join(parts)} FROM ("
            f"SELECT ts, json_transform(line, {structure}) AS r FROM {table} "
            f"WHERE grp = {int(self.key)})"
        )


def _mentions_integers(shape: Shape) -> bool:
    if isinstance(shape, list):
        return _mentions_integers(shape[0])
    if isinstance(shape, dict):
        return any(_mentions_integers(value) for value in shape.values())
    return shape in _INTEGERS
