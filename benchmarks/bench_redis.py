"""What publishing events to Redis costs the emitter, next to writing them to a file.

Starts a redis-server of its own on a free loopback port (no persistence), then measures,
through jupyter_events_ext's ``EventLogger`` on the same schema (five required properties:
three strings and two integers):

  1. one process: ``emit`` into a ``logging.NullHandler`` (validation and envelope only,
     the floor), into a ``logging.FileHandler``, and into a ``RedisStreamHandler``;
     each ``--rounds`` times over ``--events`` events, interleaved, the best round
     counting. For Redis, also the time until every event is in the stream.
  2. ``--processes`` processes at once, each emitting ``--events`` events into its own
     FileHandler, then all into one Redis stream: the aggregate events/s.

Both also for a ``RedisStreamHandler`` whose events each carry a unique client id
(``__id__``), so that its deduplication (a ``ZADD NX`` per event into the stream's id
set) is in the figures.

Afterwards the stream and the files are checked: every event there, exactly once.

    python benchmarks/bench_redis.py [--events N] [--rounds R] [--processes P]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import pathlib
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version

try:
    import jupyter_events_ext.events  # noqa: F401
except ImportError:  # run from a source checkout that is not installed
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmark_event import DATA, SCHEMA

STREAM = "bench"


def start_redis(directory: str) -> tuple[subprocess.Popen[bytes], str]:
    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port),
         "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    return server, f"redis://127.0.0.1:{port}/0"


# The kinds of sink measured; "redis+ids" is "redis" with an id on every event.
KINDS = ("null", "file", "redis", "redis+ids")
LABELS = {
    "file": "FileHandler",
    "redis": "RedisStreamHandler",
    "redis+ids": "RedisStreamHandler, ids",
}


def make_handler(kind: str, url: str, path: str) -> logging.Handler:
    if kind == "null":
        return logging.NullHandler()
    if kind == "file":
        return logging.FileHandler(path, encoding="utf-8")
    from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler

    return RedisStreamHandler(url, STREAM)


def timed_emits(
    handler: logging.Handler, events: int, source: str, ids: bool
) -> tuple[float, float]:
    """Emit ``events`` events (each with a unique ``__id__`` if ``ids``); return the
    seconds emitting took and until they were written."""
    from jupyter_events_ext.events import EventLogger

    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(SCHEMA)
    schema_id = SCHEMA["$id"]
    data = dict(DATA, user=source)
    emit = logger.emit
    # Made before the clock starts: the sinks' cost is measured, not the ids'.
    metadata = [{"__id__": f"{source}-{n}"} for n in range(events)] if ids else [None] * events
    start = time.perf_counter()
    for extra in metadata:
        emit(schema_id=schema_id, data=data, metadata=extra)
    emitted = time.perf_counter() - start
    flush = getattr(handler, "flush", None)
    if flush is not None and flush() is False:
        raise RuntimeError(f"{handler!r} did not flush")
    written = time.perf_counter() - start
    return emitted, written


def one_process(kind: str, url: str, path: str, events: int, source: str) -> tuple[float, float]:
    handler = make_handler(kind, url, path)
    try:
        return timed_emits(handler, events, source, kind == "redis+ids")
    finally:
        handler.close()


def worker(kind, url, path, events, source, barrier, results) -> None:
    handler = make_handler(kind, url, path)
    from jupyter_events_ext.events import EventLogger

    # Warm up (imports, first connection) before the clock starts.
    warm = EventLogger(handlers=[logging.NullHandler()])
    warm.register_event_schema(SCHEMA)
    warm.emit(schema_id=SCHEMA["$id"], data=DATA)
    barrier.wait()
    start = time.time()
    emitted, written = timed_emits(handler, events, source, kind == "redis+ids")
    handler.close()
    results.put((source, start, start + emitted, start + written))


def many_processes(kind: str, url: str, tmp: str, events: int, processes: int) -> dict:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(
            target=worker,
            args=(
                kind,
                url,
                os.path.join(tmp, f"{kind}-p{i}.log"),
                events,
                f"{kind}-p{i}",
                barrier,
                results,
            ),
        )
        for i in range(processes)
    ]
    for process in workers:
        process.start()
    finished = [results.get(timeout=300) for _ in workers]
    for process in workers:
        process.join()
        if process.exitcode:
            raise RuntimeError(f"a {kind} worker failed")
    start = min(result[1] for result in finished)
    total = events * processes
    return {
        "emitted": total / (max(result[2] for result in finished) - start),
        "written": total / (max(result[3] for result in finished) - start),
    }


def check_file(path: str, events: int) -> None:
    with open(path, encoding="utf-8") as file:
        lines = file.read().splitlines()
    if len(lines) != events or any(json.loads(line)["size"] != DATA["size"] for line in lines):
        raise RuntimeError(f"{path}: {len(lines)} lines, expected {events}")


def check_stream(url: str, expected: dict[str, int]) -> None:
    import redis

    client = redis.Redis.from_url(url)
    counts: dict[str, int] = {}
    last = "-"
    while True:
        entries = client.xrange(STREAM, min=last, count=10_000)
        if last != "-":
            entries = entries[1:]
        if not entries:
            break
        for _, fields in entries:
            source = json.loads(fields[b"event"])["user"]
            counts[source] = counts.get(source, 0) + 1
        last = entries[-1][0]
    if counts != expected:
        raise RuntimeError(f"stream holds {counts}, expected {expected}")
    client.delete(STREAM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="events per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (best one counts)")
    parser.add_argument("--processes", type=int, default=8, help="processes at once")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server, url = start_redis(tmp)
        try:
            single: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
            for round_ in range(args.rounds):
                for kind in single:
                    path = os.path.join(tmp, f"{kind}-{round_}.log")
                    source = f"{kind}-{round_}"
                    single[kind].append(one_process(kind, url, path, args.events, source))
                    if kind == "file":
                        check_file(path, args.events)
                    elif kind.startswith("redis"):
                        check_stream(url, {source: args.events})
            many = {
                kind: many_processes(kind, url, tmp, args.events, args.processes)
                for kind in KINDS[1:]
            }
            for i in range(args.processes):
                check_file(os.path.join(tmp, f"file-p{i}.log"), args.events)
            check_stream(
                url,
                {f"{kind}-p{i}": args.events for kind in KINDS[2:] for i in range(args.processes)},
            )
            redis_version = subprocess.run(
                [shutil.which("redis-server") or "/usr/bin/redis-server", "--version"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[2]
        finally:
            server.terminate()
            server.wait()

    best = {kind: min(rounds, key=lambda r: r[0]) for kind, rounds in single.items()}
    floor = best["null"][0] / args.events

    def cost(kind: str) -> float:
        return (best[kind][0] / args.events - floor) * 1e6

    print(
        f"Python {platform.python_version()}, redis-server {redis_version.removeprefix('v=')}, "
        f"redis-py {version('redis')}, {os.cpu_count()} CPUs; {args.events:,} events per "
        f'process, best of {args.rounds} rounds for one process; "ids": every event '
        "with a unique client id, deduplicated"
    )
    print()
    print("One process                      emit events/s   written events/s   sink cost/event")
    print(f"  NullHandler (validation only)  {args.events / best['null'][0]:>13,.0f}")
    for kind, label in LABELS.items():
        emitted, written = best[kind]
        print(
            f"  {label:<29}  {args.events / emitted:>13,.0f}   {args.events / written:>16,.0f}"
            f"   {cost(kind):>12.2f} µs"
        )
    print()
    print(f"{args.processes} processes at once              emit events/s   written events/s")
    for kind, label in LABELS.items():
        label = f"{label} (one file each)" if kind == "file" else label
        print(f"  {label:<29}  {many[kind]['emitted']:>13,.0f}   {many[kind]['written']:>16,.0f}")
    print()
    ratio = cost("redis") / cost("file") if cost("file") > 0 else float("inf")
    verdict = "met" if cost("redis") <= cost("file") else "NOT met"
    print(
        f"Cost to the emitter, Redis / file: {ratio:.2f} "
        f"(goal: no more than the FileHandler's, {verdict})"
    )


if __name__ == "__main__":
    main()
