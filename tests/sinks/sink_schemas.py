"""The schemas of the events these tests send through the sinks."""

SCHEMA_ID = "https://events.jupyter.org/jupyter_events_ext/test/sink/v1"
OTHER_SCHEMA_ID = "https://events.jupyter.org/jupyter_events_ext/test/other/v1"

SCHEMAS = [
    {
        "$id": schema_id,
        "version": "1",
        "title": "A numbered test event",
        "description": "An event carrying where it came from and its number.",
        "type": "object",
        "properties": {
            "source": {"type": "string", "title": "source", "description": "Who emitted it."},
            "n": {"type": "integer", "title": "n", "description": "Its number."},
        },
        "required": ["source", "n"],
    }
    for schema_id in (SCHEMA_ID, OTHER_SCHEMA_ID)
]
