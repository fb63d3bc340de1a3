"""Ingest: events/s through this extension's events socket and POST events, against
jupyter_server's POST /api/events and against the in-process emit of the same logger and
sinks.

One real ``jupyter server`` process on a free loopback port. Both HTTP paths validate the
same schema (five required properties: three strings, two integers; registered under two
$ids, since a schema jupyter_server emits is never postable to this extension) and write
JSON lines to a file of their own: /api/events through a ``logging.FileHandler``, this
extension through its default sink (``JsonLinesFileHandler``) and its live stream. Every
event of this extension's carries a client id, as the browser's do. The browser sends on
the events socket (one message, one answer) and POSTs only when the socket cannot open;
both are measured. The in-process row
runs the same ``EventLogger``, sinks and ``emit(durable=True)`` in this process. Every row
is measured in the same ten interleaved rounds, its rate over its time summed across them.
Events carry the time they happened, as a browser's do, in the form each path reads; the
in-process row passes it as ``timestamp_override``. Run from the repository
root, after ``./scripts/test.sh`` or ``./scripts/lab.sh`` set up ``.venv``::

    .venv/bin/python benchmarks/bench_ingest.py          # the table (about a minute)
    .venv/bin/python benchmarks/bench_ingest.py --hub    # plus 50 clients, 1M events

Goals (issue 12): batched >= 0.5 x in-process emit; batched >= 30 x /api/events; one per
request >= 1.5 x /api/events; p99 of a 100-event request with 8 clients reported; the hub
run's server RSS flat. They are reported for the browser's path (the socket) and for POST.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import websocket
from benchmark_event import DATA, SCHEMA, SCHEMA_ID

TOKEN = "bench-token"
PEER_SCHEMA = {**SCHEMA, "$id": SCHEMA_ID.replace("/benchmark/", "/benchmark-peer/")}
PEER_SCHEMA_ID = PEER_SCHEMA["$id"]

# A one-module server extension that registers the peer's schema with jupyter_server's logger.
PEER_EXTENSION = f"""
import json
SCHEMA = json.loads({json.dumps(json.dumps(PEER_SCHEMA))})

def _jupyter_server_extension_points():
    return [{{"module": "bench_peer_schema"}}]

def _load_jupyter_server_extension(serverapp):
    serverapp.event_logger.register_event_schema(SCHEMA)
"""

CONFIG = """
import logging
from jupyter_events_ext.sinks.jsonl import JsonLinesFileHandler
c.ServerApp.jpserver_extensions = {{"jupyter_events_ext": True, "bench_peer_schema": True}}
c.ServerApp.log_level = "WARN"
c.EventLogger.handlers = [logging.FileHandler({peer_sink!r})]
c.EventsExtensionApp.event_handlers = [JsonLinesFileHandler({ext_sink!r})]
c.EventsExtensionApp.extra_schemas = [{schema_file!r}]
c.EventsExtensionApp.allowed_client_schemas = [{schema_id!r}]
# Each path writes its own file once: no forwarding of the peer's events into ours.
c.EventsExtensionApp.forward_server_events = False
"""

HEADERS = {"Authorization": f"token {TOKEN}", "Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(extra_config: str = ""):
    """Start ``jupyter server`` on 127.0.0.1 with ``extra_config`` appended to its config;
    yield (port, workdir, pid); stop it afterwards."""
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
                    if request(port, "GET", "/jupyter-events-ext/info")[0] == 200:
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((work / "server.log").read_text()[-3000:])
                time.sleep(0.2)
            yield port, work, server.pid
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


def event_data(i: int) -> dict:
    return {**DATA, "path": f"notebooks/{i}.ipynb", "size": i}


def browser_timestamp() -> str:
    """Now, as a browser's ``Date.toISOString()`` gives it (this extension's clients)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def peer_timestamp() -> str:
    """Now, in the form jupyter_server's /api/events parses (``%Y-%m-%dT%H:%M:%S%zZ``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00Z")


def single_body(schema_id: str, i: int, with_id: bool) -> bytes:
    """One event; like a browser's, it says when it happened (and, for this extension,
    carries an id)."""
    event = {"schema_id": schema_id, "version": 1, "data": event_data(i)}
    if with_id:
        event["id"] = f"single-{i}"
        event["timestamp"] = browser_timestamp()
    else:
        event["timestamp"] = peer_timestamp()
    return json.dumps(event).encode()


def batch_body(prefix: str, first: int, size: int = 100) -> bytes:
    events = [
        {
            "schema_id": SCHEMA_ID,
            "version": 1,
            "data": event_data(i),
            "id": f"{prefix}-{i}",
            "timestamp": browser_timestamp(),
        }
        for i in range(first, first + size)
    ]
    return json.dumps({"events": events}).encode()


def post_all(port: int, path: str, bodies: list[bytes], expected: int) -> list[float]:
    """POST every body on one keep-alive connection; return each request's seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for body in bodies:
        start = time.perf_counter()
        connection.request("POST", path, body=body, headers=HEADERS)
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        if response.status != expected:
            raise RuntimeError(f"{path}: {response.status}")
    connection.close()
    return times


