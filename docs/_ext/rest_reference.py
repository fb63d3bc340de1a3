"""The REST and WebSocket reference, read from ``jupyter_events_ext/server/rest-api.yml``.

One section per route (a route answered ``101`` is a WebSocket), then one per schema of
the spec's components, which the routes link to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markdown_text import GeneratedMarkdown, cell, code, prose
from schema_fields import fields_table, type_text

import jupyter_events_ext.server
from jupyter_events_ext.events import yaml

SPEC = Path(jupyter_events_ext.server.__file__).with_name("rest-api.yml")


def _anchor(name: str) -> str:
    return f"rest-{name.lower()}"


def _ref_link(ref: str) -> str:
    name = ref.rsplit("/", 1)[-1]
    return f"[{name}](#{_anchor(name)})"


def _resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in item and item["$ref"].startswith("#/components/responses/"):
        item = spec["components"]["responses"][item["$ref"].rsplit("/", 1)[-1]]
    return item


def _body(content: dict[str, Any] | None) -> str:
    """A body's schema in a few words: JSON unless said, an inline object by its fields."""
    if not content:
        return "—"
    texts = []
    for kind, media in content.items():
        schema = media.get("schema", {})
        text = type_text(schema, _ref_link)
        if schema.get("type") == "object" and "properties" in schema:
            fields = (
                f"{code(k)}: {type_text(v, _ref_link)}" for k, v in schema["properties"].items()
            )
            text = f"object with {'; '.join(fields)}"
        texts.append(text if kind == "application/json" else f"{text} ({code(kind)})")
    return " or ".join(texts)


def route(spec: dict[str, Any], path: str, method: str, operation: dict[str, Any]) -> list[str]:
    socket = "101" in operation["responses"]
    title = f"WebSocket {code(path)}" if socket else f"{code(method.upper() + ' ' + path)}"
    out = [f"### {title}", "", f"**{prose(operation['summary'])}**", ""]
    if "description" in operation:
        out += [prose(operation["description"]), ""]
    parameters = operation.get("parameters", [])
    if parameters:
        out += ["| parameter | in | type | description |", "| --- | --- | --- | --- |"]
        out += [
            f"| {code(p['name'])} | {p['in']} | {cell(type_text(p['schema']))} "
            f"| {cell(prose(p.get('description', '')))} |"
            for p in parameters
        ]
        out.append("")
    if "requestBody" in operation:
        out += [f"Request body: {_body(operation['requestBody']['content'])}", ""]
    heading = "messages from the server" if socket else "body"
    out += [f"| status | meaning | {heading} |", "| --- | --- | --- |"]
    for status, response in operation["responses"].items():
        response = _resolve(spec, response)
        out.append(
            f"| {status} | {cell(prose(response['description']))} "
            f"| {cell(_body(response.get('content')))} |"
        )
    return [*out, ""]


def reference(spec: dict[str, Any]) -> str:
    out = [prose(spec["info"]["description"]), "", "## Routes", ""]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            out += route(spec, path, method, operation)
    out += ["## Schemas", ""]
    for name, schema in spec["components"]["schemas"].items():
        out += [f"({_anchor(name)})=", f"### {name}", ""]
        if "description" in schema:
            out += [prose(schema["description"]), ""]
        out += [*fields_table(schema, _ref_link), ""]
    return "\n".join(out)


class RestReference(GeneratedMarkdown):
    def markdown(self) -> str:
        self.env.note_dependency(str(SPEC))
        return reference(yaml.load(SPEC))


def setup(app):
    app.add_directive("rest-reference", RestReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
