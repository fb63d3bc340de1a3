"""The recorder: checks what a client posts and records it with the EventLogger."""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from jsonschema.exceptions import ValidationError

from ..events.errors import SchemaNotFound

if TYPE_CHECKING:
    from ..events.logger import EventLogger

EVENT_FIELDS = ("schema_id", "version", "data", "timestamp", "id")
MAX_ID_LENGTH = 128
USER_FIELD = "__user__"
ID_FIELD = "__id__"
# How much of the end of a JSON-lines sink is read at start-up for ids already recorded.
ID_SCAN_BYTES = 8 * 1024 * 1024
# jsonschema quotes the whole instance in some messages; a batch answer stays readable.
MAX_MESSAGE_LENGTH = 300

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


class EventRejected(Exception):
    """A posted event cannot be recorded; ``str()`` says why and what to fix."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_timestamp(value: str, *, now: datetime, max_age: float, max_skew: float) -> datetime:
    """An RFC 3339 date-time within ``max_age`` seconds before and ``max_skew`` after ``now``."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise EventRejected(
            f"'timestamp' {value!r} is not an RFC 3339 date-time with a UTC offset, "
            "e.g. 2024-05-26T13:50:00.123Z"
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    offset = timedelta(0)
    if not zulu:
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    try:
        moment = datetime(
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
        raise EventRejected(f"'timestamp' {value!r} is not a valid date-time: {err}") from None
    if moment > now + timedelta(seconds=max_skew):
        raise EventRejected(
            f"'timestamp' {value!r} is in the future by more than "
            f"max_timestamp_skew ({max_skew:g} s)"
        )
    if moment < now - timedelta(seconds=max_age):
        raise EventRejected(f"'timestamp' {value!r} is older than max_event_age ({max_age:g} s)")
    return moment


class ClientEventRecorder:
    """Validates events posted by clients and records them, each client ``id`` once.

    ``client_schemas`` are the ``$id``s a client may post; ``server_schemas`` those it
    may never post, whatever the allowlist says (jupyter_server's own). Both are sets
    the application keeps up to date.
    """

    def __init__(
        self,
        logger: EventLogger,
        *,
        client_schemas: set[str],
        server_schemas: set[str],
        max_event_size: int,
        recent_ids_size: int,
        max_event_age: float,
        max_timestamp_skew: float,
        stamp_user: bool,
    ) -> None:
        self.logger = logger
        self.client_schemas = client_schemas
        self.server_schemas = server_schemas
        self.max_event_size = max_event_size
        self.recent_ids_size = recent_ids_size
        self.max_event_age = max_event_age
        self.max_timestamp_skew = max_timestamp_skew
        self.stamp_user = stamp_user
        self._recent_ids: OrderedDict[str, None] = OrderedDict()

    def may_post(self, schema_id: str) -> bool:
        return schema_id in self.client_schemas and schema_id not in self.server_schemas

    def record(self, event: Any, *, user: str, check_size: bool = True) -> bool:
        """Record one posted event; ``False`` if its ``id`` was already recorded.

        ``check_size=False`` skips measuring the data, for callers that know the whole
        request is smaller than ``max_event_size``. Raises ``EventRejected``.
        """
        if not isinstance(event, dict):
            raise EventRejected(f"an event must be a JSON object, not {_json_type(event)}")
        unknown = [key for key in event if key not in EVENT_FIELDS]
        if unknown:
            raise EventRejected(
                f"unknown field {unknown[0]!r}: an event has only schema_id, version, data, "
                "and optionally timestamp and id"
            )
        schema_id = _required(event, "schema_id", str)
        version = _required(event, "version", (str, int))
        data = _required(event, "data", dict)
        if isinstance(version, bool):
            raise EventRejected("'version' must be a string or an integer, not boolean")
        client_id = event.get("id")
        if client_id is not None and (
            not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_ID_LENGTH
        ):
            raise EventRejected(f"'id' must be a string of 1 to {MAX_ID_LENGTH} characters")
        timestamp = event.get("timestamp")
        if timestamp is not None and not isinstance(timestamp, str):
            raise EventRejected(f"'timestamp' must be a string, not {_json_type(timestamp)}")

        if schema_id not in self.logger.schemas:
            raise EventRejected(
                f"unknown schema_id {schema_id!r}: GET jupyter-events-ext/schemas lists the "
                "registered schemas"
            )
        if not self.may_post(schema_id):
            if schema_id in self.server_schemas:
                reason = "it is one of jupyter_server's own schemas, which only the server emits"
            else:
                reason = (
                    "it is a server-side schema; an operator can open it to clients with "
                    "c.EventsExtensionApp.allowed_client_schemas"
                )
            raise EventRejected(f"clients may not post schema {schema_id!r}: {reason}")
        reserved = next((key for key in data if key.startswith("__")), None)
        if reserved is not None:
            raise EventRejected(
                f"data key {reserved!r} is reserved: keys starting with '__' belong to the envelope"
            )
        if check_size:
            size = len(json.dumps(data, separators=(",", ":")))
            if size > self.max_event_size:
                raise EventRejected(
                    f"event data is {size} bytes, "
                    f"over max_event_size ({self.max_event_size} bytes)",
                    status=413,
                )
        moment = None
        if timestamp is not None:
            moment = parse_timestamp(
                timestamp,
                now=datetime.now(timezone.utc),
                max_age=self.max_event_age,
                max_skew=self.max_timestamp_skew,
            )
        # Keyed by id alone: token-authenticated requests get a new anonymous user each.
        if client_id is not None and client_id in self._recent_ids:
            self._recent_ids.move_to_end(client_id)
            return False

        # The name comes from the server's authentication, never from the client, whose
        # data may not hold "__"-prefixed keys at all.
        metadata = {USER_FIELD: user} if self.stamp_user else {}
        if client_id is not None:
            # Recorded so that retries can be recognized downstream and after a restart.
            metadata[ID_FIELD] = client_id
        try:
            self.logger.record_event(
                schema_id, version, data, timestamp_override=moment, metadata=metadata
            )
        except SchemaNotFound as err:
            raise EventRejected(str(err)) from None
        except ValidationError as err:
            where = "/".join(str(part) for part in err.absolute_path)
            at = f" at data/{where}" if where else ""
            message = err.message
            if len(message) > MAX_MESSAGE_LENGTH:
                message = message[:MAX_MESSAGE_LENGTH] + "..."
            raise EventRejected(
                f"data does not match schema {schema_id!r} version {version}{at}: {message}"
            ) from None
        except RecursionError:
            raise EventRejected("event data is nested too deeply to validate") from None

        if client_id is not None:
            self.remember((client_id,))
        return True

    def remember(self, client_ids: Iterable[str]) -> None:
        """Count these ids as recorded (the most recent ``recent_ids_size`` are kept)."""
        for client_id in client_ids:
            self._recent_ids[client_id] = None
            self._recent_ids.move_to_end(client_id)
        while len(self._recent_ids) > self.recent_ids_size:
            self._recent_ids.popitem(last=False)


def recorded_ids(path: str, max_bytes: int = ID_SCAN_BYTES) -> list[str]:
    """The client ids in the last ``max_bytes`` of a JSON-lines sink, oldest first."""
    try:
        with open(path, "rb") as sink:
            start = max(0, sink.seek(0, os.SEEK_END) - max_bytes)
            # One byte early, to tell whether the window starts a line or cuts one.
            sink.seek(max(0, start - 1))
            tail = sink.read()
    except OSError:
        return []
    if start > 0:
        newline = tail.find(b"\n")
        tail = tail[newline + 1 :] if newline >= 0 else b""
    lines = tail.split(b"\n")
    ids = []
    for line in lines:
        if b'"__id__"' not in line:
            continue
        try:
            client_id = json.loads(line).get(ID_FIELD)
        except (ValueError, AttributeError):
            continue  # a torn or foreign line: nothing to remember
        if isinstance(client_id, str):
            ids.append(client_id)
    return ids


def _required(event: dict[str, Any], name: str, types: type | tuple[type, ...]) -> Any:
    if name not in event:
        raise EventRejected(f"missing field {name!r}: an event needs schema_id, version and data")
    value = event[name]
    if not isinstance(value, types):
        expected = {str: "a string", dict: "an object"}.get(types, "a string or an integer")  # type: ignore[call-overload]
        raise EventRejected(f"{name!r} must be {expected}, not {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number"}.get(
        type(value), type(value).__name__
    )
