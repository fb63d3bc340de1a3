"""Fixtures for the server extension's tests: configuration, posting, the JSON-lines sink."""

from __future__ import annotations

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
