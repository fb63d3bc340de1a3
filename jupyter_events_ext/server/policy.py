"""Which schemas a client may post: the one place that answers it."""

from __future__ import annotations


class ClientSchemaPolicy:
    """Clients may post the schemas in ``client_schemas`` (the shipped UI-action schemas
    and those an operator allows), and never a schema that jupyter_server itself emits,
    whatever the allowlist says.
    """

    def __init__(self, client_schemas: set[str]) -> None:
        self._client_schemas = frozenset(client_schemas)
        self._server_schemas: set[str] = set()

    def add_server_schema(self, schema_id: str) -> None:
        """Count ``schema_id`` among jupyter_server's own schemas, which only it emits."""
        self._server_schemas.add(schema_id)

    def is_server_schema(self, schema_id: str) -> bool:
        return schema_id in self._server_schemas

    def may_post(self, schema_id: str) -> bool:
        return schema_id in self._client_schemas and schema_id not in self._server_schemas

    def refusal(self, schema_id: str) -> str:
        """Why a client may not post ``schema_id``, and what would change that."""
        if schema_id in self._server_schemas:
            reason = "it is one of jupyter_server's own schemas, which only the server emits"
        else:
            reason = (
                "it is a server-side schema; an operator can open it to clients with "
                "c.EventsExtensionApp.allowed_client_schemas"
            )
        return f"clients may not post schema {schema_id!r}: {reason}"

    def allowed_server_schemas(self) -> list[str]:
        """The allowlisted schemas that are jupyter_server's own, which stay refused."""
        return sorted(self._client_schemas & self._server_schemas)