def send_all(port: int, bodies: list[bytes], expected: int) -> list[float]:
    """Send every body on one events socket, each after the answer to the one before (as
    the browser does); return each message's seconds, from sending to its answer."""
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{port}/jupyter-events-ext/events/socket",
        header=[f"Authorization: token {TOKEN}"],
        timeout=60,
    )
    texts = [body.decode() for body in bodies]
    times = []
    for text in texts:
        start = time.perf_counter()
        ws.send(text)
        answer = ws.recv()
        times.append(time.perf_counter() - start)
        status = json.loads(answer)["status"]
        if status != expected:
            raise RuntimeError(f"events socket: {answer[:300]}")
    ws.close()
    return times


def concurrently(
    port: int, bodies_per_client: list[list[bytes]], transport: str
) -> tuple[float, list[float]]:
    """Each client sends its batches on its own connection ("post" or "socket"), all at
    once; return the wall time and every request's latency."""
    latencies: list[list[float]] = [[] for _ in bodies_per_client]
    start = threading.Barrier(len(bodies_per_client) + 1)

    def client(n: int) -> None:
        start.wait()
        if transport == "socket":
            latencies[n] = send_all(port, bodies_per_client[n], 200)
        else:
            latencies[n] = post_all(port, "/jupyter-events-ext/events", bodies_per_client[n], 200)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(len(bodies_per_client))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, [t for client in latencies for t in client]


class InProcess:
    """The same EventLogger, sinks and durable emit as the server's, in this process."""

    def __init__(self, work: Path) -> None:
        from jupyter_events_ext.events import EventLogger
        from jupyter_events_ext.server.stream import EventStream
        from jupyter_events_ext.sinks.jsonl import JsonLinesFileHandler

        self.sink = JsonLinesFileHandler(work / "in-process.jsonl")
        stream = EventStream(
            buffer_size=10_000,
            buffer_bytes=32 * 1024 * 1024,
            queue_size=5_000,
            queue_bytes=4 * 1024 * 1024,
            max_subscribers=100,
        )
        self.logger = EventLogger(handlers=[self.sink, stream])
        self.logger.register_event_schema(SCHEMA)
        self.emitted = 0

    def emit(self, count: int) -> tuple[float, float]:
        """Emit ``count`` events; return the seconds it took and the CPU seconds it used."""
        data = [event_data(i) for i in range(self.emitted, self.emitted + count)]
        cpu = time.process_time()
        start = time.perf_counter()
        for i, event in enumerate(data, self.emitted):
            self.logger.emit(
                schema_id=SCHEMA_ID,
                data=event,
                version="1",
                timestamp_override=datetime.now(timezone.utc),
                metadata={"__id__": f"in-process-{i}"},
                durable=True,
            )
        seconds = time.perf_counter() - start
        self.emitted += count
        return seconds, time.process_time() - cpu


