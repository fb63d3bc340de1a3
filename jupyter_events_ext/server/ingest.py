"""A body of events a client sent, recorded and accounted for: what ``POST events`` and the
events socket both do with what they receive."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..events.errors import SinkError
from .event_shape import EventRejected, clip, quote

if TYPE_CHECKING:
    from .recorder import ClientEventRecorder


@dataclass(frozen=True)
class Account:
    """The answer to a body: its status, its JSON reply (None for 204), and the sink
    failure behind a 503, for the log."""

    status: int
    reply: dict[str, Any] | None
    failure: SinkError | None = None


@dataclass(frozen=True)
class Limits:
    """How large a body may be, in bytes, and how many events a batch may hold."""

    max_body_size: int
    max_batch_size: int


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def record_body(
    recorder: ClientEventRecorder, body: bytes | str, *, size: int, user: str, limits: Limits
) -> Account:
    """Record one event or a batch ``{"events": [...]}`` from ``body`` (``size`` bytes).

    Raises ``EventRejected`` (with its status) when the body as a whole is refused: then
    nothing in it was recorded.
    """
    if size > limits.max_body_size:
        raise EventRejected(
            f"request body is {size} bytes, over max_body_size ({limits.max_body_size} bytes)",
            413,
        )
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as err:
        raise EventRejected(f"request body is not valid JSON: {clip(str(err))}") from None

    if not (isinstance(payload, dict) and "events" in payload):
        try:
            with recorder.request():
                recorder.record(payload, user=user)
        except SinkError as err:
            return Account(503, {"message": _not_recorded(err)}, err)
        return Account(204, None)

    events = payload["events"]
    if len(payload) > 1:
        extra = next(key for key in payload if key != "events")
        raise EventRejected(f"unknown field {quote(extra)}: a batch has only 'events'")
    if not isinstance(events, list):
        raise EventRejected("'events' must be an array of events")
    if len(events) > limits.max_batch_size:
        raise EventRejected(
            f"batch holds {len(events)} events, over max_batch_size ({limits.max_batch_size})",
            413,
        )
    return _record_batch(recorder, events, user)


def _record_batch(recorder: ClientEventRecorder, events: list[Any], user: str) -> Account:
    accepted = duplicates = 0
    rejected: list[dict[str, Any]] = []
    failed: tuple[int, SinkError] | None = None
    try:
        with recorder.request():
            for index, event in enumerate(events):
                try:
                    if recorder.record(event, user=user):
                        accepted += 1
                    else:
                        duplicates += 1
                except EventRejected as err:
                    rejected.append({"index": index, "message": str(err)})
                except SinkError as err:
                    # A sink that writes event by event failed: what came before is
                    # recorded, what follows is not tried.
                    failed = (index, err)
                    break
    except SinkError as err:
        # A sink that writes the request at once failed: none of it is recorded there.
        failed, accepted = (0, err), 0
    if failed is None:
        return Account(200, {"accepted": accepted, "duplicates": duplicates, "rejected": rejected})
    index, err = failed
    # A retry of the whole batch is safe for events with ids: the recorded ones come back
    # as duplicates.
    reply = {
        "message": f"event {index}: {_not_recorded(err)}",
        "accepted": accepted,
        "duplicates": duplicates,
        "rejected": rejected,
        "not_recorded": len(events) - accepted - duplicates - len(rejected),
    }
    return Account(503, reply, err)


def _not_recorded(err: SinkError) -> str:
    return f"not recorded, retry later: {err}"
