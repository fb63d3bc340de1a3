"""The WebSocket at ``{base_url}jupyter-events-ext/stream``: live events, filtered and resumable."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from tornado import web

from .event_shape import quote
from .sockets import JsonRefusingWebSocket
from .stream import TooManySubscribers

if TYPE_CHECKING:
    from .stream import EventStream, Subscription

_SEQ = re.compile(r"[0-9]{1,18}")  # ASCII digits, within a 64-bit integer
_RUN_ID = re.compile(r"[0-9a-f]{1,64}")

# Sent when a subscriber's queue overflows: an application code, by analogy with HTTP 429.
CLOSE_FELL_BEHIND = 4429
# RFC 6455's "try again later", for a subscriber over the limit that raced past the check.
CLOSE_TRY_AGAIN_LATER = 1013


class StreamWebSocket(JsonRefusingWebSocket):
    """Sends ``{"run_id": R, "last_seq": N}`` first, then ``{"seq": N, "event": <envelope>}``
    for each event recorded.

    Query: ``schema_id`` (repeatable) keeps only those schemas; ``after=N`` first replays
    the buffered events after ``seq`` N of run ``run_id``, preceded by ``{"missed": K}``
    when some are no longer buffered, or by ``{"missed": K, "restarted": true}`` when
    ``run_id`` names an earlier run of the server (then everything buffered is replayed).
    Every refusal before the upgrade is JSON with a 4xx status.
    """

    subscription: Subscription | None = None

    def initialize(self, stream: EventStream) -> None:
        self.stream = stream

    @ws_authenticated
    @authorized("execute")
    async def get(self, *args: Any, **kwargs: Any) -> None:
        self.check_upgrade()
        schema_ids = self.get_query_arguments("schema_id")
        if any(not schema_id for schema_id in schema_ids):
            raise web.HTTPError(400, "'schema_id' must not be empty")
        self._schema_ids = frozenset(schema_ids) or None
        after = self.get_query_argument("after", None)
        self._after = None
        if after is not None:
            if not _SEQ.fullmatch(after):
                raise web.HTTPError(
                    400, f"'after' must be a non-negative integer, not {quote(after)}"
                )
            self._after = int(after)
        self._run_id = self.get_query_argument("run_id", None)
        if self._run_id is not None and not _RUN_ID.fullmatch(self._run_id):
            raise web.HTTPError(
                400, f"'run_id' must be a run id from GET info, not {quote(self._run_id)}"
            )
        stream = self.stream
        if stream.subscriber_count >= stream.max_subscribers:
            raise web.HTTPError(
                429, f"the live stream has its maximum of {stream.max_subscribers} subscribers"
            )
        same_run = self._run_id is None or self._run_id == stream.run_id
        if (
            self._after is not None
            and self._run_id is not None
            and same_run
            and self._after > stream.last_seq
        ):
            raise web.HTTPError(
                400,
                f"'after' is {self._after}, beyond the last event of this run ({stream.last_seq})",
            )
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)
        try:
            self.subscription, resume = self.stream.subscribe(
                schema_ids=self._schema_ids,
                after=self._after,
                run_id=self._run_id,
                send=self.write_message,
                on_overflow=self._fell_behind,
            )
        except TooManySubscribers as err:  # others subscribed since get() checked
            self.close(CLOSE_TRY_AGAIN_LATER, str(err))
            return
        # Written now, so they arrive before the replayed events.
        self.write_message(json.dumps({"run_id": resume.run_id, "last_seq": resume.last_seq}))
        if resume.restarted:
            self.write_message(json.dumps({"missed": resume.missed, "restarted": True}))
        elif resume.missed:
            self.write_message(json.dumps({"missed": resume.missed}))

    def on_message(self, message: str | bytes) -> None:
        """Messages from the client are ignored: the query string says what it wants."""

    def _fell_behind(self, subscription: Subscription) -> None:
        bounds = f"{subscription.queue_size} events or {subscription.queue_bytes} bytes"
        self.log.warning(
            "jupyter_events_ext: closing a stream subscriber that fell behind by over %s", bounds
        )
        self.close(
            CLOSE_FELL_BEHIND,
            f"fell behind by over {bounds}; reconnect with after=<last seq received>",
        )

    def on_close(self) -> None:
        if self.subscription is not None:
            self.stream.unsubscribe(self.subscription)
        super().on_close()


default_handlers = [(r"/jupyter-events-ext/stream", StreamWebSocket)]
