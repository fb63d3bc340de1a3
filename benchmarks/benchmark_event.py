"""The event every benchmark sends: one schema, five required properties (three
strings, two integers), so that figures from different benchmarks compare."""

SCHEMA_ID = "https://events.jupyter.org/jupyter_events_ext/benchmark/v1"
SCHEMA = {
    "$id": SCHEMA_ID,
    "version": "1",
    "title": "Benchmark event",
    "description": "Five required properties: three strings, two integers.",
    "type": "object",
    "required": ["action", "path", "user", "size", "duration_ms"],
    "properties": {
        "action": {"type": "string"},
        "path": {"type": "string"},
        "user": {"type": "string"},
        "size": {"type": "integer"},
        "duration_ms": {"type": "integer"},
    },
}
DATA = {
    "action": "save",
    "path": "notebooks/analysis.ipynb",
    "user": "ada",
    "size": 48213,
    "duration_ms": 17,
}
