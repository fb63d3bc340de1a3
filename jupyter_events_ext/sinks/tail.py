"""The ``tail`` command: prints the events of a Redis Stream as JSON lines.

It reads what ``RedisStreamHandler`` writes: each stream entry's ``event`` field is one
envelope, printed as is, one per line, so the output can be piped into ``jq``, a file or
``jupyter-events-ext check-log``.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import click

# Blocking reads return at least this often (ms), to check --timeout and --count.
_BLOCK_MS = 1000
_READ_BATCH = 500
_LAST_RETRY_DELAY = 5.0

# How often, at most, --claim-idle looks for other consumers' stale entries (s).
_CLAIM_INTERVAL = 1.0

_START_ALIASES = {"$": "$", "end": "$", "0": "0-0", "start": "0-0", "beginning": "0-0"}


class _Source:
    """Where entries come from: a plain reader of the stream, or a consumer group member."""

    def __init__(self, client: Any, stream: str, start: str) -> None:
        self.client = client
        self.stream = stream
        self.start = start

    def prepare(self) -> None:
        if self.start == "$":
            # Pin "the end" to an id now: re-reading from "$" would skip what arrives
            # between two reads.
            last = self.client.xrevrange(self.stream, count=1)
            self.start = last[0][0].decode() if last else "0-0"

    def read(self, count: int, block_ms: int) -> list[tuple[bytes, dict[bytes, bytes]]]:
        reply = self.client.xread({self.stream: self.start}, count=count, block=block_ms)
        entries = reply[0][1] if reply else []
        if entries:
            self.start = entries[-1][0].decode()
        return entries

    def done(self, entry_ids: list[bytes]) -> None:
        """A plain reader keeps no state in Redis."""


class _GroupSource(_Source):
    def __init__(
        self,
        client: Any,
        stream: str,
        start: str,
        group: str,
        consumer: str,
        claim_idle: float | None = None,
    ) -> None:
        super().__init__(client, stream, start)
        self.group = group
        self.consumer = consumer
        # First what this consumer was given earlier but never acknowledged, then what
        # other consumers left pending for claim_idle seconds, then new entries.
        self.history_after: str | None = "0"
        self.claim_idle_ms = None if claim_idle is None else max(1, round(claim_idle * 1000))
        self.claim_every = 0.0 if claim_idle is None else min(_CLAIM_INTERVAL, claim_idle / 2)
        self.claim_cursor = "0-0"
        self.next_claim = 0.0

    def prepare(self) -> None:
        import redis

        try:
            self.client.xgroup_create(self.stream, self.group, id=self.start, mkstream=True)
        except redis.ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise

    def read(self, count: int, block_ms: int) -> list[tuple[bytes, dict[bytes, bytes]]]:
        if self.history_after is not None:
            entries = self._read(self.history_after, count, None)
            if entries:
                self.history_after = entries[-1][0].decode()
                # Entries trimmed from the stream since come back as (id, None).
                trimmed = [entry_id for entry_id, fields in entries if fields is None]
                if trimmed:
                    self.client.xack(self.stream, self.group, *trimmed)
                return [entry for entry in entries if entry[1] is not None]
            self.history_after = None
        claimed = self._claim(count)
        if claimed:
            return claimed
        return self._read(">", count, block_ms)

    def _claim(self, count: int) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Take over entries pending longer than claim_idle, a page of the group's pending
        list per call, whichever consumer holds them (a dead one, presumably)."""
        if self.claim_idle_ms is None or time.monotonic() < self.next_claim:
            return []
        cursor, entries, *_ = self.client.xautoclaim(
            self.stream,
            self.group,
            self.consumer,
            self.claim_idle_ms,
            start_id=self.claim_cursor,
            count=count,
        )
        self.claim_cursor = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
        if self.claim_cursor == "0-0":
            # The whole pending list was scanned: look again in a while.
            self.next_claim = time.monotonic() + self.claim_every
        # Redis 6.2 answers (id, None) for entries trimmed since; 7 leaves them out.
        return [entry for entry in entries if entry[1] is not None]

    def _read(
        self, after: str, count: int, block_ms: int | None
    ) -> list[tuple[bytes, dict[bytes, bytes]]]:
        reply = self.client.xreadgroup(
            self.group, self.consumer, {self.stream: after}, count=count, block=block_ms
        )
        return reply[0][1] if reply else []

    def done(self, entry_ids: list[bytes]) -> None:
        if entry_ids:
            self.client.xack(self.stream, self.group, *entry_ids)


def _matching(
    entries: list[tuple[bytes, dict[bytes, bytes]]], schemas: frozenset[bytes]
) -> Iterator[tuple[bytes, bytes]]:
    for entry_id, fields in entries:
        event = fields.get(b"event")
        if event is None:
            continue
        if schemas and fields.get(b"schema") not in schemas:
            continue
        yield entry_id, event


