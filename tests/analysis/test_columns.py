"""How event fields become columns: types, dotted names, JSON text, exact integers."""

from __future__ import annotations

import csv
import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jupyter_events_ext.analysis import export_events, read_events
from jupyter_events_ext.analysis.columns import MAX_OBJECT_KEYS, merge

SCHEMA = "https://example.org/probe/v1"


def write(
    path: pathlib.Path, *data: dict, schema: str = SCHEMA, version: str = "1"
) -> pathlib.Path:
    with open(path, "a", encoding="utf-8") as file:
        for n, fields in enumerate(data):
            envelope = {
                "__timestamp__": f"2026-11-23T10:00:{n:02d}.000000Z",
                "__schema__": schema,
                "__schema_version__": version,
                "__metadata_version__": 1,
                **fields,
            }
            file.write(json.dumps(envelope) + "\n")
    return path


def one_table(tmp_path: pathlib.Path, *data: dict, fmt: str = "parquet") -> pathlib.Path:
    out = tmp_path / f"out-{fmt}"
    summary = export_events(write(tmp_path / f"in-{fmt}.jsonl", *data), out, format=fmt)
    assert len(summary.tables) == 1
    return out / summary.tables[0].file


def column(table: pa.Table, name: str) -> list:
    return table[name].to_pylist()


@pytest.mark.parametrize(
    ("a", "b", "merged"),
    [
        ("UBIGINT", "DOUBLE", "DOUBLE"),
        ("UBIGINT", "BIGINT", "HUGEINT"),
        ("NULL", "VARCHAR", "VARCHAR"),
        ("VARCHAR", "UBIGINT", "JSON"),
        ({"x": "VARCHAR"}, {"y": "BOOLEAN"}, {"x": "VARCHAR", "y": "BOOLEAN"}),
        ({"x": "VARCHAR"}, "VARCHAR", "JSON"),
        (["UBIGINT"], ["DOUBLE"], ["DOUBLE"]),
        (["VARCHAR"], "VARCHAR", "JSON"),
    ],
)
def test_merging_shapes_loses_nothing(a, b, merged):
    assert merge(a, b) == merged
    assert merge(b, a) == merged


def test_scalar_types(tmp_path):
    table = pq.read_table(
        one_table(
            tmp_path,
            {"s": "a", "i": 1, "f": 1.5, "b": True, "mixed": 2, "none": None},
            {"s": "b", "i": -2, "f": 2.0, "b": False, "mixed": 2.5, "none": None},
        )
    )
    types = dict(zip(table.schema.names, table.schema.types))
    assert types["s"] == pa.string()
    assert types["i"] == pa.int64()
    assert types["f"] == types["mixed"] == pa.float64()
    assert types["b"] == pa.bool_()
    assert types["none"] == pa.string()
    assert column(table, "i") == [1, -2]
    assert column(table, "mixed") == [2.0, 2.5]
    assert column(table, "none") == [None, None]
    # Envelope fields no event has are there all the same.
    assert column(table, "__user__") == column(table, "__id__") == [None, None]


def test_nested_objects_and_clashing_names(tmp_path):
    table = pq.read_table(
        one_table(
            tmp_path,
            {"args": {"path": "a", "opts": {"depth": 1}}, "a.b": 1, "a": {"b": 2}},
            {"args": {"path": "b"}, "a.b": 3, "a": {"b": 4}},
        )
    )
    assert table.column_names[6:] == ["args.path", "args.opts.depth", "a.b", "a"]
    assert column(table, "args.opts.depth") == [1, None]
    assert column(table, "a.b") == [1, 3]
    # "a" would flatten to "a.b", a name taken: it stays one column of JSON text.
    assert [json.loads(value) for value in column(table, "a")] == [{"b": 2}, {"b": 4}]


def test_objects_kept_as_json_text(tmp_path):
    wide = {f"k{i}": i for i in range(MAX_OBJECT_KEYS + 1)}
    table = pq.read_table(
        one_table(
            tmp_path,
            {"map": wide, "sometimes": {"x": 1}, "varies": 1, "empty": {}},
            {"map": {"k0": 0}, "sometimes": "text", "varies": "one", "empty": {}},
        )
    )
    assert table.column_names[6:] == ["map", "sometimes", "varies", "empty"]
    assert all(table.schema.field(name).type == pa.string() for name in table.column_names[6:])
    assert json.loads(column(table, "map")[0]) == wide
    assert [json.loads(v) for v in column(table, "sometimes")] == [{"x": 1}, "text"]
    assert [json.loads(v) for v in column(table, "varies")] == [1, "one"]
    assert column(table, "empty") == ["{}", "{}"]


def test_arrays_are_lists_in_parquet_and_json_in_csv(tmp_path):
    data = ({"tags": ["a", "b"], "points": [{"x": 1}]}, {"tags": [], "points": []})
    table = pq.read_table(one_table(tmp_path, *data))
    assert table.schema.field("tags").type == pa.list_(pa.string())
    assert column(table, "tags") == [["a", "b"], []]
    assert column(table, "points") == [[{"x": 1}], []]
    with open(one_table(tmp_path, *data, fmt="csv"), newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [json.loads(row["tags"]) for row in rows] == [["a", "b"], []]
    assert [json.loads(row["points"]) for row in rows] == [[{"x": 1}], []]
    jsonl = one_table(tmp_path, *data, fmt="jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["points"] for line in jsonl] == [[{"x": 1}], []]


def test_integers_beyond_int64_are_kept_exactly(tmp_path):
    big = 2**63 + 5
    table = pq.read_table(one_table(tmp_path, {"n": 1}, {"n": big}))
    assert table.schema.field("n").type == pa.uint64()
    assert column(table, "n") == [1, big]
    # Signed and beyond int64: exact as text.
    signed = tmp_path / "signed"
    signed.mkdir()
    table = pq.read_table(one_table(signed, {"n": -1}, {"n": 2**64 - 1}))
    assert column(table, "n") == ["-1", str(2**64 - 1)]
    # Tables without such integers keep int64.
    assert read_events(write(tmp_path / "small.jsonl", {"n": -1}))["n"].type == pa.int64()


def test_user_given_as_an_object_is_json_text(tmp_path):
    table = pq.read_table(one_table(tmp_path, {"__user__": {"name": "ada"}, "x": 1}))
    assert column(table, "__user__") == ['{"name":"ada"}']


def test_two_versions_of_a_schema_are_two_tables(tmp_path):
    path = write(tmp_path / "v.jsonl", {"x": 1}, version="1")
    write(path, {"x": "one", "y": True}, version="2")
    summary = export_events(path, tmp_path / "out")
    assert [(t.version, t.rows) for t in summary.tables] == [("1", 1), ("2", 1)]
    assert summary.tables[1].columns[-2:] == ["x", "y"]
    # Read together, "x" differs in type between the versions: text. (Both events have the
    # same timestamp, so the order between them is not given.)
    rows = sorted(read_events(path).to_pylist(), key=lambda row: row["__schema_version__"])
    assert [(row["__schema_version__"], row["x"], row["y"]) for row in rows] == [
        ("1", "1", None),
        ("2", "one", True),
    ]
