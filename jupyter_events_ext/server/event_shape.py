"""The shape of a posted event, as ``rest-api.yml`` declares it, and the error for a bad one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..events import yaml

# The contract is the spec: the fields, their JSON types and the id's length come from it.
_SPEC = yaml.load(Path(__file__).with_name("rest-api.yml"))
_EVENT = _SPEC["components"]["schemas"]["Event"]
FIELDS: tuple[str, ...] = tuple(_EVENT["properties"])
REQUIRED: tuple[str, ...] = tuple(_EVENT["required"])
MAX_ID_LENGTH: int = _EVENT["properties"]["id"]["maxLength"]

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}
_ARTICLES = {"string": "a string", "integer": "an integer", "object": "an object"}


def _accepted(types: str | list[str]) -> tuple[frozenset[type], str]:
    names = [types] if isinstance(types, str) else types
    python_types = frozenset(t for name in names for t in _PYTHON_TYPES[name])
    return python_types, " or ".join(_ARTICLES.get(name, f"a {name}") for name in names)


_TYPES = {name: _accepted(field["type"]) for name, field in _EVENT["properties"].items()}
_KNOWN = frozenset(FIELDS)
_REQUIRED = frozenset(REQUIRED)
_NEEDS = f"{', '.join(REQUIRED[:-1])} and {REQUIRED[-1]}"
_OPTIONAL = [name for name in FIELDS if name not in REQUIRED]
_HAS_ONLY = f"{', '.join(REQUIRED)}, and optionally {' and '.join(_OPTIONAL)}"


# The most of a client's string an error message quotes: errors never echo unbounded input.
MAX_QUOTED = 200


def clip(text: str) -> str:
    """``text``, clipped to ``MAX_QUOTED`` characters, for error messages."""
    if len(text) <= MAX_QUOTED:
        return text
    return f"{text[:MAX_QUOTED]}... ({len(text) - MAX_QUOTED} more characters)"


def quote(value: object) -> str:
    """``repr(value)``, clipped to ``MAX_QUOTED`` characters, for error messages."""
    return clip(repr(value))


class EventRejected(Exception):
    """A posted event cannot be recorded; ``str()`` says why and what to fix."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_shape(event: Any) -> None:
    """Raise ``EventRejected`` unless ``event`` has the shape of ``Event`` in rest-api.yml."""
    if not isinstance(event, dict):
        raise EventRejected(f"an event must be a JSON object, not {json_type(event)}")
    if not _KNOWN.issuperset(event):
        name = next(name for name in event if name not in _KNOWN)
        raise EventRejected(f"unknown field {quote(name)}: an event has only {_HAS_ONLY}")
    if not _REQUIRED.issubset(event):
        name = next(name for name in REQUIRED if name not in event)
        raise EventRejected(f"missing field {name!r}: an event needs {_NEEDS}")
    for name, value in event.items():
        # Exact types: what json.loads makes, and a bool is never taken for an integer.
        if type(value) not in _TYPES[name][0]:
            raise EventRejected(f"{name!r} must be {_TYPES[name][1]}, not {json_type(value)}")
    identifier = event.get("id")
    if identifier is not None and not 0 < len(identifier) <= MAX_ID_LENGTH:
        raise EventRejected(f"'id' must be a string of 1 to {MAX_ID_LENGTH} characters")


def json_type(value: Any) -> str:
    """The JSON type name of a value parsed from JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number"}.get(
        type(value), type(value).__name__
    )
