"""The JupyterLab settings reference, read from ``schema/*.json`` (what the Settings Editor shows).

One section per settings file (a plugin's id is ``jupyter-events-ext:<file name>``), one
row per setting: its key, title, type, default and description. A setting without a
title or a description is a build warning (an error in CI, which builds with ``-W``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from markdown_text import GeneratedMarkdown, cell, code, prose
from schema_fields import type_text

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"
PLUGIN_PREFIX = "jupyter-events-ext"


def settings_files(root: Path = SCHEMA_DIR) -> list[tuple[str, dict[str, Any]]]:
    """(plugin id, schema) for every settings schema, by file name."""
    return [
        (f"{PLUGIN_PREFIX}:{path.stem}", json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(root.glob("*.json"))
    ]


def undocumented(files: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """What is missing, one line per setting without a title or a description."""
    return [
        f"{plugin}: the setting {key!r} has no {field}"
        for plugin, schema in files
        for key, setting in schema.get("properties", {}).items()
        for field in ("title", "description")
        if not str(setting.get(field, "")).strip()
    ]


def reference(files: list[tuple[str, dict[str, Any]]]) -> str:
    out = []
    for plugin, schema in files:
        out += [f"## {code(plugin)}: {prose(schema.get('title', plugin))}", ""]
        if "description" in schema:
            out += [prose(schema["description"]), ""]
        out += ["| setting | type | default | description |", "| --- | --- | --- | --- |"]
        for key, setting in schema.get("properties", {}).items():
            default = code(json.dumps(setting["default"])) if "default" in setting else "—"
            out.append(
                f"| {code(key)} | {cell(type_text(setting))} | {cell(default)} "
                f"| **{cell(prose(setting.get('title', '')))}**. "
                f"{cell(prose(setting.get('description', '')))} |"
            )
        out.append("")
    return "\n".join(out)


class SettingsReference(GeneratedMarkdown):
    def markdown(self) -> str:
        for path in sorted(SCHEMA_DIR.glob("*.json")):
            self.env.note_dependency(str(path))
        files = settings_files()
        self.warn_each(undocumented(files))
        return reference(files)


def setup(app):
    app.add_directive("settings-reference", SettingsReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
