"""A logging handler that publishes event envelopes to a Redis Stream.

Every user's Jupyter server on a hub can point an ``EventLogger`` at the same stream::

    c.EventLogger.handlers = [
        RedisStreamHandler(url="redis://events.example.org:6379/0", stream="jupyter_events")
    ]

Each record becomes one stream entry with two fields:

``event``
    the record as its handler formats it: for an ``EventLogger``, the envelope's JSON line.
``schema``
    the envelope's ``__schema__``, so that readers can filter without parsing JSON; absent
    from entries whose text is not an event envelope. An ``EventLogger``'s records carry
    it as ``schema_id``; for other records it is read from an envelope-shaped message.

``emit`` never touches the network. Records wait in a bounded in-process queue; one
background thread sends them in batches, each batch a single atomic round trip (a Lua
script that runs ``XADD`` for every event, then one approximate ``XTRIM`` when ``maxlen``
is set). While Redis is unreachable, events keep waiting and the thread reconnects with
backoff; when the queue is full, the oldest events are dropped, counted and warned about.

What it guarantees: an event handed to ``emit`` reaches Redis unless the queue overflows
(it is then counted in ``dropped``) or the process ends before ``close()`` could send it
within ``flush_timeout``; and a batch may reach Redis twice if the connection breaks
after Redis ran it but before its answer arrived.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import random
import threading
import time
import weakref
from typing import Any

log = logging.getLogger(__name__)

_Entry = tuple[str, str]  # an event's line and its schema $id ("" if it is no envelope)

# KEYS[1]: the stream. ARGV[1]: approximate MAXLEN, 0 for none. ARGV[2]: how the events
# follow: "lines" = ARGV[3] holds them joined by "\n" and ARGV[4] their schema $ids joined
# likewise (two arguments cost the sender far less than two per event); "args" = event and
# schema alternate from ARGV[3] on, for records whose text spans lines. An empty schema
# means the record is not an event envelope: its entry gets no "schema" field.
_PUBLISH_SCRIPT = r"""
local stream = KEYS[1]
local function add(event, schema)
  if schema ~= '' then
    redis.call('XADD', stream, '*', 'event', event, 'schema', schema)
  else
    redis.call('XADD', stream, '*', 'event', event)
  end
end
local count = 0
if ARGV[2] == 'lines' then
  local events, schemas = ARGV[3], ARGV[4]
  local e, s = 1, 1
  while true do
    local e_end = string.find(events, '\n', e, true)
    local s_end = string.find(schemas, '\n', s, true)
    add(string.sub(events, e, (e_end or 0) - 1), string.sub(schemas, s, (s_end or 0) - 1))
    count = count + 1
    if not e_end then break end
    e, s = e_end + 1, s_end + 1
  end
else
  for i = 3, #ARGV, 2 do
    add(ARGV[i], ARGV[i + 1])
    count = count + 1
  end
end
local maxlen = tonumber(ARGV[1])
if maxlen > 0 then
  redis.call('XTRIM', stream, 'MAXLEN', '~', maxlen)
