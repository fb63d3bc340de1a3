"""Which schemas a client may post: the one place that answers it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jupyter_server import JUPYTER_SERVER_EVENTS_URI

from .event_shape import clip

# The schemas jupyter_server itself emits (contents, kernel actions, gateway) start so.
JUPYTER_SERVER_OWN = JUPYTER_SERVER_EVENTS_URI + "/"


class ClientSchemaPolicy:
    """Which schemas a client may post, through either door.

    This extension's routes (``POST events``, the events socket): exactly the schema
    versions allowed here, and never one of the schemas jupyter_server's logger knows,
    whatever the allowlist says. ``allowed`` holds ``($id, version)`` pairs (the shipped
    UI-action schemas, each at the version shipped) and ``($id, None)`` pairs for every
    version of an ``$id`` (an operator's ``allowed_client_schemas`` entry without a
    version). ``server_registry`` is jupyter_server's own schema registry, asked live, so
    that its schemas stay refused whether or not they are forwarded, including those
    registered later.

    jupyter_server's ``POST /api/events``, which exists for clients to post the schemas
    its logger knows: with ``api_events="mark"``, every one of them but jupyter_server's
    own (``https://events.jupyter.org/jupyter_server/...``: contents, kernel actions,
    gateway), which only the server emits; with ``"refuse"``, none.
    """

    def __init__(
        self,
        allowed: Iterable[tuple[str, str | None]],
        server_registry: Any = None,
        *,
        api_events: str = "mark",
    ) -> None:
        self._allowed = frozenset(allowed)
        self._server_registry = server_registry
        self._server_schemas: set[str] = set()
        self.api_events = api_events

    def add_server_schema(self, schema_id: str) -> None:
        """Count ``schema_id`` among jupyter_server's own schemas, which only it emits."""
        self._server_schemas.add(schema_id)

    def is_server_schema(self, schema_id: str) -> bool:
        registry = self._server_registry
        return schema_id in self._server_schemas or (registry is not None and schema_id in registry)

    def may_post(self, schema_id: str, version: str) -> bool:
        allowed = self._allowed
        return (
            (schema_id, version) in allowed or (schema_id, None) in allowed
        ) and not self.is_server_schema(schema_id)

    def refusal(self, schema_id: str, version: str) -> str:
        """Why a client may not post ``schema_id`` at ``version``, and what would change it."""
        if self.is_server_schema(schema_id):
            reason = "it is one of jupyter_server's own schemas, which only the server emits"
        elif any(allowed_id == schema_id for allowed_id, _ in self._allowed):
            reason = (
                f"version {clip(version)} is not among the versions clients may post; an "
                "operator can open it with c.EventsExtensionApp.allowed_client_schemas"
            )
        else:
            reason = (
                "it is a server-side schema; an operator can open it to clients with "
                "c.EventsExtensionApp.allowed_client_schemas"
            )
        return f"clients may not post schema {schema_id!r}: {reason}"

    def may_post_to_api_events(self, schema_id: Any) -> bool:
        """Whether a client may post ``schema_id`` to jupyter_server's ``/api/events``."""
        return self.api_events == "mark" and not (
            isinstance(schema_id, str) and schema_id.startswith(JUPYTER_SERVER_OWN)
        )

    def api_events_refusal(self, schema_id: Any) -> str:
        """Why a client may not post ``schema_id`` to ``/api/events``."""
        if self.api_events != "mark":
            return (
                "POST /api/events takes no client events on this server "
                "(c.EventsExtensionApp.api_events is 'refuse'); post to "
                "jupyter-events-ext/events instead"
            )
        return (
            f"clients may not post schema {clip(str(schema_id))!r}: it is one of "
            "jupyter_server's own schemas, which only the server emits"
        )

    def allowed_server_schemas(self) -> list[str]:
        """The allowlisted schemas that are jupyter_server's own, which stay refused."""
        return sorted({i for i, _ in self._allowed if self.is_server_schema(i)})
