"""REST handlers whose request body is bounded before it is read.

tornado reads a whole body before the handler sees it, up to jupyter_server's
``max_body_size`` (512 MiB), so a limit checked in ``post`` comes after the cost. A
``BoundedBodyHandler`` streams its body (``stream_request_body``): ``prepare`` runs once
the headers are in, refuses a ``Content-Length`` over the route's limit with a JSON 413
(tornado then closes the connection without reading the body), and holds a chunked body
to the same limit (tornado drops the connection once it passes it).
"""

from __future__ import annotations

from jupyter_server.base.handlers import APIHandler
from tornado import web


@web.stream_request_body
class BoundedBodyHandler(APIHandler):
    """An ``APIHandler`` whose ``body`` is at most ``body_limit`` bytes.

    Subclasses set ``body_limit`` (0 for a route that takes no body), and may name what
    the body is (``body_name``) and the setting that bounds it (``limit_name``) for the
    413's message.
    """

    body_limit = 0
    body_name = "request body"
    limit_name: str | None = None

    async def prepare(self) -> None:
        await super().prepare()
        self._chunks: list[bytes] = []
        length = self.request.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.body_limit:
            bound = f"{self.body_limit} bytes"
            if self.limit_name:
                bound = f"{self.limit_name} ({bound})"
            raise web.HTTPError(413, f"{self.body_name} is {int(length)} bytes, over {bound}")
        self.request.connection.set_max_body_size(self.body_limit)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        self._chunks.append(chunk)

    @property
    def body(self) -> bytes:
        """The request's body, once it is all received (in ``post``)."""
        return b"".join(self._chunks)