end
return count
"""

# Reconnection delays grow from the first to the last, with jitter so that the servers
# of a whole hub do not all come back in the same instant.
_FIRST_RETRY_DELAY = 0.05
_LAST_RETRY_DELAY = 2.0
# At most one warning about dropped events per this many seconds.
_DROP_WARNING_INTERVAL = 10.0

_INSTALL_HINT = "RedisStreamHandler needs the redis client: pip install 'jupyter_events_ext[redis]'"


def _import_redis() -> Any:
    try:
        import redis
    except ImportError as err:
        raise ImportError(_INSTALL_HINT) from err
    return redis


class RedisStreamHandler(logging.Handler):
    """Publish each record to a Redis Stream, without ever making the emitter wait.

    Parameters
    ----------
    url
        Where Redis is: ``redis://[user:password@]host:port/db``, ``rediss://`` for TLS or
        ``unix:///path/to/socket``.
    stream
        The key of the stream.
    maxlen
        Cap the stream at about this many entries (``XTRIM MAXLEN ~``: Redis trims whole
        internal nodes, so it may hold somewhat more). ``None`` (default) keeps everything.
    batch_size
        The most events sent in one round trip. Default 500.
    queue_size
        The most events waiting in this process while Redis is slow or unreachable; beyond
        it the oldest are dropped (see ``dropped``). A batch on its way is not counted until
        its send fails and it returns to the queue. Default 100,000.
    flush_timeout
        How long ``close()`` (and ``flush()`` without an argument) waits for waiting events
        to reach Redis, in seconds. Default 5.
    socket_timeout
        How long one connection attempt or round trip may take, in seconds. Default 5.
    level
        The handler's logging level.
    """

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        stream: str = "jupyter_events",
        *,
        maxlen: int | None = None,
        batch_size: int = 500,
        queue_size: int = 100_000,
        flush_timeout: float = 5.0,
        socket_timeout: float = 5.0,
        level: int | str = logging.NOTSET,
    ) -> None:
        redis = _import_redis()
        if maxlen is not None and maxlen < 1:
            raise ValueError(f"maxlen must be a positive integer or None, not {maxlen!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size!r}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, not {queue_size!r}")
        super().__init__(level)
        self.url = url
        self.stream = stream
        self.maxlen = maxlen
        self.batch_size = batch_size
        self.queue_size = queue_size
        self.flush_timeout = flush_timeout
        self.socket_timeout = socket_timeout

        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # Retries are ours (with backoff, interruptible by close()), so the client makes none.
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._publish = self._redis.register_script(_PUBLISH_SCRIPT)
        self._reset_state()
        _LIVE_HANDLERS.add(self)

    def _reset_state(self) -> None:
        self._queue: collections.deque[_Entry] = collections.deque()
        self._queue_lock = threading.Lock()
        self._progress = threading.Condition(threading.Lock())
        self._wakeup = threading.Event()
        self._closing = threading.Event()
        self._stop = threading.Event()
        self._sender: threading.Thread | None = None
        self._accepted = 0
        self._sent = 0
        self._dropped = 0
        self._dropped_reported = 0
        self._last_drop_warning = float("-inf")
        self._failing_since: float | None = None

    @property
    def dropped(self) -> int:
        """How many events were dropped because the queue was full."""
        return self._dropped

    @property
    def sent(self) -> int:
        """How many events Redis has acknowledged."""
        return self._sent

    @property
    def pending(self) -> int:
        """How many events are waiting to be sent, including a batch on its way."""
        return self._accepted - self._sent - self._dropped

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            schema_id = getattr(record, "schema_id", None)
            if schema_id is None:
                schema_id = _schema_of_foreign(record)
        except Exception:
            self.handleError(record)
            return
        with self._queue_lock:
            queue = self._queue
            if len(queue) >= self.queue_size:
                queue.popleft()
                self._dropped += 1
            queue.append((line, schema_id))
            self._accepted += 1
        if self._sender is None:
            self._start_sender()
        # Setting an Event takes a lock; skip it while the sender is already awake.
        if not self._wakeup.is_set():
            self._wakeup.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event emitted so far is in Redis or dropped.

        Waits at most ``timeout`` seconds (``flush_timeout`` when ``None``); returns
        whether everything got there.
        """
        if timeout is None:
            timeout = self.flush_timeout
        target = self._accepted
        if self._sent + self._dropped >= target:
            return True
        if self._sender is None or not self._sender.is_alive():
            return False
        with self._progress:
            return self._progress.wait_for(
                lambda: self._sent + self._dropped >= target, timeout=timeout
            )

    def close(self) -> None:
        """Send what is waiting (for at most ``flush_timeout`` seconds), then stop."""
        if not self._closing.is_set():
            self._closing.set()
            self._wakeup.set()
            sender = self._sender
            if sender is not None and sender.is_alive():
                sender.join(self.flush_timeout)
                self._stop.set()
                sender.join(self.socket_timeout)
            self._stop.set()
            if self.pending:
                log.warning(
                    "Closing the Redis stream handler for %s with %d events not sent",
                    self._where(),
                    self.pending,
                )
            self._warn_about_drops(force=True)
            self._redis.close()
            _LIVE_HANDLERS.discard(self)
        super().close()

    def __repr__(self) -> str:
        level = logging.getLevelName(self.level)
        return f"<{type(self).__name__} {self._where()} ({level})>"

    def _where(self) -> str:
        # The URL without its password, which must not end up in logs.
        kwargs = self._redis.connection_pool.connection_kwargs
        place = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"stream {self.stream!r} at {place}"

    def _start_sender(self) -> None:
        with self._queue_lock:
            if self._sender is not None:
                return
            self._sender = threading.Thread(
                target=self._send_forever, name=f"RedisStreamHandler:{self.stream}", daemon=True
            )
        self._sender.start()

    def _take(self) -> list[_Entry]:
        with self._queue_lock:
            queue = self._queue
            return [queue.popleft() for _ in range(min(self.batch_size, len(queue)))]

    def _put_back(self, batch: list[_Entry]) -> None:
        """Put an unsent batch back in front of the queue, dropping the oldest past the bound."""
        with self._queue_lock:
            overflow = len(self._queue) + len(batch) - self.queue_size
            if overflow > 0:
                del batch[:overflow]
                self._dropped += overflow
            self._queue.extendleft(reversed(batch))
        if overflow > 0:
            with self._progress:
                self._progress.notify_all()

    def _send_forever(self) -> None:
        failures = 0
        while not self._stop.is_set():
            # Cleared before taking, so an event emitted after the take wakes the next wait.
            self._wakeup.clear()
            batch = self._take()
            if not batch:
                if self._closing.is_set():
                    return
                self._warn_about_drops()
                # Wake up now and then, to report drops even when nothing else happens.
                self._wakeup.wait(_DROP_WARNING_INTERVAL)
                continue
            try:
                self._send(batch)
            except Exception as err:
                self._put_back(batch)
                self._note_failure(err)
                failures += 1
                delay = min(_LAST_RETRY_DELAY, _FIRST_RETRY_DELAY * 2 ** min(failures, 16))
                self._stop.wait(delay * random.uniform(0.5, 1.0))
                self._warn_about_drops()
                continue
            if failures:
                failures = 0
                self._note_recovery()
            with self._progress:
                self._sent += len(batch)
                self._progress.notify_all()

    def _send(self, batch: list[_Entry]) -> None:
        maxlen = self.maxlen or 0
        lines = "\n".join([line for line, _ in batch])
        if lines.count("\n") == len(batch) - 1:
            args = [maxlen, "lines", lines, "\n".join([schema for _, schema in batch])]
        else:
            args = [maxlen, "args", *(part for entry in batch for part in entry)]
        self._publish(keys=[self.stream], args=args)

    def _note_failure(self, err: Exception) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            log.warning(
                "Cannot publish events to the Redis %s (%s); they wait in a queue of up to %d "
                "and will be sent when it answers",
                self._where(),
                err,
                self.queue_size,
            )

    def _note_recovery(self) -> None:
        if self._failing_since is not None:
            log.warning(
                "Publishing events to the Redis %s again after %.1f s",
                self._where(),
                time.monotonic() - self._failing_since,
            )
            self._failing_since = None

    def _warn_about_drops(self, force: bool = False) -> None:
        dropped = self._dropped
        new = dropped - self._dropped_reported
        now = time.monotonic()
        if new and (force or now - self._last_drop_warning >= _DROP_WARNING_INTERVAL):
            self._dropped_reported = dropped
            self._last_drop_warning = now
            log.warning(
                "Dropped the %d oldest events for the Redis %s: its queue of %d was full "
                "(%d dropped in all)",
                new,
                self._where(),
                self.queue_size,
                dropped,
            )

    def _after_fork_in_child(self) -> None:
        # The sender thread did not survive the fork, its locks may be held by it, and
        # what waits in the queue is the parent's to send.
        self._reset_state()


def _schema_of_foreign(record: logging.LogRecord) -> str:
    """The ``__schema__`` of a record that an ``EventLogger`` did not make ("" if none):
    jupyter_events' records hold the envelope as a dict, others may hold its JSON text."""
    message = record.msg
    if isinstance(message, str) and message.startswith("{") and '"__schema__"' in message:
        try:
            message = json.loads(message)
        except ValueError:
            return ""
    schema_id = message.get("__schema__") if isinstance(message, dict) else None
    return schema_id if isinstance(schema_id, str) and "\n" not in schema_id else ""


_LIVE_HANDLERS: weakref.WeakSet[RedisStreamHandler] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for handler in list(_LIVE_HANDLERS):
        handler._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
