"""A real HTTP server of the test's own on 127.0.0.1, recording what is POSTed to it.

It can be told to fail (answer a status without keeping the request, or keep it and
still answer an error, as a server does whose answer is lost), be stopped so that
connecting is refused, and be started again on the same port.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class Request:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class Behaviour:
    """How the receiver answers the next POSTs."""

    # Answer this status and keep nothing (e.g. 503), or None to accept.
    refuse_with: int | None = None
    # Keep the request, then answer this status (its answer "lost"), or None.
    keep_then_fail_with: int | None = None
    # How the body of a successful answer reads, and its type.
    answer: bytes = b""
    answer_type: str = "text/plain"


@dataclass
class Receiver:
    port: int = 0
    behaviour: Behaviour = field(default_factory=Behaviour)
    kept: list[Request] = field(default_factory=list)
    refused: list[Request] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        if not self.port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real collectors do

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver._connections.add(self.connection)

            def finish(self) -> None:
                super().finish()
                with receiver._lock:
                    receiver._connections.discard(self.connection)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                # Header names are case-insensitive: kept in lower case.
                headers = {name.lower(): value for name, value in self.headers.items()}
                behaviour = receiver.behaviour
                status = 200
                with receiver._lock:
                    if behaviour.refuse_with is not None:
                        status = behaviour.refuse_with
                        receiver.refused.append(Request(self.path, headers, body))
                    else:
                        receiver.kept.append(Request(self.path, headers, body))
                        if behaviour.keep_then_fail_with is not None:
                            status = behaviour.keep_then_fail_with
                    receiver.answered.append(status)
                answer = behaviour.answer if status < 300 else b"failing on purpose"
                self.send_response(status)
                self.send_header("Content-Type", behaviour.answer_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the test reads ``kept`` and ``answered`` instead."""

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop open connections: connecting is refused until
        ``start()``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):  # already closed by its client
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    def bodies(self) -> list[bytes]:
        with self._lock:
            return [request.body for request in self.kept]
