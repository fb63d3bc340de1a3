"""The WebSocket at ``{base_url}jupyter-events-ext/stream``: live events, filtered and resumable."""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web, websocket

from .handlers import AUTH_RESOURCE

if TYPE_CHECKING:
    from .stream import EventStream, Subscription

# Sent when a subscriber's queue overflows: an application code, by analogy with HTTP 429.
CLOSE_FELL_BEHIND = 4429
# The kernel's send buffer for a subscriber, fixed rather than autotuned (up to megabytes):
# what a subscriber has not read should wait in its counted queue, not out of sight.
SEND_BUFFER_BYTES = 256 * 1024


class StreamWebSocket(WebSocketMixin, JupyterHandler, websocket.WebSocketHandler):
    """Sends ``{"seq": N, "event": <envelope>}`` for each event recorded.

    Query: ``schema_id`` (repeatable) keeps only those schemas; ``after=N`` first replays
    the buffered events after ``seq`` N.
    """

    auth_resource = AUTH_RESOURCE
    subscription: Subscription | None = None

    def initialize(self, stream: EventStream) -> None:
        self.stream = stream

    @ws_authenticated
    @authorized("execute")
    async def get(self, *args: Any, **kwargs: Any) -> None:
        schema_ids = self.get_query_arguments("schema_id")
        if any(not schema_id for schema_id in schema_ids):
            raise web.HTTPError(400, "'schema_id' must not be empty")
        self._schema_ids = frozenset(schema_ids) or None
        after = self.get_query_argument("after", None)
        self._after = None
        if after is not None:
            if not after.isdigit():
                raise web.HTTPError(400, f"'after' must be a non-negative integer, not {after!r}")
            self._after = int(after)
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
        self.subscription, missed = self.stream.subscribe(
            schema_ids=self._schema_ids,
            after=self._after,
            send=self.write_message,
            on_overflow=self._fell_behind,
        )
        if missed:
            # Written now, so it arrives before the replayed events.
            self.write_message(json.dumps({"missed": missed}))

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
