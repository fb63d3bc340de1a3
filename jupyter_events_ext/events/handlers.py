"""The logging handlers an EventLogger writes to: each made to write envelopes, and its
failures made visible."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

from .envelope import EnvelopeFormatter

_FORMATTER = EnvelopeFormatter()


class HandlerSet:
    """The handlers events go to.

    While in the set, each handler formats records as envelopes, whatever formatter it
    had, and reports a failure it handles itself (``Handler.emit`` catches its errors and
    passes them to ``handleError``, which only prints them) by adding it to the record's
    ``failures``. Leaving the set gives a handler both back.
    """

    def __init__(self) -> None:
        self.handlers: tuple[logging.Handler, ...] = ()
        self._own_formatters: dict[logging.Handler, logging.Formatter | None] = {}

    def sync(self, handlers: Iterable[logging.Handler]) -> None:
        """Make ``handlers`` the set."""
        handlers = tuple(handlers)
        for handler in handlers:
            if handler not in self._own_formatters:
                self._own_formatters[handler] = handler.formatter
                _report_failures(handler)
            if handler.formatter is not _FORMATTER:
                handler.setFormatter(_FORMATTER)
        for handler in list(self._own_formatters):
            if handler not in handlers:
                handler.setFormatter(self._own_formatters.pop(handler))
                _stop_reporting_failures(handler)
        self.handlers = handlers


def _report_failures(handler: logging.Handler) -> None:
    own = handler.handleError  # a bound method, or whatever was set on the instance

    def handleError(record: logging.LogRecord) -> None:
        failures = getattr(record, "failures", None)
        if failures is not None:
            failures.append((handler, sys.exc_info()[1]))
        own(record)

    handleError.own = own  # type: ignore[attr-defined]
    handler.handleError = handleError  # type: ignore[method-assign]


def _stop_reporting_failures(handler: logging.Handler) -> None:
    own = getattr(handler.handleError, "own", None)
    if own is None:
        return
    if getattr(own, "__self__", None) is handler and getattr(own, "__func__", None) is getattr(
        type(handler), "handleError", None
    ):
        del handler.handleError  # the class's method shows through again
    else:
        handler.handleError = own  # type: ignore[method-assign]


def describe_handler(handler: Any) -> str:
    """Where ``handler`` writes, as briefly as can be said: a file, a stream or its repr."""
    path = getattr(handler, "baseFilename", None)
    if path is not None:
        return str(path)
    stream = getattr(handler, "stream", None)
    if stream is not None and not isinstance(stream, str):
        return str(getattr(stream, "name", repr(stream)))
    return repr(handler)
