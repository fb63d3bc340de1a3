"""The event library: schemas, validation and the EventLogger.

A drop-in for jupyter_events 0.12, module for module (``logger``, ``schema``,
``schema_registry``, ``validators``, ``traits``, ``yaml``, ``cli``, ``pytest_plugin``),
that also serves the jupyter_events 0.1.0 API. Names are imported on first use, so that
``import jupyter_events_ext.events`` stays cheap: jsonschema alone takes a large part of
a second to import.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .. import __version__

if TYPE_CHECKING:
    from .envelope import EVENTS_METADATA_VERSION
    from .logger import EventLogger
    from .schema import EventSchema

_LAZY = {
    "EVENTS_METADATA_VERSION": ".envelope",
    "EventLogger": ".logger",
    "EventSchema": ".schema",
}

__all__ = ["EVENTS_METADATA_VERSION", "EventLogger", "EventSchema", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
