"""A real Jupyter Server in a process of its own, which a test can starve, kill and restart."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import websocket
from redis_server import free_port

STARTUP_TIMEOUT = 60.0
TOKEN = "faults-test-token"


class ServerProcess:
    """``jupyter server`` with jupyter_events_ext, configured by ``config`` (the text of a
    jupyter_server_config.py), its own data, runtime and root directories under ``home``.

    ``start(file_size_limit=N)`` lowers RLIMIT_FSIZE in the child and ignores SIGXFSZ, so
    that writing a file past N bytes fails with EFBIG as on a full disk, without root.

    ``data_dir`` shares a Jupyter data directory with other servers, as servers of one
    user share their home; ``env`` adds environment variables (JUPYTERHUB_SERVER_NAME).
    """

    def __init__(
        self,
        home: Path,
        config: str,
        *,
        data_dir: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.home = home
        self.config = config
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.data_dir = data_dir or home / "data"
        self.sink = self.data_dir / "jupyter_events_ext" / "events.jsonl"
        self.recent_ids = self.data_dir / "jupyter_events_ext" / "recent-ids.jsonl"
        self.log_path = home / "server.log"
        for directory in (home / "config", self.data_dir, home / "runtime", home / "root"):
            directory.mkdir(parents=True, exist_ok=True)
        (home / "config" / "jupyter_server_config.py").write_text(
            textwrap.dedent(
                """
                c.ServerApp.jpserver_extensions = {
                    "jupyter_events_ext": True, "jupyter_server_terminals": False
                }
                c.ServerApp.open_browser = False
                """
            )
            + textwrap.dedent(config)
        )

    def start(self, *, file_size_limit: int | None = None) -> None:
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.home / "config"),
            "JUPYTER_DATA_DIR": str(self.data_dir),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "JUPYTER_PLATFORM_DIRS": "1",
            **self.env,
        }

        def starve() -> None:
            if file_size_limit is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

        log = open(self.log_path, "ab")  # noqa: SIM115 (the child keeps it)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter_server",
                f"--port={self.port}", "--ip=127.0.0.1", "--port-retries=0",
                f"--IdentityProvider.token={TOKEN}", "--allow-root",
                f"--ServerApp.root_dir={self.home / 'root'}",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=starve,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start-up:\n{self.log()}")
            try:
                status = self.request("GET", "info")[0]
            except (urllib.error.URLError, ConnectionError):
                status = None
            if status == 200:
                return
            if status == 404:  # jupyter_server listens only once extensions have loaded
                raise RuntimeError(f"jupyter_events_ext did not load:\n{self.log()}")
            time.sleep(0.1)
        self.stop(signal.SIGKILL)
        raise RuntimeError(f"the server did not answer within {STARTUP_TIMEOUT} s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: an operator's stop. SIGKILL: a crash, with no chance to clean up."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def request(self, method: str, route: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/jupyter-events-ext/{route}",
            data=data,
            method=method,
            headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, (json.loads(raw) if raw else None)
        except ValueError:  # jupyter_server's HTML page, when the route does not exist
            return status, raw.decode(errors="replace")

    def post(self, body: Any) -> tuple[int, Any]:
        return self.request("POST", "events", body)

    def events_socket(self) -> websocket.WebSocket:
        """A connection to the events socket (websocket-client, which jupyter_server needs)."""
        return websocket.create_connection(
            f"ws://127.0.0.1:{self.port}/jupyter-events-ext/events/socket",
            header=[f"Authorization: token {TOKEN}"],
            timeout=30,
        )

    def sink_lines(self, path: Path | None = None) -> list[dict[str, Any]]:
        """Every line of a JSON-lines sink, parsed: a line that is not JSON fails the test."""
        data = (path or self.sink).read_bytes()
        assert not data or data.endswith(b"\n"), "the sink ends in a torn line"
        return [json.loads(line) for line in data.splitlines()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
