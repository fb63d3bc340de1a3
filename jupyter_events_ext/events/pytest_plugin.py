"""Fixtures for testing code that emits events, with jupyter_events' fixture names.

Enable with ``pytest_plugins = ["jupyter_events_ext.events.pytest_plugin"]`` in a
top-level ``conftest.py``, then override ``jp_event_schemas`` to register your schemas::

    @pytest.fixture
    def jp_event_schemas():
        return [pathlib.Path("my_schema.yaml")]

    def test_it(jp_event_logger, jp_read_emitted_events):
        jp_event_logger.emit(schema_id="https://example.org/my-event/v1", data={...})
        assert jp_read_emitted_events()[0]["thing"] == ...
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any, Callable

import pytest

from .logger import EventLogger


@pytest.fixture
def jp_event_sink() -> io.StringIO:
    """The in-memory stream events are written to."""
    return io.StringIO()


@pytest.fixture
def jp_event_handler(jp_event_sink: io.StringIO) -> logging.Handler:
    """A logging handler writing events to ``jp_event_sink``."""
    return logging.StreamHandler(jp_event_sink)


@pytest.fixture
def jp_read_emitted_events(
    jp_event_handler: logging.Handler, jp_event_sink: io.StringIO
) -> Callable[[], list[dict[str, Any]] | None]:
    """A function returning the envelopes written since it was last called (None if none)."""

    def read() -> list[dict[str, Any]] | None:
        jp_event_handler.flush()
        lines = jp_event_sink.getvalue().splitlines()
        jp_event_sink.seek(0)
        jp_event_sink.truncate(0)
        return [json.loads(line) for line in lines] or None

    return read


@pytest.fixture
def jp_event_schemas() -> list[Any]:
    """The schemas ``jp_event_logger`` registers: dicts, JSON/YAML strings or paths."""
    return []


@pytest.fixture
def jp_event_logger(jp_event_handler: logging.Handler, jp_event_schemas: list[Any]) -> EventLogger:
    """An EventLogger writing to ``jp_event_handler`` with ``jp_event_schemas`` registered."""
    logger = EventLogger()
    for schema in jp_event_schemas:
        logger.register_event_schema(schema)
    logger.register_handler(handler=jp_event_handler)
    return logger
