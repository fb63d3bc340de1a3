"""Hooks: the modifiers or listeners of an EventLogger, per schema and for every schema."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Callable

Hook = Callable[..., Any]


class Hooks(Mapping[str, tuple[Hook, ...]]):
    """One kind of hook (modifiers, say), kept per schema ``$id`` in the order added.

    A hook added without a schema applies to every schema, including those first seen
    later: a schema's hooks start as the global ones when the schema is first asked about
    (``of``, or ``note``, when it is registered). As a mapping, it holds each schema seen
    and its hooks, as jupyter_events' ``EventLogger._modifiers`` (a dict) does.
    """

    def __init__(self) -> None:
        self._per_schema: dict[str, dict[Hook, None]] = {}  # ordered sets
        self._global: dict[Hook, None] = {}

    def add(self, schema_id: str | None, hook: Hook) -> None:
        if schema_id:
            self._of(schema_id)[hook] = None
        else:
            self._global[hook] = None
            for hooks in self._per_schema.values():
                hooks[hook] = None

    def remove(self, schema_id: str | None, hook: Hook) -> None:
        """Remove ``hook`` from ``schema_id``, or (without one) from every schema."""
        if schema_id:
            self._per_schema.get(schema_id, {}).pop(hook, None)
        else:
            self._global.pop(hook, None)
            for hooks in self._per_schema.values():
                hooks.pop(hook, None)

    def of(self, schema_id: str) -> tuple[Hook, ...]:
        """The hooks that apply to ``schema_id``, in the order they were added."""
        return tuple(self._of(schema_id))

    def note(self, schema_id: str) -> None:
        """Start ``schema_id``'s hooks (the global ones) if they have not started."""
        self._of(schema_id)

    def __getitem__(self, schema_id: str) -> tuple[Hook, ...]:
        return tuple(self._per_schema[schema_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._per_schema)

    def __len__(self) -> int:
        return len(self._per_schema)

    def any_for(self, schema_id: str) -> bool:
        """Whether some hook applies to ``schema_id``, without recording the schema as seen."""
        return bool(self._global or self._per_schema.get(schema_id))

    def _of(self, schema_id: str) -> dict[Hook, None]:
        if schema_id not in self._per_schema:
            self._per_schema[schema_id] = dict(self._global)
        return self._per_schema[schema_id]
