"""A redis-server of the test's own, started from Debian's package."""

from __future__ import annotations

import pathlib
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
STARTUP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of our own, which a test may stop and start again on the same port.

    With ``durable``, every write is in the append-only file before Redis answers, so
    what the server acknowledged survives a restart; otherwise it keeps nothing on disk.
    """

    def __init__(self, directory: pathlib.Path, durable: bool = False) -> None:
        self.directory = directory
        self.durable = durable
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.durable
            else ["--appendonly", "no"]
        )
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--save", "",
                *persistence,
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with redis.Redis(port=self.port, socket_timeout=1) as client:
            while True:
                try:
                    # Answers LOADING while it reads the append-only file back.
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.directory / "redis.log").read_text(errors="replace")
                    self.stop()
                    pytest.fail(f"redis-server did not start on port {self.port}:\n{log}")
                time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server the way an operator does (SIGTERM), and wait until it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STARTUP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=10)

    def entries(self, stream: str) -> list[dict[str, bytes]]:
        """Every entry of ``stream``, oldest first, as its fields."""
        with self.client() as client:
            return [
                {key.decode(): value for key, value in fields.items()}
                for _, fields in client.xrange(stream)
            ]
