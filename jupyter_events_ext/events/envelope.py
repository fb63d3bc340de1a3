"""The envelope: the metadata wrapped around every event, and its one-line JSON form."""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import sys
import threading
import time
from typing import Any, Callable

from .encoding import ENCODING_ERRORS, make_encoder
from .errors import CoreMetadataError, EventSerializationError

# Increment when the envelope's metadata fields change.
EVENTS_METADATA_VERSION = 1

ENVELOPE_FIELDS = ("__timestamp__", "__schema__", "__schema_version__", "__metadata_version__")
# Metadata (set by the caller of emit, never by event data) naming the event uniquely, so
# that sinks and readers can recognize it again, e.g. when a client retries it.
EVENT_ID_FIELD = "__id__"

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
    elif moment.tzinfo is not _UTC:
        moment = moment.astimezone(_UTC)
    # %-formatting: a quarter of the time isoformat() takes, for the same text.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )


def format_epoch(seconds: float) -> str:
    """``format_timestamp`` for a ``time.time()`` value, without the type checks.

    The date and time of day are formatted once per second: events come many a second.
    """
    global _second
    whole = int(seconds)
    micro = round((seconds - whole) * 1_000_000)
    if micro == 1_000_000:
        whole, micro = whole + 1, 0
    cached_whole, prefix = _second
    if whole != cached_whole:
        prefix = _from_timestamp(whole, _UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = (whole, prefix)  # one assignment: safe to read from any thread
    return f"{prefix}.{micro:06d}Z"


_second: tuple[int | None, str] = (None, "")


def _jsonable(value: Any) -> Any:
    # What python-json-logger (used by jupyter_events) does for the usual suspects.
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


# ensure_ascii keeps each line valid in whatever encoding a handler's stream uses;
# allow_nan=False because NaN and Infinity are not JSON.
_encode = make_encoder(allow_nan=False, default=_jsonable)


def dumps(envelope: dict[str, Any]) -> str:
    """One line of JSON for ``envelope``."""
    try:
        return _encode(envelope)
    except ENCODING_ERRORS as err:
        reason = err
        if isinstance(err, RecursionError):
            reason = "a value nests too deep or refers to itself"
        raise EventSerializationError(f"event {envelope.get('__schema__')!r}: {reason}") from err


class EnvelopeFormatter(logging.Formatter):
    """Formats an event record as its pre-serialized JSON line, whatever else is on the record."""

    def format(self, record: logging.LogRecord) -> str:
        return record.msg if isinstance(record.msg, str) else dumps(record.msg)


class EventRecord(logging.LogRecord):
    """A ``LogRecord`` carrying one serialized envelope in ``msg``, its schema's ``$id`` in
    ``schema_id`` and its ``__id__`` metadata, if any, in ``event_id``, so that no handler
    has to parse the line to route or deduplicate it.

    Filled from a template rather than by ``LogRecord.__init__``, whose caller lookup and
    process bookkeeping cost more than writing the event does.
    """

    schema_id: str
    event_id: str | None

    def __init__(
        self,
        template: dict[str, Any],
        line: str,
        created: float,
        schema_id: str,
        event_id: str | None,
    ) -> None:
        fields = self.__dict__
        fields.update(template)
        fields["msg"] = line
        fields["schema_id"] = schema_id
        fields["event_id"] = event_id
        fields["created"] = created
        fields["msecs"] = (created - int(created)) * 1000
        fields["relativeCreated"] = (created - _START) * 1000
        fields["thread"] = threading.get_ident()
        fields["threadName"] = threading.current_thread().name
        fields["process"], fields["processName"] = _process or _this_process()


def record_template(name: str, emitter: Callable[..., Any]) -> dict[str, Any]:
    """The attributes every ``EventRecord`` of the logger called ``name`` shares.

    The record's source location is ``emitter``, the function that creates records:
    exporters such as OpenTelemetry's pass it on, so it must not point elsewhere.
    """
    code = emitter.__code__
    return {
        "name": name,
        "msg": "",
        "args": (),
        "levelname": "INFO",
        "levelno": logging.INFO,
        "pathname": code.co_filename,
        "filename": os.path.basename(code.co_filename),
        "module": os.path.splitext(os.path.basename(code.co_filename))[0],
        "exc_info": None,
        "exc_text": None,
        "stack_info": None,
        "lineno": code.co_firstlineno,
        "funcName": code.co_name,
        "taskName": None,
    }


# This process's id and name, as ``LogRecord`` reports them: looked up at the first event
# of each process (a forked child forgets its parent's), not at every event.
_process: tuple[int, str] | None = None


def _this_process() -> tuple[int, str]:
    global _process
    # As logging does: ask multiprocessing only if the program imported it. Looked up at
    # the first event, after multiprocessing named a forked child.
    multiprocessing = sys.modules.get("multiprocessing")
    name = "MainProcess"
    if multiprocessing is not None:
        with contextlib.suppress(Exception):
            name = multiprocessing.current_process().name
    _process = (os.getpid(), name)
    return _process


def _forget_process() -> None:
    global _process
    _process = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_process)
