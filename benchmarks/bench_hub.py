"""A whole JupyterHub: events/s through its proxy into one Redis stream, and the latency
from emit to the consumer.

The deployment of ``tests/hub/`` (JupyterHub, configurable-http-proxy, one redis-server,
four users' servers configured as docs/operators/jupyterhub.md says: alice, bob, carol
and carol's named server). Clients send through the proxy with each user's hub token, two
per server, each in a process of its own; a ``jupyter events-ext tail --group`` consumer
reads the stream. Per row, every event is acknowledged to its client and printed once by
the consumer. "acknowledged/s" is all events over the time from the first send to the last
acknowledgement; "printed by the consumer/s" the same up to the last event the consumer
printed (what the whole pipeline sustains). Latencies run from an event's first send (the
client's clock, before its batch goes) to its answer, to Redis adding it (the stream entry's
id is Redis's clock) and to the consumer printing it (read from its output), all on one
machine's clock. Run from the repository root, once ``./scripts/test.sh`` set up
``.venv`` and ``tests/hub``'s Node packages::

    .venv/bin/python benchmarks/bench_hub.py [--events 100000]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "hub"))
from deployment import STREAM, Hub, Server  # noqa: E402
from senders import Sender, command_events  # noqa: E402

USERS = ["alice", "bob", "carol"]
SERVERS = [("alice", ""), ("bob", ""), ("carol", ""), ("carol", "second")]
CLIENTS_PER_SERVER = 2
JUPYTER = str(Path(sys.executable).parent / "jupyter")


class StreamReader:
    """``tail --group --ids`` on the hub's stream: when each client id was printed, and when
    Redis added it (an entry id is Redis's clock, in ms, when it was added)."""

    def __init__(self, redis_url: str) -> None:
        self.printed: dict[str, float] = {}
        self.added: dict[str, float] = {}
        self.times: Counter[str] = Counter()  # how often each client id was printed
        self.process = subprocess.Popen(
            [
                JUPYTER, "events-ext", "tail", "--url", redis_url, "--stream", STREAM,
                "--group", "bench", "--consumer", "bench-1", "--from", "start", "--ids",
            ],
            stdout=subprocess.PIPE,
        )  # fmt: skip
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            now = time.time()
            entry_id, _, envelope = line.partition(b"\t")
            event_id = json.loads(envelope).get("__id__")
            if event_id is None:
                continue
            self.times[event_id] += 1
            if event_id not in self.printed:
                self.printed[event_id] = now
                self.added[event_id] = int(entry_id.split(b"-")[0]) / 1000

    def wait_for(self, ids: set[str], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not ids <= self.printed.keys():
            if time.monotonic() > deadline:
                missing = len(ids - self.printed.keys())
                raise TimeoutError(f"{missing} acknowledged events never reached the consumer")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def drive(
    server: Server, token: str, transport: str, label: str, batches: int, size: int, rate: float
) -> tuple[dict[str, float], dict[str, float], float, float]:
    """One client: ``batches`` batches of ``size`` through the proxy, at most ``rate``
    batches a second (0: as fast as answers come). Returns when each id was first sent and
    when acknowledged, the first send and the last acknowledgement."""
    sender = Sender(server, token, transport)
    start = time.time()
    for i in range(batches):
        if rate:
            time.sleep(max(0.0, start + i / rate - time.time()))
        sender.send(command_events(label, i * size, size))
    sender.close()
    return sender.first_sent, sender.acknowledged, start, max(sender.acknowledged.values())


def measure(
    hub: Hub,
    tokens: dict[str, str],
    reader: StreamReader,
    pool: ProcessPoolExecutor,
    *,
    transport: str,
    size: int,
    events: int,
    rate: float = 0,
) -> dict[str, float]:
    clients = [
        (hub.server(*spec), tokens[spec[0]], f"{spec[0]}{spec[1]}-{n}")
        for spec in SERVERS
        for n in range(CLIENTS_PER_SERVER)
    ]
    batches = max(1, events // size // len(clients))
    results = list(
        pool.map(
            drive,
            *zip(
                *[
                    (server, token, transport, label, batches, size, rate)
                    for server, token, label in clients
                ]
            ),
        )
    )
    sent: dict[str, float] = {}
    acks: dict[str, float] = {}
    for first_sent, acknowledged_at, _, _ in results:
        sent.update(first_sent)
        acks.update(acknowledged_at)
    acknowledged = len(acks)
    assert acks.keys() == sent.keys(), "every event sent was acknowledged"
    reader.wait_for(set(sent))
    assert all(reader.times[i] == 1 for i in sent), "every event printed once"
    began = min(start for _, _, start, _ in results)
    ended = max(end for *_, end in results)
    return {
        "events": acknowledged,
        "rate": acknowledged / (ended - began),
        "through": acknowledged / (max(reader.printed[i] for i in sent) - began),
        "acknowledged": percentiles([acks[i] - sent[i] for i in sent]),
        "added": percentiles([reader.added[i] - sent[i] for i in sent]),
        "printed": percentiles([reader.printed[i] - sent[i] for i in sent]),
    }


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p99, in ms."""
    quantiles = statistics.quantiles(seconds, n=100, method="inclusive")
    return quantiles[49] * 1000, quantiles[98] * 1000


def table(hub: Hub, rows: list[tuple[str, str, int, int, float]]) -> None:
    """Measure each row on the running ``hub`` and print the table."""
    tokens = {user: hub.new_token(user) for user in USERS}
    clients = len(SERVERS) * CLIENTS_PER_SERVER
    print(
        f"JupyterHub {version('jupyterhub')}, configurable-http-proxy, redis-server, "
        f"{len(SERVERS)} users' servers, {clients} clients (processes), "
        f"Python {platform.python_version()}"
    )
    print()
    print(
        "| path (through the proxy) | events | acknowledged/s | printed by the consumer/s "
        "| emit → answer p50, p99 | → in Redis p50, p99 | → consumer p50, p99 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    reader = StreamReader(hub.redis.url)
    try:
        with ProcessPoolExecutor(clients) as pool:
            # Warm-up: connections, the servers' first requests, the consumer group.
            for transport in ("socket", "post"):
                measure(hub, tokens, reader, pool, transport=transport, size=100, events=4000)
            for label, transport, size, events, rate in rows:
                row = measure(
                    hub,
                    tokens,
                    reader,
                    pool,
                    transport=transport,
                    size=size,
                    events=events,
                    rate=rate,
                )
                print(
                    f"| {label} | {row['events']:,} | {row['rate']:,.0f} | {row['through']:,.0f} | "
                    + " | ".join(
                        "{:,.1f}, {:,.1f} ms".format(*row[column])
                        for column in ("acknowledged", "added", "printed")
                    )
                    + " |",
                    flush=True,
                )
    finally:
        reader.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per batched row")
    options = parser.parse_args()
    rows = [
        ("events socket, 100 per message", "socket", 100, options.events, 0),
        ("POST events, 100 per request", "post", 100, options.events, 0),
        ("events socket, 1 per message", "socket", 1, options.events // 10, 0),
        ("events socket, 1 per message, 25/s per client (200/s)", "socket", 1, 4000, 25),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as directory:
        hub = Hub(Path(directory), USERS)
        try:
            hub.start()
            hub.start_servers(SERVERS)
            table(hub, rows)
        finally:
            hub.stop()


if __name__ == "__main__":
    main()
