"""Ingest: events/s through jupyter_server's POST /api/events vs this extension's POST events.

One real ``jupyter server`` process on a free loopback port, one schema (five required
properties: three strings, two integers) registered with both loggers, one client (a
keep-alive ``http.client`` connection), each path writing its JSON lines to its own
``logging.FileHandler``. Run from the repository root::

    .venv/bin/python benchmarks/bench_ingest.py

Goal (issue 4): batched >= 20 x /api/events; one per request >= 1 x /api/events.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmark_event import DATA, SCHEMA, SCHEMA_ID

TOKEN = "bench-token"

# A one-module server extension that registers the schema with jupyter_server's own logger.
PEER_EXTENSION = f"""
import json
SCHEMA = json.loads({json.dumps(json.dumps(SCHEMA))})

def _jupyter_server_extension_points():
    return [{{"module": "bench_peer_schema"}}]

def _load_jupyter_server_extension(serverapp):
    serverapp.event_logger.register_event_schema(SCHEMA)
"""

CONFIG = """
import logging
c.ServerApp.jpserver_extensions = {{"jupyter_events_ext": True, "bench_peer_schema": True}}
c.ServerApp.log_level = "WARN"
c.EventLogger.handlers = [logging.FileHandler({peer_sink!r})]
c.EventsExtensionApp.event_handlers = [logging.FileHandler({ext_sink!r})]
c.EventsExtensionApp.extra_schemas = [{schema_file!r}]
c.EventsExtensionApp.allowed_client_schemas = [{schema_id!r}]
# Each path writes its own file once: no forwarding of the peer's events into ours.
c.EventsExtensionApp.forward_server_events = False
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(extra_config: str = ""):
    """Start ``jupyter server`` on 127.0.0.1; yield (port, workdir); stop it afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "root").mkdir()
        (work / "bench_peer_schema.py").write_text(PEER_EXTENSION)
        (work / "schema.json").write_text(json.dumps(SCHEMA))
        config = work / "jupyter_server_config.py"
        config.write_text(
            CONFIG.format(
                peer_sink=str(work / "peer.jsonl"),
                ext_sink=str(work / "ext.jsonl"),
                schema_file=str(work / "schema.json"),
                schema_id=SCHEMA_ID,
            )
            + extra_config
        )
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(work),
            "JUPYTER_CONFIG_DIR": str(work / "config"),
            "JUPYTER_DATA_DIR": str(work / "data"),
            "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
        }
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--config={config}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.open_browser=False",
            f"--ServerApp.root_dir={work / 'root'}",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.allow_root=True",
        ]
        log = (work / "server.log").open("wb")  # a file: a pipe nobody reads would fill up
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, _ = request(port, "GET", "/jupyter-events-ext/info")
                    if status == 200:
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((work / "server.log").read_text()[-3000:])
                time.sleep(0.2)
            yield port, work
        finally:
            server.terminate()
            server.wait(30)
            log.close()


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=HEADERS)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


HEADERS = {"Authorization": f"token {TOKEN}", "Content-Type": "application/json"}


def event_data(i: int) -> dict:
    return {**DATA, "path": f"notebooks/{i}.ipynb", "size": i}


def post_all(port: int, path: str, bodies: list[bytes], expected: int) -> float:
    """POST every body on one keep-alive connection; return the seconds taken."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.perf_counter()
    for body in bodies:
        connection.request("POST", path, body=body, headers=HEADERS)
        response = connection.getresponse()
        response.read()
        if response.status != expected:
            raise RuntimeError(f"{path}: {response.status}")
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def line_count(path: Path) -> int:
    return sum(1 for _ in path.open()) if path.exists() else 0


def main() -> None:
    singles = 3000
    batches = 300
    with running_server() as (port, work):
        peer_bodies = [
            json.dumps({"schema_id": SCHEMA_ID, "version": 1, "data": event_data(i)}).encode()
            for i in range(singles)
        ]
        ext_bodies = peer_bodies  # the same bodies: the two APIs share this shape
        batch_bodies = [
            json.dumps(
                {
                    "events": [
                        {"schema_id": SCHEMA_ID, "version": 1, "data": event_data(b * 100 + i)}
                        for i in range(100)
                    ]
                }
            ).encode()
            for b in range(batches)
        ]
        # Warm up both paths (imports, validator compilation, connection set-up).
        post_all(port, "/api/events", peer_bodies[:200], 204)
        post_all(port, "/jupyter-events-ext/events", ext_bodies[:200], 204)
        post_all(port, "/jupyter-events-ext/events", batch_bodies[:5], 200)
        peer_before, ext_before = line_count(work / "peer.jsonl"), line_count(work / "ext.jsonl")

        rows = []
        # Interleaved rounds, so that a slow moment of the machine hits every path alike.
        totals = {"peer": 0.0, "single": 0.0, "batch": 0.0}
        rounds = 10
        for r in range(rounds):
            part = slice(r * singles // rounds, (r + 1) * singles // rounds)
            bpart = slice(r * batches // rounds, (r + 1) * batches // rounds)
            totals["peer"] += post_all(port, "/api/events", peer_bodies[part], 204)
            totals["single"] += post_all(port, "/jupyter-events-ext/events", ext_bodies[part], 204)
            totals["batch"] += post_all(
                port, "/jupyter-events-ext/events", batch_bodies[bpart], 200
            )

        peer_lines = line_count(work / "peer.jsonl") - peer_before
        ext_lines = line_count(work / "ext.jsonl") - ext_before
        assert peer_lines == singles, peer_lines
        assert ext_lines == singles + batches * 100, ext_lines

        peer_rate = singles / totals["peer"]
        rows = [
            ("jupyter_server POST /api/events, 1 per request", singles, totals["peer"]),
            ("jupyter-events-ext POST events, 1 per request", singles, totals["single"]),
            ("jupyter-events-ext POST events, 100 per request", batches * 100, totals["batch"]),
        ]
        print(f"Ingest: one jupyter server on 127.0.0.1:{port}, one keep-alive client, same schema")
        print(f"{'path':<50} {'events':>7} {'seconds':>8} {'events/s':>10} {'x /api/events':>14}")
        for name, count, seconds in rows:
            rate = count / seconds
            print(f"{name:<50} {count:>7} {seconds:>8.2f} {rate:>10.0f} {rate / peer_rate:>14.2f}")
        print(f"every event written once: {peer_lines} lines (peer), {ext_lines} (extension)")


if __name__ == "__main__":
    main()
