"""Which schemas a client may post: the one place that answers it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .event_shape import clip


class ClientSchemaPolicy:
    """Clients may post exactly the schema versions allowed here, and never one of
    jupyter_server's own schemas, whatever the allowlist says.

    ``allowed`` holds ``($id, version)`` pairs (the shipped UI-action schemas, each at
    the version shipped) and ``($id, None)`` pairs for every version of an ``$id`` (an
    operator's ``allowed_client_schemas`` entry without a version). ``server_registry``
    is jupyter_server's own schema registry, asked live, so that its schemas stay
    refused whether or not they are forwarded, including those registered later.
    """

    def __init__(
        self, allowed: Iterable[tuple[str, str | None]], server_registry: Any = None
    ) -> None:
        self._allowed = frozenset(allowed)
        self._server_registry = server_registry
        self._server_schemas: set[str] = set()

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

    def allowed_server_schemas(self) -> list[str]:
        """The allowlisted schemas that are jupyter_server's own, which stay refused."""
        return sorted({i for i, _ in self._allowed if self.is_server_schema(i)})
