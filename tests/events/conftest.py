from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

# The plugin's fixtures, as a project would get them with pytest_plugins = [...].
from jupyter_events_ext.events.pytest_plugin import (  # noqa: F401
    jp_event_handler,
    jp_event_logger,
    jp_event_schemas,
    jp_event_sink,
    jp_read_emitted_events,
)


class SchemaServer:
    """A local HTTP server with canned responses, recording every path requested."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requested: list[str] = []
        self.delay = 0.0
        self.trickle = 0.0  # seconds between the body's bytes, sent one at a time
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requested.append(self.path)
                status, headers, body = server.routes.get(self.path, (404, {}, b"not found"))
                if server.delay:
                    threading.Event().wait(server.delay)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not server.trickle:
                    self.wfile.write(body)
                    return
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    threading.Event().wait(server.trickle)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def serve(self, path: str, body: bytes, status: int = 200, **headers: str) -> str:
        self.routes[path] = (status, {k.replace("_", "-"): v for k, v in headers.items()}, body)
        return self.url + path


@pytest.fixture
def schema_server() -> Iterator[SchemaServer]:
    server = SchemaServer()
    thread = threading.Thread(target=server.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join()
