"""The recorder: checks what a client posts and records it with the EventLogger."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from jsonschema.exceptions import ValidationError

from ..events.encoding import make_encoder
from ..events.envelope import EVENT_ID_FIELD
from ..events.errors import EventSerializationError, SinkError
from ..events.handlers import describe_handler
from .event_shape import EventRejected, check_shape, clip, quote

if TYPE_CHECKING:
    from ..events.logger import EventLogger
    from .policy import ClientSchemaPolicy
    from .seen_ids import SeenIds

USER_FIELD = "__user__"
# jsonschema quotes the whole instance in some messages; a batch answer stays readable.
MAX_MESSAGE_LENGTH = 300
# Compact JSON of what the client sent, not \\u-escaped: how an event's size is measured.
_compact = make_encoder(ensure_ascii=False, separators=(",", ":"))

# ASCII digits only: \d alone would take any script's digits.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


class TimestampWindow:
    """The client timestamps accepted now: no more than ``max_age`` seconds before the
    moment it was made, nor ``max_skew`` after. Made once per request, not per event."""

    def __init__(self, *, max_age: float, max_skew: float) -> None:
        now = datetime.now(timezone.utc)
        self.earliest = now - timedelta(seconds=max_age)
        self.latest = now + timedelta(seconds=max_skew)
        self.max_age = max_age
        self.max_skew = max_skew

    def parse(self, value: str) -> datetime:
        """``value``, an RFC 3339 date-time with a UTC offset, within the window."""
        moment = _browser_time(value) or _rfc3339_time(value)
        if moment > self.latest:
            raise EventRejected(
                f"'timestamp' {quote(value)} is in the future by more than "
                f"max_timestamp_skew ({self.max_skew:g} s)"
            )
        if moment < self.earliest:
            raise EventRejected(
                f"'timestamp' {quote(value)} is older than max_event_age ({self.max_age:g} s)"
            )
        return moment


def _browser_time(value: str) -> datetime | None:
    """``value`` read fast if it has the form browsers send (``Date.toISOString()``:
    2024-05-26T13:50:00.123Z), else None."""
    if not (
        len(value) == 24
        and value.isascii()
        and value[23] == "Z"
        and value[19] == "."
        and value[10] == "T"
        and value[4] == value[7] == "-"
        and value[13] == value[16] == ":"
    ):
        return None
    try:
        # Only for this form: fromisoformat accepts more than RFC 3339 does, and reads a
        # trailing Z only from Python 3.11 (before, the full parser takes over).
        return datetime.fromisoformat(value)
    except ValueError:
        return None  # the full parser says what is wrong


def _rfc3339_time(value: str) -> datetime:
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise EventRejected(
            f"'timestamp' {quote(value)} is not an RFC 3339 date-time with a UTC offset, "
            "e.g. 2024-05-26T13:50:00.123Z"
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    offset = timedelta(0)
    if not zulu:
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=timezone(offset),
        )
    except ValueError as err:
        raise EventRejected(f"'timestamp' {quote(value)} is not a valid date-time: {err}") from None


class ClientEventRecorder:
    """Validates events posted by clients and records them, each client ``id`` once.

    ``policy`` says which schemas a client may post; ``seen`` holds the client ids
    recorded recently. Events are recorded within ``request()``, which also holds the
    writes of the ``sinks`` that can hold them (``JsonLinesFileHandler``) until its end:
    one write per sink per request. An event counts as recorded only once every sink
    wrote it: a sink's failure raises ``SinkError`` (out of ``record`` or at the end of
    ``request``) and the ids of what was not written are not remembered, so that a
    retry is recorded. At its end, ``request`` saves the ids it recorded, to survive a
    restart.
    """

    def __init__(
        self,
        logger: EventLogger,
        policy: ClientSchemaPolicy,
        seen: SeenIds,
        sinks: list[logging.Handler],
        *,
        max_event_size: int,
        max_event_age: float,
        max_timestamp_skew: float,
        stamp_user: bool,
    ) -> None:
        self.logger = logger
        self.policy = policy
        self.seen = seen
        self.holders = [sink for sink in sinks if hasattr(sink, "holding")]
        self.max_event_size = max_event_size
        self.max_event_age = max_event_age
        self.max_timestamp_skew = max_timestamp_skew
        self.stamp_user = stamp_user
        # Ids recorded in the request under way, remembered once its writes are done.
        self._pending: dict[str, None] = {}
        # The client timestamps accepted in the request under way (made anew by each).
        self._window = TimestampWindow(max_age=max_event_age, max_skew=max_timestamp_skew)
        # (schema_id, version) -> whether a client may post it, for one registry revision.
        self._postable: dict[tuple[str, str | int], bool] = {}
        self._postable_revision = -1

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """Record the events of one request; raise ``SinkError`` at the end if a held
        write failed (none of the request's events are then in that sink)."""
        # Once per request rather than per event: the time, and the registry's revision
        # (a traitlets attribute).
        self._window = TimestampWindow(max_age=self.max_event_age, max_skew=self.max_timestamp_skew)
        revision = self.logger.schemas.revision
        if self._postable_revision != revision:
            self._postable = {}
            self._postable_revision = revision
        holds = [(sink, sink.holding()) for sink in self.holders]
        for _, hold in holds:
            hold.__enter__()
        failures = []
        try:
            yield
        finally:
            # Even after an error, what was recorded before it is written.
            for sink, hold in holds:
                try:
                    hold.__exit__(None, None, None)
                except Exception as err:
                    failures.append((sink, err))
            pending, self._pending = self._pending, {}
            if not failures:
                self.seen.add(pending)
            self.seen.save()
        if failures:
            where = "; ".join(
                f"{describe_handler(sink)} ({type(err).__name__}: {str(err)[:200]})"
                for sink, err in failures
            )
            raise SinkError(f"events not written to {where}", {}, failures)

    def record(self, event: Any, *, user: str) -> bool:
        """Record one posted event, within ``request()``; ``False`` if its ``id`` was
        recorded already.

        Raises ``EventRejected`` for an event that cannot be recorded, and
        ``SinkError`` when a sink failed to write it.
        """
        check_shape(event)
        schema_id = event["schema_id"]
        version = event["version"]
        data = event["data"]
        client_id = event.get("id")
        timestamp = event.get("timestamp")

        if (schema_id, version) not in self._postable:
            self._check_postable(schema_id, version)  # raises, saying why not
        for key in data:
            if key.startswith("__"):
                raise EventRejected(
                    f"data key {quote(key)} is reserved: keys starting with '__' belong to "
                    "the envelope"
                )
        # One rule, alone or in a batch: the UTF-8 length of the data's compact JSON.
        text = _compact(data)
        size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if size > self.max_event_size:
            raise EventRejected(
                f"event data is {size} bytes, over max_event_size ({self.max_event_size} bytes)",
                status=413,
            )
        moment = None if timestamp is None else self._window.parse(timestamp)
        # Keyed by id alone: token-authenticated requests get a new anonymous user each.
        if client_id is not None and (client_id in self.seen or client_id in self._pending):
            return False

        # The name comes from the server's authentication, never from the client, whose
        # data may not hold "__"-prefixed keys at all (checked above).
        metadata = {USER_FIELD: user} if self.stamp_user else {}
        if client_id is not None:
            # Recorded so that retries can be recognized downstream and after a restart.
            metadata[EVENT_ID_FIELD] = client_id
        try:
            self.logger.emit(
                schema_id=schema_id,
                data=data,
                version=version,
                timestamp_override=moment,
                metadata=metadata,
                durable=True,
            )
        except ValidationError as err:
            where = "/".join(str(part) for part in err.absolute_path)
            at = f" at data/{quote(where)[1:-1]}" if where else ""
            message = err.message
            if len(message) > MAX_MESSAGE_LENGTH:
                message = message[:MAX_MESSAGE_LENGTH] + "..."
            raise EventRejected(
                f"data does not match schema {schema_id!r} version {version}{at}: {message}"
            ) from None
        except RecursionError:
            raise EventRejected("event data is nested too deeply to validate") from None
        except EventSerializationError as err:
            # Valid JSON in, but not JSON out: a number too large for a double (1e400)
            # reads as infinity. Refused like any bad event, so a batch's others are kept
            # and the client does not retry it forever.
            reason = clip(str(err.__cause__ or err))
            raise EventRejected(f"event data cannot be written as JSON: {reason}") from None

        if client_id is not None:
            self._pending[client_id] = None
        return True

    def _check_postable(self, schema_id: str, version: str | int) -> None:
        """Raise ``EventRejected`` unless a client may post ``schema_id`` at ``version``;
        a yes is remembered for this registry revision."""
        registry = self.logger.schemas
        if schema_id not in registry:
            raise EventRejected(
                f"unknown schema_id {quote(schema_id)}: GET jupyter-events-ext/schemas lists "
                "the registered schemas"
            )
        name = str(version)
        if name not in registry.versions(schema_id):
            raise EventRejected(
                f"The requested schema, {schema_id}, has no version {quote(name)} in the "
                f"schema registry; registered versions: {', '.join(registry.versions(schema_id))}."
            )
        if not self.policy.may_post(schema_id, name):
            raise EventRejected(self.policy.refusal(schema_id, name))
        self._postable[(schema_id, version)] = True
