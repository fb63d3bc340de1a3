"""The recorder: checks what a client posts and records it with the EventLogger."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from jsonschema.exceptions import ValidationError

from ..events.errors import SchemaNotFound
from ..sinks.jsonl import ID_FIELD
from .event_shape import EventRejected, check_shape

if TYPE_CHECKING:
    from ..events.logger import EventLogger
    from .policy import ClientSchemaPolicy

USER_FIELD = "__user__"
# jsonschema quotes the whole instance in some messages; a batch answer stays readable.
MAX_MESSAGE_LENGTH = 300

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


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

    ``policy`` says which schemas a client may post.
    """

    def __init__(
        self,
        logger: EventLogger,
        policy: ClientSchemaPolicy,
        *,
        max_event_size: int,
        recent_ids_size: int,
        max_event_age: float,
        max_timestamp_skew: float,
        stamp_user: bool,
    ) -> None:
        self.logger = logger
        self.policy = policy
        self.max_event_size = max_event_size
        self.recent_ids_size = recent_ids_size
        self.max_event_age = max_event_age
        self.max_timestamp_skew = max_timestamp_skew
        self.stamp_user = stamp_user
        self._recent_ids: OrderedDict[str, None] = OrderedDict()

    def record(self, event: Any, *, user: str, check_size: bool = True) -> bool:
        """Record one posted event; ``False`` if its ``id`` was already recorded.

        ``check_size=False`` skips measuring the data, for callers that know the whole
        request is smaller than ``max_event_size``. Raises ``EventRejected``.
        """
        check_shape(event)
        schema_id = event["schema_id"]
        version = event["version"]
        data = event["data"]
        client_id = event.get("id")
        timestamp = event.get("timestamp")

        if schema_id not in self.logger.schemas:
            raise EventRejected(
                f"unknown schema_id {schema_id!r}: GET jupyter-events-ext/schemas lists the "
                "registered schemas"
            )
        if not self.policy.may_post(schema_id):
            raise EventRejected(self.policy.refusal(schema_id))
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
        # data may not hold "__"-prefixed keys at all (checked above).
        metadata = {USER_FIELD: user} if self.stamp_user else {}
        if client_id is not None:
            # Recorded so that retries can be recognized downstream and after a restart.
            metadata[ID_FIELD] = client_id
        try:
            self.logger.emit(
                schema_id=schema_id,
                data=data,
                version=version,
                timestamp_override=moment,
                metadata=metadata,
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
