"""Fan-out: 50 (then 200) WebSocket subscribers while 10,000 events are posted in batches
of 100.

Every subscriber must receive every event, in order; the table gives delivery latency
(post sent -> message received, one clock) and throughput. Then the same run with one
stalled subscriber added (a socket that completes the handshake and never reads): the
others' throughput must stay within 10 %. Last, 200 subscribers. One real ``jupyter
server`` process, as in bench_ingest.py. Run from the repository root::

    .venv/bin/python benchmarks/bench_fanout.py
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import statistics
import sys
import time
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import TOKEN, running_server
from benchmark_event import DATA, SCHEMA_ID

SUBSCRIBERS = 50
EVENTS = 10_000
BATCH = 100
ROUNDS = 3  # alternating; the best of each: one slow moment of the machine weighs less


async def open_stalled(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /jupyter-events-ext/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\nAuthorization: token {TOKEN}\r\n\r\n"
    )
    await asyncio.get_running_loop().sock_sendall(sock, request.encode())
    return sock  # never read again


async def run(port: int, stalled: bool, subscribers: int = SUBSCRIBERS) -> dict:
    url = f"ws://127.0.0.1:{port}/jupyter-events-ext/stream"
    headers = {"Authorization": f"token {TOKEN}"}
    sockets = [
        await websocket_connect(HTTPRequest(url, headers=headers)) for _ in range(subscribers)
    ]
    for ws in sockets:
        await ws.read_message()  # the first message names the server's run
    stalled_socket = await open_stalled(port) if stalled else None
    latencies: list[float] = []
    last_received = [0.0] * subscribers
    closes: list[str] = []

    async def subscriber(index: int, ws) -> None:
        expected_seq = None
        for _ in range(EVENTS):
            message = await ws.read_message()
            now = time.time()
            if message is None:
                closes.append(f"subscriber {index} closed: {ws.close_code} {ws.close_reason}")
                return
            parsed = json.loads(message)
            seq = parsed["seq"]
            if expected_seq is not None and seq != expected_seq:
                raise AssertionError(f"subscriber {index}: seq {seq}, expected {expected_seq}")
            expected_seq = seq + 1
            latencies.append(now - parsed["event"]["duration_ms"] / 1e9)
            last_received[index] = now

    readers = [asyncio.ensure_future(subscriber(i, ws)) for i, ws in enumerate(sockets)]
    client = AsyncHTTPClient()
    start = time.time()
    for b in range(EVENTS // BATCH):
        events = [
            {
                "schema_id": SCHEMA_ID,
                "version": 1,
                # duration_ms carries the send time, for the latency.
                "data": {**DATA, "size": b * BATCH + i, "duration_ms": time.time_ns()},
            }
            for i in range(BATCH)
        ]
        response = await client.fetch(
            f"http://127.0.0.1:{port}/jupyter-events-ext/events",
            method="POST",
            headers=headers,
            body=json.dumps({"events": events}),
        )
        assert json.loads(response.body)["accepted"] == BATCH
    posted = time.time() - start
    await asyncio.wait_for(asyncio.gather(*readers), 120)
    elapsed = max(last_received) - start
    for ws in sockets:
        ws.close()
    if stalled_socket is not None:
        stalled_socket.close()
    assert not closes, closes
    assert len(latencies) == subscribers * EVENTS, len(latencies)
    latencies.sort()
    return {
        "deliveries": len(latencies),
        "posted_s": posted,
        "elapsed_s": elapsed,
        "throughput": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * len(latencies)) - 1],
    }


def main() -> None:
    # The stalled subscriber is closed once 2,000 events wait for it.
    config = (
        "c.EventsExtensionApp.subscriber_queue_size = 2000\n"
        "c.EventsExtensionApp.max_subscribers = 300\n"
    )
    runs: dict[bool, list[dict]] = {False: [], True: []}
    with running_server(config) as (port, _work, _pid):
        asyncio.run(run(port, stalled=False))  # warm-up
        # Alternate the two cases: the machine is shared, so its load varies over a run.
        for _ in range(ROUNDS):
            for stalled in (False, True):
                runs[stalled].append(asyncio.run(run(port, stalled=stalled)))
        many = asyncio.run(run(port, stalled=False, subscribers=200))
    print(
        f"Fan-out: {SUBSCRIBERS} WebSocket subscribers, {EVENTS} events posted in batches of "
        f"{BATCH}, one jupyter server on 127.0.0.1; {ROUNDS} alternating rounds"
    )
    print(
        f"{'run':<30} {'round':>5} {'deliveries':>10} {'post s':>7} {'total s':>8} "
        f"{'deliveries/s':>13} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for stalled, name in ((False, "50 healthy"), (True, "50 healthy + 1 stalled")):
        for index, row in enumerate(runs[stalled], 1):
            print(
                f"{name:<30} {index:>5} {row['deliveries']:>10} {row['posted_s']:>7.2f} "
                f"{row['elapsed_s']:>8.2f} {row['throughput']:>13.0f} {row['p50_ms']:>7.1f} "
                f"{row['p99_ms']:>7.1f}"
            )
    print(
        f"{'200 healthy':<30} {1:>5} {many['deliveries']:>10} {many['posted_s']:>7.2f} "
        f"{many['elapsed_s']:>8.2f} {many['throughput']:>13.0f} {many['p50_ms']:>7.1f} "
        f"{many['p99_ms']:>7.1f}"
    )
    best = {stalled: max(r["throughput"] for r in rows) for stalled, rows in runs.items()}
    print(
        "every subscriber received every event, in order, in every run; best throughput "
        f"with a stalled subscriber is {best[True] / best[False]:.1%} of without (goal >= 90%)"
    )


if __name__ == "__main__":
    main()