@click.command()
@click.option(
    "--url",
    default="redis://localhost:6379/0",
    show_default=True,
    envvar="JUPYTER_EVENTS_REDIS_URL",
    help="The Redis server (also from $JUPYTER_EVENTS_REDIS_URL).",
)
@click.option("--stream", default="jupyter_events", show_default=True, help="The stream's key.")
@click.option(
    "--from",
    "start",
    default="$",
    show_default=True,
    metavar="ID",
    help='Print the entries after ID: "$" or "end" for only new ones, "0" or "start" for '
    "the whole stream, or an entry id such as 1795461137050-0. With --group, where a new "
    "group starts.",
)
@click.option(
    "--group",
    metavar="NAME",
    help="Read as a member of consumer group NAME (created if missing): each entry goes to "
    "one member only, and is acknowledged once printed, filtered out or not.",
)
@click.option(
    "--consumer",
    metavar="NAME",
    help="This member's name in --group; its unacknowledged entries are printed first. "
    "Default: HOST-PID.",
)
@click.option(
    "--claim-idle",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="With --group, also take over (XAUTOCLAIM) and print the entries that other "
    "consumers of the group were given but left unacknowledged for longer than SECONDS, "
    "e.g. because they died; checked about once a second. Choose it longer than a live "
    "consumer ever takes to acknowledge, or both print the entry. Needs Redis 6.2.",
)
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    metavar="ID",
    help="Print only events of the schema with this $id (repeatable).",
)
@click.option("--count", type=click.IntRange(min=1), help="Stop after printing this many events.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    help="Stop after this many seconds without a new event.",
)
@click.option("--ids", is_flag=True, help="Start each line with the entry's id and a tab.")
def tail(
    url: str,
    stream: str,
    start: str,
    group: str | None,
    consumer: str | None,
    claim_idle: float | None,
    schemas: tuple[str, ...],
    count: int | None,
    timeout: float | None,
    ids: bool,
) -> None:
    """Print the events of a Redis Stream as JSON lines, one envelope per line.

    Reads the stream that RedisStreamHandler writes to, from its end (default), from an
    entry id, or as a member of a consumer group, which can take over what a dead member
    left unacknowledged (--claim-idle). Stops on Ctrl-C, after --count events
    or after --timeout idle seconds.
    """
    try:
        import redis
    except ImportError as err:
        raise click.ClickException(
            "tail needs the redis client: pip install 'jupyter_events_ext[redis]'"
        ) from err

    start = _START_ALIASES.get(start.lower(), start)
    if consumer is not None and group is None:
        raise click.UsageError("--consumer needs --group")
    if claim_idle is not None and group is None:
        raise click.UsageError("--claim-idle needs --group")
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    source: _Source = (
        _GroupSource(
            client,
            stream,
            start,
            group,
            consumer or f"{socket.gethostname()}-{os.getpid()}",
            claim_idle,
        )
        if group
        else _Source(client, stream, start)
    )
    wanted = frozenset(schema.encode() for schema in schemas)
    out = sys.stdout.buffer
    printed = 0
    prepared = False
    failing = False
    delay = 0.1
    idle_since = time.monotonic()
    try:
        while count is None or printed < count:
            block_ms = _BLOCK_MS
            if timeout is not None:
                left = timeout - (time.monotonic() - idle_since)
                if left <= 0:
                    break
                # XREAD's BLOCK 0 means forever: wait at least a millisecond.
                block_ms = max(1, min(block_ms, int(left * 1000)))
            try:
                if not prepared:
                    source.prepare()
                    prepared = True
                batch = _READ_BATCH if count is None else min(_READ_BATCH, count - printed)
                entries = source.read(batch, block_ms)
            except (redis.ConnectionError, redis.TimeoutError) as err:
                if not failing:
                    click.echo(f"Cannot read from Redis at {url}: {err}; retrying", err=True)
                    failing = True
                time.sleep(delay)
                delay = min(delay * 2, _LAST_RETRY_DELAY)
                continue
            except redis.ResponseError as err:
                raise click.ClickException(f"Redis refused to read {stream!r}: {err}") from err
            if failing:
                click.echo("Reading from Redis again", err=True)
                failing, delay = False, 0.1
            if not entries:
                continue
            idle_since = time.monotonic()
            for entry_id, event in _matching(entries, wanted):
                if ids:
                    out.write(entry_id + b"\t")
                out.write(event + b"\n")
                printed += 1
            out.flush()
            source.done([entry_id for entry_id, _ in entries])
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        client.close()
