"""Which events an export or a read keeps: schema ``$id``s and a time window."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Union

TimeBound = Union[str, dt.datetime, dt.date, None]

_UTC = dt.timezone.utc
# Time strings longer than this are not times; keeps error messages short.
_MAX_TIME_TEXT = 64


def parse_time(value: TimeBound, name: str = "time") -> dt.datetime | None:
    """An aware UTC datetime for ``value``.

    ``value`` is an ISO 8601 / RFC 3339 string (``2026-11-23T18:36:17Z``,
    ``2026-11-23T19:36+01:00``, ``2026-11-23``), a ``datetime`` or a ``date`` (its
    midnight), or ``None``. A time without a zone is taken to be UTC, as envelopes are.
    Raises ``ValueError`` naming ``name`` for anything else.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_TIME_TEXT:
            raise ValueError(f"{name}: not a date or time ({len(text)} characters)")
        # Python before 3.11 does not read a trailing "Z".
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{name}: {value!r} is not an ISO 8601 date or time "
                "(for example 2026-11-23 or 2026-11-23T18:36:17Z)"
            ) from None
    else:
        raise TypeError(f"{name} must be a str, datetime or date, not {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC)


@dataclasses.dataclass(frozen=True)
class EventFilter:
    """Keep events whose ``__schema__`` is one of ``schemas`` (all when empty) and whose
    ``__timestamp__`` is at or after ``since`` and before ``until`` (either may be open)."""

    schemas: tuple[str, ...] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @classmethod
    def make(
        cls,
        schemas: str | Iterable[str] | None = None,
        since: TimeBound = None,
        until: TimeBound = None,
    ) -> EventFilter:
        """Build a filter from what a caller passes; raises ``ValueError`` if it is wrong."""
        if isinstance(schemas, str):
            schemas = [schemas]
        chosen = tuple(dict.fromkeys(schemas or ()))
        start, end = parse_time(since, "since"), parse_time(until, "until")
        if start is not None and end is not None and start >= end:
            raise ValueError(
                f"since ({start.isoformat()}) must be before until ({end.isoformat()})"
            )
        return cls(chosen, start, end)
