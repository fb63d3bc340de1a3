"""Fixtures for the server extension's tests: configuration, posting, the JSON-lines sink."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def events_config() -> dict[str, Any]:
    """``c.EventsExtensionApp`` for one test: parametrize it to change a trait."""
    return {}


@pytest.fixture
def server_config() -> dict[str, Any]:
    """Extra ``c.ServerApp`` settings for one test."""
    return {}


@pytest.fixture
def extra_config() -> dict[str, Any]:
    """Other config sections (e.g. ``EventLogger``) for one test."""
    return {}


@pytest.fixture
def jp_server_config(events_config, server_config, extra_config):
    return {
        "ServerApp": {
            # Terminals: its socket lacks @ws_authenticated, which warnings-as-errors turn
            # into a failed load, logged on every test.
            "jpserver_extensions": {"jupyter_events_ext": True, "jupyter_server_terminals": False},
            "allow_unauthenticated_access": False,
            **server_config,
        },
        "EventsExtensionApp": events_config,
        **extra_config,
    }


@pytest.fixture
def events_app(jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_events_ext"]
    return app


@pytest.fixture
def sink_path(jp_data_dir) -> Path:
    return Path(jp_data_dir) / "jupyter_events_ext" / "events.jsonl"


@pytest.fixture
def read_sink(sink_path):
    """The envelopes in the default JSON-lines sink; optionally only one schema's."""

    def read(schema_id: str | None = None) -> list[dict[str, Any]]:
        if not sink_path.exists():
            return []
        lines = sink_path.read_text(encoding="utf-8").splitlines()
        envelopes = [json.loads(line) for line in lines]
        return [e for e in envelopes if schema_id is None or e["__schema__"] == schema_id]

    return read


@pytest.fixture
def post(jp_fetch):
    """POST ``body`` (JSON-encoded unless bytes/str) to events; returns the response."""

    async def do_post(body: Any, **kwargs: Any):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        return await jp_fetch(
            "jupyter-events-ext", "events", method="POST", body=body, raise_error=False, **kwargs
        )

    return do_post


class Answer:
    """An answer as a test reads it, whichever way the body went: ``code`` and ``body``."""

    def __init__(self, code: int, body: bytes) -> None:
        self.code = code
        self.body = body


@pytest.fixture(params=["post", "socket"])
def send(request, post, jp_ws_fetch):
    """Send a body (JSON-encoded unless bytes/str) by ``POST events`` or over the events
    socket, which must answer alike; returns its ``Answer``. One socket per test."""
    sockets = []

    async def do_send(body: Any) -> Answer:
        if request.param == "post":
            response = await post(body)
            return Answer(response.code, response.body)
        if isinstance(body, bytes):
            body = body.decode()
        elif not isinstance(body, str):
            body = json.dumps(body)
        if not sockets:
            sockets.append(await jp_ws_fetch("jupyter-events-ext", "events", "socket"))
        await sockets[0].write_message(body)
        message = await asyncio.wait_for(sockets[0].read_message(), 30)
        assert message is not None, "the events socket closed instead of answering"
        answer = json.loads(message)
        code = answer.pop("status")
        return Answer(code, json.dumps(answer).encode() if answer else b"")

    yield do_send
    for ws in sockets:
        ws.close()
