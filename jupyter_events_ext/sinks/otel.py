"""A logging handler that emits each event envelope as an OpenTelemetry event.

An OpenTelemetry *event* is a log record with an event name: here the schema's ``$id``.
Its attributes are the event's data, flattened as OpenTelemetry's attribute rules want
them (a value is a string, boolean, 64-bit integer, double, or a homogeneous array of
one of these):

- a nested object becomes dotted names: ``{"cell": {"index": 3}}`` → ``cell.index = 3``;
- an array of strings, of booleans, of integers or of numbers stays an array (integers
  mixed with floats become floats); an empty array stays an empty array;
- anything else (an array of objects, of arrays, of mixed types or holding ``null``, an
  empty object, an integer beyond 64 bits) becomes its JSON text;
- a ``null`` value is left out: OpenTelemetry has no null attribute.

Beside them: ``jupyter.schema.version`` (the envelope's ``__schema_version__``),
``jupyter.event.id`` (the client id, ``__id__``) when the event has one, and
``jupyter.<name>`` for other metadata such as ``__user__``. The log record's timestamp
is the envelope's ``__timestamp__``, its severity INFO, and it carries the trace context
active where the event was emitted, if any. It has no body.

The handler uses only the OpenTelemetry API (``opentelemetry-api``); where records go
(OTLP, a file, memory) is the ``LoggerProvider``'s business::

    provider = LoggerProvider()
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    c.EventsExtensionApp.event_handlers = [OpenTelemetryEventHandler(provider)]
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from typing import Any

from .. import __version__
from ..events.envelope import EVENT_ID_FIELD

_INSTALL_HINT = (
    "OpenTelemetryEventHandler needs OpenTelemetry: pip install 'jupyter_events_ext[otel]'"
)
# The instrumentation scope the events are emitted under.
SCOPE = "jupyter_events_ext"
_INT64 = range(-(2**63), 2**63)
# Envelope fields with an attribute of their own, or none (the rest of the __x__ are
# metadata, named jupyter.x).
_METADATA_ATTRIBUTES = {
    "__schema_version__": "jupyter.schema.version",
    EVENT_ID_FIELD: "jupyter.event.id",
    "__timestamp__": None,
    "__schema__": None,
    "__metadata_version__": None,
}


def _import_logs_api() -> Any:
    try:
        from opentelemetry import _logs
    except ImportError as err:
        raise ImportError(_INSTALL_HINT) from err
    return _logs


class OpenTelemetryEventHandler(logging.Handler):
    """Emit each event envelope as an OpenTelemetry event (a log record named by its schema).

    Emitting is synchronous and cheap: the provider's processor (e.g. a
    ``BatchLogRecordProcessor``) does the batching and the network.

    Parameters
    ----------
    logger_provider
        The ``LoggerProvider`` to emit through. ``None`` (default): the global one
        (``opentelemetry._logs.set_logger_provider``), as it is when an event comes.
    flush_timeout
        How long ``flush()`` waits for the provider to export what it holds, in seconds.
        Default 5.
    level
        The handler's logging level.
    """

    def __init__(
        self,
        logger_provider: Any = None,
        *,
        flush_timeout: float = 5.0,
        level: int | str = logging.NOTSET,
    ) -> None:
        logs = _import_logs_api()
        super().__init__(level)
        self.logger_provider = logger_provider
        self.flush_timeout = flush_timeout
        self._logger = logs.get_logger(SCOPE, __version__, logger_provider=logger_provider)
        self._info = logs.SeverityNumber.INFO

    def emit(self, record: logging.LogRecord) -> None:
        try:
            envelope = _envelope_of(record)
            if envelope is None:
                # Not an event: passed on as a plain log record.
                self._logger.emit(
                    timestamp=int(record.created * 1e9),
                    severity_text=record.levelname,
                    body=self.format(record),
                )
                return
            self._logger.emit(
                timestamp=_nanoseconds(envelope.get("__timestamp__"), record.created),
                severity_number=self._info,
                severity_text="INFO",
                attributes=event_attributes(envelope),
                event_name=envelope["__schema__"],
            )
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        """Ask the provider to export what it holds, for at most ``flush_timeout`` s."""
        force_flush = getattr(self.logger_provider, "force_flush", None)
        if force_flush is not None:
            force_flush(timeout_millis=int(self.flush_timeout * 1000))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ({logging.getLevelName(self.level)})>"


def event_attributes(envelope: dict[str, Any]) -> dict[str, Any]:
    """The OpenTelemetry attributes of an event envelope (see the module's docstring)."""
    attributes: dict[str, Any] = {}
    data = {}
    for key, value in envelope.items():
        if len(key) > 4 and key.startswith("__") and key.endswith("__"):
            name = _METADATA_ATTRIBUTES.get(key, f"jupyter.{key[2:-2]}")
            if name is not None and value is not None:
                attributes[name] = _attribute_value(value)
        else:
            data[key] = value
    flat: dict[str, Any] = {}
    _flatten(data, "", flat)
    # Metadata last, so that event data can never overwrite it.
    return {**flat, **attributes}


def _flatten(data: dict[str, Any], prefix: str, into: dict[str, Any]) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _flatten(value, f"{name}.", into)
        elif value is not None:
            into[name] = _attribute_value(value)


def _attribute_value(value: Any) -> Any:
    """``value`` as an attribute value: itself, a homogeneous array, or its JSON text."""
    if isinstance(value, (str, bool, float)):
        return value
    if isinstance(value, int):
        return value if value in _INT64 else str(value)
    if isinstance(value, (list, tuple)):
        kinds = {_primitive_kind(item) for item in value}
        if not kinds:
            return []
        if kinds in ({str}, {bool}, {int}, {float}):
            return list(value)
        if kinds == {int, float}:
            return [float(item) for item in value]
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _primitive_kind(item: Any) -> type | None:
    # bool before int: True is an int to Python, not to OpenTelemetry.
    if isinstance(item, bool):
        return bool
    if isinstance(item, int):
        return int if item in _INT64 else None
    if isinstance(item, str):
        return str
    if isinstance(item, float):
        return float
    return None


def _envelope_of(record: logging.LogRecord) -> dict[str, Any] | None:
    """The event envelope a record carries (as JSON text or, from jupyter_events, a dict),
    or None if it carries none."""
    message = record.msg
    if isinstance(message, str):
        if not message.startswith("{"):
            return None
        try:
            message = json.loads(message)
        except ValueError:
            return None
    if isinstance(message, dict) and isinstance(message.get("__schema__"), str):
        return message
    return None


def _nanoseconds(timestamp: Any, fallback: float) -> int:
    """An envelope's RFC 3339 ``__timestamp__`` in ns since the epoch; ``fallback`` (s)
    if it has none that parses."""
    if isinstance(timestamp, str):
        try:
            # Python < 3.11 reads no "Z".
            moment = _dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=_dt.timezone.utc)
            # Whole seconds and microseconds apart: a float would lose the last digits.
            whole = moment.replace(microsecond=0)
            seconds = int((whole - _EPOCH).total_seconds())
            return seconds * 1_000_000_000 + moment.microsecond * 1000
    return int(fallback * 1e9)


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
