"""The live event stream: a ring buffer of recent envelopes and the subscriptions fed from it."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import deque
from typing import Any, Callable, NamedTuple, Optional

# What a subscription hands each message to: returns a future that resolves once the
# message is flushed to the network (tornado's ``WebSocketHandler.write_message``).
Send = Callable[[str], Optional["asyncio.Future[Any]"]]
# How many bytes a subscription hands its socket before waiting for them to be flushed.
FLUSH_EVERY = 64 * 1024


class Subscription:
    """One subscriber: its schema filter, a queue bounded in count and in bytes, and the
    task that drains it.

    The queue holds messages not yet handed to the socket. The sender hands the socket
    at most ``FLUSH_EVERY`` bytes, then waits until they are flushed before taking more,
    so a subscriber that stops reading (or is replayed a long backlog) leaves its
    messages here, where they are counted, rather than in an unbounded socket buffer.
    """

    def __init__(
        self,
        schema_ids: frozenset[str] | None,
        queue_size: int,
        queue_bytes: int,
        send: Send,
        on_overflow: Callable[[Subscription], None],
    ) -> None:
        self.schema_ids = schema_ids
        self.queue_size = queue_size
        self.queue_bytes = queue_bytes
        # Bytes of the messages queued (ASCII: characters are bytes). The messages are
        # the ring buffer's own strings, but a stalled subscriber keeps those the buffer
        # has let go of: events up to 64 KiB each, so a count alone bounds nothing useful.
        self.queued_bytes = 0
        self.last_seq = 0
        self.closed = False
        self._send = send
        self._on_overflow = on_overflow
        self._queue: deque[str] = deque()
        self._limit = queue_size
        self._bytes_limit = queue_bytes
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wants(self, schema_id: str) -> bool:
        return self.schema_ids is None or schema_id in self.schema_ids

    def start(self, backlog: list[tuple[int, str, str]]) -> None:
        """Queue the replayed ``backlog`` (beyond the bounds, once) and start sending."""
        for seq, schema_id, message in backlog:
            if self.wants(schema_id):
                self._queue.append(message)
                self.queued_bytes += len(message)
                self.last_seq = seq
        self._limit = self.queue_size + len(self._queue)
        self._bytes_limit = self.queue_bytes + self.queued_bytes
        self._task = asyncio.ensure_future(self._run())
        if self._queue:
            self._wakeup.set()

    def offer(self, seq: int, schema_id: str, message: str) -> None:
        if self.closed or seq <= self.last_seq or not self.wants(schema_id):
            return
        if len(self._queue) >= self._limit or self.queued_bytes + len(message) > self._bytes_limit:
            self.close()
            self._on_overflow(self)
            return
        self.last_seq = seq
        self._queue.append(message)
        self.queued_bytes += len(message)
        self._wakeup.set()

    def close(self) -> None:
        self.closed = True
        self._queue.clear()
        self.queued_bytes = 0
        self._wakeup.set()

    async def _run(self) -> None:
        queue = self._queue
        while not self.closed:
            await self._wakeup.wait()
            self._wakeup.clear()
            try:
                flushed = None
                unflushed = 0
                while queue and not self.closed:
                    message = queue.popleft()
                    self.queued_bytes -= len(message)
                    flushed = self._send(message)
                    unflushed += len(message)
                    if unflushed >= FLUSH_EVERY and flushed is not None:
                        await flushed
                        unflushed = 0
                if not queue:  # any replayed backlog is handed over
                    self._limit = self.queue_size
                    self._bytes_limit = self.queue_bytes
                if flushed is not None:
                    await flushed
            except Exception:  # the socket closed under us; its on_close unsubscribes
                return


class TooManySubscribers(Exception):
    """The stream has as many subscribers as it may."""


class EventStream(logging.Handler):
    """A logging handler of the EventLogger that numbers every envelope it is given,
    keeps the most recent of them and hands them to the subscriptions.

    ``seq`` counts every event since the server started, whatever its schema, so a
    client that resumes with ``after=<last seq it saw>`` misses nothing still buffered;
    ``run_id`` names this start of the server, so that a client resuming with a ``seq``
    of an earlier run is told so instead of skipping events. The buffer keeps at most
    ``buffer_size`` events and ``buffer_bytes`` bytes of them.

    Events are published on the event loop in ``seq`` order, whichever thread emitted
    them: each is queued under the handler's lock, and the loop drains that queue.
    """

    def __init__(
        self,
        *,
        buffer_size: int,
        buffer_bytes: int,
        queue_size: int,
        queue_bytes: int,
        max_subscribers: int,
    ) -> None:
        super().__init__()
        self.run_id = uuid.uuid4().hex
        self.buffer_size = buffer_size
        self.buffer_bytes = buffer_bytes
        self.queue_size = queue_size
        self.queue_bytes = queue_bytes
        self.max_subscribers = max_subscribers
        self.last_seq = 0
        self._buffer: deque[tuple[int, str, str]] = deque()
        self._buffered_bytes = 0
        self._unpublished: deque[tuple[int, str, str]] = deque()
        self._subscriptions: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    @property
    def buffered_bytes(self) -> int:
        return self._buffered_bytes

    def emit(self, record: logging.LogRecord) -> None:
        # Called with ``self.lock`` held, so numbering and queueing are atomic across threads.
        # The EventLogger's records carry their line in msg and their schema's $id.
        line = record.msg
        schema_id = record.schema_id  # type: ignore[attr-defined]
        self.last_seq = seq = self.last_seq + 1
        message = f'{{"seq": {seq}, "event": {line}}}'
        item = (seq, schema_id, message)
        buffer = self._buffer
        buffer.append(item)
        self._buffered_bytes += len(message)  # the line is ASCII: characters are bytes
        while len(buffer) > self.buffer_size or (
            self._buffered_bytes > self.buffer_bytes and len(buffer) > 1
        ):
            self._buffered_bytes -= len(buffer.popleft()[2])
        if not self._subscriptions:
            return
        self._unpublished.append(item)
        if threading.get_ident() == self._loop_thread:
            self._publish()
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._publish)

    def _publish(self) -> None:
        unpublished = self._unpublished
        while unpublished:
            seq, schema_id, message = unpublished.popleft()
            for subscription in list(self._subscriptions):
                subscription.offer(seq, schema_id, message)

    def subscribe(
        self,
        *,
        schema_ids: frozenset[str] | None,
        after: int | None,
        run_id: str | None,
        send: Send,
        on_overflow: Callable[[Subscription], None],
    ) -> tuple[Subscription, Resume]:
        """Subscribe from the running event loop; return the subscription and what the
        subscriber must be told before the replay (see ``Resume``).

        ``after=None`` delivers only new events. Resuming from another run (``run_id``
        given and not this run's, or, without one, an ``after`` beyond the last event)
        replays everything buffered. Raises ``TooManySubscribers``, and ``ValueError``
        for an ``after`` beyond the last event of this very run.
        """
        if len(self._subscriptions) >= self.max_subscribers:
            raise TooManySubscribers(
                f"the live stream has its maximum of {self.max_subscribers} subscribers"
            )
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

        def overflowed(subscription: Subscription) -> None:
            self.unsubscribe(subscription)
            on_overflow(subscription)

        subscription = Subscription(schema_ids, self.queue_size, self.queue_bytes, send, overflowed)
        with self.lock:
            last_seq = self.last_seq
            restarted = after is not None and (
                (run_id is not None and run_id != self.run_id)
                or (run_id is None and after > last_seq)
            )
            if after is None:
                after = last_seq
            elif restarted:
                after = 0
            elif after > last_seq:
                raise ValueError(
                    f"'after' is {after}, beyond the last event of this run ({last_seq})"
                )
            backlog = [item for item in self._buffer if item[0] > after]
            oldest = self._buffer[0][0] if self._buffer else last_seq + 1
            self._subscriptions.add(subscription)
        subscription.last_seq = after
        subscription.start(backlog)
        missed = max(0, min(oldest, last_seq + 1) - after - 1)
        return subscription, Resume(self.run_id, last_seq, missed, restarted)

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.close()
        self._subscriptions.discard(subscription)

    def close(self) -> None:
        for subscription in list(self._subscriptions):
            self.unsubscribe(subscription)
        super().close()


class Resume(NamedTuple):
    """What a new subscriber is told before its replay."""

    run_id: str
    last_seq: int
    missed: int  # events of this run after its position that are no longer buffered
    restarted: bool  # its position was from an earlier run: events after it may be lost
