"""A JSON Schema object as a table of its fields: name, type, whether required, description.

Shared by the event schema catalog, the REST reference and the settings reference.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from markdown_text import cell, code, prose

# How a `$ref` is shown: the REST reference links its components' sections.
RefText = Callable[[str], str]


def _plain_ref(ref: str) -> str:
    return code(ref.rsplit("/", 1)[-1])


def type_text(schema: dict[str, Any], ref_text: RefText = _plain_ref) -> str:
    """A short Markdown phrase for the values ``schema`` allows."""
    if "$ref" in schema:
        return ref_text(schema["$ref"])
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            return " or ".join(type_text(option, ref_text) for option in schema[combinator])
    if "const" in schema:
        return code(json.dumps(schema["const"]))
    if "enum" in schema:
        return "one of " + ", ".join(code(json.dumps(value)) for value in schema["enum"])
    types = schema.get("type", "any")
    types = types if isinstance(types, list) else [types]
    names = []
    for name in types:
        if name == "array" and "items" in schema:
            names.append(f"array of {type_text(schema['items'], ref_text)}")
        else:
            names.append(name)
    text = " or ".join(names)
    details = [
        f"{label} {code(json.dumps(schema[key]))}"
        for key, label in (
            ("format", "format"),
            ("pattern", "pattern"),
            ("minimum", "≥"),
            ("maximum", "≤"),
            ("minLength", "length ≥"),
            ("maxLength", "length ≤"),
            ("minItems", "items ≥"),
            ("maxItems", "items ≤"),
        )
        if key in schema
    ]
    return f"{text} ({', '.join(details)})" if details else text


def fields_table(
    schema: dict[str, Any], ref_text: RefText = _plain_ref, *, prefix: str = ""
) -> list[str]:
    """Rows of a Markdown table for the properties of ``schema``, nested objects dotted."""
    required = set(schema.get("required", []))
    # A field another one needs (draft 7 "dependencies" of names) is required with it.
    needed_by: dict[str, list[str]] = {}
    for key, needs in {
        **schema.get("dependencies", {}),
        **schema.get("dependentRequired", {}),
    }.items():
        for other in needs if isinstance(needs, list) else []:
            needed_by.setdefault(other, []).append(key)
    rows = []
    for name, field in schema.get("properties", {}).items():
        if name in required:
            when = "yes"
        elif name in needed_by:
            when = "with " + ", ".join(code(other) for other in needed_by[name])
        else:
            when = "no"
        description = prose(field.get("description", ""))
        rows.append(
            f"| {code(prefix + name)} | {cell(type_text(field, ref_text))} | {when} "
            f"| {cell(description)} |"
        )
        if field.get("type") == "object" and "properties" in field:
            rows += fields_table(field, ref_text, prefix=f"{prefix}{name}.")[2:]
    if not rows:
        return []
    return ["| field | type | required | description |", "| --- | --- | --- | --- |", *rows]
