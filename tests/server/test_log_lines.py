"""What a client sends never forges a line of the server's log: every client string that
reaches a log record is quoted, so CR and LF show as escapes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from posted_events import COMMAND, command

FORGED = "\r\n[W 2026-11-23 18:36:17.058 ServerApp] FORGED"


@pytest.fixture
def log_lines(jp_serverapp) -> Iterator[list[str]]:
    """Every line the server's loggers write during the test, formatted."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.extend(self.format(record).splitlines())

    handler = Collect()
    loggers = [logging.getLogger(), logging.getLogger("tornado"), jp_serverapp.log]
    for logger in loggers:
        logger.addHandler(handler)
    yield lines
    for logger in loggers:
        logger.removeHandler(handler)


HOSTILE = [
    {**command(), "version": f"1{FORGED}"},
    {**command(), "schema_id": f"https://x.org/a{FORGED}"},
    {**command(), f"field{FORGED}": 1},
    {**command(), "timestamp": f"2024{FORGED}"},
    {**command(), "data": {"command_id": "x", f"key{FORGED}": 1}},
    {**command(), "data": {"command_id": f"x{FORGED}", "args": 5}},
    {**command(), "id": f"id{FORGED}"[:128], "data": []},
    {"events": [], f"extra{FORGED}": 1},
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
async def test_a_client_string_cannot_forge_a_log_line(send, log_lines, read_sink, body):
    response = await send(json.dumps(body))
    assert response.code == 400
    assert log_lines  # the refusal (of a POST), or the socket's opening
    forged = [line for line in log_lines if line.lstrip().startswith("[W 2026-11-23")]
    assert forged == []
    assert read_sink(COMMAND) == []


async def test_the_stream_query_cannot_forge_a_log_line(jp_fetch, log_lines):
    for query in ({"after": f"1{FORGED}"}, {"run_id": f"ab{FORGED}"}):
        response = await jp_fetch("jupyter-events-ext", "stream", params=query, raise_error=False)
        assert response.code == 400
    forged = [line for line in log_lines if line.lstrip().startswith("[W 2026-11-23")]
    assert forged == []
