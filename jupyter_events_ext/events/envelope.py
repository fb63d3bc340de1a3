"""The envelope: the metadata wrapped around every event, and its one-line JSON form."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import threading
import time
from typing import Any

from .errors import CoreMetadataError, EventSerializationError

# Increment when the envelope's metadata fields change.
EVENTS_METADATA_VERSION = 1

ENVELOPE_FIELDS = ("__timestamp__", "__schema__", "__schema_version__", "__metadata_version__")

_UTC = _dt.timezone.utc
_from_timestamp = _dt.datetime.fromtimestamp
_START = time.time()


def format_timestamp(moment: _dt.datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z``; a naive datetime is taken to be UTC."""
    if not isinstance(moment, _dt.datetime):
        msg = f"timestamp_override must be a datetime.datetime, not {type(moment).__name__}"
        raise CoreMetadataError(msg)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    # isoformat() of a UTC datetime always ends in "+00:00"; fixed width thanks to timespec.
    return moment.astimezone(_UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def format_epoch(seconds: float) -> str:
    """``format_timestamp`` for a ``time.time()`` value, without the type checks."""
    return _from_timestamp(seconds, _UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def _jsonable(value: Any) -> Any:
    # What python-json-logger (used by jupyter_events) does for the usual suspects.
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


# ensure_ascii keeps each line valid in whatever encoding a handler's stream uses;
# allow_nan=False because NaN and Infinity are not JSON.
_encode = json.JSONEncoder(allow_nan=False, default=_jsonable).encode


def dumps(envelope: dict[str, Any]) -> str:
    """One line of JSON for ``envelope``."""
    try:
        return _encode(envelope)
    except ValueError as err:
        raise EventSerializationError(f"event {envelope.get('__schema__')!r}: {err}") from err


class EnvelopeFormatter(logging.Formatter):
    """Formats an event record as its pre-serialized JSON line, whatever else is on the record."""

    def format(self, record: logging.LogRecord) -> str:
        return record.msg if isinstance(record.msg, str) else dumps(record.msg)


class EventRecord(logging.LogRecord):
    """A ``LogRecord`` carrying one serialized envelope in ``msg``.

    Filled from a template rather than by ``LogRecord.__init__``, whose caller lookup and
    process bookkeeping cost more than writing the event does.
    """

    def __init__(self, template: dict[str, Any], line: str, created: float) -> None:
        fields = self.__dict__
        fields.update(template)
        fields["msg"] = line
        fields["created"] = created
        fields["msecs"] = (created - int(created)) * 1000
        fields["relativeCreated"] = (created - _START) * 1000
        fields["thread"] = threading.get_ident()
        fields["threadName"] = threading.current_thread().name
        fields["process"] = os.getpid()


def record_template(name: str) -> dict[str, Any]:
    """The attributes every ``EventRecord`` of the logger called ``name`` shares."""
    return {
        "name": name,
        "msg": "",
        "args": (),
        "levelname": "INFO",
        "levelno": logging.INFO,
        "pathname": __file__,
        "filename": os.path.basename(__file__),
        "module": __name__.rpartition(".")[2],
        "exc_info": None,
        "exc_text": None,
        "stack_info": None,
        "lineno": 0,
        "funcName": "emit",
        "processName": "MainProcess",
        "taskName": None,
    }
