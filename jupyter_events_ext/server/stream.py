"""The live event stream: a ring buffer of recent envelopes and the subscriptions fed from it."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import Any, Callable, Optional

# What a subscription hands each message to: returns a future that resolves once the
# message is flushed to the network (tornado's ``WebSocketHandler.write_message``).
Send = Callable[[str], Optional["asyncio.Future[Any]"]]


class Subscription:
    """One subscriber: its schema filter, a bounded queue and the task that drains it.

    The queue holds messages not yet handed to the socket. The sender hands everything
    queued to the socket, then waits until that is flushed before taking more, so a
    subscriber that stops reading leaves its messages here, where they are counted,
    rather than in an unbounded socket buffer.
    """

    def __init__(
        self,
        schema_ids: frozenset[str] | None,
        queue_size: int,
        send: Send,
        on_overflow: Callable[[Subscription], None],
    ) -> None:
        self.schema_ids = schema_ids
        self.queue_size = queue_size
        self.last_seq = 0
        self.closed = False
        self._send = send
        self._on_overflow = on_overflow
        self._queue: deque[str] = deque()
        self._limit = queue_size
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wants(self, schema_id: str) -> bool:
        return self.schema_ids is None or schema_id in self.schema_ids

    def start(self, backlog: list[tuple[int, str, str]]) -> None:
        """Queue the replayed ``backlog`` (beyond the bound, once) and start sending."""
        for seq, schema_id, message in backlog:
            if self.wants(schema_id):
                self._queue.append(message)
                self.last_seq = seq
        self._limit = self.queue_size + len(self._queue)
        self._task = asyncio.ensure_future(self._run())
        if self._queue:
            self._wakeup.set()

    def offer(self, seq: int, schema_id: str, message: str) -> None:
        if self.closed or seq <= self.last_seq or not self.wants(schema_id):
            return
        if len(self._queue) >= self._limit:
            self.close()
            self._on_overflow(self)
            return
        self.last_seq = seq
        self._queue.append(message)
        self._wakeup.set()

    def close(self) -> None:
        self.closed = True
        self._queue.clear()
        self._wakeup.set()

    async def _run(self) -> None:
        queue = self._queue
        while not self.closed:
            await self._wakeup.wait()
            self._wakeup.clear()
            try:
                flushed = None
                while queue and not self.closed:
                    flushed = self._send(queue.popleft())
                if not queue:
                    self._limit = self.queue_size  # any replayed backlog is handed over
                if flushed is not None:
                    await flushed
            except Exception:  # the socket closed under us; its on_close unsubscribes
                return


class EventStream(logging.Handler):
    """A logging handler of the EventLogger that numbers every envelope it is given,
    keeps the last ``buffer_size`` of them and hands them to the subscriptions.

    ``seq`` counts every event since the server started, whatever its schema, so a
    client that resumes with ``after=<last seq it saw>`` misses nothing still buffered.
    """

    def __init__(self, *, buffer_size: int, queue_size: int) -> None:
        super().__init__()
        self.queue_size = queue_size
        self.last_seq = 0
        self._buffer: deque[tuple[int, str, str]] = deque(maxlen=buffer_size)
        self._subscriptions: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    def emit(self, record: logging.LogRecord) -> None:
        # Called with ``self.lock`` held, so numbering is atomic across threads.
        # The EventLogger's records carry their line in msg and their schema's $id.
        line = record.msg
        schema_id = record.schema_id  # type: ignore[attr-defined]
        self.last_seq = seq = self.last_seq + 1
        item = (seq, schema_id, f'{{"seq": {seq}, "event": {line}}}')
        self._buffer.append(item)
        if not self._subscriptions:
            return
        if threading.get_ident() == self._loop_thread:
            self._publish(item)
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._publish, item)

    def _publish(self, item: tuple[int, str, str]) -> None:
        seq, schema_id, message = item
        for subscription in list(self._subscriptions):
            subscription.offer(seq, schema_id, message)

    def subscribe(
        self,
        *,
        schema_ids: frozenset[str] | None,
        after: int | None,
        send: Send,
        on_overflow: Callable[[Subscription], None],
    ) -> tuple[Subscription, int]:
        """Subscribe from the running event loop; return the subscription and how many
        events requested by ``after`` are no longer buffered (0 if none were missed).

        ``after=None`` delivers only new events. An ``after`` beyond the last event
        means the client saw an earlier run of the server: everything buffered is new.
        """
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

        def overflowed(subscription: Subscription) -> None:
            self.unsubscribe(subscription)
            on_overflow(subscription)

        subscription = Subscription(schema_ids, self.queue_size, send, overflowed)
        with self.lock:
            last_seq = self.last_seq
            if after is None:
                after = last_seq
            elif after > last_seq:
                after = 0
            backlog = [item for item in self._buffer if item[0] > after]
            oldest = self._buffer[0][0] if self._buffer else last_seq + 1
            self._subscriptions.add(subscription)
        subscription.last_seq = after
        subscription.start(backlog)
        missed = max(0, min(oldest, last_seq + 1) - after - 1)
        return subscription, missed

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.close()
        self._subscriptions.discard(subscription)

    def close(self) -> None:
        for subscription in list(self._subscriptions):
            self.unsubscribe(subscription)
        super().close()
