"""The schema registry: every registered event schema, by ``$id`` and version."""

from __future__ import annotations

import re
from typing import Any

from .errors import SchemaNotFound, SchemaRegistryException
from .schema import EventSchema

__all__ = ["SchemaRegistry", "SchemaRegistryException", "version_key"]


def version_key(version: str) -> tuple[tuple[int, Any], ...]:
    """Sort key under which the newest version is largest: "2" > "1", "1.10" > "1.9"."""
    return tuple(
        (1, int(part)) if part.isdigit() else (0, part) for part in re.split(r"[.\-+_]", version)
    )


class SchemaRegistry:
    """Event schemas by ``$id``, several versions of one ``$id`` side by side."""

    def __init__(self, schemas: dict[str, EventSchema] | None = None) -> None:
        self._schemas: dict[str, dict[str, EventSchema]] = {}
        # Bumped on every change, so that loggers can cache what they look up here.
        self.revision = 0
        for schema in (schemas or {}).values():
            self._add(schema)

    def __contains__(self, key: str) -> bool:
        """Whether some version of the schema with ``$id`` ``key`` is registered."""
        return key in self._schemas

    def __repr__(self) -> str:
        return ",\n".join(str(s) for versions in self._schemas.values() for s in versions.values())

    def _add(self, schema_obj: EventSchema) -> None:
        versions = self._schemas.setdefault(schema_obj.id, {})
        if schema_obj.version in versions:
            msg = (
                f"The schema, {schema_obj.id}, version {schema_obj.version}, is already "
                "registered. Try removing it and registering it again."
            )
            raise SchemaRegistryException(msg)
        versions[schema_obj.version] = schema_obj
        self._schemas[schema_obj.id] = dict(
            sorted(versions.items(), key=lambda item: version_key(item[0]))
        )
        self.revision += 1

    @property
    def schema_ids(self) -> list[str]:
        """The ``$id`` of every registered schema."""
        return list(self._schemas)

    def versions(self, id_: str) -> list[str]:
        """The registered versions of schema ``id_``, oldest first."""
        return list(self._versions(id_))

    def register(self, schema: dict[str, Any] | str | EventSchema) -> EventSchema:
        """Validate ``schema`` against the event meta-schema and add it.

        Raises ``SchemaRegistryException`` if its ``$id`` and version are already registered.
        """
        if not isinstance(schema, EventSchema):
            schema = EventSchema(schema)
        self._add(schema)
        return schema

    def get(self, id_: str, version: str | int | None = None) -> EventSchema:
        """Schema ``id_`` at ``version`` (default: the newest); ``SchemaNotFound`` if absent."""
        versions = self._versions(id_)
        if version is None:
            return next(reversed(versions.values()))
        try:
            return versions[str(version)]
        except KeyError:
            msg = (
                f"The requested schema, {id_}, has no version {version} in the schema "
                f"registry; registered versions: {', '.join(versions)}."
            )
            raise SchemaNotFound(msg) from None

    def remove(self, id_: str, version: str | int | None = None) -> None:
        """Remove schema ``id_``: one ``version``, or by default all of them."""
        versions = self._versions(id_)
        if version is None:
            del self._schemas[id_]
        else:
            self.get(id_, version)
            del versions[str(version)]
            if not versions:
                del self._schemas[id_]
        self.revision += 1

    def validate_event(self, id_: str, data: dict[str, Any], version: str | None = None) -> None:
        """Validate ``data`` against schema ``id_`` (newest version unless ``version``)."""
        self.get(id_, version).validate(data)

    def _versions(self, id_: str) -> dict[str, EventSchema]:
        try:
            return self._schemas[id_]
        except KeyError:
            msg = (
                f"The requested schema, {id_}, was not found in the "
                "schema registry. Are you sure it was previously registered?"
            )
            raise SchemaNotFound(msg) from None
