"""The WebSocket at ``{base_url}jupyter-events-ext/stream``: live events, filtered and resumable."""

from __future__ import annotations

import json
import re
import socket
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web, websocket

from .event_shape import quote
from .handlers import AUTH_RESOURCE
from .stream import TooManySubscribers

if TYPE_CHECKING:
    from .stream import EventStream, Subscription

_SEQ = re.compile(r"[0-9]{1,18}")  # ASCII digits, within a 64-bit integer
_RUN_ID = re.compile(r"[0-9a-f]{1,64}")

# Sent when a subscriber's queue overflows: an application code, by analogy with HTTP 429.
CLOSE_FELL_BEHIND = 4429
# RFC 6455's "try again later", for a subscriber over the limit that raced past the check.
CLOSE_TRY_AGAIN_LATER = 1013
# The kernel's send buffer for a subscriber, fixed rather than autotuned (up to megabytes):
# what a subscriber has not read should wait in its counted queue, not out of sight.
SEND_BUFFER_BYTES = 256 * 1024


class StreamWebSocket(WebSocketMixin, JupyterHandler, websocket.WebSocketHandler):
    """Sends ``{"run_id": R, "last_seq": N}`` first, then ``{"seq": N, "event": <envelope>}``
    for each event recorded.

    Query: ``schema_id`` (repeatable) keeps only those schemas; ``after=N`` first replays
    the buffered events after ``seq`` N of run ``run_id``, preceded by ``{"missed": K}``
    when some are no longer buffered, or by ``{"missed": K, "restarted": true}`` when
    ``run_id`` names an earlier run of the server (then everything buffered is replayed).
    Every refusal before the upgrade is JSON with a 4xx status.
    """

    auth_resource = AUTH_RESOURCE
    subscription: Subscription | None = None

    def initialize(self, stream: EventStream) -> None:
        self.stream = stream

    @ws_authenticated
    @authorized("execute")
    async def get(self, *args: Any, **kwargs: Any) -> None:
        # tornado answers these in plain text; this route answers in JSON, like the others.
        headers = self.request.headers
        if headers.get("Upgrade", "").lower() != "websocket" or "upgrade" not in (
            headers.get("Connection", "").lower()
        ):
            raise web.HTTPError(
                400, "this is a WebSocket: connect with 'Connection: Upgrade, Upgrade: websocket'"
            )
        origin = headers.get("Origin") or headers.get("Sec-Websocket-Origin")
        if origin is not None and not self.check_origin(origin):
            raise web.HTTPError(403, "cross-origin WebSocket connections are not allowed")

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

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Before the upgrade, answer errors as the REST routes do: JSON with a message.
        self.set_header("Content-Type", "application/json")
        error = kwargs.get("exc_info", (None, None))[1]
        message = getattr(error, "log_message", None) or self._reason
        self.finish(json.dumps({"message": message}))

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)
        sock = getattr(self.ws_connection.stream, "socket", None)
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
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
        self.log.warning(
            "jupyter_events_ext: closing a stream subscriber that fell behind by %d events",
            subscription.queue_size,
        )
        self.close(
            CLOSE_FELL_BEHIND,
            f"fell behind by over {subscription.queue_size} events; "
            "reconnect with after=<last seq received>",
        )

    def on_close(self) -> None:
        if self.subscription is not None:
            self.stream.unsubscribe(self.subscription)
        if self.ping_callback is not None:
            self.ping_callback.stop()


default_handlers = [(r"/jupyter-events-ext/stream", StreamWebSocket)]
