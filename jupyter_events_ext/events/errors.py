"""Every named error and warning of the event library.

Invalid schemas and invalid events raise ``jsonschema.exceptions.ValidationError``,
as jupyter_events does; everything else that can go wrong has a name here. The
modules where jupyter_events 0.12 defines these names re-export them, so
``from jupyter_events_ext.events.schema import EventSchemaFileAbsent`` keeps working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging
    from typing import Any


class EventSchemaUnrecognized(Exception):
    """A schema was given as something other than a dict, str, path or EventSchema."""


class EventSchemaLoadingError(Exception):
    """A schema could not be read or parsed into a dictionary."""


class EventSchemaFileAbsent(Exception):
    """A schema file does not exist."""


class EventSchemaFetchError(EventSchemaLoadingError):
    """A schema could not be downloaded from a URL (bad scheme, network, status, size, timeout)."""


class EventSchemaUnresolvableRef(EventSchemaLoadingError):
    """A schema ``$ref`` points outside the schemas known locally; remote refs are never fetched."""


class SchemaRegistryException(Exception):
    """Base class for schema registry errors, e.g. registering an ``$id`` and version twice."""


class SchemaNotFound(SchemaRegistryException, KeyError):
    """The requested schema ``$id`` (or version of it) is not registered.

    A ``KeyError`` too, because jupyter_events' ``SchemaRegistry.get`` raises one.
    """

    def __str__(self) -> str:
        # KeyError would repr() the message, quotes and all.
        return str(self.args[0]) if self.args else ""


class ModifierError(Exception):
    """A modifier cannot be called as ``modifier(schema_id=..., data=...)`` or returned no dict."""


class ListenerError(Exception):
    """A listener cannot be called as ``listener(logger=..., schema_id=..., data=...)``."""


class CoreMetadataError(Exception):
    """The envelope cannot be built, e.g. ``timestamp_override`` is not a datetime."""


class EventSerializationError(ValueError):
    """A validated event cannot be written as JSON (NaN, infinity or a circular reference)."""


class RedactionPolicyError(ValueError):
    """A redaction policy (``EventLogger.redactions`` and its secret) is malformed; the
    message names the rule and what is wrong with it."""


class SinkError(Exception):
    """One or more handlers did not write an event emitted with ``durable=True``.

    ``failures`` lists each such handler with the exception it met; ``envelope`` is the
    event, which the other handlers did write.
    """

    def __init__(
        self,
        message: str,
        envelope: dict[str, Any],
        failures: list[tuple[logging.Handler, BaseException]],
    ) -> None:
        super().__init__(message)
        self.envelope = envelope
        self.failures = failures


class SchemaNotRegistered(Warning):
    """``emit`` was called for a schema that was never registered; the event is dropped."""


class JupyterEventsVersionWarning(UserWarning):
    """A schema's ``version`` is an integer; it was coerced to a string."""


__all__ = [
    "CoreMetadataError",
    "EventSchemaFetchError",
    "EventSchemaFileAbsent",
    "EventSchemaLoadingError",
    "EventSchemaUnrecognized",
    "EventSchemaUnresolvableRef",
    "EventSerializationError",
    "JupyterEventsVersionWarning",
    "ListenerError",
    "ModifierError",
    "RedactionPolicyError",
    "SchemaNotFound",
    "SchemaNotRegistered",
    "SchemaRegistryException",
    "SinkError",
]
