"""What the extension's WebSockets share: authorization on ``events``, and refusals before
the upgrade answered in JSON with a 4xx, as the REST routes answer."""

from __future__ import annotations

import json
import socket
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web, websocket

from .rest import AUTH_RESOURCE

# The kernel's send buffer for a socket, fixed rather than autotuned (up to megabytes): what
# a client has not read waits where it is counted (a subscriber's queue; the events socket
# reads no more), not out of sight.
SEND_BUFFER_BYTES = 256 * 1024


class JsonRefusingWebSocket(WebSocketMixin, JupyterHandler, websocket.WebSocketHandler):
    """A WebSocket whose refusals before the upgrade are JSON, ``{"message": ...}``."""

    auth_resource = AUTH_RESOURCE

    def check_upgrade(self) -> None:
        """Refuse, in JSON, what tornado would refuse in plain text."""
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

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json")
        error = kwargs.get("exc_info", (None, None))[1]
        message = getattr(error, "log_message", None) or self._reason
        self.finish(json.dumps({"message": message}))

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)
        sock = getattr(self.ws_connection.stream, "socket", None)
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)

    def on_close(self) -> None:
        if self.ping_callback is not None:
            self.ping_callback.stop()
