"""Quoting values and names into SQL text, for the few places a parameter cannot go
(a ``json_transform`` structure, a ``COPY`` target, column names)."""

from __future__ import annotations


def literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier: any characters, dots included."""
    return '"' + name.replace('"', '""') + '"'
