"""Schema ids and events the server extension's tests post."""

from __future__ import annotations

from typing import Any

COMMAND = "https://events.jupyter.org/jupyter_events_ext/command/v1"
DOCUMENT = "https://events.jupyter.org/jupyter_events_ext/document/v1"
CELL = "https://events.jupyter.org/jupyter_events_ext/cell-execution/v1"
CONTENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"
KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"


def command(command_id: str = "notebook:run-cell", **extra: Any) -> dict[str, Any]:
    return {"schema_id": COMMAND, "version": 1, "data": {"command_id": command_id}, **extra}
