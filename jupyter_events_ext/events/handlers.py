"""The logging handlers an EventLogger writes to, each made to write envelopes."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .envelope import EnvelopeFormatter

_FORMATTER = EnvelopeFormatter()


class HandlerSet:
    """The handlers events go to.

    Each handler gets the envelope formatter while it is in the set, whatever formatter
    it had, and gets its own formatter back when it leaves.
    """

    def __init__(self) -> None:
        self.handlers: tuple[logging.Handler, ...] = ()
        self._own_formatters: dict[logging.Handler, logging.Formatter | None] = {}

    def sync(self, handlers: Iterable[logging.Handler]) -> None:
        """Make ``handlers`` the set."""
        handlers = tuple(handlers)
        for handler in handlers:
            if handler.formatter is not _FORMATTER:
                self._own_formatters.setdefault(handler, handler.formatter)
                handler.setFormatter(_FORMATTER)
        for handler in list(self._own_formatters):
            if handler not in handlers:
                handler.setFormatter(self._own_formatters.pop(handler))
        self.handlers = handlers
