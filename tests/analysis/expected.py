"""What an export of a JSON-lines file must hold, computed independently with ``json``."""

from __future__ import annotations

import collections
import datetime as dt
import json
import pathlib
from typing import Any

ENVELOPE = (
    "__timestamp__",
    "__schema__",
    "__schema_version__",
    "__metadata_version__",
    "__user__",
    "__id__",
)


def envelopes(*paths: pathlib.Path) -> list[dict[str, Any]]:
    """Every line of the files, parsed (the files must hold only good lines)."""
    found = []
    for path in paths:
        with open(path, encoding="utf-8") as file:
            found.extend(json.loads(line) for line in file if line.strip())
    return found


def counts(events: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    return dict(
        collections.Counter((e["__schema__"], str(e["__schema_version__"])) for e in events)
    )


def flat(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted names, as the export writes them."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict) and item:
            out.update(flat(item, f"{prefix}{key}."))
        else:
            out[prefix + key] = item
    return out


def timestamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def rows(events: list[dict[str, Any]], schema: str, columns: list[str]) -> list[dict[str, Any]]:
    """The rows the table of ``schema`` must hold, as Python values, oldest first.

    Events with the same timestamp keep their order in the file, as the export does
    not promise one: compare sorted by (timestamp, id).
    """
    out = []
    for event in events:
        if event["__schema__"] != schema:
            continue
        row = dict.fromkeys(columns)
        row.update(flat(event))
        row["__timestamp__"] = timestamp(event["__timestamp__"])
        row["__schema_version__"] = str(event["__schema_version__"])
        out.append(row)
    return sorted(out, key=lambda row: (row["__timestamp__"], row["__id__"] or ""))


def by_time_and_id(table_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(table_rows, key=lambda row: (row["__timestamp__"], row["__id__"] or ""))
