"""The event schema catalog: one section per schema the package ships, read from its YAML.

Each section gives the schema's `$id`, what it records, what it never contains (the
schema's ``x-never-contains``, the one place that says it) and its fields. A shipped
schema that does not say what it never contains, or a field without a description, is a
build warning (an error in CI, which builds with ``-W``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markdown_text import GeneratedMarkdown, code, prose
from schema_fields import fields_table

from jupyter_events_ext.events import yaml
from jupyter_events_ext.server.app import SHIPPED_SCHEMAS


def shipped_schemas(root: Path = SHIPPED_SCHEMAS) -> list[tuple[str, dict[str, Any]]]:
    """(name, schema) for every ``<name>/v<N>.yaml`` under ``root``, by name then version."""
    found = []
    for path in root.glob("*/v*.yaml"):
        found.append((path.parent.name, int(path.stem[1:]), yaml.load(path)))
    return [(name, schema) for name, _, schema in sorted(found, key=lambda f: f[:2])]


def never_contains(schema: dict[str, Any]) -> list[str]:
    never = schema.get("x-never-contains")
    return never if isinstance(never, list) else []


def incomplete(schemas: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """What is missing: x-never-contains, or a field's description; one line each."""
    problems = []
    for name, schema in schemas:
        never = never_contains(schema)
        if not never or not all(isinstance(item, str) and item.strip() for item in never):
            problems.append(
                f"{name}: x-never-contains must list what this event never holds "
                "(the catalog reads it from the schema alone)"
            )
        problems += [
            f"{name}: the field {field!r} has no description"
            for field, spec in schema.get("properties", {}).items()
            if not str(spec.get("description", "")).strip()
        ]
    return problems


def catalog(schemas: list[tuple[str, dict[str, Any]]]) -> str:
    out = []
    for name, schema in schemas:
        out += [
            f"({name}-v{schema['version']})=",
            f"## {name} v{schema['version']}: {prose(schema.get('title', name))}",
            "",
            f"{code(schema['$id'])}",
            "",
            prose(schema["description"]),
            "",
            "**Never contains:**",
            "",
            *(f"- {prose(item)}" for item in never_contains(schema)),
            "",
            *fields_table(schema),
            "",
        ]
    return "\n".join(out)


class EventSchemaCatalog(GeneratedMarkdown):
    def markdown(self) -> str:
        schemas = shipped_schemas()
        for path in SHIPPED_SCHEMAS.glob("*/v*.yaml"):
            self.env.note_dependency(str(path))
        self.warn_each(incomplete(schemas))
        return catalog(schemas)


def setup(app):
    app.add_directive("event-schema-catalog", EventSchemaCatalog)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
