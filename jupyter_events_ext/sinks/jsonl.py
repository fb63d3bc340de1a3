"""JSON-lines files, as ``logging.FileHandler`` sinks write them: reading back what they hold."""

from __future__ import annotations

import json
import os

from ..events.envelope import EVENT_ID_FIELD as ID_FIELD

# How much of the end of a JSON-lines sink is read at start-up for ids already recorded.
ID_SCAN_BYTES = 8 * 1024 * 1024


def recorded_ids(path: str, max_bytes: int = ID_SCAN_BYTES) -> list[str]:
    """The client ids (``__id__``) in the last ``max_bytes`` of a JSON-lines sink, oldest
    first."""
    try:
        with open(path, "rb") as sink:
            start = max(0, sink.seek(0, os.SEEK_END) - max_bytes)
            # One byte early, to tell whether the window starts a line or cuts one.
            sink.seek(max(0, start - 1))
            tail = sink.read()
    except OSError:
        return []
    if start > 0:
        newline = tail.find(b"\n")
        tail = tail[newline + 1 :] if newline >= 0 else b""
    ids = []
    for line in tail.split(b"\n"):
        if b'"__id__"' not in line:
            continue
        try:
            client_id = json.loads(line).get(ID_FIELD)
        except (ValueError, AttributeError):
            continue  # a torn or foreign line: nothing to remember
        if isinstance(client_id, str):
            ids.append(client_id)
    return ids