def cpu_seconds(pid: int) -> float:
    """The CPU time process ``pid`` has used, user and system (in clock ticks of 10 ms)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def line_count(path: Path) -> int:
    return sum(1 for _ in path.open()) if path.exists() else 0


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else 0


EVENTS = "/jupyter-events-ext/events"


def table(port: int, work: Path, pid: int) -> None:
    singles, batches, rounds = 3000, 300, 10
    # The in-process row emits more per round: at its rate a round of 3,000 events lasts
    # 25 ms, where one slow moment of the machine would weigh on the whole row.
    emitted = 100_000
    peer_bodies = [single_body(PEER_SCHEMA_ID, i, with_id=False) for i in range(singles)]
    post_singles = [single_body(SCHEMA_ID, i, with_id=True) for i in range(singles)]
    post_batches = [batch_body("batch", b * 100) for b in range(batches)]
    socket_singles = [single_body(SCHEMA_ID, singles + i, with_id=True) for i in range(singles)]
    socket_batches = [batch_body("socket", b * 100) for b in range(batches)]
    in_process = InProcess(work)
    # Warm up every path (imports, validator compilation, connection set-up, the
    # allocator's first pages) for about as long as a round.
    post_all(port, "/api/events", [single_body(PEER_SCHEMA_ID, 0, False)] * 300, 204)
    post_all(port, EVENTS, [single_body(SCHEMA_ID, 2 * singles, True)] * 300, 204)
    post_all(port, EVENTS, [batch_body("warm", 0)] * 30, 200)
    send_all(port, [single_body(SCHEMA_ID, 2 * singles, True)] * 300, 204)
    send_all(port, [batch_body("warm", 0)] * 30, 200)
    in_process.emit(emitted // rounds)
    peer_before, ext_before = line_count(work / "peer.jsonl"), line_count(work / "ext.jsonl")

    # Interleaved rounds, so that a slow moment of the machine hits every path alike;
    # every path's rate is its events over its time summed across the rounds. The CPU
    # time is the server's (the in-process row's own), which the client's does not blur.
    paths = {
        "peer": (post_all, "/api/events", peer_bodies, 204),
        "post single": (post_all, EVENTS, post_singles, 204),
        "post batch": (post_all, EVENTS, post_batches, 200),
        "socket single": (send_all, None, socket_singles, 204),
        "socket batch": (send_all, None, socket_batches, 200),
    }
    totals = dict.fromkeys([*paths, "emit"], 0.0)
    cpu = dict.fromkeys(totals, 0.0)
    for r in range(rounds):
        for name, (send, path, bodies, expected) in paths.items():
            part = bodies[r * len(bodies) // rounds : (r + 1) * len(bodies) // rounds]
            before = cpu_seconds(pid)
            if path is None:
                totals[name] += sum(send(port, part, expected))
            else:
                totals[name] += sum(send(port, path, part, expected))
            cpu[name] += cpu_seconds(pid) - before
        seconds, cpu_used = in_process.emit(emitted // rounds)
        totals["emit"] += seconds
        cpu["emit"] += cpu_used
    in_process.sink.close()
    events = {
        "peer": singles,
        "post single": singles,
        "post batch": batches * 100,
        "socket single": singles,
        "socket batch": batches * 100,
        "emit": emitted,
    }

    clients = 8
    concurrent: dict[str, tuple[float, float, list[float]]] = {}
    for transport in ("post", "socket"):
        per_client = [
            [batch_body(f"{transport}-c{n}", k * 100) for k in range(40)] for n in range(clients)
        ]
        before = cpu_seconds(pid)
        wall, latencies = concurrently(port, per_client, transport)
        concurrent[transport] = (wall, cpu_seconds(pid) - before, latencies)
        events[f"{transport} concurrent"] = clients * 40 * 100

    peer_lines = line_count(work / "peer.jsonl") - peer_before
    ext_lines = line_count(work / "ext.jsonl") - ext_before
    assert peer_lines == singles, peer_lines
    assert ext_lines == sum(count for key, count in events.items() if key not in ("peer", "emit"))

    rate = {key: events[key] / totals[key] for key in totals}
    for transport, (wall, seconds, _) in concurrent.items():
        rate[f"{transport} concurrent"] = events[f"{transport} concurrent"] / wall
        cpu[f"{transport} concurrent"] = seconds
    print(f"Ingest: one jupyter server on 127.0.0.1:{port}; the same schema on every path")
    print()
    print("| path | events/s | x /api/events | x in-process emit | server CPU µs per event |")
    print("|---|---:|---:|---:|---:|")
    rows = [
        ("emit", "in-process `emit(durable=True)`, same logger and sinks"),
        ("peer", "jupyter_server `POST /api/events`, 1 per request"),
        ("post single", "`POST jupyter-events-ext/events`, 1 per request"),
        ("post batch", "`POST jupyter-events-ext/events`, 100 per request"),
        ("post concurrent", f"`POST ...events`, 100 per request, {clients} clients"),
        ("socket single", "events socket, 1 per message"),
        ("socket batch", "events socket, 100 per message"),
        ("socket concurrent", f"events socket, 100 per message, {clients} clients"),
    ]
    for key, name in rows:
        print(
            f"| {name} | {rate[key]:,.0f} | {rate[key] / rate['peer']:.2f} | "
            f"{rate[key] / rate['emit']:.2f} | {cpu[key] / events[key] * 1e6:.1f} |"
        )
    print()
    for transport, (_, _, latencies) in concurrent.items():
        print(
            f"100-event {'requests' if transport == 'post' else 'messages'} ({transport}), "
            f"{clients} concurrent clients: p50 {percentile(latencies, 50) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 99) * 1000:.1f} ms"
        )
    for transport in ("socket", "post"):
        print(
            f"{transport}: batched / in-process emit = "
            f"{rate[f'{transport} batch'] / rate['emit']:.2f} (goal >= 0.5); "
            f"batched / /api/events = {rate[f'{transport} batch'] / rate['peer']:.1f} "
            f"(goal >= 30); single / /api/events = "
            f"{rate[f'{transport} single'] / rate['peer']:.2f} (goal >= 1.5)"
        )
    print(f"every event written once: {peer_lines} lines (peer), {ext_lines} (extension)")


def hub(port: int, work: Path, pid: int, clients: int = 50, total: int = 1_000_000) -> None:
    """50 clients sending batches at once, for a million events, in five rounds, on the
    events socket and then by POST; the server's RSS after each round shows whether it
    stays flat once its windows are full (the last 100,000 ids, the stream's 10,000
    events)."""
    rounds = 5
    per_client = total // rounds // clients // 100
    print()
    print(f"Hub-scale: {clients} concurrent clients, {total:,} events in batches of 100, per path")
    print()
    print("| path | events/s | p50 per batch | p99 per batch | server RSS: start, each fifth |")
    print("|---|---:|---:|---:|---|")
    for transport in ("socket", "post"):
        before = line_count(work / "ext.jsonl")
        rss = [rss_mb(pid)]
        wall = 0.0
        latencies: list[float] = []
        for r in range(rounds):
            bodies = [
                [batch_body(f"hub-{transport}{r}-{n}", k * 100) for k in range(per_client)]
                for n in range(clients)
            ]
            seconds, round_latencies = concurrently(port, bodies, transport)
            wall += seconds
            latencies += round_latencies
            rss.append(rss_mb(pid))
        written = line_count(work / "ext.jsonl") - before
        assert written == rounds * clients * per_client * 100, written
        name = "events socket" if transport == "socket" else "`POST jupyter-events-ext/events`"
        print(
            f"| {name} | {written / wall:,.0f} | {percentile(latencies, 50) * 1000:.1f} ms | "
            f"{percentile(latencies, 99) * 1000:.1f} ms | "
            f"{', '.join(f'{mb:.0f}' for mb in rss)} MB |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", action="store_true", help="also the 50-client, 1M-event run")
    args = parser.parse_args()
    with running_server() as (port, work, pid):
        table(port, work, pid)
        if args.hub:
            hub(port, work, pid)


if __name__ == "__main__":
    main()
